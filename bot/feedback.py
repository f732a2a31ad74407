"""Ratings of the bot's replies, stored with the index as `feedback.jsonl`.

Each line is one JSON object in the Q&A pair format `bot eval` and `bot calibrate` read
(question, answers, answerable, id, evidence) plus what was rated: the bot's answer, its score and
citation, the rating and when it was given. `answers`/`answerable` are written only when the
rating settles them (`gold`): a thumbs-up on an answer, "right, it is not there" on a refusal, or a
correction that is found in the documents. Other ratings are kept, but never used as gold.

The file is append-only: rating the same reply again (switching thumbs, adding a correction,
taking the rating back) appends a new line with the same `id`, and the latest line per id is the
rating. Appends from threads and processes never interleave: one lock per file in the process,
an exclusive `flock` across processes, and the whole line in one O_APPEND write, fsynced.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.errors import DataError, UsageError
from bot.types import Response
from bot.words import STOP_WORDS

try:  # POSIX; elsewhere the in-process lock and O_APPEND remain
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.jsonl"
UP, DOWN, WITHDRAWN = "up", "down", "withdrawn"
RATINGS = (UP, DOWN, WITHDRAWN)
MAX_CORRECTION_CHARS = 500

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class RatedCitation:
    doc: str
    line: int | None
    quote: str


@dataclass(frozen=True)
class RatedReply:
    """What the bot replied, as much of it as a rating keeps. `id` names the reply: every rating
    of it shares that id."""

    id: str
    question: str
    answer: str  # "" for a refusal
    refused: bool
    score: float
    citation: RatedCitation | None = None
    # A follow-up was read with earlier questions; alone, its words do not say what was asked.
    follow_up: bool = False
    asked_as: str = ""  # a follow-up as the bot read it, for whoever reads the ratings
    reader: str = ""  # the reader and embedder whose scores `features` are
    embedding_model: str = ""
    features: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_response(cls, response: Response, reader: str = "", embedding_model: str = "") -> "RatedReply":
        first = response.citations[0] if response.citations and not response.abstained else None
        citation = RatedCitation(first.doc, first.line, first.quote) if first else None
        return cls(id=uuid.uuid4().hex, question=response.question,
                   answer="" if response.abstained else response.answer, refused=response.abstained,
                   score=round(float(response.score), 6), citation=citation,
                   follow_up=response.follow_up, asked_as=response.asked_as,
                   reader=reader, embedding_model=embedding_model,
                   features={k: round(float(v), 6) for k, v in response.features.items()})


@dataclass(frozen=True)
class Rating:
    """One rating of one reply, with what it implies as a labelled question."""

    reply: RatedReply
    rating: str  # "up", "down", or "withdrawn" (the user took the rating back)
    time: str  # ISO 8601, UTC
    correction: str = ""  # the user's answer, if given
    correction_found: bool = False  # whether the correction occurs in the documents
    answerable: bool | None = None  # None: the rating does not settle it
    answers: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.reply.id

    @property
    def question(self) -> str:
        return self.reply.question

    @property
    def gold(self) -> bool:
        """Usable as a labelled question by `bot eval` (and as such by `bot calibrate FILE`)."""
        if self.rating == WITHDRAWN or self.answerable is None or self.reply.follow_up:
            return False
        return not self.answerable or bool(self.answers)

    @property
    def judged_refusal_wrong(self) -> bool:
        return self.reply.refused and self.rating == DOWN

    def to_record(self) -> dict:
        """The JSON line: the Q&A pair fields first, then the rating details."""
        r = self.reply
        record: dict = {"id": r.id, "question": r.question}
        if self.gold:
            record["answerable"] = bool(self.answerable)
            record["answers"] = list(self.answers)
            if self.rating == UP and r.citation is not None:
                record["evidence"] = r.citation.quote
        record.update({
            "gold": self.gold, "rating": self.rating, "refused": r.refused, "bot_answer": r.answer,
            "score": r.score,
            "citation": None if r.citation is None else {"doc": r.citation.doc, "line": r.citation.line,
                                                         "quote": r.citation.quote},
            "correction": self.correction, "correction_found": self.correction_found,
            "follow_up": r.follow_up, "asked_as": r.asked_as, "reader": r.reader, "embedding_model": r.embedding_model,
            "features": r.features, "time": self.time,
        })
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Rating":
        """Read one line back; ValueError names what is wrong with it."""
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        try:
            cite = record.get("citation")
            citation = RatedCitation(str(cite["doc"]), cite.get("line"), str(cite.get("quote", ""))) if cite else None
            reply = RatedReply(
                id=str(record["id"]), question=str(record["question"]), answer=str(record.get("bot_answer", "")),
                refused=bool(record.get("refused", False)), score=float(record.get("score", 0.0)),
                citation=citation, follow_up=bool(record.get("follow_up", False)),
                asked_as=record.get("asked_as") if isinstance(record.get("asked_as"), str) else "",
                reader=str(record.get("reader", "")), embedding_model=str(record.get("embedding_model", "")),
                features={str(k): float(v) for k, v in (record.get("features") or {}).items()})
            rating = str(record["rating"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"missing or malformed field ({type(exc).__name__}: {exc})") from None
        if rating not in RATINGS:
            raise ValueError(f"unknown rating {rating!r}")
        if not reply.question.strip():  # the page never stores one: a hand edit
            raise ValueError("the question is empty")
        answerable = record.get("answerable") if record.get("gold") else None
        answers = record.get("answers") if record.get("gold") else None
        if isinstance(answers, str):  # one answer, as the eval loader reads it: not its characters
            answers = [answers]
        answers = tuple(a for a in answers if isinstance(a, str)) if isinstance(answers, list) else ()
        return cls(reply, rating, str(record.get("time", "")), str(record.get("correction", "")),
                   bool(record.get("correction_found", False)),
                   None if answerable is None else bool(answerable), answers)


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def find_in_texts(answer: str, texts: Iterable[str]) -> bool:
    """Whether `answer` occurs in one of the texts as whole words, ignoring case and how the
    whitespace runs (a line break in the document, two spaces in the answer)."""
    wanted = _normalise(answer)
    if not wanted:
        return False
    pattern = re.compile(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)")
    return any(pattern.search(_normalise(t)) for t in texts)


def _usable_as_gold(answer: str) -> bool:
    """Whether a correction can be a gold answer: it says something ("x", "the" or "?" are found in
    any document, and say nothing)."""
    words = re.findall(r"\w+", answer.casefold())
    return any(len(w) > 1 or w.isdigit() for w in words) and not all(w in STOP_WORDS for w in words)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def rate(reply: RatedReply, rating: str, correction: str = "", texts: Iterable[str] = (),
         time: str | None = None) -> Rating:
    """The rating of a reply, with the label it implies.

    up on an answer: the answer is right. up on a refusal: right, the documents do not hold it.
    down on an answer: wrong; down on a refusal: the answer is in the documents. A correction
    becomes the gold answer only when it is found in `texts` (the indexed passages): the bot can
    only ever quote the documents, so an answer that is not in them cannot be scored against.
    """
    if rating not in RATINGS:
        raise UsageError(f"a rating is one of {', '.join(RATINGS)} (got {rating!r})")
    # Lone surrogates (a browser can send one) cannot be written as UTF-8: dropped like spaces.
    correction = " ".join(re.sub("[\ud800-\udfff]", "", correction).split()) if rating == DOWN else ""
    if len(correction) > MAX_CORRECTION_CHARS:
        raise UsageError(f"the answer is too long: at most {MAX_CORRECTION_CHARS} characters")
    found = _usable_as_gold(correction) and find_in_texts(correction, texts)
    answerable: bool | None = None
    answers: tuple[str, ...] = ()
    if rating == UP:
        answerable, answers = (False, ()) if reply.refused else (True, (reply.answer,))
    elif found:
        answerable, answers = True, (correction,)
    return Rating(reply, rating, time or now(), correction, found, answerable, answers)


@dataclass(frozen=True)
class FeedbackSummary:
    ratings: int
    up: int
    down: int
    answers_rated_wrong: int
    refusals_judged_wrong: int
    refusals_confirmed: int
    gold: int
    gold_answerable: int
    gold_unanswerable: int
    unreadable_lines: int = 0

    @property
    def down_share(self) -> float:
        rated = self.up + self.down
        return self.down / rated if rated else 0.0


class FeedbackStore:
    """The ratings file of one index folder."""

    def __init__(self, index_dir: Path | str) -> None:
        self.path = Path(index_dir) / FEEDBACK_FILE
        self.unreadable_lines = 0  # lines the last read() skipped

    def _lock(self) -> threading.Lock:
        key = str(self.path.resolve())
        with _locks_guard:
            return _locks.setdefault(key, threading.Lock())

    def append(self, rating: Rating) -> None:
        """Add one rating as one line, whole or not at all, durable once this returns."""
        line = (json.dumps(rating.to_record(), ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # other processes (another page, a CLI) wait here
                if _ends_mid_line(self.path):  # a line cut short (a full disk): this one starts afresh
                    line = b"\n" + line
                written = os.write(fd, line)
                while written < len(line):  # a short write is rare on a file, but finish the line
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                os.close(fd)  # also releases the flock

    def lines(self) -> list[Rating]:
        """Every stored line in order, including superseded ones; unreadable lines (a disk that
        filled up mid-line, a hand edit) are skipped and counted."""
        self.unreadable_lines = 0
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DataError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        out = []
        # Lines end at "\n" only: quotes copied from documents may hold U+2028, which splitlines
        # would break at.
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                out.append(Rating.from_record(json.loads(line)))
            except (json.JSONDecodeError, ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
                self.unreadable_lines += 1
                log.warning("%s line %d skipped: %s", self.path, number, exc)
        return out

    def read(self) -> list[Rating]:
        """The current rating of every rated reply (its latest line), oldest first; withdrawn
        ratings are left out."""
        latest: dict[str, Rating] = {}
        for rating in self.lines():
            latest.pop(rating.id, None)  # re-inserted: ordered by the latest rating
            latest[rating.id] = rating
        return [r for r in latest.values() if r.rating != WITHDRAWN]

    def gold(self) -> list[Rating]:
        return [r for r in self.read() if r.gold]

    def summary(self, ratings: list[Rating] | None = None) -> FeedbackSummary:
        ratings = self.read() if ratings is None else ratings
        gold = [r for r in ratings if r.gold]
        return FeedbackSummary(
            ratings=len(ratings),
            up=sum(r.rating == UP for r in ratings),
            down=sum(r.rating == DOWN for r in ratings),
            answers_rated_wrong=sum(r.rating == DOWN and not r.reply.refused for r in ratings),
            refusals_judged_wrong=sum(r.judged_refusal_wrong for r in ratings),
            refusals_confirmed=sum(r.rating == UP and r.reply.refused for r in ratings),
            gold=len(gold), gold_answerable=sum(bool(r.answerable) for r in gold),
            gold_unanswerable=sum(not r.answerable for r in gold),
            unreadable_lines=self.unreadable_lines)


__all__ = [
    "DOWN", "FEEDBACK_FILE", "FeedbackStore", "FeedbackSummary", "MAX_CORRECTION_CHARS", "RATINGS", "RatedCitation",
    "RatedReply", "Rating", "UP", "WITHDRAWN", "find_in_texts", "now", "rate",
]


def _ends_mid_line(path: Path) -> bool:
    """Whether a file's last byte is not a newline (an empty file, or one this process may only
    append to, is taken to end its line)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:
        return False
