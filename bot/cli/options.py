"""Flags shared by the `bot` commands and `python app.py`, the settings they make, and the one
error-handling chain every entry point runs its work through."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Callable

from bot.config import EMBEDDING_BACKENDS, READER_BACKENDS
from bot.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, BotError, UsageError, first_line


def add_location_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="DIR", help="documents folder (env BOT_CORPUS_DIR, default ./corpus)")
    parser.add_argument("--index", metavar="DIR", help="index folder (env BOT_INDEX_DIR, default ./index)")


def add_reader_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reader", help='"auto" (bundled model), "none" (sentence mode) or a QA model name/path '
                        "(env BOT_READER)")
    parser.add_argument("--reader-backend", choices=READER_BACKENDS,
                        help="how the reader runs (env BOT_READER_BACKEND; default auto: the fastest measured here)")


def add_embedding_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--embedding-model", help="sentence-transformers model name or path (env BOT_EMBEDDING_MODEL)")
    parser.add_argument("--embedding-backend", choices=EMBEDDING_BACKENDS,
                        help="how the embedder runs (env BOT_EMBEDDING_BACKEND); changing it re-embeds the index")


def add_answering_flags(parser: argparse.ArgumentParser) -> None:
    add_reader_flag(parser)
    parser.add_argument("--reader-model", dest="reader", help=argparse.SUPPRESS)
    add_embedding_flags(parser)
    parser.add_argument("--top-k", type=int, help="passages to retrieve and show (env BOT_TOP_K, default 5)")
    parser.add_argument("--threshold", type=float, dest="abstain_threshold",
                        help="answerability below which the bot refuses (default: the calibrated one)")


def add_ray_flags(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_argument_group("on a Ray cluster (pip install -e '.[cluster]')")
    group.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                       help=f"{what} on Ray: the cluster at ADDRESS, or with no address the one started on "
                       "this machine by `ray start` (else a local one for this run)")
    group.add_argument("--ray-workers", type=int, metavar="N", help="actors to start (default: the cluster's CPUs)")


def check_ray_flags(args: argparse.Namespace) -> None:
    """--ray-workers means nothing without --ray (its count is checked with the cluster's flags)."""
    if args.ray_workers is not None and not args.ray:
        raise UsageError("--ray-workers needs --ray (the cluster to start them on)")


def settings_from(args: argparse.Namespace, **extra):
    """Settings from the flags a command has (absent ones fall back to BOT_* and the defaults)."""
    from bot.config import load_settings

    overrides = {
        "corpus_dir": getattr(args, "corpus", None),
        "index_dir": getattr(args, "index", None),
        "reader": getattr(args, "reader", None),
        "embedding_model": getattr(args, "embedding_model", None),
        "embedding_backend": getattr(args, "embedding_backend", None),
        "reader_backend": getattr(args, "reader_backend", None),
        "top_k": getattr(args, "top_k", None),
        "abstain_threshold": getattr(args, "abstain_threshold", None),
        **extra,
    }
    try:
        settings = load_settings(overrides)
    except UsageError as exc:  # name the flag the user typed, not the settings field behind it
        field, _, rest = str(exc).partition(" ")
        if overrides.get(field) is None:
            raise
        raise UsageError(f"{_FLAG_OF_FIELD.get(field, '--' + field.replace('_', '-'))} {rest}") from None
    check_index_path(settings.index_dir)
    return settings


_FLAG_OF_FIELD = {"corpus_dir": "--corpus", "index_dir": "--index", "abstain_threshold": "--threshold"}


def check_index_path(index_dir) -> None:
    """FAISS takes file names as UTF-8 text: a folder name with other bytes (which Python keeps as
    surrogate escapes) would fail only when the first index file is written, after the embedding."""
    try:
        str(index_dir).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(index_dir).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(f"the index folder {shown} has a name that is not valid UTF-8, which FAISS cannot "
                         "use: choose another (--index or BOT_INDEX_DIR)") from None


class OneLineErrorParser(argparse.ArgumentParser):
    """A flag error is one line and exit code 2, not the usage text."""

    def error(self, message):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


# Files skipped by the index named one by one when answering; `bot index` and `bot docs list` name all.
SKIPPED_SHOWN = 3


def print_notes(bot, all_skipped: bool = True) -> None:
    """The bot's notices from its last index sync on stderr ("note: ..."), stdout left to the
    answer. Answering names a few skipped files and counts the rest: they are skipped again at
    every question, and a folder of many would bury the answer."""
    skipped = 0
    for message in bot.messages:
        if message.startswith("skipped "):
            skipped += 1
            if not all_skipped and skipped > SKIPPED_SHOWN:
                continue
        print(f"note: {message}", file=sys.stderr)
    if not all_skipped and skipped > SKIPPED_SHOWN:
        print(f"note: {skipped - SKIPPED_SHOWN} more files skipped (`bot index` names them all)", file=sys.stderr)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_reporting_errors(work: Callable[[], int]) -> int:
    """Run a command; whatever goes wrong becomes one line on stderr and an exit code, never a
    traceback (BOT_DEBUG=1 shows it): 2 bad input, 3 the tool could not run, 130 interrupted.

    SIGTERM and SIGHUP (a service stopped, a terminal closed) interrupt like Ctrl-C, so that the
    same clean-up runs: a document being removed is put back, a server finishes its upload."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                previous[name] = signal.signal(getattr(signal, name), _interrupt)
    try:
        return _run(work)
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def _run(work: Callable[[], int]) -> int:
    try:
        return work()
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user gave that cannot be used: say which and why
        if os.environ.get("BOT_DEBUG"):
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("BOT_DEBUG"):
            raise
        # Libraries put C++ prototypes or a traceback after the reason: the first line says it.
        print(f"error: unexpected {type(exc).__name__}: {first_line(exc)} (set BOT_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_FAILED
