"""Names, codes and versions a question asks about that no indexed document has.

"When does the lease on the Amsterdam office end?" asked of documents that never say
"Amsterdam" cannot be answered from them, however sure the reader is of some other office's date.
A name counts as known when its last word is a word of the corpus (BM25's vocabulary: title,
section and text of every chunk; and the documents' file names): "Cam Newton" is known to
documents that say "Newton", and "Voltra Ultra" is not to documents on the Voltra Lite and the
Voltra Max. A word that only says what kind of organisation a name is does not count ("Oscorp
Industries" is not known to documents on "Stark Industries"); "Wi-Fi" is known to "WiFi" and
"Helpdesk" to "help desk". Words compare by their stems without accents, and a word of five or
more letters also matches a corpus word one typing slip away ("Univeristy" is not refused for a
misspelling of a word the documents do have, "Chemstry" finds "chemistry").

An identifier of software ("storage.pool_size", "--pidfile", "FERRULE_NO_COLOR") must be written
somewhere as such: "pool_size" is not known to documents that say "pool" and "size" apart, and
documents on `server.timeout` do not answer for `server.keepalive_timeout`. Only the last part of a
dotted key counts, since a configuration file may give the section apart ("[server]").

A year must be named, or fall in a span of years or a decade that is ("1866" of documents on
"1865–67" or "the 1860s"): "How many died in the flood of 1866?" of documents that never reach
1866 is not answered from the cholera of 1849.

A code or a numbered version ("the RX-250", "firmware 2.2", "week 13") must be named as such
somewhere: documents on the RX-200 and the RX-300 have words of "RX-250", and a table of their
specifications would answer for it.

How often it speaks, on tune data (`unknown_name` alone, the corpus being the file's paragraphs):
7 of SQuAD v1.1 dev part A's 4,961 answerable questions name something its paragraphs never do,
mostly misspelt ("Superbowl", "Ghandi's", "Caucasas"); the SQuAD 2.0 part-A tune file, none of
866 answerable questions and 14 of 825 unanswerable ones ("Saturn", "Lutheran"); Amazon reviews,
2 of 3,000 answerable ones. Asking for a name's last word added 2 unanswerable questions of the
tune file ("Port Sunshine", "Tampa Bay Buccaneers") and 1 answerable one ("Fields Medal"), and
none of part A's.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property

from bot.read.qualifiers import named_details, question_qualifiers
from bot.words import STOP_WORDS, stem

# Letters, digits, hyphens and apostrophes around a detected name word: "Temüjin's", "Zia-ul-Haq".
_NAME_CHARACTER = re.compile(r"[\w'’-]")
_PART = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['’]s\b")
# An acronym's plural ("DSMs", "TDs"): acronyms are not checked, since a question may shorten what
# the documents spell out ("the Distinguished Service Medals").
_ACRONYM = re.compile(r"[A-Z]{2,}s?")
# A number with the word before it: "week 13", "firmware 2.2".
_NUMBERED = re.compile(r"([^\W\d_][\w-]*) (?:[vV])?\d[\d.]*$")
# A word with underscores, dots or leading dashes inside: a setting, flag, variable or file name.
_IDENTIFIER = re.compile(r"(?<![\w.-])(?:--?)?[A-Za-z][\w.-]*[A-Za-z0-9]")
# A year, as a question pins one: "the flood of 1866"; not an amount or a part of a figure.
_YEAR = re.compile(r"(?<![\d.,£$€¥/-])\b(?:1[5-9]|20)\d\d\b(?![.,]\d|\s?%|['’]?s\b)")
_YEAR_SPAN = re.compile(r"\b((?:1[5-9]|20)\d\d)\s?(?:[–—/-]|to|until|and)\s?(\d\d(?:\d\d)?)\b")
_FISCAL_YEAR = re.compile(r"(?<=FY)(?:19|20)\d\d\b")  # "FY2024"
_DECADE = re.compile(r"\b((?:1[5-9]|20)\d0)['’]?s\b")
_LONGEST_YEAR_SPAN = 60  # "1831–1874" holds the years between; "1066–2024" says nothing of them
FUZZY_MIN_LETTERS = 5  # shorter words are too often one letter away from another word
# Words that say what kind of organisation a name is, not which one.
_KINDS_OF_ORGANISATION = frozenset(
    "industries industry corporation corp incorporated inc ltd limited llc plc gmbh company co group holdings "
    "holding systems technologies technology tech solutions services international global partners associates "
    "enterprises labs laboratories robotics software networks media energy foundation trust".split())


def fold(word: str) -> str:
    """`word` without accents: "Schrödinger" -> "Schrodinger"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def one_edit_apart(a: str, b: str) -> bool:
    """Whether one substitution, insertion, deletion or swap of neighbours turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]


class CorpusVocabulary:
    """The corpus's words as BM25 stored them (lower-case Snowball stems, stop words left out)."""

    def __init__(self, stems: Iterable[str], stop_words: Iterable[str] = (), file_names: Iterable[str] = (),
                 texts: Callable[[], Iterable[str]] = tuple) -> None:
        self._stems = stems if isinstance(stems, (set, frozenset)) else set(stems)  # BM25's own set: not copied
        # The words of the documents' file names too: "the Acme handbook" of acme_handbook.docx.
        file_names = list(file_names)
        self._named = frozenset(stem(w) for name in file_names for w in _PART.findall(name) if not w.isdigit())
        self._file_name_parts = frozenset(p.lower() for name in file_names for p in _PART.findall(name))
        self._file_names = file_names
        self._stop_words = frozenset(stop_words)
        self._texts = texts  # the documents' texts, read for their codes and versions when first asked

    @cached_property
    def details(self) -> frozenset[str]:
        """The codes and versions the documents name (`named_details`), and their file names'
        parts ("rx200" of vacuum_rx200_manual.md)."""
        found: set[str] = set(self._file_name_parts)
        for text in self._texts():
            found |= named_details(text)
        return frozenset(found)

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """The identifiers the documents write (`identifier_key`), each dotted part on its own too."""
        found: set[str] = set()
        for text in (*self._file_names, *self._texts()):  # "what does notes_2024.txt say": its name
            for m in _IDENTIFIER.finditer(text):
                if is_identifier(m.group()):
                    key = identifier_key(m.group())
                    found.add(key)
                    found.update(key.split("."))
        return frozenset(found)

    @cached_property
    def years(self) -> frozenset[int]:
        """The years the documents and their file names name, the years inside a span of them
        ("1865–67", "1840 to 1849") and a decade's ("the 1860s")."""
        found: set[int] = set()
        for text in (*(name.replace("_", " ") for name in self._file_names), *self._texts()):
            found.update(int(m.group()) for m in _YEAR.finditer(text))
            found.update(int(m.group()) for m in _FISCAL_YEAR.finditer(text))
            for m in _YEAR_SPAN.finditer(text):
                first = int(m.group(1))
                last = int(m.group(2)) if len(m.group(2)) == 4 else first // 100 * 100 + int(m.group(2))
                if first < last <= first + _LONGEST_YEAR_SPAN:
                    found.update(range(first, last + 1))
            for m in _DECADE.finditer(text):
                found.update(range(int(m.group(1)), int(m.group(1)) + 10))
        return frozenset(found)

    def _all(self) -> Iterable[str]:
        yield from self._stems
        yield from self._named

    def _has(self, form: str) -> bool:
        return form in self._stems or form in self._named or form in self._folded

    @cached_property
    def _folded(self) -> frozenset[str]:
        return frozenset(fold(s) for s in self._all() if not s.isascii())

    @cached_property
    def _by_shape(self) -> dict[tuple[int, str], list[str]]:
        """Words by (length, first letter) and (length, last letter): a word one edit away from
        another shares its first or its last letter, and its length differs by at most one."""
        shapes: dict[tuple[int, str], list[str]] = defaultdict(list)
        for s in self._all():
            s = fold(s)
            if len(s) >= FUZZY_MIN_LETTERS - 1:
                shapes[len(s), "^" + s[0]].append(s)
                shapes[len(s), s[-1] + "$"].append(s)
        return shapes

    def knows(self, word: str) -> bool:
        low = word.lower()
        if low in self._stop_words:
            return True
        forms = {stem(low), stem(fold(low)), fold(stem(low)), low, fold(low)}
        if any(self._has(f) for f in forms):
            return True
        folded = fold(stem(fold(low)))
        if len(folded) < FUZZY_MIN_LETTERS:
            return False
        return any(one_edit_apart(folded, other)
                   for n in (len(folded) - 1, len(folded), len(folded) + 1)
                   for key in ((n, "^" + folded[0]), (n, folded[-1] + "$"))
                   for other in self._by_shape.get(key, ()))


def is_identifier(token: str) -> bool:
    """Whether a token is written as software names things: "pool_size", "--pidfile", "app.yaml"
    (dotted parts of two or more characters: not "e.g." or "U.S.")."""
    if token.startswith("-"):
        return token.startswith("--") and len(token) > 3
    if "_" in token:
        return True
    parts = token.split(".")
    return len(parts) > 1 and all(len(p) > 1 and p[0].isalpha() for p in parts)


def identifier_key(token: str) -> str:
    """How an identifier compares: lower-case, without dashes and underscores ("--pid-file" is
    "--pidfile")."""
    return re.sub(r"[-_]", "", token.lower())


def unknown_identifier(question: str, vocabulary: CorpusVocabulary) -> str:
    """The first identifier of the question that no document writes (the last part of a dotted one),
    "" when there is none."""
    for m in _IDENTIFIER.finditer(question):
        token = m.group()
        if is_identifier(token) and identifier_key(token).rsplit(".", 1)[-1] not in vocabulary.identifiers:
            return token
    return ""


# A line that answers for whatever it does not name: "Other cities — Limit: EUR 120", "For any city
# not in the table, the limit is £120 a night".
_FOR_THE_REST = re.compile(r"^\W*(?:(?:all|any)\s+)?(?:other|others|elsewhere|everywhere\s+else|rest\s+of)\b"
                           r"|^\W*(?:for|in|at)?\s*(?:any|every|each)\s+\w+(?:\s+\w+)?\s+(?:not|that\s+is\s+not)\s+"
                           r"(?:in\s+the\s+(?:table|list)|listed|shown|named|above|below)\b", re.I)


def answers_for_the_rest(line: str) -> bool:
    """Whether a line (a table row, a labelled line) gives the rule for everything it does not
    name: a name the documents never mention is answered by it ("the hotel limit in Leipzig" by
    "Other cities — Limit: EUR 120")."""
    return _FOR_THE_REST.match(line) is not None


def unknown_name(question: str, vocabulary: CorpusVocabulary) -> str:
    """The first code or version in `question` that the corpus never names, else the first name
    (capitalised words in a row, as the details check finds them) it does not know (`_known`), as
    the question writes it; "" when there is none."""
    identifier = unknown_identifier(question, vocabulary)
    if identifier:
        return identifier
    year = next((m.group() for m in _YEAR.finditer(question) if int(m.group()) not in vocabulary.years), "")
    if year:
        return year
    qualifiers = question_qualifiers(question)
    for q in qualifiers:
        if q.kind in ("code", "version") and q.term not in vocabulary.details:
            # A number alone says little: "week 13", "firmware 2.2", with the word it numbers (not
            # "in 2.2.0").
            named = _NUMBERED.search(question, 0, q.end) if q.shown[:1].isdigit() else None
            numbers = named is not None and named.group(1).lower() not in STOP_WORDS
            return named.group() if numbers else q.shown
    names = [q for q in qualifiers if q.kind == "name"]
    groups: list[tuple[int, int]] = []
    for q in names:
        if groups and question[groups[-1][1]:q.start] == " ":
            groups[-1] = (groups[-1][0], q.end)
        else:
            groups.append((q.start, q.end))
    for start, end in groups:
        while start > 0 and _NAME_CHARACTER.match(question[start - 1]):
            start -= 1
        while end < len(question) and _NAME_CHARACTER.match(question[end]):
            end += 1
        name = question[start:end].strip("'’-")
        parts = [p for p in _PART.findall(_POSSESSIVE.sub("", name)) if len(p) > 1 and not _ACRONYM.fullmatch(p)]
        # "Oscorp Industries" is not known for "Stark Industries": a kind of firm names none.
        parts = [p for p in parts if p.lower() not in _KINDS_OF_ORGANISATION] or parts
        if parts and not _known(parts, vocabulary):
            return name
    return ""


def _known(parts: list[str], vocabulary: CorpusVocabulary) -> bool:
    """Whether the corpus knows the name: has its last word, or that word written as two
    ("Helpdesk" for "help desk", "WiFi" for "Wi-Fi"), or all its parts written as one word ("Wi-Fi"
    for "WiFi", "Health Care" for "healthcare"). The last word says which one of a family ("the
    Voltra Ultra" of documents on the Voltra Lite and the Voltra Pro), where a first word may be
    left out ("Cam Newton" of documents on "Newton")."""
    return _part_known(parts[-1], vocabulary) or (len(parts) > 1 and vocabulary.knows("".join(parts)))


def _part_known(part: str, vocabulary: CorpusVocabulary) -> bool:
    """Whether the corpus has the word, or has it written as two ("Helpdesk" for "help desk")."""
    return vocabulary.knows(part) or (len(part) >= 4 and any(
        vocabulary.knows(part[:k]) and vocabulary.knows(part[k:]) for k in range(2, len(part) - 1)))
