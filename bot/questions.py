"""Validate and clean a user's question before it reaches any model."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import UsageError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FINAL_MARKS = re.compile(r"[\s?!？！]+$")
# A final full stop, unless it ends an initial or an abbreviation such as "U.S.".
_SENTENCE_STOP = re.compile(r"(?<!\b[A-Z])\.$")
# A question for a person ("Who...?", "And whom...?", "Whose...?").
ASKS_WHO = re.compile(r"^\W*(?:and\s+)?(?:who|whom|whose)\b", re.I)
# A question for a place ("Where was the AGM held?"), and the labels of the lines that give one, which
# are not worded like it ("Venue: St Luke's Church Hall", "Place: The Boathouse").
ASKS_WHERE = re.compile(r"^\W*(?:and\s+)?where\b", re.I)
PLACE_LABELS = ("venue", "place", "location", "address")


def clean_question(raw, max_chars: int) -> tuple[str, str]:
    """Return (question, notice). Raises UsageError for a question with nothing to ask.

    Control characters and lone surrogates are dropped (they cannot be encoded or shown),
    whitespace is collapsed, and an over-long question is cut at max_chars with a notice.
    """
    if raw is None:
        raise UsageError("the question is empty: type a question about the documents")
    if not isinstance(raw, str):
        raise UsageError(f"the question must be text (got {type(raw).__name__})")
    text = raw.encode("utf-8", errors="ignore").decode("utf-8")  # lone surrogates
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise UsageError("the question is empty: type a question about the documents")
    notice = ""
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars].rstrip()
        notice = f"the question was longer than {max_chars:,} characters; only its start was used"
    return text, notice


def as_question(text: str) -> str:
    """The question as the models read it, ending in one question mark.

    The reader learnt from questions that end in "?", and a user's "warranty length",
    "warranty length." and "warranty length??" should get the same answer.
    """
    core = _SENTENCE_STOP.sub("", _FINAL_MARKS.sub("", text)).rstrip()
    return f"{core}?" if core else text
