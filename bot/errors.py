"""Errors the bot raises on purpose: each message says what is wrong and what to do."""


class BotError(Exception):
    """Base class: the CLI prints these as one line and exits non-zero; the UI shows them."""

    exit_code = 1


class UsageError(BotError):
    """The user asked for something malformed (empty question, bad flag value)."""

    exit_code = 2


class CorpusError(BotError):
    """The corpus folder is missing, empty or unreadable."""

    exit_code = 2


class ModelError(BotError):
    """A model could not be found or loaded."""


class IndexError_(BotError):
    """The index on disk cannot be used and could not be rebuilt."""


class DataError(BotError):
    """An evaluation or training file is malformed."""

    exit_code = 2
