"""Memory over many questions: resident set size of one warm process asking `Bot.ask` 1,000
questions on the default corpus, read after the warm-up and at each quarter.

    .venv/bin/python bench/memory.py [--questions 1000] [--reader auto|none|DIR] [--save]

Target: RSS grows by at most 50 MB from the end of the warm-up to the last question.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

from _common import (DEFAULT_CORPUS, SEED_QUESTIONS, apply_threads, bench_settings, corpus_data, emit, log, parser,
                     process_memory, settings_dict, target, temp_dir)

UNANSWERABLE = ["What is the boiling point of liquid nitrogen?", "Who painted the Sistine Chapel ceiling?",
                "How many moons does Neptune have?", "What is the best recipe for sourdough bread?"]


def question_pool(corpus: Path) -> tuple[list[str], str]:
    """The seed questions when they are there, else questions built from the corpus headings;
    plus a few the documents cannot answer."""
    if SEED_QUESTIONS.is_file():
        with SEED_QUESTIONS.open(encoding="utf-8") as f:
            pool = [json.loads(line)["question"] for line in f if line.strip()]
        source = str(SEED_QUESTIONS)
    else:
        from bot.ingest.corpus import scan_corpus, try_load

        documents = [doc for doc, _ in map(try_load, scan_corpus(corpus)) if doc is not None]
        pool = [f"What does the document say about {h}?" for d in documents for _, h in d.headings if h]
        source = f"headings of {corpus}"
    return pool + UNANSWERABLE, source


def rss_mb() -> float:
    gc.collect()  # count memory still referenced, not garbage waiting for the collector
    return round(process_memory()["rss"] / 2**20, 1)


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=1000, help="questions after the warm-up (default 1000)")
    p.add_argument("--warmup", type=int, default=20, help="questions before the first reading (default 20)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="documents folder (default: corpus/)")
    p.add_argument("--reader", default="auto", help='"auto" (bundled reader, else sentence mode), "none" or a '
                   "QA model folder (default auto)")
    args = p.parse_args()
    if args.quick:
        args.questions, args.warmup = 40, 4
    apply_threads(args)

    from bot.pipeline import Bot

    pool, source = question_pool(Path(args.corpus))
    settings = bench_settings(corpus_dir=Path(args.corpus), index_dir=temp_dir("memory") / "index", reader=args.reader)
    bot = Bot(settings)
    bot.sync()

    def question(n: int) -> str:
        # Each text is new, as users' questions mostly are, so per-question caches fill as in real use.
        return f"{pool[n % len(pool)]} ({n})"

    for n in range(args.warmup):
        bot.ask(question(n))
    readings = {"after_warmup": rss_mb()}
    log(f"after warm-up: {readings['after_warmup']} MB")
    checkpoints = {round(args.questions * q / 4) for q in (1, 2, 3, 4)}
    abstained = 0
    for n in range(1, args.questions + 1):
        abstained += bot.ask(question(args.warmup + n)).abstained
        if n in checkpoints:
            readings[f"after_{n}"] = rss_mb()
            log(f"after {n} questions: {readings[f'after_{n}']} MB")

    last = readings[f"after_{args.questions}"]
    first_quarter = readings[f"after_{round(args.questions / 4)}"]
    result = {
        "figures": {
            "rss_mb": readings,
            "growth_mb": round(last - readings["after_warmup"], 1),
            "growth_after_first_quarter_mb": round(last - first_quarter, 1),
            "peak_rss_mb": round(process_memory()["peak_rss"] / 2**20, 1),
            "abstained_fraction": round(abstained / args.questions, 3),
        },
        "targets": {"growth_mb": target(round(last - readings["after_warmup"], 1), "<=", 50, " MB")},
        "runs": 1,
        "questions": args.questions,
        "settings": {**settings_dict(settings), "warmup_questions": args.warmup, "reader_kind": bot.reader.kind},
        "data": {
            **corpus_data(bot, args.corpus),
            "questions": f"{source} plus {len(UNANSWERABLE)} unanswerable, cycled, each made unique with a number",
        },
        "notes": ["RSS read from /proc/self/status after gc.collect(); one question at a time, one process",
                  "the query-vector cache (1,024 entries) fills during the run: a few MB of expected growth"],
    }
    emit("memory", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
