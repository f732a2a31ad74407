"""Start the chat page: `python app.py [--host H] [--port P] [--corpus DIR] [--index DIR] [--reader R]`.

Only parses options here; gradio and the models are imported after parsing, so --help is instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        print(f"error: {message} (see python app.py --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="app.py",
        description="Chat page that answers questions from a folder of documents, with citations.\n"
        "Options override the BOT_* environment variables, which override the defaults.",
        epilog="example:\n  python app.py --corpus my_docs --index my_index --port 8080",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", help="address to listen on (env BOT_HOST, default 127.0.0.1: this computer "
                        "only; 0.0.0.0 lets other machines on the network in)")
    parser.add_argument("--port", type=int, help="port to listen on (env BOT_PORT, default 7860)")
    parser.add_argument("--corpus", metavar="DIR", help="documents folder (env BOT_CORPUS_DIR, default ./corpus)")
    parser.add_argument("--index", metavar="DIR", help="index folder (env BOT_INDEX_DIR, default ./index)")
    parser.add_argument("--reader", help='"auto" (bundled model), "none" (sentence mode) or a QA model name/path '
                        "(env BOT_READER)")
    parser.add_argument("--example", action="append", metavar="QUESTION", dest="examples",
                        help="an example question to offer on the page (repeat for several; "
                        "default: questions built from the documents)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    from bot.config import load_settings
    from bot.errors import BotError

    try:
        settings = load_settings({"host": args.host, "port": args.port, "corpus_dir": args.corpus,
                                  "index_dir": args.index, "reader": args.reader})
        from bot.ui import serve

        serve(settings, args.examples)
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for the user; BOT_DEBUG=1 shows it
        if os.environ.get("BOT_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set BOT_DEBUG=1 for details)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
