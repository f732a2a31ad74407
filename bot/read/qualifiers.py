"""The details a question pins its answer to (a year, a month, a version, a code such as "P2",
a name) against the place its answer comes from.

A folder of similar documents (two editions of a policy, the minutes of three months, release
notes of three versions, a table with one row per person) hands the reader passages that differ
only in such a detail, often stated in the document's title rather than in the passage. The
reader scores a span on its own words and picks the one it likes best whichever passage it is in.

- `rerank`: spans whose passage (with its document's title, file name and section) names the
  question's years, months, versions and codes come first, and in a table the row that names
  them all, names included;
- `mismatch`: why the chosen span cannot answer: its passage names another year, month, version
  or code than the one asked about, and not that one ("the 2022 leave policy" asked of the 2023
  edition), or its own sentence is about another version or code. The documents then hold
  something like the answer, not the answer.

Names take part only within a table: questions often name people and places in other words than
the text ("Cam Newton" for "Newton"), and across passages that cost right answers on SQuAD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.read.passage_prior import RETRIEVAL_PRIOR
from bot.types import Passage, ReaderResult, Span
from bot.words import STOP_WORDS

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_OF = {m: m for m in _MONTHS} | {m[:3]: m for m in _MONTHS} | {"sept": "september"}
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d(?!['’]?s\b)\b")  # "the 1950's" is a decade, not a year
# "1973–74", "1961-1972", "1962 to 1966": every year between counts as named.
_YEAR_RANGE = re.compile(r"\b((?:1[5-9]|20)\d\d) ?(?:[-–—]|to|until|through) ?(\d\d(?:\d\d)?)\b")
_VERSION = re.compile(r"\b[vV]?\d+(?:\.\d+)+\b|\b[vV]\d+\b")
_CODE = re.compile(r"\b[A-Z]{1,3}-?\d{1,4}\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_TOKEN = re.compile(r"\w+(?:[.,]\w+)*")
_NUMERIC_DATE = re.compile(r"\b(?:1[5-9]|20)\d\d[-/](\d\d)\b|\b\d{1,2}[./](\d{1,2})[./](?:1[5-9]|20)\d\d\b")
# Capitalised words that name nothing in particular.
_GENERIC = {"eur", "usd", "gbp", "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "please"}
# Rows of a table as the parsers write them: "Label — Column: value; Column: value."
_TABLE_ROW = re.compile(r"(?:; | — )[^;:—\n]{1,40}: ")
# What a span loses, in the reader's logits, per detail its passage does not name, and per
# detail its table row does not name while another row of the same passage does.
PASSAGE_PENALTY = 4.0
ROW_PENALTY = 3.0
CHECKED_KINDS = ("year", "month", "version", "code")  # the kinds a passage must agree on


@dataclass(frozen=True)
class Qualifier:
    kind: str  # year | month | version | code | name
    text: str  # as compared: lower case, months in full, versions without "v", names stemmed


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _stem(word: str) -> str:
    return _stemmer().stemWord(word.lower().strip("'’-").removesuffix("'s").removesuffix("’s"))


def _is_version(text: str) -> bool:
    return "." in text or text[0] in "vV"


def question_qualifiers(question: str) -> list[Qualifier]:
    """The details `question` names, in order, each once."""
    found: dict[Qualifier, None] = {}
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("version", _VERSION), ("year", _YEAR), ("code", _CODE)):
        for m in pattern.finditer(question):
            if any(s < m.end() and m.start() < e for s, e in taken) or kind == "version" and not _is_version(m.group()):
                continue
            taken.append((m.start(), m.end()))
            found[Qualifier(kind, m.group().lower().lstrip("v") if kind == "version" else m.group().lower())] = None
    for n, m in enumerate(_WORD.finditer(question)):
        word, low = m.group(), m.group().lower()
        if any(s <= m.start() < e for s, e in taken):
            continue
        if low in _MONTH_OF and word[0].isupper() and (low != "may" or n > 0):  # not "May I ...", "to march"
            found[Qualifier("month", _MONTH_OF[low])] = None
        elif (n > 0 and word[0].isupper() and not word.isupper() and len(word) > 2
              and low not in _GENERIC and low not in STOP_WORDS):
            found[Qualifier("name", _stem(word))] = None
    return list(found)


def context_terms(text: str) -> set[str]:
    """Every form in which `text` may name a detail: tokens and their parts, stems, months in
    full (also from numeric dates), versions without "v", the years of year ranges."""
    terms = {m.group().lower() for m in _CODE.finditer(text)}  # "AS-202" whole
    for m in _TOKEN.finditer(text):
        low = m.group().lower()
        terms.add(low)
        terms.update(p for p in re.split(r"[.,_]", low) if p)
        if _VERSION.fullmatch(low):
            terms.add(low.lstrip("v"))
    for m in _WORD.finditer(text.replace("_", " ")):
        low = m.group().lower()
        terms.add(_stem(low))
        if low in _MONTH_OF:
            terms.add(_MONTH_OF[low])
    for m in _NUMERIC_DATE.finditer(text):
        month = int(m.group(1) or m.group(2))
        if 1 <= month <= 12:
            terms.add(_MONTHS[month - 1])
    for m in _YEAR_RANGE.finditer(text):
        first, last = int(m.group(1)), m.group(2)
        last = int(last) if len(last) == 4 else first // 100 * 100 + int(last)
        if 0 < last - first <= 200:
            terms.update(str(y) for y in range(first, last + 1))
    return terms


def _kind_values(text: str, kind: str) -> set[str]:
    """The values of one kind of detail that `text` names."""
    if kind == "month":
        return {_MONTH_OF[m.group().lower()] for m in _WORD.finditer(text)
                if m.group().lower() in _MONTH_OF and m.group()[0].isupper()}  # not "may", "to march"
    pattern = {"year": _YEAR, "version": _VERSION, "code": _CODE}[kind]
    return {m.group().lower().lstrip("v") if kind == "version" else m.group().lower()
            for m in pattern.finditer(text) if kind != "version" or _is_version(m.group())}


def passage_context(passage: Passage, title: str) -> str:
    """What names a passage's details: its document's title and file name, its section, its text."""
    chunk = passage.chunk
    return " ".join((title, chunk.doc_id, chunk.section, chunk.text))


def _line_of(text: str, start: int, end: int) -> str:
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    return text[s: len(text) if e == -1 else e]


def _row_misses(qualifiers: list[Qualifier], span: Span, passage: Passage) -> int:
    """Details the span's table row does not name while another row of its passage does."""
    chunk = passage.chunk
    line = _line_of(chunk.text, span.start - chunk.start, span.end - chunk.start)
    if not _TABLE_ROW.search(line):
        return 0
    here = context_terms(line)
    others = [context_terms(row) for row in chunk.text.split("\n") if row != line and _TABLE_ROW.search(row)]
    return sum(q.text not in here and any(q.text in row for row in others) for q in qualifiers)


def rerank(question: str, result: ReaderResult, passages: list[Passage], titles: dict[str, str]) -> ReaderResult:
    """The spans reordered by reader score + retrieval prior, less a penalty per detail of the
    question their passage or table row does not name; the order given is kept on ties."""
    qualifiers = question_qualifiers(question)
    if not qualifiers or len(result.spans) < 2:
        return result
    checked = [q for q in qualifiers if q.kind in CHECKED_KINDS]
    terms: dict[int, set[str]] = {}

    def key(span: Span) -> float:
        passage = passages[span.passage_index]
        if span.passage_index not in terms:
            terms[span.passage_index] = context_terms(passage_context(passage, titles.get(passage.chunk.doc_id, "")))
        missing = sum(q.text not in terms[span.passage_index] for q in checked)
        return (span.score + RETRIEVAL_PRIOR * passage.score - PASSAGE_PENALTY * missing
                - ROW_PENALTY * _row_misses(qualifiers, span, passage))

    return replace(result, spans=sorted(result.spans, key=lambda s: -key(s)))  # stable: ties keep their order


def mismatch(question: str, span: Span, passages: list[Passage], titles: dict[str, str]) -> str:
    """Why `span` cannot answer `question` ('' when nothing shows it): its passage names another
    year, month, version or code and not the one asked about, or its sentence names another
    version or code."""
    asked = [q for q in question_qualifiers(question) if q.kind in CHECKED_KINDS]
    if not asked:
        return ""
    passage = passages[span.passage_index]
    context = passage_context(passage, titles.get(passage.chunk.doc_id, ""))
    terms = context_terms(context)
    for q in asked:
        others = _kind_values(context, q.kind) - {q.text}
        if q.text not in terms and others:
            return f"the passage found is about {', '.join(sorted(others)[:3])}, not {q.text}"
    chunk = passage.chunk
    inside = [(s, e) for s, e in chunk.sentences if s < span.end and span.start < e]
    sentence = (chunk.text[min(s for s, _ in inside) - chunk.start: max(e for _, e in inside) - chunk.start]
                if inside else _line_of(chunk.text, span.start - chunk.start, span.end - chunk.start))
    for kind in ("version", "code"):
        wanted = {q.text for q in asked if q.kind == kind}
        there = _kind_values(sentence, kind)
        if wanted and there and not there & wanted:
            return f"the answer's sentence is about {', '.join(sorted(there)[:3])}, not {', '.join(sorted(wanted))}"
    return ""
