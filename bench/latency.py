"""End-to-end answer latency in a warm process: `Bot.ask` over the seed questions on the default
corpus, p50/p95 of the total and of each stage (Response.timings_ms).

    .venv/bin/python bench/latency.py [--runs 5] [--reader-model DIR] [--save]

Targets: p50 <= 100 ms, p95 <= 200 ms.
"""

from __future__ import annotations

import time

from _common import (DEFAULT_CORPUS, SEED_QUESTIONS, apply_threads, bench_settings, corpus_data, emit, log, parser,
                     percentiles, reader_model, seed_questions, settings_dict, target, temp_dir)

STAGES = ("embed", "retrieve", "read", "format", "total")


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="passes over the question set (default 5)")
    p.add_argument("--warmup", type=int, default=3, help="untimed questions first (default 3)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="documents folder (default: corpus/)")
    p.add_argument("--questions", default=str(SEED_QUESTIONS), help="JSONL with a 'question' field")
    p.add_argument("--reader-model", help="QA model folder; 'none' for sentence mode (default: bundled, "
                   "else a random-init model of the same architecture)")
    args = p.parse_args()
    if args.quick:
        args.runs, args.warmup = 1, 1
    apply_threads(args)

    from pathlib import Path

    questions = seed_questions(Path(args.questions))
    if args.quick:
        questions = questions[:5]
    if args.reader_model == "none":
        reader, model_info = "none", {"kind": "sentence mode (--reader none)"}
    else:
        reader, model_info = reader_model(args.reader_model)

    from bot.pipeline import Bot

    settings = bench_settings(corpus_dir=Path(args.corpus), index_dir=temp_dir("latency") / "index", reader=reader)
    bot = Bot(settings)
    t0 = time.perf_counter()
    report = bot.sync()
    index_s = time.perf_counter() - t0
    log(f"index built: {bot.index.manifest['n_chunks']} chunks in {index_s:.1f}s")

    for q in questions[: args.warmup]:  # loads the reader and the calibration, fills caches
        bot.ask(q)

    samples: dict[str, list[float]] = {s: [] for s in STAGES}
    samples["other"] = []
    abstained = 0
    for run in range(args.runs):
        for q in questions:
            # The query-vector cache would turn repeats into free embeddings; a user's question
            # is usually new, so every timed question is embedded for real.
            bot.embedder.clear_query_cache()
            r = bot.ask(q)
            for s in STAGES:
                samples[s].append(r.timings_ms.get(s, 0.0))
            samples["other"].append(r.timings_ms["total"] - sum(r.timings_ms.get(s, 0.0) for s in STAGES[:-1]))
            abstained += r.abstained
        log(f"run {run + 1}/{args.runs}: p50 so far {percentiles(samples['total'])['p50']} ms")

    stages = {s: percentiles(v) for s, v in samples.items()}
    result = {
        "figures": {
            "total_ms": stages["total"],
            "stages_ms": {s: stages[s] for s in ("embed", "retrieve", "read", "format", "other")},
            "abstained_fraction": round(abstained / max(len(samples["total"]), 1), 3),
            "index_build_s": round(index_s, 2),
        },
        "targets": {
            "p50_total_ms": target(stages["total"].get("p50"), "<=", 100, " ms"),
            "p95_total_ms": target(stages["total"].get("p95"), "<=", 200, " ms"),
        },
        "runs": args.runs,
        "questions_per_run": len(questions),
        "settings": {**settings_dict(settings), "warmup_questions": args.warmup,
                     "query_vector_cache": "cleared before every timed question"},
        "reader_model": model_info,
        "data": {
            **corpus_data(bot, args.corpus),
            "faiss": [shard["faiss"] for shard in bot.index.manifest["shards"]],
            "questions": f"{args.questions} ({len(questions)} questions)",
            "index_embedded_chunks": report.embedded_chunks,
        },
        "notes": ["'other' = total minus the four stages: question cleaning, follow-up resolution, overhead",
                  "one question at a time through Bot.ask, single process, after warm-up"],
    }
    emit("latency", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
