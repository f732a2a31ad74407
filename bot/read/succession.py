"""Who came after someone in an office: "Who took over from Ravi Shah?", "Who replaced Priya
Natarajan as Secretary?".

Minutes and annual reports list their officers as labelled lines ("Secretary: Ravi Shah"), one list
a year: under a year's heading in one file ("AGM 2022 › Officers elected"), or in the file of that
year ("agm_2023.txt"). No sentence says who came after whom, so the reader finds nothing to
answer with; the lists say it: the first later year's line of the same label names someone else.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple

from bot.read.qualifiers import DocumentFacts
from bot.read.rows import LABELLED, Lines, row_cells
from bot.types import Passage, Span

_NAME = r"[\w'’-]+(?:\s+(?!as\b)[\w'’-]+){0,3}?"  # as typed: users write names in lower case too
_ASKS_SUCCESSOR = re.compile(
    rf"^\W*(?:and\s+)?who\s+(?:took\s+over\s+from|replaced|succeeded|came\s+after|followed)\s+(?P<name>{_NAME})"
    r"(?:\s+as\s+(?:the\s+)?(?P<office>[\w'’ -]{1,40}?))?[?!.\s]*$", re.I)
_ASIDE_START = re.compile(r"\s*[(\[,;]")  # "Priya Nandakumar (secretary@…, 07700 900 318)": the name before it


class _Holder(NamedTuple):
    passage_index: int
    series: str  # the document, or the series of editions, the list belongs to
    year: int
    label: str  # lower case
    name: str  # the value up to any aside
    start: int  # the name's offsets in the passage's chunk text
    end: int


def successor(question: str, passages: list[Passage], facts: DocumentFacts, like: Span) -> Span | None:
    """The line naming who held the office after the person a question names, among the passages
    read: the same label's line in the first later year of the same document or series of editions
    that names another; None where the question asks no such thing, the person holds no labelled
    office in a dated list read, or the lines naming them disagree on who came next. The span takes its
    scores from `like`, the reader's best, as a cell the question names does."""
    m = _ASKS_SUCCESSOR.match(question)
    if m is None:
        return None
    name, office = m.group("name").lower(), (m.group("office") or "").lower().strip()
    holders = [h for k, passage in enumerate(passages) for h in _holders(k, passage, facts)]
    held = [h for h in holders if _names(h, name) and (not office or h.label == office)]
    # Each line naming the person ("Secretary: …", "Signed: …") says who came next; they must agree.
    found = [after for label, series in dict.fromkeys((h.label, h.series) for h in held)
             if (after := _next_holder(holders, label, series, name,
                                       max(h.year for h in held if (h.label, h.series) == (label, series))))]
    if len({h.name.lower() for h in found}) != 1:
        return None
    chosen = found[0]
    chunk = passages[chosen.passage_index].chunk
    return replace(like, text=chunk.text[chosen.start:chosen.end], doc_id=chunk.doc_id, start=chunk.start + chosen.start,
                   end=chunk.start + chosen.end, passage_index=chosen.passage_index)


def _next_holder(holders: list[_Holder], label: str, series: str, name: str, until: int) -> _Holder | None:
    """The line of `label` in the first year after `until` that names another than `name`, where
    that year's lines agree."""
    after = [h for h in holders if h.label == label and h.series == series and h.year > until and not _names(h, name)]
    if not after:
        return None
    first = min(h.year for h in after)
    named = [h for h in after if h.year == first]
    return named[0] if len({h.name.lower() for h in named}) == 1 else None


def _names(holder: _Holder, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", holder.name.lower()) is not None


def _holders(k: int, passage: Passage, facts: DocumentFacts) -> list[_Holder]:
    """The labelled lines of a passage of a dated part or document, each with its year."""
    chunk = passage.chunk
    year = facts.year_of_part(chunk.doc_id, chunk.section)
    if year is None:
        return []
    # a file of several years' parts is a series of its own; files of one year each, their editions
    series = chunk.doc_id if facts.year_headings(chunk.doc_id) else facts.series_of(chunk.doc_id)
    lines = Lines(chunk.text)
    found = []
    for i in range(len(lines)):
        m = LABELLED.match(lines[i])
        if m is None or row_cells(lines[i]) is not None:
            continue
        value = m.group("value")
        aside = _ASIDE_START.search(value)
        name = value[:aside.start()] if aside else value.rstrip(" .")
        if not name.strip():
            continue
        start = lines.bounds[i][0] + m.start("value")
        found.append(_Holder(k, series, year, " ".join(m.group("label").lower().split()), name.strip(),
                             start, start + len(name.strip())))
    return found
