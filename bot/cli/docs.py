"""`bot docs`: list the indexed documents, or remove one from the corpus folder and the index."""

from __future__ import annotations

import argparse

from bot.cli.options import add_embedding_flags, add_location_flags, print_notes, settings_from
from bot.errors import UsageError
from bot.formatting import added_text, display_width, one_line_name, size_text
from bot.types import DocumentInfo

EXAMPLES_DOCS = """examples:
  bot docs list
  bot docs remove old-report.pdf
"""
ACTIONS = "bot docs list | bot docs remove NAME"


def register_docs(sub) -> argparse.ArgumentParser:
    docs = sub.add_parser("docs", help="list the documents, or remove one", epilog=EXAMPLES_DOCS,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = docs.add_subparsers(dest="docs_action", metavar="{list,remove}")
    listing = actions.add_parser("list", help="the indexed documents: name, passages, size, when added")
    remove = actions.add_parser("remove", help="delete a document from the corpus folder and the index")
    remove.add_argument("name", help="the document's name as `bot docs list` shows it")
    for parser in (listing, remove):
        add_location_flags(parser)
        add_embedding_flags(parser)
    return docs


def run_docs(args) -> int:
    from bot.pipeline import Bot

    if args.docs_action is None:
        raise UsageError(f"say what to do: {ACTIONS}")
    bot = Bot(settings_from(args))
    if args.docs_action == "list":
        documents = bot.documents()
        print_notes(bot)  # e.g. an index that could not be brought up to date: the list is its old one
        print(documents_table(documents))
        return 0
    report = bot.remove_document(args.name)
    print_notes(bot)
    print(f"removed {one_line_name(args.name)}; {len(bot.documents())} documents remain "
          f"({report.seconds:.1f}s)")
    return 0


def documents_table(documents: list[DocumentInfo]) -> str:
    """Aligned columns: name, passages (chunks), size and time added."""
    header = ("name", "chunks", "size", "added")
    rows = [(one_line_name(d["doc"]), str(d["chunks"]), size_text(d["bytes"]), added_text(d["added_at"])) for d in documents]
    widths = [max(display_width(r[k]) for r in [header, *rows]) for k in range(len(header))]
    right = (False, True, True, False)  # numbers line up on the right

    def line(row: tuple[str, ...]) -> str:
        pads = [" " * (w - display_width(c)) for c, w in zip(row, widths, strict=True)]
        cells = [p + c if r else c + p for c, p, r in zip(row, pads, right, strict=True)]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])
