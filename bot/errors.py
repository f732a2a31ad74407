"""Errors the bot raises on purpose: each message says what is wrong and what to do."""


# Exit codes of the `bot` command. 1 is kept for "ran, but a quality gate failed" (`bot eval
# --min-f1`), so a script can tell a failed gate from a tool that could not run.
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130


def first_line(exc: BaseException) -> str:
    """An exception's message in one line (its first), or its type's name when it has none:
    libraries put tracebacks and C++ context after the reason."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class BotError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero; the UI shows them."""

    exit_code = EXIT_FAILED


class UsageError(BotError):
    """The user asked for something malformed (empty question, bad flag value)."""

    exit_code = EXIT_BAD_INPUT


class CorpusError(BotError):
    """The corpus folder is missing, empty or unreadable."""

    exit_code = EXIT_BAD_INPUT


class ModelError(BotError):
    """A model could not be found or loaded."""


class IndexStoreError(BotError):
    """The index on disk cannot be used and could not be rebuilt."""


class IndexBusyError(IndexStoreError):
    """Another process is updating the index, and the caller chose not to wait for it."""


class DataError(BotError):
    """An evaluation or training file is malformed."""

    exit_code = EXIT_BAD_INPUT
