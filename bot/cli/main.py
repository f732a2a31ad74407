"""The `bot` command: one table of subcommands over `bot.pipeline.Bot`, the evaluator and the
trainer. Each subcommand module registers its flags and handles its run; errors go through
`options.run_reporting_errors`, shared with `python app.py`."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli import answering, docs, feedback, tools, training
from bot.cli.answering import EXAMPLES_ASK

# name -> (adds the subcommand's parser, runs it)
COMMANDS = {
    "ask": (answering.register_ask, answering.run_ask),
    "index": (answering.register_index, answering.run_index),
    "chat": (answering.register_chat, answering.run_chat),
    "docs": (docs.register_docs, docs.run_docs),
    "train-reader": (training.register_train, training.run_train),
    "eval": (tools.register_eval, tools.run_eval),
    "calibrate": (tools.register_calibrate, tools.run_calibrate),
    "export-onnx": (tools.register_export, tools.run_export),
    "feedback": (feedback.register_feedback, feedback.run_feedback),
}


def build_parser() -> argparse.ArgumentParser:
    from bot.cli.options import OneLineErrorParser

    parser = OneLineErrorParser(
        prog="bot",
        description="Answer questions from a folder of documents, with citations. "
        "Run without arguments on a terminal for an interactive prompt.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES_ASK,
    )
    sub = parser.add_subparsers(dest="command", parser_class=OneLineErrorParser)
    for register, _ in COMMANDS.values():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.cli.options import run_reporting_errors

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        if args.command is None:
            if sys.stdin.isatty() and sys.stdout.isatty():
                return answering.run_chat(parser.parse_args(["chat"]))
            parser.print_help()
            return 2
        return COMMANDS[args.command][1](args)

    return run_reporting_errors(run)


if __name__ == "__main__":
    sys.exit(main())
