"""Words of a question that name one document of a folder, and answers from a document without them.

A folder of look-alike documents (two medicine leaflets, the manuals of two products) hands the
reader passages that read alike: "What are the rare side effects of Calmol?" finds the rare side
effects of Fevrolen as readily as those of Calmol. The question's "Calmol" names a document: it
is a word of that document's title or file name, and no other document says it. An answer from a
document that never says it is about something else. A word that other documents say as well
("leaflet" where the manual mentions leaflets, "holiday" in a handbook as in the holiday policy)
names no one document and counts for nothing here.

`document_penalty` lowers the reader's spans in documents missing such a word, so that the named
document's spans win where the reader found any; `unnamed_word` says why a best span from such a
document cannot answer (`doubts.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bot.types import Passage, Span
from bot.words import MONTHS, STOP_WORDS, WEEKDAYS, stem

if TYPE_CHECKING:
    from bot.read.qualifiers import DocumentFacts

_NAME_WORD = re.compile(r"[^\W\d_]{2,}")  # "gp" of gp_practice_leaflet.md counts
# What a span loses, in the reader's logits, per naming word its document lacks (as a year its
# passage does not name: `qualifiers.PASSAGE_PENALTY`).
DOCUMENT_PENALTY = 4.0


def name_stems(doc_id: str, title: str) -> frozenset[str]:
    """The stems of the words of a document's title and file name (folders included, the
    extension not): "calmol_leaflet.txt" titled "Calmol Infant" is named by calmol, leaflet, infant."""
    path = PurePosixPath(doc_id)
    name = " ".join((*path.parent.parts, path.stem, title)).replace("_", " ")
    return frozenset(stem(w.lower()) for w in _NAME_WORD.findall(name) if w.lower() not in STOP_WORDS)


def naming_words(question: str, facts: DocumentFacts) -> dict[str, str]:
    """The question's words that name some documents of several and that only those say, and the
    words of a proper name that one document of several says (stem -> the word as written)."""
    named_by = facts.named_by
    if len(facts.titles) < 2:
        return {}
    found: dict[str, str] = {}
    for m in _NAME_WORD.finditer(question):
        word = m.group()
        key = stem(word.lower())
        docs = named_by.get(key)
        if word.lower() in STOP_WORDS or key in found:
            continue
        if docs and len(docs) < len(facts.titles) and facts.documents_saying(key) <= docs:
            found[key] = word
        elif _proper_name(question, m) and len(facts.documents_saying(key)) == 1:
            found[key] = word  # "Harland" of "What's Jim Harland's email?", which one document says
    return found


def _proper_name(question: str, m: re.Match) -> bool:
    """Whether a word of the question is part of a proper name: capitalised, not its first word
    nor a weekday's or a month's name, nor an acronym."""
    word = m.group()
    return (word[:1].isupper() and not word.isupper() and question[:m.start()].strip() != ""
            and word.lower() not in _CALENDAR)


_CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS) | {m[:3] for m in MONTHS} | {d[:3] for d in WEEKDAYS}


def unnamed_word(question: str, doc_id: str, facts: DocumentFacts) -> str:
    """The first word of the question that names other documents and that `doc_id` neither is
    named by nor says ('' when there is none)."""
    return next(iter(_missing(question, doc_id, facts)), "")


def _missing(question: str, doc_id: str, facts: DocumentFacts) -> list[str]:
    words = facts.naming_words(question)
    if not words:
        return []
    own = facts.named_by_document.get(doc_id, frozenset())
    return [word for key, word in words.items() if key not in own and doc_id not in facts.documents_saying(key)]


def document_penalty(question: str, passages: list[Passage], facts: DocumentFacts) -> Callable[[Span], float] | None:
    """A span's penalty for the words of the question that name other documents and that its own
    never says (None when the question has no such word)."""
    if not facts.naming_words(question):
        return None
    missing: dict[str, int] = {}

    def penalty(span: Span) -> float:
        doc_id = passages[span.passage_index].chunk.doc_id
        if doc_id not in missing:
            missing[doc_id] = len(_missing(question, doc_id, facts))
        return DOCUMENT_PENALTY * missing[doc_id]

    return penalty
