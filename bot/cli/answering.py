"""The answering commands: `bot ask`, `bot index` and the interactive `bot chat`."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from bot.cli.options import (add_answering_flags, add_embedding_flags, add_location_flags, add_ray_flags,
                             check_ray_flags, print_notes, settings_from)
from bot.errors import BotError, CorpusError, UsageError
from bot.formatting import one_line_name, place_text, shorten

EXAMPLES_ASK = """examples:
  bot ask "When was the BCIJ established?"
  bot ask --json "Who signed the framework in 2014?"
  printf 'q1\\nq2\\n' | bot ask -        # one JSON object per line
"""


def register_ask(sub) -> argparse.ArgumentParser:
    ask = sub.add_parser("ask", help="answer a question (or '-' for one per line on stdin)",
                         epilog=EXAMPLES_ASK, formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question", nargs="?", help="the question, or - to read questions from stdin")
    ask.add_argument("--json", action="store_true", help="print the full response as JSON")
    add_location_flags(ask)
    add_answering_flags(ask)
    return ask


def register_index(sub) -> argparse.ArgumentParser:
    idx = sub.add_parser("index", help="build or update the index (only changed documents are embedded)",
                         epilog="example:\n  bot index --corpus my_docs --index my_index",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    idx.add_argument("--force", action="store_true", help="re-embed every document")
    idx.add_argument("--shard-size", type=int, metavar="N",
                     help="chunks per index shard (default: the index's own, 1,000,000 for a new one; "
                          "BOT_SHARD_SIZE); a change re-shards without embedding again")
    add_location_flags(idx)
    add_embedding_flags(idx)
    add_ray_flags(idx, "embed the documents")
    return idx


def register_chat(sub) -> argparse.ArgumentParser:
    chat = sub.add_parser("chat", help="interactive prompt in the terminal")
    add_location_flags(chat)
    add_answering_flags(chat)
    return chat


def _bold(text: str, on: bool) -> str:
    return f"\033[1m{text}\033[0m" if on else text


def format_response(response, color: bool = False) -> str:
    """Human-readable answer: the span, then numbered citations quoting the source."""
    lines = []
    if response.abstained:
        lines.append("Not found in the documents.")
        if response.reason:
            lines.append(f"  ({response.reason})")
        if response.passages:
            lines.append("Closest passages:")
            for p in response.passages[:3]:
                where = _where(p.chunk.doc_id, p.chunk.section, p.chunk.line, p.chunk.page)
                lines.append(f"  - {where}")
                lines.append(textwrap.indent(textwrap.fill(shorten(p.chunk.text, 300), 96), "      "))
        return "\n".join(lines)
    if response.answer_items:  # a list: an item a line
        lines.extend(_bold(f"  {item}", color) for item in response.answer_items)
    else:
        lines.append(_bold(" ".join(response.answer.split()), color))  # a span over lines, as one line
    if response.reason:
        lines.append(f"  (note: {response.reason})")
    lines.append("")
    for n, c in enumerate(response.citations, start=1):
        lines.append(f"[{n}] {_where(c.doc, c.section, c.line, c.page)}")
        a, b = c.start - c.quote_start, c.end - c.quote_start
        quote = c.quote[:a] + _bold(c.quote[a:b], color) + c.quote[b:] if color else c.quote
        lines.append(textwrap.indent(textwrap.fill(f"\u201c{quote}\u201d", 96), "    "))
    lines.append(f"confidence {response.score:.2f} \u00b7 {response.timings_ms.get('total', 0):.0f} ms")
    return "\n".join(lines)


def _where(doc: str, section: str, line, page) -> str:
    parts = [one_line_name(doc)]
    if section:
        parts.append(f"\u00a7 {section}")
    return ", ".join(parts + place_text(doc, page, line))


def run_ask(args) -> int:
    from bot.pipeline import Bot

    if args.question is None:
        raise UsageError("no question given: bot ask \"your question\" (or - to read from stdin)")
    bot = Bot(settings_from(args))
    if args.question.strip():  # a blank question is refused before anything is built
        bot.load_index(progress=sys.stderr.isatty())  # a new corpus is embedded first: show how far it is
    if args.question == "-":
        # Under a UTF-8 locale stdin is decoded strictly: one line in another encoding must not end the run.
        getattr(sys.stdin, "reconfigure", lambda **_: None)(errors="replace")
        for line in sys.stdin:  # one output line per input line, a blank one included, so they pair up
            try:
                out = bot.ask(line).to_dict()
            except BotError as exc:  # a blank line, or every document deleted meanwhile: the next line may work
                out = {"question": line.rstrip("\n"), "error": str(exc)}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        print_notes(bot, all_skipped=False)  # on stderr: stdout stays one JSON object per line
        return 0
    response = bot.ask(args.question)
    print_notes(bot, all_skipped=False)
    if args.json:
        print(json.dumps(response.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_response(response, color=sys.stdout.isatty()))
    return 0


def run_index(args) -> int:
    from bot.pipeline import Bot
    from bot.search.index import faiss_summary

    check_ray_flags(args)
    settings = settings_from(args, shard_size=args.shard_size)
    processor = None
    if args.ray:
        from bot.cluster.indexing import RayProcessor

        processor = RayProcessor(settings.embedding_model, settings.embedding_backend, args.ray, args.ray_workers)
    bot = Bot(settings, processor=processor)  # the reader loads on first use: indexing never needs it
    report = bot.sync(force=args.force, progress=sys.stderr.isatty())
    print_notes(bot)
    manifest = bot.index.manifest
    print(f"index {settings.index_dir}: {len(manifest['documents'])} documents, {manifest['n_chunks']} chunks "
          f"({faiss_summary(manifest)}, {manifest['embedding_model']})")
    if report.rebuilt_reason:  # every document was embedded again, not added
        print(f"  rebuilt: {len(report.added) + len(report.changed)} documents embedded again, "
              f"skipped {len(report.skipped)}; embedded {report.embedded_chunks} chunks in {report.seconds:.1f}s")
    else:
        print(f"  added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
              f"unchanged {len(report.reused)}, skipped {len(report.skipped)}; "
              f"embedded {report.embedded_chunks} chunks in {report.seconds:.1f}s")
    return 0


def run_chat(args) -> int:
    from bot.conversation import Turn
    from bot.pipeline import Bot

    bot = Bot(settings_from(args))
    print("Ask a question about the documents (empty line or Ctrl-D to quit).", file=sys.stderr)
    bot.load_index(progress=sys.stderr.isatty())
    print_notes(bot, all_skipped=False)
    history: list[Turn] = []
    while True:
        try:
            question = input("? ")
        except EOFError:
            print(file=sys.stderr)
            return 0
        if not question.strip():
            return 0
        try:
            response = bot.ask(question, history=history)
        except (UsageError, CorpusError) as exc:  # e.g. every document deleted meanwhile: add one, ask again
            print(f"error: {exc}", file=sys.stderr)
            continue
        history.append(Turn(question, "" if response.abstained else response.answer))
        print(format_response(response, color=sys.stdout.isatty()))
        print()
