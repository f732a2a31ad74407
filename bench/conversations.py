"""Conversations with follow-up questions, asked turn by turn as the chat page asks them.

    .venv/bin/python bench/conversations.py [--set bench/conversations] [--index DIR] [--verbose] [--save]

A set is a folder with `corpus/` and `conversations.jsonl`: one conversation a line,
{"id": ..., "turns": [{"question": ..., "answers": [gold spans], "standalone": ...}, ...]}, where
"answers": [] marks a turn the documents do not answer and "standalone" is the follow-up written
out in full (for the reader of the results; the bot never sees it). Each turn is asked with the
conversation so far, the bot's own answers included ("" for a refusal), so a wrong or refused
answer early on costs what it would cost a user. Scoring is `bot eval`'s: answerable turns by
token F1 (a refusal scores 0), unanswerable ones by being refused. `--verbose` prints each turn
with the question the reader was given.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from _common import REPO, bench_settings, corpus_data, emit, log, parser, temp_dir

from bot.evaluation.metrics import score_answer

RIGHT_F1 = 80.0  # an answerable turn counts as answered right from this F1 up


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--set", type=Path, default=REPO / "bench" / "conversations",
                   help="folder with corpus/ and conversations.jsonl")
    p.add_argument("--index", type=Path, help="index folder (default: a temporary one)")
    p.add_argument("--verbose", action="store_true", help="print every turn to stderr")
    args = p.parse_args()
    started = time.perf_counter()
    from bot.pipeline import Bot

    conversations = [json.loads(line) for line in (args.set / "conversations.jsonl").read_text().splitlines()
                     if line.strip()]
    settings = bench_settings(corpus_dir=args.set / "corpus", index_dir=args.index or temp_dir("conversations"))
    bot = Bot(settings)
    bot.sync()
    turns = []
    for conversation in conversations:
        history: list[dict] = []
        for n, turn in enumerate(conversation["turns"], start=1):
            response = bot.ask(turn["question"], history=list(history))
            answerable = bool(turn["answers"])
            _, f1 = score_answer(response.answer, response.abstained, turn["answers"], answerable)
            turns.append({"first": n == 1, "answerable": answerable, "refused": response.abstained, "f1": f1})
            if args.verbose:
                mark = "ok " if (f1 >= RIGHT_F1 if answerable else response.abstained) else "BAD"
                log(f"{mark} {conversation['id']}.{n} {turn['question']!r} -> reader: {response.asked_as!r} | "
                    f"{'refused' if response.abstained else repr(response.answer)} | gold {turn['answers'][:1]}")
            history.append({"question": turn["question"], "answer": "" if response.abstained else response.answer})

    def figures(kept: list[dict]) -> dict:
        answerable = [t for t in kept if t["answerable"]]
        unanswerable = [t for t in kept if not t["answerable"]]
        return {"turns": len(kept), "answerable": len(answerable),
                "answerable_f1": round(sum(t["f1"] for t in answerable) / max(len(answerable), 1), 1),
                "answered_right": sum(t["f1"] >= RIGHT_F1 for t in answerable),
                "wrongly_refused": sum(t["refused"] for t in answerable),
                "unanswerable": len(unanswerable), "unanswerable_refused": sum(t["refused"] for t in unanswerable)}

    emit("conversations", {
        "figures": {"all": figures(turns), "first_turns": figures([t for t in turns if t["first"]]),
                    "follow_ups": figures([t for t in turns if not t["first"]])},
        "targets": {},
        "runs": 1,
        "settings": {"read_k": settings.read_k, "top_k": settings.top_k, "threshold": bot.threshold,
                     "reader_backend": settings.reader_backend},
        "data": {"set": str(args.set), "conversations": len(conversations), **corpus_data(bot, settings.corpus_dir)},
    }, args.save, started)


if __name__ == "__main__":
    main()
