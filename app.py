"""Start the chat page: `python app.py [--host H] [--port P] [--corpus DIR] [--index DIR] [--reader R]
[--auth FILE] [--replicas N] [--no-uploads | --allow-uploads]`; `python app.py --add-user NAME --auth FILE` adds a
user who may sign in.

Only parses options here; gradio and the models are imported after parsing, so --help is instant.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path


from bot.cli.options import OneLineErrorParser, add_location_flags, add_reader_flag, run_reporting_errors


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python app.py",
        description="Chat page that answers questions from a folder of documents, with citations.\n"
        "Options override the BOT_* environment variables, which override the defaults.",
        epilog="example:\n  python app.py --corpus my_docs --index my_index --port 8080",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", help="address to listen on (env BOT_HOST, default 127.0.0.1: this computer "
                        "only; 0.0.0.0 lets other machines on the network in)")
    parser.add_argument("--port", type=int, help="port to listen on (env BOT_PORT, default 7860)")
    add_location_flags(parser)
    add_reader_flag(parser)
    parser.add_argument("--example", action="append", metavar="QUESTION", dest="examples",
                        help="an example question to offer on the page (repeat for several; "
                        "default: questions built from the documents)")
    parser.add_argument("--auth", metavar="FILE", help="require sign-in with the users in FILE (env BOT_AUTH_FILE; "
                        "made with --add-user)")
    parser.add_argument("--add-user", metavar="NAME", help="add NAME to the --auth FILE (or change its "
                        "password), reading the password from the terminal or one line of stdin, then exit")
    parser.add_argument("--replicas", type=int, metavar="N",
                        help="answer in N processes at once over the same index (env BOT_REPLICAS; default: "
                        "in the page's own process, one question at a time); uploads still go through the "
                        "page, the one writer, and the replicas follow each new index generation")
    uploads = parser.add_mutually_exclusive_group()
    uploads.add_argument("--no-uploads", action="store_true",
                         help="read-only: the page lists the documents but cannot add any (env BOT_NO_UPLOADS=1)")
    uploads.add_argument("--allow-uploads", action="store_true",
                         help="let anyone add documents even when the page listens beyond this computer "
                         "without --auth (env BOT_ALLOW_UPLOADS=1)")
    return parser


def _env_flag(name: str) -> bool:
    """A yes/no environment variable: 1/0, true/false, yes/no, on/off; unset or empty is no."""
    from bot.errors import UsageError

    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise UsageError(f"{name}={raw!r} is not 1 or 0")


def _replicas(flag: int | None) -> int:
    """--replicas, else BOT_REPLICAS, else 0 (answer in the page's process)."""
    from bot.errors import UsageError

    raw = str(flag) if flag is not None else os.environ.get("BOT_REPLICAS", "").strip() or "0"
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"BOT_REPLICAS={raw!r} is not a whole number") from None
    if value < 0:
        raise UsageError(f"--replicas must be 0 or more (got {value})")
    return value


def _read_password(name: str) -> str:
    """The new password, never echoed: asked twice on a terminal, else the first line of stdin."""
    from bot.errors import UsageError

    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the passwords do not match")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def add_user(name: str, auth: str | None) -> int:
    from bot.ui.auth import add_user as add
    from bot.errors import UsageError

    if not auth:
        raise UsageError("--add-user needs the file to write: --auth FILE (or BOT_AUTH_FILE)")
    path = Path(auth).expanduser()
    changed = add(path, name, _read_password(name))
    print(f"{'changed the password of' if changed else 'added'} {name} in {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")

    def run() -> int:
        from bot.cli.options import settings_from

        auth = args.auth or os.environ.get("BOT_AUTH_FILE", "").strip() or None
        if args.add_user is not None:
            return add_user(args.add_user, auth)
        if args.no_uploads or args.allow_uploads:  # a flag overrides both variables
            no_uploads, allow_uploads = args.no_uploads, args.allow_uploads
        else:
            no_uploads, allow_uploads = _env_flag("BOT_NO_UPLOADS"), _env_flag("BOT_ALLOW_UPLOADS")
        settings = settings_from(args, host=args.host, port=args.port)
        from bot.ui.server import serve

        serve(settings, args.examples, auth_file=Path(auth).expanduser() if auth else None,
              no_uploads=no_uploads, allow_uploads=allow_uploads, replicas=_replicas(args.replicas))
        return 0

    return run_reporting_errors(run)


if __name__ == "__main__":
    sys.exit(main())
