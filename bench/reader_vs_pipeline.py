"""Our reader, batched over all retrieved passages of a question, against transformers'
`pipeline("question-answering")` called once per passage: same model folder, same passages,
measured side by side (interleaved question by question) in one run.

    .venv/bin/python bench/reader_vs_pipeline.py [--runs 3] [--reader-model DIR] [--install-baseline] [--save]

Target: the pipeline takes >= 3x as long per question as our reader.

transformers 5.3 removed the question-answering pipeline. When the installed transformers lacks
it, the pipeline side runs in a worker process that imports transformers 5.2.0 (the last release
with it) from bench/.qa-baseline/, installed there by --install-baseline (pip, no dependencies
besides the tokenizers and huggingface_hub versions it pins). Torch, numpy and the model files
are the same for both sides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASELINE_DIR = Path(__file__).resolve().parent / ".qa-baseline"
# transformers 5.2.0 is the last release with the QA pipeline; it refuses tokenizers > 0.23.0
# and huggingface_hub >= 2, so those come along at versions it accepts.
BASELINE_PACKAGES = ("transformers==5.2.0", "tokenizers==0.22.2", "huggingface_hub>=1.3,<2")


# ----- the pipeline side (runs in its own process) -----

def worker(model_dir: str, max_seq_len: int, doc_stride: int, max_answer_len: int, threads: int) -> int:
    """Answer timing requests on stdin, one JSON line each: {"question", "contexts"} ->
    {"ms", "answers"}. Only the pipeline calls are inside the timed region."""
    import torch
    import transformers
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

    torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # its load bar would flood the benchmark's stderr
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir, dtype=torch.float32).eval()
    qa = pipeline("question-answering", model=model, tokenizer=tokenizer, device="cpu")
    options = dict(top_k=1, max_seq_len=max_seq_len, doc_stride=doc_stride, max_answer_len=max_answer_len,
                   max_question_len=64)
    import tokenizers

    print(json.dumps({"ready": True, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                      "transformers_file": transformers.__file__, "torch_threads": torch.get_num_threads(),
                      "options": options}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        t0 = time.perf_counter()
        answers = [qa(question=request["question"], context=c, **options) for c in request["contexts"]]
        ms = (time.perf_counter() - t0) * 1000
        best = max(answers, key=lambda a: a["score"], default=None)
        print(json.dumps({"ms": ms, "best": best["answer"] if best else None}), flush=True)
    return 0


def has_qa_pipeline(env: dict) -> tuple[bool, str]:
    code = ("import transformers, transformers.pipelines as p; "
            "print(transformers.__version__, 'question-answering' in p.SUPPORTED_TASKS)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return False, out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "import failed"
    version, present = out.stdout.split()
    return present == "True", version


def baseline_env(install: bool) -> tuple[dict | None, str]:
    """Environment for the pipeline worker, or None and why there is none."""
    from _common import log

    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    ok, version = has_qa_pipeline(env)
    if ok:
        return env, f"installed transformers {version}"
    if not (BASELINE_DIR / "transformers").is_dir():
        if not install:
            return None, (f"transformers {version} has no question-answering pipeline (removed in 5.3) and "
                          f"{BASELINE_DIR} does not exist: rerun with --install-baseline")
        log(f"installing {' '.join(BASELINE_PACKAGES)} into {BASELINE_DIR}")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                        str(BASELINE_DIR), *BASELINE_PACKAGES], check=True)
    env["PYTHONPATH"] = os.pathsep.join([str(BASELINE_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ok, version = has_qa_pipeline(env)
    if not ok:
        return None, f"{BASELINE_DIR} does not provide the question-answering pipeline ({version})"
    return env, f"transformers {version} from {BASELINE_DIR}"


# ----- the benchmark -----

def main() -> int:
    from _common import emit, log, percentiles, reader_parser, reader_workload, target

    started = time.perf_counter()
    p = reader_parser(__doc__.splitlines()[0])
    p.add_argument("--install-baseline", action="store_true", help=f"pip-install the pipeline side into {BASELINE_DIR}")
    args = p.parse_args()
    requests, settings, model_dir, model_info = reader_workload(args)

    import torch

    from dataclasses import replace

    from bot.pipeline import make_reader

    # The reader backend the settings name (BOT_READER_BACKEND; default auto: the fastest here).
    ours = make_reader(replace(settings, reader=model_dir), None)
    ours.warm_up()

    env, baseline_info = baseline_env(args.install_baseline)
    proc = None
    if env is not None:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", model_dir, str(ours.max_length), str(ours.stride),
             str(ours.max_answer_tokens), str(torch.get_num_threads())],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = json.loads(proc.stdout.readline() or "{}")
        if not ready.get("ready"):
            proc.kill()
            proc, env, baseline_info = None, None, "the pipeline worker failed to start (see stderr)"
        else:
            baseline_info = {"source": baseline_info, **ready}
    if proc is None:
        log(f"pipeline side unavailable: {baseline_info}")

    def pipeline_ms(question: str, items) -> tuple[float, str | None]:
        proc.stdin.write(json.dumps({"question": question, "contexts": [i.text for i in items]}) + "\n")
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        return reply["ms"], reply["best"]

    def batched_ms(question, items):
        t0 = time.perf_counter()
        r = ours.read(question, items)
        return (time.perf_counter() - t0) * 1000, (r.spans[0].text if r.spans else None)

    def per_passage_ms(question, items):
        t0 = time.perf_counter()
        for item in items:
            ours.read(question, [item])
        return (time.perf_counter() - t0) * 1000, None

    sides = {"ours_batched": batched_ms, "ours_one_passage_per_call": per_passage_ms}
    if proc is not None:
        sides["transformers_pipeline_per_passage"] = pipeline_ms
    for q, items in requests[:2]:  # warm-up, untimed
        for fn in sides.values():
            fn(q, items)

    samples = {name: [] for name in sides}
    agree = []
    names = list(sides)
    for run in range(args.runs):
        for n, (q, items) in enumerate(requests):
            # Rotate who goes first so neither side profits from caches the other warmed.
            order = names[n % len(names):] + names[: n % len(names)]
            best = {}
            for name in order:
                ms, best[name] = sides[name](q, items)
                samples[name].append(ms)
            if "transformers_pipeline_per_passage" in best:
                agree.append(_norm(best["ours_batched"]) == _norm(best["transformers_pipeline_per_passage"]))
        log(f"run {run + 1}/{args.runs} done")
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=60)

    stats = {name: percentiles(v) for name, v in samples.items()}
    ratio = ratio_mean = None
    if "transformers_pipeline_per_passage" in stats:
        pipe, ours_b = stats["transformers_pipeline_per_passage"], stats["ours_batched"]
        ratio = round(pipe["p50"] / ours_b["p50"], 2)
        ratio_mean = round(pipe["mean"] / ours_b["mean"], 2)
    result = {
        "figures": {
            "ms_per_question": stats,
            "pipeline_over_ours_p50_ratio": ratio,
            "pipeline_over_ours_mean_ratio": ratio_mean,
            "one_call_per_passage_over_batched_p50_ratio": round(
                stats["ours_one_passage_per_call"]["p50"] / stats["ours_batched"]["p50"], 2),
            "same_top_answer_fraction": round(sum(agree) / len(agree), 3) if agree else None,
        },
        "targets": {"pipeline_over_ours_p50_ratio": target(ratio, ">=", 3, "x")},
        "runs": args.runs,
        "questions_per_run": len(requests),
        "passages_per_question": percentiles([len(i) for _, i in requests]),
        "settings": {"max_length": ours.max_length, "stride": ours.stride, "max_answer_tokens": ours.max_answer_tokens,
                     "reader_top_k": ours.top_k, "reader_backend": ours.backend,
                     "bf16_autocast": getattr(ours, "_bf16", False), "read_k": args.read_k or settings.read_k},
        "reader_model": model_info,
        "baseline": baseline_info if proc is not None else {"available": False, "why": baseline_info},
        "data": {"questions": f"{args.questions} ({len(requests)} questions)",
                 "passages": f"the bot's top read_k retrieved chunks from {args.corpus} (dense + BM25 fusion)"},
        "notes": [
            "ms per question: our reader = one read() over all passages; pipeline = one call per passage, summed",
            "ours_one_passage_per_call: our reader called once per passage, to separate the gain of batching "
            "from other differences",
            "the pipeline side runs in a separate process with its own transformers/tokenizers versions "
            "(see baseline); each side times only its own calls",
            "same_top_answer_fraction is a sanity check that both read the same passages, not a quality figure",
        ],
    }
    emit("reader_vs_pipeline", result, args.save, started)
    return 0 if proc is not None else 3


def _norm(text):
    return " ".join((text or "").lower().split())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        model, seq, stride, answer, threads = sys.argv[2:7]
        raise SystemExit(worker(model, int(seq), int(stride), int(answer), int(threads)))
    raise SystemExit(main())
