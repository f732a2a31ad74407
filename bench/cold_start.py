"""Cold start: a new process answering its first question, with the index already built.

    .venv/bin/python bench/cold_start.py [--runs 5] [--reader-model DIR] [--save]

Each run spawns `python -m bot ask --json ...` and times it until its answer arrives on stdout
(and until it exits). One more child reports where the time goes (imports, index load, model
loads, first answer), and `python -X importtime` attributes import time to packages.

Target: median time to first answer <= 3 s (ONNX Runtime backends, index built).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def phases_child(corpus: str, index: str, reader: str, question: str) -> int:
    """Runs in the child: the steps `bot ask` takes, each timed, in the order it takes them."""
    marks = [("start", time.perf_counter())]
    sys.path.insert(0, str(HERE.parents[1]))
    import bot.pipeline  # noqa: F401  (everything `bot ask` imports up front)

    marks.append(("import bot.pipeline", time.perf_counter()))
    from bot.config import load_settings
    from bot.pipeline import Bot

    backends = {k: v for k, v in os.environ.items() if k in ("BOT_READER_BACKEND", "BOT_EMBEDDING_BACKEND")}
    b = Bot(load_settings({"corpus_dir": corpus, "index_dir": index, "reader": reader}, environ=backends))
    marks.append(("Bot() construct", time.perf_counter()))
    # sync_index asks the embedder for its dimension, so the embedder loads first either way;
    # loading it explicitly here keeps the two costs apart.
    b.embedder.warm_up()
    marks.append(("embedder load", time.perf_counter()))
    b.sync()
    marks.append(("index sync: checksums + load, BM25 from its stored files (imports faiss, bm25s)", time.perf_counter()))
    b.reader.warm_up()
    marks.append(("reader load", time.perf_counter()))
    b.ask(question)
    marks.append(("first ask (calibration load + answer)", time.perf_counter()))
    phases = {name: round(t - marks[i][1], 3) for i, (name, t) in enumerate(marks[1:])}
    print(json.dumps({"phases_s": phases, "in_process_total_s": round(marks[-1][1] - marks[0][1], 3)}))
    return 0


def child_env() -> dict:
    # BOT_* settings of the shell are dropped, except the two backend choices bench/backends.py sets.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BOT_") or k in ("BOT_READER_BACKEND", "BOT_EMBEDDING_BACKEND", "BOT_ONNX_CACHE")}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


def timed_run(cmd: list[str], cwd: Path) -> dict:
    """Wall time until the first byte of stdout and until exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.read(1)
    t_first = time.perf_counter() - t0
    rest = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait()
    t_exit = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"first_output_s": t_first, "exit_s": t_exit, "stdout": (first + rest).decode(), "stderr": err.decode()}


def import_breakdown(cmd: list[str], cwd: Path, top: int = 12) -> dict:
    """Self import time summed per top-level package, from `python -X importtime`."""
    out = subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True)
    per_package: dict[str, int] = {}
    total = 0
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line.split(":", 1)[1].split("|")  # self [us] | cumulative | package
        self_us, package = int(fields[0]), fields[2].strip().split(".")[0]
        per_package[package] = per_package.get(package, 0) + self_us
        total += self_us
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return {"total_import_s": round(total / 1e6, 3),
            "by_package_s": {name: round(us / 1e6, 3) for name, us in ranked}}


def main() -> int:
    from _common import (DEFAULT_CORPUS, REPO, SEED_QUESTIONS, emit, log, parser, percentiles, reader_model,
                         seed_questions, target, temp_dir)

    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="cold processes to time (default 5)")
    p.add_argument("--reader-model", help="QA model folder; 'none' for sentence mode (default: bundled, "
                   "else a random-init model of the same architecture)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--no-importtime", action="store_true", help="skip the -X importtime breakdown")
    args = p.parse_args()
    if args.quick:
        args.runs, args.no_importtime = 1, True
    if args.threads:
        log("--threads does not apply: the children use the bot's defaults")

    if args.reader_model == "none":
        reader, model_info = "none", {"kind": "sentence mode (--reader none)"}
    else:
        reader, model_info = reader_model(args.reader_model)
    index = temp_dir("cold") / "index"
    questions = seed_questions(SEED_QUESTIONS)
    py = sys.executable
    common = ["--corpus", str(args.corpus), "--index", str(index)]

    t0 = time.perf_counter()
    timed_run([py, "-m", "bot", "index", *common], REPO)
    build_s = time.perf_counter() - t0
    log(f"index built in {build_s:.1f}s (not counted)")

    runs = []
    for n in range(args.runs):
        q = questions[n % len(questions)]
        r = timed_run([py, "-m", "bot", "ask", "--json", *common, "--reader", reader, q], REPO)
        answer = json.loads(r["stdout"])
        runs.append({"first_output_s": round(r["first_output_s"], 3), "exit_s": round(r["exit_s"], 3),
                     "response_timings_total_ms": round(answer["timings_ms"]["total"], 1)})
        log(f"run {n + 1}/{args.runs}: first answer after {r['first_output_s']:.2f}s")

    help_runs = [timed_run([py, "-m", "bot", "--help"], REPO)["exit_s"] for _ in range(1 if args.quick else 3)]
    phases = json.loads(timed_run([py, str(HERE), "--phases-child", str(args.corpus), str(index), reader,
                                   questions[0]], REPO)["stdout"])
    imports = None
    if not args.no_importtime:
        imports = import_breakdown([py, "-X", "importtime", "-m", "bot", "ask", "--json", *common,
                                    "--reader", reader, questions[0]], REPO)

    first = [r["first_output_s"] for r in runs]
    stats = percentiles(first, digits=3)
    result = {
        "figures": {
            "time_to_first_answer_s": stats,
            "time_to_exit_s": percentiles([r["exit_s"] for r in runs], digits=3),
            "first_run_s": runs[0]["first_output_s"],
            "cli_help_s": percentiles(help_runs, digits=3),
            "phases": phases,
            "imports": imports,
        },
        "targets": {"median_time_to_first_answer_s": target(stats["p50"], "<=", 3, " s")},
        "runs": args.runs,
        "per_run": runs,
        "settings": {"command": "python -m bot ask --json --corpus C --index I --reader R QUESTION",
                     "reader": reader, "index_prebuilt_s": round(build_s, 2)},
        "reader_model": model_info,
        "data": {"corpus": str(args.corpus), "questions": f"the first {args.runs} of {SEED_QUESTIONS}"},
        "notes": [
            "time_to_first_answer: spawn to the first byte of the JSON answer on stdout",
            "phases: a separate child doing the same steps one by one; it adds up to a little less than a "
            "cold run, which also pays interpreter start-up and CLI parsing",
            "imports: self time per top-level package under python -X importtime (which itself slows imports)",
            "the first run may also pay for reading model files from disk into the page cache",
            "response_timings_total_ms: Response.timings_ms['total'] of the child's first answer; Bot.ask_many "
            "starts its clock before loading the index, so on a first question it includes the index sync "
            "and the model loads",
        ],
    }
    emit("cold_start", result, args.save, started)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phases-child":
        raise SystemExit(phases_child(*sys.argv[2:6]))
    raise SystemExit(main())
