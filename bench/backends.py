"""The backends side by side: torch against ONNX Runtime (fp32 and int8), in one run.

    .venv/bin/python bench/backends.py [--docs 1000] [--questions 200] [--save]

For each (reader backend, embedding backend) pair, every figure comes from its own processes
(bench/latency.py, cold_start.py, indexing.py, memory.py with BOT_READER_BACKEND and
BOT_EMBEDDING_BACKEND set), one configuration after the other, so no runtime's idle threads slow
another's timing. The ONNX copies are built first (`bot export-onnx`), so no figure includes a
build.

Targets (2 cores): answer p50 <= 50 ms on AVX2-only cores, <= 25 ms with AVX-512 VNNI or bf16;
indexing >= 100 chunks/s; a new `bot ask` process answers within 3 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from _common import REPO, emit, log, parser, target

# torch throughout (as before the fast path); both models in fp32 on ONNX Runtime; both in int8
# (the defaults on a machine where `auto` picks the int8 reader).
CONFIGS = (("torch", "torch"), ("onnx-fp32", "onnx-fp32"), ("onnx-int8", "onnx-int8"))
HERE = REPO / "bench"


def run_bench(script: str, args: list[str], reader: str, embedder: str) -> dict:
    env = {**os.environ, "BOT_READER_BACKEND": reader, "BOT_EMBEDDING_BACKEND": embedder, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(HERE / script), *args], cwd=REPO, env=env, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit(f"{script} failed for {reader}/{embedder}: {out.stderr[-1500:]}")
    return json.loads(out.stdout)


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=1000, help="documents for the indexing figure (default 1000)")
    p.add_argument("--questions", type=int, default=200, help="questions for the memory figure (default 200)")
    args = p.parse_args()
    quick = ["--quick"] if args.quick else []
    subprocess.run([sys.executable, "-m", "bot", "export-onnx", "--no-measure"], cwd=REPO, check=True,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True)

    rows = {}
    for reader, embedder in CONFIGS:
        name = f"reader {reader}, embedder {embedder}"
        log(name)
        latency = run_bench("latency.py", ["--runs", "3", *quick], reader, embedder)["figures"]
        cold = run_bench("cold_start.py", ["--runs", "5", "--no-importtime", *quick], reader, embedder)["figures"]
        indexing = run_bench("indexing.py", ["--docs", str(args.docs), *quick], reader, embedder)["figures"]
        memory = run_bench("memory.py", ["--questions", str(args.questions), *quick], reader, embedder)["figures"]
        rows[name] = {
            "answer_p50_ms": latency["total_ms"].get("p50"),
            "answer_p95_ms": latency["total_ms"].get("p95"),
            "read_p50_ms": latency["stages_ms"]["read"].get("p50"),
            "embed_p50_ms": latency["stages_ms"]["embed"].get("p50"),
            "index_chunks_per_s": indexing["full_build"]["chunks_per_s"],
            "new_process_first_answer_p50_s": cold["time_to_first_answer_s"].get("p50"),
            "rss_after_questions_mb": memory["rss_mb"].get("end", memory["rss_mb"]),
            "peak_rss_mb": memory["peak_rss_mb"],
        }
        log(json.dumps(rows[name]))
    best_answer = min(r["answer_p50_ms"] for r in rows.values())
    best_index = max(r["index_chunks_per_s"] for r in rows.values())
    best_cold = min(r["new_process_first_answer_p50_s"] for r in rows.values())
    result = {
        "figures": rows,
        "targets": {
            "answer_p50_ms": target(best_answer, "<=", 25, " ms (50 on AVX2-only cores)"),
            "index_chunks_per_s": target(best_index, ">=", 100),
            "new_process_first_answer_s": target(best_cold, "<=", 3, " s"),
        },
        "settings": {"latency": "bench/latency.py --runs 3 (seed_dev questions on corpus/)",
                     "cold_start": "bench/cold_start.py --runs 5",
                     "indexing": f"bench/indexing.py --docs {args.docs}",
                     "memory": f"bench/memory.py --questions {args.questions}"},
        "notes": ["each configuration in its own processes, one after the other",
                  "the torch reader runs under bf16 autocast where the CPU has bf16 units (see machine.cpu)"],
    }
    emit("backends", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
