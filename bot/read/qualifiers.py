"""The details a question pins its answer to (a year, a month, a version, a code such as "P2",
a name) against the place its answer comes from.

A folder of similar documents (two editions of a policy, the minutes of three months, release
notes of three versions, a table with one row per person) hands the reader passages that differ
only in such a detail, often stated in the document's title or file name rather than in the
passage. The reader scores a span on its own words and picks the one it likes best whichever
passage it is in.

- `detail_penalty`: what a span loses for each year, month, version or code of the question that
  its passage (with its document's title, file name and section) does not name, and in a table
  for each detail, names included, that its row does not name while another row does;
- `mismatch`: why the chosen span cannot answer: the passage's label (title, file name, section)
  names another year, month, version or code, and the passage names not the one asked about
  ("the 2022 leave policy" asked of the 2023 edition), or the answer's own sentence names
  another version or code. The documents then hold something like the answer, not the answer.

A detail counts as named when the passage's document names it anywhere (its introduction often
states the year once). Only the label can rule a passage out: a passage's own text names the years
of its story ("the firm, bought in 1997, ...") as well as the one it is about. Names count only
within a table: questions name people and places in other words than the text ("Cam Newton" for
"Newton").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Iterable

from bot.read.document_names import name_stems, naming_words
from bot.read.windows import ROW_JOINT, line_bounds
from bot.types import SECTION_SEPARATOR, Chunk, Passage, Span
from bot.words import ACADEMIC_YEAR, MONTHS, ORDINALS, STOP_WORDS, WEEKDAYS, YEAR, academic_year, stem

_MONTH_OF = {m: m for m in MONTHS} | {m[:3]: m for m in MONTHS} | {"sept": "september"}
# "1973–74", "2024/25" (at most ten years), "1961-1972", "1962 to 1966", "between 2019 and 2023":
# every year between counts as named.
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d\d)(?:[-–/](\d\d)\b(?![-–/.]\d)"
                         r"|\s?(?:[-–—]|to|until|through|and)\s?((?:19|20)\d\d)\b)")
# A number that may be a version: "v3", "version 3.1", or a dotted number after a word; whether
# that word makes it one is decided in `_versions`.
_VERSION_CANDIDATE = re.compile(r"(?<!/)\b(?:[vV](?P<v>\d+(?:\.\d+)*)|(?P<word>[A-Za-z][\w+]*) (?P<n>\d+(?:\.\d+)*))"
                                r"\b(?![.,:]?\d)")
# Words before a dotted number that make it no version: a document's parts and currencies
# ("section 4.2", "EUR 42.50").
# Currencies and taxes: the number after them is an amount ("USD 800", "VAT 20%").
_AMOUNT_WORDS = frozenset({"eur", "usd", "gbp", "chf", "jpy", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk",
                           "inr", "cny", "rmb", "hkd", "sgd", "zar", "brl", "mxn", "vat", "gst", "tax"})
_NOT_PRODUCTS = _AMOUNT_WORDS | frozenset({"section", "clause", "article", "chapter", "part", "paragraph", "item",
                                           "table", "figure", "page", "step", "rule", "schedule", "annex", "appendix",
                                           "no", "at", "on", "from", "to", "until", "by", "about", "approximately",
                                           "of", "and", "or", "is", "was", "costs", "cost", "pay", "paid"})
# A number with two dots is a version wherever it stands ("fixed in 2.3.1"): not a date
# ("15.03.2024") nor an address ("10.0.0.1").
_DOTTED_VERSION = re.compile(r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}(?![.,]?\d)")
# A section headed by a version, as changelogs and release notes are: "2.3.1 — 2026-01-19",
# "[3.2.0] - 2024-05-02", "Version 2.4", "v1.8.0".
_VERSION_HEADED = re.compile(r"\s*\[?(?:(?:version|release)\s+|v)?\d{1,3}(?:\.\d{1,3})+\]?", re.I)
# Words a version heading may hold besides the version and its date ("[Unreleased]", "released
# on 2 March 2026"); a word of a title ("2.1 Requirements") makes it a numbered section instead.
_RELEASE_WORDS = frozenset(MONTHS) | {m[:3] for m in MONTHS} | {"sept", "released", "unreleased", "on", "release"}
# Words in lower case whose dotted number is a version all the same ("firmware 2.2", "the app 4.1").
_VERSIONED = frozenset({"firmware", "software", "app", "build", "update", "patch", "driver", "api", "sdk",
                        "kernel", "plugin", "edition", "model", "protocol", "client", "server"})
# Words in lower case whose whole number names one of a series ("week 13", "room 4", "phase 2").
_NUMBERED_NOUNS = frozenset({"week", "sprint", "phase", "stage", "room", "gate", "route", "building", "floor",
                             "platform", "zone", "unit", "bay", "dock", "wave", "cohort", "batch", "milestone",
                             "iteration", "lane", "terminal", "hall", "wing", "ward", "lab", "line", "bus"})
_CODE = re.compile(r"\b(?!FY)[A-Z]{1,3}-?\d{1,4}\b(?![.,]\d)")  # "FY2024" is a year
# "RX 250", as a text may write "RX-250"; not "UK 2024", a year, nor "USD 800" or "VAT 20%", amounts.
_SPACED_CODE = re.compile(rf"\b(?!(?:{'|'.join(sorted(w.upper() for w in _AMOUNT_WORDS | {'am', 'pm', 'no', 'id'}))})\b)"
                          r"([A-Z]{2,3}) (?!(?:19|20)\d\d\b)(\d{1,4})\b(?![.,]\d|\s?%)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_TOKEN = re.compile(r"\w+(?:[.,]\w+)*")
# "2024-03-15", "15.03.2024", "03/15/2024": the month is whichever of the two numbers can be one.
_NUMERIC_DATE = re.compile(r"\b(?:19|20)\d\d[-/](\d\d)\b|\b(\d{1,2})[./](\d{1,2})[./](?:19|20)\d\d\b")
_DATED_MONTH = re.compile(r"(\b\d{1,2}\.? )?\b([A-Za-z]{3,9})\b\.?(,? (?:\d{1,2}\b|(?:19|20)\d\d\b))?")
# A date to the day: "3 June 2024", "June 3", "2024-06-03", "03.06.2024".
_DAY_DATED = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\.? (?:{'|'.join(MONTHS)})\b|\b(?:{'|'.join(MONTHS)}) \d{{1,2}}"
                        r"(?:st|nd|rd|th)?\b(?![\d:])|\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{1,2}[./]\d{1,2}[./](?:19|20)\d\d\b",
                        re.I)
_QUARTER = re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)[- ]quarter\b", re.I)
_HALF = re.compile(r"\b(first|second|1st|2nd)[- ]half\b", re.I)
_DOTTED_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3})+(?![\d.]\d)")
_ORDINALS = {w: str(n) for n, w in enumerate(ORDINALS, start=1)}
_ORDINAL = re.compile(rf"\b(?:{'|'.join(_ORDINALS)})\b", re.I)
_QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
# Capitalised words that name nothing in particular.
_GENERIC = frozenset({"eur", "usd", "gbp", "what", "who", "whom", "whose", "which", "when", "where", "why", "how",
                      "please"})
# What a span loses, in the reader's logits (a span's score against another's differs by a few),
# per detail its passage does not name, and per detail its table row does not name while another
# row of the same passage does.
PASSAGE_PENALTY = 4.0
ROW_PENALTY = 3.0
# The years, or academic years, in a file name, as `DocumentFacts.editions` takes them out.
_EDITION_YEARS = re.compile(r"(?<!\d)(?:19|20)\d\d(?:[-_/](?:(?:19|20)?\d\d))?(?!\d)")
CHECKED_KINDS = ("year", "month", "version", "code")  # the kinds a passage must agree on
EDITION_REACH = 1  # the content word on each side of a detail that can tie it to a document's name
_HEADING_WORDS = 8  # the most words of a heading that dates the part under it ("AGM 2022")


class DocumentFacts:
    """What the check knows of the indexed documents: each one's title, every form of detail its
    whole text names (worked out when first asked for, for the last 1,024 documents asked), and
    which documents say a word (`saying`: a word's stem -> their ids; by default read from
    `terms`, which a large folder would read whole)."""

    def __init__(self, titles: dict[str, str] | None = None, text_of: Callable[[str], str] | None = None,
                 saying: Callable[[str], frozenset[str]] | None = None,
                 sections_of: Callable[[str], Iterable[str]] | None = None) -> None:
        self.titles = titles or {}
        self._text_of = text_of
        self._saying = saying
        self._sections_of = sections_of
        self.year_headings = lru_cache(maxsize=1024)(self._year_headings)
        self.terms = lru_cache(maxsize=1024)(self._terms)
        self.documents_saying = lru_cache(maxsize=1024)(self._documents_saying)
        # The question's words that name a document (`document_names.naming_words`), per question.
        self.naming_words = lru_cache(maxsize=256)(lambda question: naming_words(question, self))

    @cached_property
    def named_by_document(self) -> dict[str, frozenset[str]]:
        """Each document's name (title and file name) as stems."""
        return {doc_id: name_stems(doc_id, title) for doc_id, title in self.titles.items()}

    @cached_property
    def named_by(self) -> dict[str, frozenset[str]]:
        """A stem -> the documents whose name holds it."""
        found: dict[str, set[str]] = {}
        for doc_id, stems in self.named_by_document.items():
            for s in stems:
                found.setdefault(s, set()).add(doc_id)
        return {s: frozenset(docs) for s, docs in found.items()}

    def _documents_saying(self, word_stem: str) -> frozenset[str]:
        if self._saying is not None:
            return self._saying(word_stem)
        return frozenset(doc_id for doc_id in self.titles if word_stem in self.terms(doc_id))

    def title(self, doc_id: str) -> str:
        return self.titles.get(doc_id, "")

    @cached_property
    def editions(self) -> frozenset[str]:
        """The documents that are one edition of several: another document's file name is theirs
        with other years ("holiday_policy_2025.md", "holiday_policy_2026.md")."""
        years_of: dict[str, set[frozenset[str]]] = {}
        keys = {}
        for doc_id in self.titles:
            years = frozenset(_values(doc_id.replace("_", " "), "year"))
            if years:
                keys[doc_id] = _EDITION_YEARS.sub("#", doc_id.lower())
                years_of.setdefault(keys[doc_id], set()).add(years)
        return frozenset(doc_id for doc_id, key in keys.items() if len(years_of[key]) > 1)

    def _year_headings(self, doc_id: str) -> frozenset[str]:
        """The headings of a document's parts that give a year, where they give two years or more
        between them ("AGM 2022", "AGM 2023" and "Contacts (from March 2024)" of one file of
        minutes; "Season 2023–24" and "Season 2024–25" of a programme): each part is then an
        edition of its own. The title aside, which spans them all. None where fewer years are given."""
        if self._sections_of is None:
            return frozenset()
        title = " ".join(self.title(doc_id).split())
        headings = {part.strip() for section in self._sections_of(doc_id) for part in section.split(SECTION_SEPARATOR)}
        dated = {h: frozenset(_values(h, "year")) for h in headings
                 if h and " ".join(h.split()) != title and len(h.split()) <= _HEADING_WORDS}
        dated = {h: years for h, years in dated.items() if years}
        return frozenset(dated) if len(set(dated.values())) > 1 else frozenset()

    def year_of_part(self, doc_id: str, section: str) -> int | None:
        """The year a part of a document is of: the first year of the heading over it, where the
        document's parts are headed by years ("AGM 2023 › Officers elected"), else the one year its
        title and file name give ("riverside_rowing_agm_2023.txt"); None where neither says one."""
        headed = self.year_headings(doc_id)
        for part in section.split(SECTION_SEPARATOR):
            if part.strip() in headed:
                return int(YEAR.search(part).group())
        years = {int(y) for y in YEAR.findall(f"{self.title(doc_id)} {doc_id.replace('_', ' ')}")}
        return years.pop() if len(years) == 1 else None

    @staticmethod
    def series_of(doc_id: str) -> str:
        """What the editions of one series of documents share: the file name, its years and type
        aside ("riverside_rowing_agm_#" of "riverside_rowing_agm_2023.txt" and "..._2024.md")."""
        return _EDITION_YEARS.sub("#", doc_id.lower().rsplit(".", 1)[0])

    def _terms(self, doc_id: str) -> frozenset[str]:
        return frozenset(context_terms(self._text_of(doc_id))) if self._text_of else frozenset()


@dataclass(frozen=True)
class Qualifier:
    kind: str  # year | month | version | code | name
    text: str  # as compared: lower case, months in full, versions without "v" or ".0", names stemmed
    shown: str  # as the question writes it
    start: int = 0  # where in the question
    end: int = 0

    @property
    def term(self) -> str:
        """How `context_terms` holds it."""
        return f"version:{self.text}" if self.kind == "version" else self.text


def _stem(word: str) -> str:
    return stem(word.lower().strip("'’-").removesuffix("'s").removesuffix("’s"))


def _version_key(number: str) -> str:
    """"3.0" and "3" are one version; "3.1" another."""
    parts = number.split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return ".".join(parts)


def _versions(text: str, whole_numbers: bool = False) -> dict[str, tuple[int, int]]:
    """The versions `text` names (compared form -> where), by `_VERSION_CANDIDATE`: "v3", a number
    after "version" or "release", or a dotted number after a name ("Tern 3.1", "iOS 17.2"), not
    after a part of a document or a currency. `whole_numbers`: "Tern 3" too (a text naming a
    version asked for as "3.0"). A question's "Windows 10" is checked as a numbered name
    (`_numbered_names`)."""
    found: dict[str, tuple[int, int]] = {}
    for m in _DOTTED_VERSION.finditer(text):
        found.setdefault(_version_key(m.group()), m.span())
    for m in _VERSION_CANDIDATE.finditer(text):
        if m.group("v") is not None:
            found.setdefault(_version_key(m.group("v")), m.span())
            continue
        word, number = m.group("word"), m.group("n")
        named = word[0].isupper() or any(c.isupper() for c in word[1:]) or word.lower() in _VERSIONED  # "Tern", "iOS"
        if word.lower() in {"version", "release"} or ("." in number or whole_numbers) and named \
                and word.lower() not in _NOT_PRODUCTS:
            found.setdefault(_version_key(number), m.span("n"))
    return found


def _numbered_names(text: str, question: bool = True) -> dict[str, tuple[int, int]]:
    """Numbers of 1-3 digits that a name carries ("Route 22", "Gate 5", "Building 3", "week 13"),
    compared as versions: a document naming "Route 17" does not answer for "Route 22". Not after
    a month or weekday ("March 3"), a part of a document ("section 4"), nor a question's first
    word; in lower case only after a word that numbers a series (`_NUMBERED_NOUNS`)."""
    found: dict[str, tuple[int, int]] = {}
    for m in _VERSION_CANDIDATE.finditer(text):
        word, number = m.group("word"), m.group("n")
        if (word and (word[0].isupper() or word in _NUMBERED_NOUNS) and (m.start() > 0 or not question)
                and number.isdigit() and len(number) <= 3 and not text.startswith("%", m.end())
                and word.lower() not in _NOT_PRODUCTS and word.lower() not in _MONTH_OF
                and word.lower() not in WEEKDAYS):
            found.setdefault(_version_key(number), m.span("n") if question else m.span())  # "Route 17" shown whole
    return found


def _values(text: str, kind: str) -> dict[str, str]:
    """The values of one kind of detail that `text` names: compared form -> as written."""
    if kind == "version":
        return {key: text[s:e] for key, (s, e) in (_versions(text) | _numbered_names(text, question=False)).items()}
    if kind == "month":  # "12 March", "March 2024", "FEBRUARY 2024"; not "Costs You May Claim"
        return {_MONTH_OF[m.group(2).lower()]: m.group(2) for m in _DATED_MONTH.finditer(text)
                if m.group(2).lower() in _MONTH_OF and m.group(2)[0].isupper() and (m.group(1) or m.group(3))}
    if kind == "code":
        return {_code_key(m.group()): m.group() for m in _CODE.finditer(text)}
    academic = [(key, m) for m in ACADEMIC_YEAR.finditer(text) if (key := academic_year(m.group())) is not None]
    spans = [(m.start(), m.end()) for _, m in academic]  # "2025" and "2026" of "2025/2026" are no years of their own
    return {key: m.group() for key, m in academic} | {
        m.group(): m.group() for m in YEAR.finditer(text) if not any(s <= m.start() < e for s, e in spans)}


def _code_key(code: str) -> str:
    return code.lower().replace("-", "")  # "B-12" is "B12"


@lru_cache(maxsize=256)
def question_qualifiers(question: str) -> tuple[Qualifier, ...]:
    """The details `question` names, in order, each once."""
    found: dict[str, Qualifier] = {}
    taken: list[tuple[int, int]] = []

    def add(kind: str, text: str, start: int, end: int) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.setdefault(f"{kind}:{text}", Qualifier(kind, text, question[start:end], start, end))

    for m in _SPACED_CODE.finditer(question):
        add("code", _code_key(m.group(1) + m.group(2)), m.start(), m.end())
    for key, (start, end) in (_versions(question) | _numbered_names(question)).items():
        add("version", key, start, end)
    for m in ACADEMIC_YEAR.finditer(question):  # "2026/27" is no year of "2025/26"
        if (key := academic_year(m.group())) is not None:
            add("year", key, m.start(), m.end())
    for m in YEAR.finditer(question):
        add("year", m.group(), m.start(), m.end())
    for m in _CODE.finditer(question):
        add("code", _code_key(m.group()), m.start(), m.end())
    for n, m in enumerate(_WORD.finditer(question)):
        word, low = m.group(), m.group().lower()
        if low in _MONTH_OF and word[0].isupper() and (low != "may" or n > 0):  # not "May I ...", "to march"
            add("month", _MONTH_OF[low], m.start(), m.end())
        elif (n > 0 and word[0].isupper() and not word.isupper() and len(word) > 2
              and low not in _GENERIC and low not in STOP_WORDS
              and low.removesuffix("s") not in WEEKDAYS):  # "on a Tuesday" of "Monday to Friday": no name
            add("name", _stem(word), m.start(), m.end())
    return tuple(found.values())


def context_terms(text: str) -> set[str]:
    """Every form in which `text` may name a detail: its tokens ("3.1", "b12", a file name's
    parts), word stems, years (also "FY2024" and the years of a range), months in full (also from
    numeric dates), quarters ("the first quarter": q1), versions in their compared form."""
    terms = {_code_key(m.group()) for m in _CODE.finditer(text)}  # "AS-202" whole
    # Versions in their compared form: "3.0" in a question finds "Tern 3" and "v3.0", not "3.1"
    # nor a bare "3" (a day, a count).
    terms.update(f"version:{key}" for key in _versions(text, whole_numbers=True))
    terms.update(f"version:{key}" for key in _numbered_names(text, question=False))  # "week 13" too
    terms.update(m.group() for m in YEAR.finditer(text))  # "FY2024" names 2024
    terms.update(m.group().lower() for m in _TOKEN.finditer(text.replace("_", " ")))  # a file name's parts
    for m in _WORD.finditer(text.replace("_", " ")):
        low = m.group().lower()
        terms.add(_stem(low))
        if low in _MONTH_OF:
            terms.add(_MONTH_OF[low])
    terms.update(f"q{_QUARTERS[m.group(1).lower()]}" for m in _QUARTER.finditer(text))  # "the first quarter": Q1
    for m in _NUMERIC_DATE.finditer(text):
        terms.update(MONTHS[int(n) - 1] for n in m.groups() if n is not None and 1 <= int(n) <= 12)
    for m in _YEAR_RANGE.finditer(text):
        first = int(m.group(1))
        last = first // 100 * 100 + int(m.group(2)) if m.group(2) else int(m.group(3))
        if 0 < last - first <= (10 if m.group(2) else 200):
            terms.update(str(y) for y in range(first, last + 1))
        if last == first + 1:  # "2025 to 2026": the academic or financial year too
            terms.add(f"{first}/{last % 100:02d}")
    for m in ACADEMIC_YEAR.finditer(text):  # "FY2025/26": the academic year, and its two years
        if (key := academic_year(m.group())) is not None:
            terms.update((key, key[:4], str(int(key[:4]) + 1)))
    return terms


def named_details(text: str) -> set[str]:
    """The codes and versions `text` names, as `Qualifier.term` holds them: what a question's
    "RX-250" or "firmware 2.2" is looked for in the whole corpus by."""
    text = unicodedata.normalize("NFKC", text)  # "CO₂" is "CO2"
    details = {_code_key(m.group()) for m in _CODE.finditer(text)}
    details.update(_code_key(m.group(1) + m.group(2)) for m in _SPACED_CODE.finditer(text))
    details.update(f"version:{key}" for key in _versions(text, whole_numbers=True))
    details.update(f"version:{key}" for key in _numbered_names(text, question=False))
    # Found more loosely than a question's: any dotted number ("4.1 Requirements" names requirement
    # 4.1) and ordinals ("the third floor" names floor 3).
    details.update(f"version:{_version_key(m.group())}" for m in _DOTTED_NUMBER.finditer(text))
    details.update(f"version:{_ORDINALS[m.group().lower()]}" for m in _ORDINAL.finditer(text))
    details.update(f"q{_QUARTERS[m.group(1).lower()]}" for m in _QUARTER.finditer(text))  # "the first quarter": Q1
    details.update(f"h{_QUARTERS[m.group(1).lower()]}" for m in _HALF.finditer(text))  # "the first half": H1
    return details


def _academic(q: Qualifier) -> bool:
    return q.kind == "year" and "/" in q.text


def _label_decides(q: Qualifier, question: str, passage: Passage, title: str,
                   editions: frozenset[str] = frozenset()) -> bool:
    """Whether the passage's label (title, file name, section) decides what detail `q` the passage
    is about: `q` qualifies what the document's name names, or it is a version and the passage's
    section is headed by one (a changelog's "2.3.1 — 2026-01-19 › Fixed": the version of every
    line under it), or it is an academic year and the document's name or the section gives one
    ("the deadline in 2026/27" of the "Handbook 2025/26", or under "Term dates 2025/26": a document
    or section of an academic year is its edition), or it is a year and the document one of several
    editions (`DocumentFacts.editions`: "How many days did staff get in 2024?" of the 2025 holiday
    policy, beside the 2026 one)."""
    name = document_name(passage, title)
    return _about_document(q, question, name) or (
        q.kind == "version" and _version_headed(passage.chunk.section)) or (
        _academic(q) and any("/" in key for key in _values(f"{name} {passage.chunk.section}", "year"))) or (
        q.kind == "year" and passage.chunk.doc_id in editions)


def _version_headed(section: str) -> bool:
    """Whether a part of the section's name is a version alone, or with its date: "2.4.0 —
    2026-03-02", "[3.2.0] - 2024-05-02", "Version 2.4 (released 2 March 2026)"; not "2.1 Requirements"."""
    for part in section.split(SECTION_SEPARATOR):
        m = _VERSION_HEADED.match(part)
        if m and all(w.lower() in _RELEASE_WORDS for w in re.findall(r"[A-Za-z]+", part[m.end():])):
            return True
    return False


def _about_document(q: Qualifier, question: str, name: str) -> bool:
    """Whether detail `q` qualifies what a document's `name` (its title and file name) names: one
    of the content words right beside it in the question is a word of the name ("the 2022 leave
    policy" against "Leave policy 2023"; not "staff hired in 2019" against it, a year of the
    staff's, not the policy's). Section names are left out: "Python 3.12" is not about "Tern 3.1"
    for standing under "Python support"."""
    return not _neighbours(question)[q].isdisjoint(_stems(name))


@lru_cache(maxsize=256)
def _neighbours(question: str) -> dict[Qualifier, frozenset[str]]:
    """Each detail of `question` -> the stems of the content words right beside it (other
    details aside), worked out once per question for all the passages it is checked against."""
    details = [d for d in question_qualifiers(question) if d.kind in CHECKED_KINDS]
    words = [(m.start(), _stem(m.group())) for m in _WORD.finditer(question)
             if m.group().lower() not in STOP_WORDS and not any(d.start <= m.start() < d.end for d in details)]
    return {d: frozenset([w for at, w in words if at < d.start][-EDITION_REACH:]
                         + [w for at, w in words if at >= d.end][:EDITION_REACH])
            for d in details}


@lru_cache(maxsize=1024)
def _stems(name: str) -> frozenset[str]:
    return frozenset(_stem(m.group()) for m in _WORD.finditer(name.replace("_", " ")))


@lru_cache(maxsize=256)
def passage_terms(label: str, text: str) -> frozenset[str]:
    """`context_terms` of a passage with its label: the ranking and `mismatch` both read them."""
    return frozenset(context_terms(f"{label}\n{text}"))


def passage_label(passage: Passage, title: str) -> str:
    """What a passage's document and section are called: its title, file name and section."""
    return " ".join((document_name(passage, title), passage.chunk.section))


def document_name(passage: Passage, title: str) -> str:
    """What a passage's document is called: its title and file name."""
    return f"{title} {passage.chunk.doc_id.replace('_', ' ')}"


def _headed_otherwise(q: Qualifier, span: Span, passage: Passage, facts: DocumentFacts) -> dict[str, str]:
    """The years a heading over the span gives, where its document's parts are headed by years
    (`DocumentFacts.year_headings`), that heading gives another than the asked year `q`, and the
    span's sentence does not name it: "Secretary: Priya Nandakumar" under "AGM 2023" does not
    answer for 2022, nor "Chair: Rhys Morgan" under "Season 2024–25" for 2023–24. {} otherwise.
    The sentence, not the passage: the 2024 minutes recall the balance "at the end of 2023"."""
    if q.kind != "year":
        return {}
    headed = facts.year_headings(passage.chunk.doc_id)
    if not headed:
        return {}
    for part in passage.chunk.section.split(SECTION_SEPARATOR):
        if part.strip() in headed and not _heading_covers(part, q):
            said = context_terms(_sentence_around(span, passage.chunk))
            return {} if q.term in said else _values(part, "year")
    return {}


def _heading_covers(heading: str, q: Qualifier) -> bool:
    """Whether a heading's years hold the asked year: "Season 2023–24" holds 2023 and 2023/24, not
    2024/25; "Spring Concert 2024" holds 2023/24, not 2023."""
    named = _values(heading, "year")
    if _academic(q) and any("/" in key for key in named):
        return q.text in named
    years = {t for t in context_terms(heading) if len(t) == 4 and t.isdigit()}
    asked = {q.text[:4], str(int(q.text[:4]) + 1)} if _academic(q) else {q.text}
    return not years.isdisjoint(asked)


def _row_misses(qualifiers: tuple[Qualifier, ...], span: Span, passage: Passage,
                in_rows: Callable[[], frozenset[str]]) -> int:
    """Details the span's table row does not name while another row does, of any passage read
    (`in_rows`: the details some row names, worked out when first needed): a timetable's Saturday
    table, without the stop asked about, must not win over the weekday table's row that names it."""
    chunk = passage.chunk
    start, end = line_bounds(chunk.text, span.start - chunk.start, span.end - chunk.start)
    line = chunk.text[start:end]
    if not ROW_JOINT.search(line):  # a table row as the parsers write it: "Label — Column: value; …"
        return 0
    here = context_terms(line)
    return sum(q.term not in here and q.term in in_rows() for q in qualifiers)


def _named_in_rows(qualifiers: tuple[Qualifier, ...], passages: list[Passage]) -> frozenset[str]:
    """The details of `qualifiers` that some table row of the passages names."""
    rows = [context_terms(row) for p in passages for row in p.chunk.text.split("\n") if ROW_JOINT.search(row)]
    return frozenset(q.term for q in qualifiers if any(q.term in row for row in rows))


def _named_terms(passage: Passage, label: str, facts: DocumentFacts) -> frozenset[str]:
    """The details a passage counts as naming: its label's, its own and its whole document's."""
    return passage_terms(label, passage.chunk.text) | facts.terms(passage.chunk.doc_id)


def detail_penalty(question: str, passages: list[Passage], facts: DocumentFacts) -> Callable[[Span], float] | None:
    """A span's penalty for the details of `question` its passage (its document) or table row
    does not name (None when the question names none)."""
    qualifiers = question_qualifiers(question)
    if not qualifiers:
        return None
    checked = [q for q in qualifiers if q.kind in CHECKED_KINDS]
    missing: dict[int, int] = {}
    # Only a span in a table row needs the rows of every passage: most questions never ask.
    in_rows = lru_cache(maxsize=1)(lambda: _named_in_rows(qualifiers, passages))

    def penalty(span: Span) -> float:
        passage = passages[span.passage_index]
        if span.passage_index not in missing:
            missing[span.passage_index] = _unnamed(checked, question, passage, facts)
        return (PASSAGE_PENALTY * (missing[span.passage_index] + sum(bool(_headed_otherwise(q, span, passage, facts))
                                                                     for q in checked))
                + ROW_PENALTY * _row_misses(qualifiers, span, passage, in_rows))

    return penalty


def _unnamed(checked: list[Qualifier], question: str, passage: Passage, facts: DocumentFacts) -> int:
    """How many of the question's details a passage does not name. Where a detail qualifies what
    the passage's label names and the label names details of its kind, the label decides (the
    2023 edition is not about 2024, whatever dates its text gives); otherwise the passage and its
    document do."""
    title = facts.title(passage.chunk.doc_id)
    label = passage_label(passage, title)
    label_terms = context_terms(label)  # "2024/25" names 2025 too
    terms: frozenset[str] | None = None
    count = 0
    for q in checked:
        decides = bool(_values(label, q.kind)) and _label_decides(q, question, passage, title, facts.editions)
        if decides and q.term in label_terms:
            continue
        if decides and not _academic(q):
            count += 1  # the label names another of its kind, and decides
            continue
        if terms is None:  # the passage, its document or (an academic year) its own text names it
            terms = _named_terms(passage, label, facts)
        count += q.term not in terms
    return count


def mismatch(question: str, span: Span, passages: list[Passage], facts: DocumentFacts) -> str:
    """Why `span` cannot answer `question` ('' when nothing shows it): a detail of the question
    qualifies what the passage's label names, the label names another one of its kind and the
    passage not the asked one ("the 2022 leave policy" asked of "Leave policy 2023"), or the span's
    sentence names another version, or another code of the same letters ("P1" for "P4"), and
    neither it nor the label the asked one (the span itself aside: "SHA-256" answers "What
    replaced SHA-1?"), or dates the asked thing another month or year ("the outage of 12 February"
    for "the outage on 3 March", "the AGM in 2025" for "the AGM in 2023"), the label not the asked one."""
    asked = [q for q in question_qualifiers(question) if q.kind in CHECKED_KINDS]
    if not asked:
        return ""
    passage = passages[span.passage_index]
    chunk = passage.chunk
    title = facts.title(chunk.doc_id)
    label = passage_label(passage, title)
    # The passage itself, not its whole document: the March minutes' "next meeting: 18 April"
    # does not make them the April minutes.
    terms = passage_terms(label, chunk.text)
    for q in asked:
        headed = _headed_otherwise(q, span, passage, facts)
        if headed:
            return _unlike("the passage found", headed, [q])
    for kind in CHECKED_KINDS:
        named = _values(label, kind)
        # A code in the document's name is the product or form it is about ("the RX-300 manual"):
        # another of its family there decides where the question asks about that one itself ("the
        # capacity of the RX-200?"), not about a thing of it ("a PS4 controller" of the PS5 guide).
        wanted = [q for q in asked if q.kind == kind and _of_its_series(q, question, named) and (
            _label_decides(q, question, passage, title, facts.editions)
            or kind == "code" and _ends_its_phrase(q, question)
            and any(_family(k) == _family(q.text) for k in _values(document_name(passage, title), kind)))]
        # Under a changelog's version heading, a line naming another version is still about its
        # own ("Deprecated: the flag will be removed in 2.4.0" is no change of 2.4.0); and minutes
        # dated 6 May are not those of the 3 June meeting for naming a task due on 3 June.
        own_label = (kind == "version" and _version_headed(chunk.section)) or (
            kind == "month" and _DAY_DATED.search(question) is not None and _DAY_DATED.search(label) is not None)
        named_here = context_terms(label) if own_label else terms
        if wanted and not any(q.text in named for q in wanted) and any(q.term not in named_here for q in wanted):
            return _unlike("the passage found", named, wanted)
    sentence = _sentence_around(span, chunk)
    sentence_terms = context_terms(sentence)
    for kind in ("version", "code", "month", "year"):
        wanted = [q for q in asked if q.kind == kind]
        # A sentence names the months and years of other things too: only the thing asked about
        # counts ("the AGM in 2025" for "the AGM in 2023", not "founded in 1990").
        if kind in ("month", "year"):
            named = _values(sentence, kind)
            # a year's thing comes before it ("the AGM in 2023"), a month's on either side
            things = {q: _dated_things(question, q.shown) if kind == "year" else _neighbours(question)[q]
                      for q in wanted}
            # "the final in 2010" under "2010 World Cup" is its own (notes dated 5 March still tell of
            # an outage of 12 February)
            label_terms = context_terms(label) if kind == "year" else set()
            if wanted and named and not any(q.term in sentence_terms or q.term in label_terms for q in wanted) \
                    and any(_dated_things(sentence, shown) & things[q] for q in wanted for shown in named.values()):
                return _unlike("the answer's sentence", named, wanted)
            # A sentence of clauses for several years ("The 2021 fete raised £2,780; the 2022 fete
            # raised £3,412"): the span's own clause names another year, another clause the asked one.
            clause = _sentence_around(span, chunk, clause=True)
            in_clause = _values(clause, kind) if clause != sentence else {}
            if wanted and in_clause and kind == "year" and all(q.term in sentence_terms for q in wanted) \
                    and not any(q.term in context_terms(clause) for q in wanted):
                return _unlike("the answer's clause", in_clause, wanted)
            continue
        # Codes compare within one family: "P1" against "P4", not "SO2" against "CO2"; numbered
        # names within one series ("Bus 2" not against "Route 7").
        named = {key: shown for key, shown in _values(sentence, kind).items()
                 if kind != "code" or any(_family(key) == _family(q.text) for q in wanted)}
        wanted = [q for q in wanted if _of_its_series(q, question, named)]
        # The asked one named in the sentence in other words ("the first quarter ..., up from Q4")
        # or in the label ("Since 3.0, ..." in the 3.1 notes) lets the sentence compare.
        if wanted and named and not any(q.text in named for q in wanted) \
                and not any(q.term in sentence_terms or q.text in _values(label, kind) for q in wanted):
            return _unlike("the answer's sentence", named, wanted)
    return _dated_otherwise(question, span, asked)


# "When ... in 2022?": the year the asked event took place, ending the question.
_WHEN_IN_YEAR = re.compile(r"^\s*(?:when|what\s+(?:date|day|time)|which\s+(?:date|day))\b.*\b(?:in|during)\s+"
                           r"((?:19|20)\d\d)\s*\??\s*$", re.I | re.S)


def _dated_otherwise(question: str, span: Span, asked: list[Qualifier]) -> str:
    """Why a date cannot answer "When ... in 2022?": it is of another year ("Friday 3 December
    2021" for "When was the lights switch-on in 2022?"). A year before the asked thing ("When was
    the 2022 report published?") may be another than the date's, and says nothing here."""
    m = _WHEN_IN_YEAR.match(question)
    if m is None:
        return ""
    dated = _values(span.text, "year")
    wanted = [q for q in asked if q.kind == "year" and q.text == m.group(1)]
    if wanted and dated and m.group(1) not in dated:
        return _unlike("the answer", dated, wanted)
    return ""


def _of_its_series(q: Qualifier, question: str, named: dict[str, str]) -> bool:
    """Whether `named` (a label's details of q's kind) holds one that q compares with: a numbered
    name ("Bus 2") compares with a version or with a name of its own series, not with "Route 7"
    (a timetable's Bus 2 column is no route)."""
    if not named:
        return False
    before = re.search(r"([A-Za-z][\w-]*)\s+$", question[:q.start]) if q.kind == "version" else None
    if before is None or not q.shown.isdigit():
        return True
    series = before.group(1).lower()
    return any(" " not in shown or shown.split()[0].lower() == series for shown in named.values())


def names_asked_detail(question: str, span: Span, passages: list[Passage], facts: DocumentFacts) -> bool:
    """Whether every year, month, version or code the question asks about is named by the span's
    sentence (the span itself aside) or its passage's label: "6 March 2003" in "Project P35 was
    approved on 6 March 2003" for "When was project P35 approved?"."""
    asked = [q for q in question_qualifiers(question) if q.kind in CHECKED_KINDS]
    if not asked:
        return False
    chunk = passages[span.passage_index].chunk
    terms = context_terms(_sentence_around(span, chunk)) | context_terms(
        passage_label(passages[span.passage_index], facts.title(chunk.doc_id)))
    return all(q.term in terms for q in asked)


def _sentence_around(span: Span, chunk: Chunk, clause: bool = False) -> str:
    """The sentence(s) of its chunk a span lies in, or (`clause`) the part of it between semicolons,
    the span itself left out."""
    text, at = chunk.text, chunk.start
    start, end = (offset - at for offset in chunk.sentences_around(span.start, span.end))
    if clause:
        before, after = text.rfind(";", start, span.start - at), text.find(";", span.end - at, end)
        start, end = (before + 1 if before >= 0 else start), (after if after >= 0 else end)
    return text[start: span.start - at] + " " + text[span.end - at: end]


def _dated_things(text: str, when: str) -> frozenset[str]:
    """The stems of the word a month or a year `when` follows in `text` ("outage" of "the outage of
    12 February", "AGM" of "the AGM in 2025"), a day, a preposition and an article between them aside."""
    things = set()
    for m in re.finditer(rf"\b{re.escape(when)}\b", text):
        before = [w for w in _WORD.findall(text[max(0, m.start() - 60):m.start()]) if w.lower() not in STOP_WORDS]
        if before:
            things.add(_stem(before[-1]))
    return frozenset(things)


def _ends_its_phrase(q: Qualifier, question: str) -> bool:
    """Whether no content word follows detail `q` in the question ("of the RX-200?", "Does the
    RX-200 have..."): it names the thing asked about, not a thing of it ("a PS4 controller")."""
    following = _WORD.search(question, q.end)
    return following is None or following.group().lower() in STOP_WORDS


def _family(code: str) -> str:
    return code.rstrip("0123456789")


def _unlike(where: str, named: dict[str, str], wanted: list[Qualifier]) -> str:
    return f"{where} is about {', '.join(list(named.values())[:3])}, not {', '.join(q.shown for q in wanted)}"
