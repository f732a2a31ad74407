"""The table rows and labelled lines of a passage: which one a question names, and which cell.

The readers write a table row as a line, "DSC7004 — Module: Machine Learning; Convenor: Dr Samuel
Adeyemi.", and a labelled list keeps its lines, "Saturday: 09:00 to 20:00". The reader's tokens do
not see that layout; these functions find the row or line the question names (by its label, or by
another of its cells), the column it names ("a student day return", "lent" for "Lender"), and the
cell that answers. `extent.py` moves or widens an answer to that cell; `doubts.py` lets it answer
where the reader's best span lies in another row.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cached_property

from bot.ingest.chunking import sentence_spans
from bot.questions import ASKS_WHERE, ASKS_WHO, PLACE_LABELS
from bot.read.units import ASIDE, asked_quantities, figures_measuring, range_holds
from bot.read.windows import ROW_JOINT
from bot.types import Passage, Span
from bot.words import ACADEMIC_YEAR, NUMBER_WORDS, ORDINALS, STOP_WORDS, WEEKDAYS, YEAR, academic_year, stem

WORD = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")


def content_words(text: str) -> set[str]:
    """A text's words other than stop words, a possessive's "s" left out ("Children's", "what's")."""
    return {w for w in WORD.findall(_POSSESSIVE_S.sub("", text.lower())) if w not in STOP_WORDS}


_POSSESSIVE_S = re.compile(r"(?<=\w)['’]s\b")


def content_stems(text: str) -> set[str]:
    """`content_words` as stems: what a question and a passage compare by in other word forms."""
    return {stem(w) for w in content_words(text)}


def label_words(label: str) -> set[str]:
    """The content words that name a row or a column, an aside in brackets left out: "Child (5–15)"
    is named by "child", "Car (up to 6 m)" by "car"."""
    return content_words(ASIDE.sub("", label)) or content_words(label)


def respan(span: Span, passage: Passage, start: int, end: int) -> Span:
    """`span` moved to chunk offsets start..end of its passage."""
    chunk = passage.chunk
    return replace(span, text=chunk.text[start:end], start=chunk.start + start, end=chunk.start + end)


class Lines:
    """A passage's lines, as (start, end) offsets into its text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bounds: list[tuple[int, int]] = []
        at = 0
        for line in text.split("\n"):
            self.bounds.append((at, at + len(line)))
            at += len(line) + 1

    def __len__(self) -> int:
        return len(self.bounds)

    @cached_property
    def block_labels(self) -> frozenset[int]:
        """The labelled lines that each open a block of text (a blank line or the start above, a line
        of text below), where the passage has two or more of them: a team page's "Principal Dentist:
        Dr Helen Marsh" over a paragraph on her, beside "Associate Dentist: …"."""
        opening = frozenset(
            i for i in range(len(self) - 1)
            if (i == 0 or not self[i - 1].strip()) and self[i + 1].strip() and _label(self[i]) is not None
            and _label(self[i + 1]) is None and row_cells(self[i]) is None)
        return opening if len(opening) > 1 else frozenset()

    def __getitem__(self, i: int) -> str:
        start, end = self.bounds[i]
        return self.text[start:end]

    def text_start(self, i: int) -> int:
        """Where line i's text starts, past its indent."""
        return self.bounds[i][0] + len(self[i]) - len(self[i].lstrip())

    def ends_heading(self, i: int, heading: int) -> bool:
        """Whether line i is the (last) line of the heading the text starts with, `heading` long."""
        return heading > 0 and self.bounds[i][1] == heading

    def index(self, offset: int) -> int:
        """The line holding `offset`."""
        for i, (_, end) in enumerate(self.bounds):
            if offset <= end:
                return i
        return len(self.bounds) - 1


# "Blue - heating", "Flashing red – the thermostat has lost its connection", "Moving house: 2 days":
# a label, a dash or a colon, a value. The value holds no second dash and no second sentence: "The
# Leeds office – later moved to York – opened in 1990." is prose with an aside.
# Not a line of code or data: a label opens with no quote or bracket ('"status": 403,').
# A hyphen inside a word stays in the label ("Check-out: by 11:00").
LABELLED = re.compile(r"^[ \t]*(?P<label>[^\s\-–—:\x22\x27`{\[<](?:[^\-–—:\n]|(?<=\w)-(?=\w)){0,40}?)"
                      r"(?:[ \t]+[-–—]|[ \t]*:)[ \t]+"
                      r"(?P<value>(?![^\n]*\s[-–—]\s)(?![^\n]*[.!?]\s+[A-Z])\S[^\n]{0,120})$")


def row_cells(line: str) -> tuple[str, list[tuple[int, int, str]]] | None:
    """A table row as the readers write one ("Jury service — Approved by: HR Business Partner; Paid:
    yes."): its label, and each cell's (start, end, column name) in the line; None for another line."""
    joints = list(ROW_JOINT.finditer(line))
    if not joints or not joints[0].group().startswith(" — "):
        return None
    cells = []
    for k, joint in enumerate(joints):
        end = joints[k + 1].start() if k + 1 < len(joints) else len(line.rstrip().rstrip("."))
        cells.append((joint.end(), end, joint.group().strip(" —;:")))
    return line[:joints[0].start()].strip(), cells


def _label(line: str) -> tuple[str, int, int] | None:
    """(label, value start, value end) of a table row (its cells as the value) or of a line
    "Label - value"; None for another line."""
    row = row_cells(line)
    if row is not None:
        return row[0], line.index(" — ") + len(" — "), len(line)
    m = LABELLED.match(line)
    if m is None:
        return None
    value_end = len(line)
    while value_end > m.start("value") and line[value_end - 1] in " \t.;,":
        value_end -= 1
    return m.group("label").strip(), m.start("value"), value_end


def is_labelled(line: str) -> bool:
    """Whether a line is a table row or a labelled line ("Treasurer: Gareth Hughes")."""
    return _label(line) is not None


def _labelled_group(lines: Lines, i: int) -> range | None:
    """The labelled lines (two or more in a row) around line i; or line i alone where it opens a
    block of text, as others of the passage do (`Lines.block_labels`)."""
    if _label(lines[i]) is None:
        return None
    lo, hi = i, i
    while lo > 0 and _label(lines[lo - 1]) is not None:
        lo -= 1
    while hi + 1 < len(lines) and _label(lines[hi + 1]) is not None:
        hi += 1
    if hi > lo:
        return range(lo, hi + 1)
    return range(i, i + 1) if i in lines.block_labels else None


def _named_line(question: str, lines: Lines, group: range) -> int | None:
    """The line of `group` whose label the question names (all its words), the longest label
    winning, and among rows of one label the one with most other cells the question names ("a
    large cappuccino": the Cappuccino row whose size is Large); None when it names none, or two
    alike."""
    asked = content_words(question)
    if len(group) == 1:
        _, value_start, _ = _label(lines[group.start])
        value = lines[group.start][value_start:]
        if _FIGURE_VALUE.match(value) and not _ASKS_FIGURE.search(question):
            return None  # "Full Service: £140" over what it includes: "What does it include?" asks that
        if _price_for_another_quantity(question, value):
            return None  # nor does its price say how long it takes
    named = sorted(((len(words), len(content_words(lines[i]) & asked), i) for i in group
                    if (words := _label_named(_label(lines[i])[0], question, asked))), reverse=True)
    if not named or (len(named) > 1 and named[0][:2] == named[1][:2]):
        return None
    return named[0][2]


_FIGURE_VALUE = re.compile(r"[£$€]?\d")  # a value that is a figure or a price: "£140", "12"
# A question a figure answers: an amount, a price, a time, a number.
_ASKS_FIGURE = re.compile(r"\bhow\s+(?:much|many|long|old|far|big|often)\b|\b(?:cost|costs|price|prices|fee|fees|"
                          r"charge|charges|rate|rates|pay|when|time|number|phone|telephone|date|year)\b", re.I)
_ALTERNATIVES = re.compile(r"\s+or\s+|\s*/\s*", re.I)
_RANGE_NAMED = "<range>"  # what a row named by a figure in its range is named by


# Short forms a table writes for a word a question says in full ("Max. downlink" for "maximum").
_SHORT_FORMS = {"maximum": "max", "minimum": "min", "number": "no", "quantity": "qty", "temperature": "temp",
                "average": "avg", "approximately": "approx", "department": "dept", "telephone": "tel",
                "reference": "ref", "including": "incl", "excluding": "excl"}


def _with_short_forms(asked: set[str]) -> set[str]:
    return asked | {_SHORT_FORMS[w] for w in asked if w in _SHORT_FORMS}


def _unhyphenated(words: set[str]) -> set[str]:
    return {w.replace("-", "") for w in words}


def _named_with_hyphens(words: set[str], question: str, asked: set[str]) -> bool:
    """Whether the question says a hyphenated label's words as one or two: "check out" and
    "checkout" name "Check-out", "wifi" names "Wi-Fi"."""
    said = WORD.findall(question.lower())
    pairs = {a + b for a, b in zip(said, said[1:], strict=False)}
    return _unhyphenated(words) <= _unhyphenated(asked) | pairs


# "Where was the AGM held?": the words of a line that gives a place.
_PLACE_WORDS = frozenset(PLACE_LABELS) | {"where"}
# A weekday in full or shortened ("Mon", "Tues", "Thurs."), and a range of them: "Monday to Friday",
# "Mon–Sat", "Saturday and Sunday".
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday|s|rs|r)?\.?"  # not "Monitors"
_WEEKDAY_RANGE = re.compile(rf"\s*{_DAY}\s*(?:to|-|–|—|until|till|(?P<both>and|&))\s*{_DAY}\s*", re.I)


def weekdays_of_range(label: str) -> set[str]:
    """The weekdays a label of a range of them covers ("Monday to Friday", "Mon–Sat", "Fri–Mon"), or
    of two ("Tuesday and Thursday"); none for another label."""
    m = _WEEKDAY_RANGE.fullmatch(label)
    if m is None:
        return set()
    first, last = (next(i for i, day in enumerate(WEEKDAYS) if day.startswith(m.group(g).lower())) for g in (1, 3))
    if m.group("both"):
        return {WEEKDAYS[first], WEEKDAYS[last]}
    return {WEEKDAYS[i % 7] for i in range(first, last + 1 if last >= first else last + 8)}


# The last word of a label that names what is priced or done, not what it is of: "Root canal treatment".
_GENERIC_HEADS = frozenset({"treatment", "fee", "fees", "charge", "charges", "price", "prices", "cost", "costs",
                            "rate", "rates", "service"})


def _label_named(label: str, question: str, asked: set[str]) -> set[str]:
    """The words by which the question names a row's label (all of them), or none: a label of one
    capital letter is named by that letter standing alone ("Zone A" for the row "A"), and a range
    by a figure in it ("2 - 4 years" for "a 2 year old", "60–80 kg" for "a 70kg rider"); a label of
    alternatives by one of them ("Curry or casserole")."""
    words = label_words(label)
    if words and range_holds(label, question):
        return {_RANGE_NAMED}
    days = weekdays_of_range(label)
    if days:  # "Monday to Friday" is named by "on Tuesdays", "Saturday and Sunday" also by both days
        asked_days = {w.rstrip("s") for w in asked} & days
        return asked_days if len(asked_days) == 1 or asked_days == days else set()
    # "on Tuesdays" names the "Tuesday" row: a weekday said in the plural is every one of it; "Who
    # chaired it?" names the "Chair" line
    asked = _with_short_forms(asked) | {w[:-1] for w in asked if w[:-1] in WEEKDAYS}
    if ASKS_WHO.match(question):
        asked |= {w[:-2] for w in asked if w.endswith("ed")} | {w[:-1] for w in asked if w.endswith("ed")}
    if ASKS_WHERE.match(question):  # "Where was the AGM held?" names the "Venue" line
        asked |= _PLACE_WORDS
    if words:
        # "ends" of "Spring term ends" is named by "When does the spring term end?"; a label of one
        # word only as it is written ("files" does not name the row "file")
        if (words <= asked or len(words) > 1 and {stem(w) for w in words} <= {stem(w) for w in asked}
                or (any("-" in w for w in words) and _named_with_hyphens(words, question, asked))):
            return words
        # "Root canal treatment" is named by "a root canal": its last word only says it is priced or done
        head = WORD.findall(ASIDE.sub("", label).lower())
        if len(head) > 1 and head[-1] in _GENERIC_HEADS and set(head[:-1]) - STOP_WORDS <= asked:
            return set(head[:-1]) - STOP_WORDS
        # "Chicken curry or casserole" is named by either: "chicken curry" or "casserole".
        either = [label_words(part) for part in _ALTERNATIVES.split(ASIDE.sub("", label)) if part.strip()]
        return next((part for part in either if part and part <= asked), set()) if len(either) > 1 else set()
    letter = label.strip()
    return {letter.lower()} if re.fullmatch(r"[A-Z]", letter) and re.search(rf"\b{letter}\b", question) else set()


def _named_row_value(question: str, start: int, end: int, lines: Lines) -> tuple[int, int] | None:
    """Offsets of the value of the line the question names, or of the named row's cell in the
    column of start..end, when that lies in another line of the same labelled group or over the
    named line's label, or is a part of a short value or cell ("20:00" of "Saturday: 09:00 to
    20:00"); None otherwise."""
    first, last = lines.index(start), lines.index(max(start, end - 1))
    group = _labelled_group(lines, first)
    if group is None or last not in group:
        return None
    target = _named_line(question, lines, group)
    if target is None:
        return None
    line_start = lines.bounds[target][0]
    row = row_cells(lines[target])
    if row is not None:
        own = row_cells(lines[first]) if first == last else None
        offset = lines.bounds[first][0]
        chosen = next((name for s, e, name in (own[1] if own else []) if offset + s <= start and end <= offset + e),
                      None)
        # The column the question names ("the last bus", "a student day return"), else the reader's.
        named = _named_column(question, [name for _, _, name in row[1]])
        column = named or chosen
        cell = next(((line_start + s, line_start + e) for s, e, name in row[1] if name == column), None)
        if first == last == target and named in (None, chosen):
            return cell if cell is not None and _part_of_short(start, end, *cell, lines.text) else None
        return cell
    _, value_start, value_end = _label(lines[target])
    value = (line_start + value_start, line_start + value_end)
    if first == last == target:
        # a part of the value before its closing aside: the value up to it ("9:00am to 1:00pm" of
        # "Saturday: 9:00am to 1:00pm (first and third Saturday of each month only)")
        aside = re.search(r"\s*\([^()]*\)$", lines.text[value[0]:value[1]])
        if aside and aside.start() > 0 and end <= value[0] + aside.start():
            value = (value[0], value[0] + aside.start())
        return value if _part_of_short(start, end, *value, lines.text) else None
    return value


_SHORT_VALUE = 60  # a value this long at most is taken whole: a time span, a price and its terms


def _part_of_short(start: int, end: int, value_start: int, value_end: int, text: str) -> bool:
    """Whether start..end is a part, not the whole, of a short value at value_start..value_end."""
    return (value_start <= start and end <= value_end and (start, end) != (value_start, value_end)
            and value_end - value_start <= _SHORT_VALUE and not re.search(r"[.!?]\s", text[value_start:value_end]))


def _named_cell_of_row(question: str, start: int, end: int, lines: Lines) -> tuple[int, int] | None:
    """Offsets of the cell in the column the question names, of the table row start..end lies in,
    where the question names the row by another of its cells rather than its label: "Who lent the
    customs seal of Memel?" of "TT-38 — Object: Customs seal of Memel; Date: 1851; Lender: Klaipėda
    History Museum." is the Lender cell, not the row's catalogue number. None otherwise."""
    i = lines.index(start)
    cell = _cell_named_by_row_and_column(question, lines[i]) if lines.index(max(start, end - 1)) == i else None
    offset = lines.bounds[i][0]
    if cell is None or offset + cell[0] <= start and end <= offset + cell[1]:
        return None
    return offset + cell[0], offset + cell[1]


def _cell_named_by_row_and_column(question: str, line: str) -> tuple[int, int] | None:
    """Offsets in a table row's `line` of the cell in the column the question names, where the
    question names the row by (every content word of) another of its cells, and every name the
    question gives is the row's or a column's ("Who convenes Robotics in the autumn?" is not about
    the row whose semester is "Autumn"); None otherwise."""
    row = row_cells(line)
    if row is None:
        return None
    named = _named_column(question, [name for _, _, name in row[1]])
    cell = next(((s, e) for s, e, name in row[1] if name == named), None)
    asked = content_words(question)
    if cell is None or not any((words := label_words(line[s:e])) and words <= asked or range_holds(line[s:e], question)
                               for s, e, name in row[1] if name != named):
        return None
    known = set(WORD.findall(line.lower()))  # the row's words, its column names among them
    return cell if _names_asked(question) <= known else None


def named_cell(question: str, span: Span, passage: Passage) -> Span | None:
    """The cell of a table or labelled list that the question names, where `span` lies elsewhere
    in it: the named row's value, in the column the question names or else the span's (a row named
    by its label, "DSC7004 — ..."), or the named column of the span's own row where the question
    names that row by another cell ("Natural Language Processing"). None when nothing is named."""
    chunk = passage.chunk
    lines = Lines(chunk.text)
    start, end = span.start - chunk.start, span.end - chunk.start
    moved = _named_row_value(question, start, end, lines) or _named_cell_of_row(question, start, end, lines)
    if moved and (states_asked_version(question, chunk.text, start, end, chunk.text, *moved)
                  or _only_repeats(question, chunk.text[moved[0]:moved[1]])):
        return None
    return respan(span, passage, *moved) if moved else None


# A question for an amount, and what a cell that gives one holds: a figure, a number in words, a length
# without end ("lifetime"), or what stands for none ("free", "none").
_ASKS_AMOUNT = re.compile(r"\bhow\s+(?:long|many|much|old|far|big|high|heavy)\b", re.I)
_HOLDS_AMOUNT = re.compile(rf"\d|\b(?:{'|'.join(NUMBER_WORDS)}|half|dozen|free|none|nil|no charge|included|lifetime|"
                           r"unlimited|indefinitely|permanent|permanently)\b", re.I)


def _only_repeats(question: str, cell: str) -> bool:
    """Whether a cell says nothing the question does not ("Main Stage" for "Who is on the main stage
    on Saturday?"): the question named the row by it, and asks for another."""
    words = content_words(cell)
    return bool(words) and words <= content_words(question)


# A dotted version or a series of them, as a question asks for one: "1.3", "2.x", "v1.4.2".
_DOTTED = re.compile(r"(?<![\w.])[vV]?\d+\.(?:\d+|[xX])(?:\.\d+)*(?![.\w]*\w)")


def states_asked_version(question: str, text: str, start: int, end: int,
                         cell_text: str, cell_start: int, cell_end: int) -> bool:
    """Whether the clause around text[start:end] names a version the question asks about ("In 1.x
    the default was 5m" for "the default in 1.x") and the clause around the cell does not: the
    cell's value is then that of another version (the table's "Default: 1h"), and the span stands."""
    asked = {m.group().lower().lstrip("v") for m in _DOTTED.finditer(question)}
    if not asked:
        return False

    def named(text: str, s: int, e: int) -> bool:
        clause = text[_clause_start(text, s):_clause_end(text, e)]
        return bool(asked & {m.group().lower().lstrip("v") for m in _DOTTED.finditer(clause)})

    return named(text, start, end) and not named(cell_text, cell_start, cell_end)


_CLAUSE_BREAKS = ("; ", ". ", "\n")


def _clause_start(text: str, at: int) -> int:
    return max([0, *(i + len(sep) for sep in _CLAUSE_BREAKS if (i := text.rfind(sep, 0, at)) >= 0)])


def _clause_end(text: str, at: int) -> int:
    return min([len(text), *(i for sep in _CLAUSE_BREAKS if (i := text.find(sep, at)) >= 0)])


def cell_named_in(question: str, passages: list[Passage], like: Span) -> Span | None:
    """The one cell, among all the passages' tables and labelled lists, that the question names by
    its row (its label, or another of its cells) and, where the row has several cells, its column:
    "the last ferry ... on Sundays" is the Sunday cell of the "Last" row. Where rows of several
    tables are named alike (the "Last" rows under "Departures from Oban" and "from Craignure"), the
    one whose table's lead line shares the most words with the question, if one does. `like` lends
    the span its score. None when no cell, or no one cell, is named."""
    asked = content_words(question)
    # (lead words asked, the row's words asked, passage index, start, end): of two rows named alike,
    # the one that also holds the column asked ("Main Hall — …; Saturday: £35" for "the Main Hall on
    # a Saturday", not "Main Hall: £150 deposit")
    found: list[tuple[int, int, int, int, int]] = []
    for k, passage in enumerate(passages):
        lines = Lines(passage.chunk.text)
        i = 0
        while i < len(lines):
            group = _labelled_group(lines, i)
            if group is None:
                i += 1
                continue
            target = _named_line(question, lines, group)
            cells = [_cell_of_named_line(question, lines, target)] if target is not None else []
            for j in group:  # a row named by another of its cells ("the Site Manager" of its Role)
                by_cell = _cell_named_by_row_and_column(question, lines[j])
                at = lines.bounds[j][0]
                cells.append(None if by_cell is None else (at + by_cell[0], at + by_cell[1]))
            lead = len(content_words(_group_lead(lines, group, passage.chunk.section)) & asked)
            found += [(lead, len(content_words(lines[lines.index(cell[0])]) & asked), k, *cell)
                      for cell in dict.fromkeys(cells) if cell is not None]
            i = group.stop
    # A cell of another document than the reader's answer must be of what the question names:
    # "the Saturday hours of Ashbourne Coaches' depot" are not the library's Saturday row.
    # Nor may it say less of the question than the answer's passage does: "the chair elected in 2023"
    # is not the Chair row of the 2021 minutes, nor "online check-in" a hotel's Check-in line.
    names = _names_asked(question)
    said = _question_stems_said(question, passages[like.passage_index]) if like.passage_index < len(passages) else set()
    found = [(lead, row, k, s, e) for lead, row, k, s, e in found
             if passages[k].chunk.doc_id == like.doc_id
             or (_passage_names(passages[k], names) and said <= _question_stems_said(question, passages[k]))]
    found = [(lead, row, k, s, e) for lead, row, k, s, e in found
             if not _only_repeats(question, passages[k].chunk.text[s:e])]
    # One cell of a document read twice (chunks overlap) is one cell.
    by_place = {(passages[k].chunk.doc_id, passages[k].chunk.start + s): (lead, row, k, s, e)
                for lead, row, k, s, e in found}
    found = sorted(by_place.values(), reverse=True)
    if not found or (len(found) > 1 and found[0][:2] == found[1][:2]):
        return None
    *_, k, start, end = found[0]
    chunk = passages[k].chunk
    if k != like.passage_index and not _row_says_as_much(question, like, passages, passages[k], start):
        return None
    if like.passage_index < len(passages):
        own = passages[like.passage_index].chunk
        if states_asked_version(question, own.text, like.start - own.start, like.end - own.start,
                                chunk.text, start, end):
            return None
    if ASKS_WHO.match(question) and not re.search(r"[A-Za-z]", chunk.text[start:end]):
        return None  # a figure is no answer to "Who...?"
    if _ASKS_AMOUNT.search(question) and not _HOLDS_AMOUNT.search(chunk.text[start:end]):
        return None  # nor a name to "How long...?"
    inside = k == like.passage_index and chunk.start + start <= like.start and like.end <= chunk.start + end
    if inside and not _part_of_short(like.start - chunk.start, like.end - chunk.start, start, end, chunk.text):
        return None  # the reader's span is a part of a long value ("By car: the nearest car park is ..."): it stands
    return replace(respan(like, passages[k], start, end), passage_index=k, doc_id=chunk.doc_id)


def list_lead_sentence(span: Span, passage: Passage) -> str:
    """The last sentence of the text that leads the labelled list `span` lies in, a blank line apart
    or not ("The following officers were elected:" above "Chair: …"); '' where a list or nothing
    stands above it."""
    chunk = passage.chunk
    lines = Lines(chunk.text)
    group = _labelled_group(lines, lines.index(span.start - chunk.start))
    above = (group.start if group is not None else lines.index(span.start - chunk.start)) - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above < 0 or _label(lines[above]) is not None:
        return ""
    lead = lines[above]
    sentences = sentence_spans(lead)
    return lead[sentences[-1][0]:sentences[-1][1]] if sentences else lead


def block_described(question: str, passages: list[Passage], like: Span) -> Span | None:
    """The first sentence under the one block label the question names, of all the passages, where
    the label's value is a figure and the question asks for none: "The bike is stripped down, …" under
    "Full Service: £140" for "What does a full service include?" (`like` lends its score). None
    otherwise."""
    if _ASKS_FIGURE.search(question):
        return None
    asked = content_words(question)
    found = []
    for k, passage in enumerate(passages):
        lines = Lines(passage.chunk.text)
        for i in lines.block_labels:
            label, value_start, _ = _label(lines[i])
            if _FIGURE_VALUE.match(lines[i], value_start) and _label_named(label, question, asked):
                below, at = lines[i + 1], lines.bounds[i + 1][0]
                end = next((m.start() + 1 for m in re.finditer(r"[.!?](?=\s)", below)), len(below.rstrip()))
                start = at + len(below) - len(below.lstrip())
                found.append((passage.chunk.doc_id, passage.chunk.start + start, k, start, at + end))
    if len({(doc, at) for doc, at, *_ in found}) != 1:
        return None
    _, _, k, start, end = found[0]
    return replace(respan(like, passages[k], start, end), passage_index=k, doc_id=passages[k].chunk.doc_id)


def words_asked_around(question: str, span: Span, passage: Passage) -> tuple[int, int]:
    """How many of the question's words the lead line of `span`'s table or labelled list says (the
    line above it, else the section's name), then how many its own line says: what `cell_named_in`
    ranks cells by."""
    chunk = passage.chunk
    lines = Lines(chunk.text)
    i = lines.index(span.start - chunk.start)
    group = _labelled_group(lines, i)
    asked = content_words(question)
    lead = _group_lead(lines, group, chunk.section) if group is not None else _lead(lines, i, chunk.section)
    return len(content_words(lead) & asked), len(content_words(lines[i]) & asked)


def _lead(lines: Lines, first: int, section: str) -> str:
    """What leads a table or labelled list starting at line `first`: the line above it, else the
    section's name."""
    return lines[first - 1] if first > 0 else section


# A labelled line's value that names someone: "Rajesh Mehta", "Dr Aoife Brennan".
_NAMED_VALUE = re.compile(r"[A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’-]*){1,3}")


def _group_lead(lines: Lines, group: range, section: str) -> str:
    """What leads a labelled list: its lead line (`_lead`), and its own first line where that names
    whom the lines under it are of, as a block of contact details does ("Finance Manager: Rajesh
    Mehta" over "Email: …" and "Phone extension: 231")."""
    lead = _lead(lines, group.start, section)
    labelled = _label(lines[group.start]) if len(group) > 1 else None
    if labelled is not None and _NAMED_VALUE.fullmatch(lines[group.start][labelled[1]:labelled[2]]):
        return f"{lead} {lines[group.start]}"
    return lead


def _names_asked(question: str) -> set[str]:
    """The content words of the capitalised words of a question, its first word aside ("Ashbourne
    Coaches' depot": ashbourne, coaches), a possessive's "s" left out."""
    capitalised = re.findall(r"\b[A-Z][\w'’-]*", question.strip().partition(" ")[2])
    return {w for w in content_words(" ".join(capitalised)) if len(w) > 1}


def _row_says_as_much(question: str, like: Span, passages: list[Passage], other: Passage, at: int) -> bool:
    """Whether the row at offset `at` of another passage (its line and section) says as much of the
    question as the sentence of the reader's span: "What do the authors argue about the memory
    benefit?" answered from a sentence on the memory benefit is not the "Authors:" line, while
    "the Semester 2 examinations in 2025/26" names its row as well as a sentence on resits does."""
    if like.passage_index >= len(passages):
        return True
    own, chunk = passages[like.passage_index].chunk, other.chunk
    if like.end - own.start <= own.heading_length:
        return True  # a heading names what its section is about, and answers nothing of it
    start, end = own.sentences_around(like.start, like.end)
    # The document's own words (its file name's: "Harrow Valley" of harrow_valley_report.pdf) tell
    # neither apart.
    asked = content_stems(question) - content_stems(_file_name_words(chunk.doc_id))
    sentence = asked & content_stems(own.text[start - own.start:end - own.start])
    line_start = chunk.text.rfind("\n", 0, at) + 1
    line_end = chunk.text.find("\n", at)
    row = asked & content_stems(f"{chunk.text[line_start:None if line_end < 0 else line_end]} {chunk.section}")
    return len(sentence) <= len(row)


def _question_stems_said(question: str, passage: Passage) -> set[str]:
    """The stems of the question's content words that a passage (its text, section and file name) says."""
    chunk = passage.chunk
    return content_stems(question) & content_stems(f"{chunk.text} {chunk.section} {_file_name_words(chunk.doc_id)}")


def _file_name_words(doc_id: str) -> str:
    """A file name as words: "harrow_valley-report.pdf" -> "harrow valley report pdf"."""
    return re.sub(r"[-_.]", " ", doc_id)


def _passage_names(passage: Passage, names: set[str]) -> bool:
    """Whether a passage (its text, section and file name) says every one of `names`."""
    said = set(WORD.findall(f"{passage.chunk.text} {passage.chunk.section} {passage.chunk.doc_id}".lower()))
    return names <= said


def _cell_of_named_line(question: str, lines: Lines, i: int) -> tuple[int, int] | None:
    """Offsets of the value of labelled line i, or of its row's cell in the column the question
    names (the only cell of a row of one); None where the row has several and none is named."""
    line_start = lines.bounds[i][0]
    row = row_cells(lines[i])
    if row is None:
        _, value_start, value_end = _label(lines[i])
        return line_start + value_start, line_start + value_end
    cells = row[1]
    column = cells[0][2] if len(cells) == 1 else _named_column(question, [name for _, _, name in cells])
    return next(((line_start + s, line_start + e) for s, e, name in cells if name == column), None)


# Rows that count on past the last one named: "Additional children", "Each further permit".
_COUNTS_ON = frozenset({"additional", "further", "subsequent", "each", "every", "other", "extra", "more"})
_MAX_CELL_WORDS = 3  # a cell the question names by its words: a size, a day, a kind ("Large", "Every day")


def row_contradicts(question: str, span: Span, passage: Passage) -> str:
    """Why the table row a span lies in is not the one asked about ('' when nothing shows it): it
    counts to a row the table's counted rows do not have ("the sixth sailing" of the First to the
    Fourth and the Last), it answers from a year's column the question does not ask, or the
    question says a short cell of another row of the table and this row has another in that column
    ("How much is a large flat white?" of "Flat white — Size: Regular; ...", where the Americano
    has a Large row)."""
    chunk = passage.chunk
    lines = Lines(chunk.text)
    start, end = span.start - chunk.start, span.end - chunk.start
    i = lines.index(start)
    row = row_cells(lines[i]) if lines.index(max(start, end - 1)) == i else None
    group = _labelled_group(lines, i) if row is not None else None
    if group is None:
        return ""
    asked = content_words(question)
    at = lines.bounds[i][0]
    column = next((name for s, e, name in row[1] if at + s <= start and end <= at + e), None)
    return (_counted_past_its_rows(asked, lines, group) or _other_year_column(question, column, chunk.doc_id)
            or _other_cell_said(asked, lines, group, i))


def _counted_past_its_rows(asked: set[str], lines: Lines, group: range) -> str:
    """"the sixth sailing" of a table whose rows are the First to the Fourth and the Last, and no
    row counts on ("Additional children")."""
    counted = [w for w in ORDINALS if w in asked]
    firsts = [(_label(lines[j])[0].lower().split() or [""])[0] for j in group]
    if (len(counted) == 1 and sum(w in ORDINALS or w in ("last", "final") for w in firsts) >= 2
            and counted[0] not in firsts and not _COUNTS_ON & set(firsts)):
        return f"no row of the table is the {counted[0]}"
    return ""


def _other_year_column(question: str, column: str | None, doc_id: str) -> str:
    """"the first permit in 2026/27" answered from the 2023/24 column of a table with none for it;
    years compare with the column's kind ("in 2025" is of both 2024/25 and 2025/26). A year the
    document's file name gives is the document's, not a column's: "the 2022 AGM" of
    agm_2022.md, whose accounts table has a 2021 column."""
    column_year = _year_of(column) if column is not None else None
    if column_year is None:
        return ""
    academic = list(ACADEMIC_YEAR.finditer(question))
    asked_years = ({academic_year(m.group()) for m in academic} if "/" in column_year else
                   {m.group() for m in YEAR.finditer(question)
                    if not any(a.start() <= m.start() < a.end() for a in academic)})
    asked_years.discard(None)
    name = doc_id.replace("_", " ")  # "agm_2022.md": the year a word of its own
    asked_years -= set(YEAR.findall(name)) | {academic_year(m.group()) for m in ACADEMIC_YEAR.finditer(name)}
    if asked_years and column_year not in asked_years:
        return f"the answer's column is {column}, not {', '.join(sorted(asked_years))}"
    return ""


def _other_cell_said(asked: set[str], lines: Lines, group: range, i: int) -> str:
    """The short cell of another row of the table that the question says, where row i has another
    in that column ("Large" of the large Americano's row, for a flat white whose size is Regular)."""
    own = {name: lines[i][s:e] for s, e, name in row_cells(lines[i])[1]}
    for j in group:
        other = row_cells(lines[j]) if j != i else None
        for s, e, name in other[1] if other else ():
            cell = lines[j][s:e]
            words = content_words(cell)
            if (words and len(cell.split()) <= _MAX_CELL_WORDS and words <= asked and own.get(name)
                    and not words <= content_words(lines[i])):
                return f"the row found has {name}: {own[name]}, not {cell}"
    return ""


def _year_of(text: str) -> str | None:
    """A year or academic year written alone ("2024", "2025/26", "2025-26"), in one form."""
    text = text.strip()
    if ACADEMIC_YEAR.fullmatch(text):
        return academic_year(text)
    return text if YEAR.fullmatch(text) else None


def _named_column(question: str, columns: list[str]) -> str | None:
    """The column whose name the question says (all its words, as stems, or in other words: "before
    VAT" for "ex VAT", "How much" for "Price"), the longest name winning; else the column of days
    that holds the asked one ("Monday to Friday" for "on a Tuesday"), or of a numbered series the
    question counts into ("the first bus" for "Bus 1", "the last bus" for "Bus 5"), or the one
    column of a year it says ("Actual 2023"). None when it names none, or two alike. Short forms
    count as the word ("Max. downlink" for "maximum downlink")."""
    said = set(WORD.findall(question.lower()))
    asked = content_stems(question) | {stem(short) for short in _with_short_forms(said) - said}  # "max" of "maximum"
    named = sorted(((len(words), name) for name in columns
                    if (words := label_words(name))
                    and all(_column_word_asked(w, asked) or _COLUMN_WORDS_SAID.get(w, set()) & said for w in words)),
                   reverse=True)
    if not named:
        return _day_column(said, columns) or _counted_column(question, said, columns) or _year_column(said, columns)
    if len(named) > 1 and named[0][0] == named[1][0]:
        return None
    return named[0][1]


def _year_column(said: set[str], columns: list[str]) -> str | None:
    """The one column whose name holds a year the question says ("Actual 2023" for "in 2023")."""
    holding = [name for name in columns if len(name) <= _MAX_COLUMN_CHARS and not ACADEMIC_YEAR.search(name)
               and any(m.group() in said for m in YEAR.finditer(name))]  # "2021/22" is no column of 2021
    return holding[0] if len(holding) == 1 else None


_WEEKEND = re.compile(r"\s*weekends?\s*", re.I)
_WEEKDAYS = re.compile(r"\s*weekdays?\s*", re.I)
_WORKING_WEEK = frozenset(WEEKDAYS[:5])
_WEEKEND_DAYS = frozenset(WEEKDAYS[5:])
_MAX_COLUMN_CHARS = 40
_SERIES_COLUMN = re.compile(r"(?P<series>[A-Za-z][\w ]*?)\s+(?P<number>\d{1,2})")


def _day_column(said: set[str], columns: list[str]) -> str | None:
    """The one column whose range of days ("Monday to Friday", "Saturday and Sunday", "Weekends")
    holds a weekday the question says, or that is the weekdays or the weekend it says."""
    days = [d for d in WEEKDAYS if d in said or f"{d}s" in said]
    ranges = [(name, weekdays_of_range(name)) for name in columns if len(name) <= _MAX_COLUMN_CHARS]
    ranges += [(name, _WEEKEND_DAYS) for name in columns if _WEEKEND.fullmatch(name)]  # "Weekends"
    ranges += [(name, _WORKING_WEEK) for name in columns if _WEEKDAYS.fullmatch(name)]  # "Weekdays"
    if not days and {"weekday", "weekdays"} & said:  # "on weekdays": Monday to Friday
        holding = [name for name, covered in ranges if covered == _WORKING_WEEK]
    elif not days and {"weekend", "weekends"} & said:  # "at the weekend": Saturday and Sunday
        holding = [name for name, covered in ranges if covered == _WEEKEND_DAYS]
    elif len(days) == 1:
        holding = [name for name, covered in ranges if days[0] in covered]
    else:
        return None
    return holding[0] if len(holding) == 1 else None


def _counted_column(question: str, said: set[str], columns: list[str]) -> str | None:
    """The column of a numbered series ("Bus 1" ... "Bus 5", all the columns but the first at most)
    that "the first", "the second"... or "the last" of the question counts to."""
    counts = [w for w in (*ORDINALS, "last") if w in said]
    numbered = [(m.group("series").lower(), int(m.group("number")), name) for name in columns
                if len(name) <= _MAX_COLUMN_CHARS and (m := _SERIES_COLUMN.fullmatch(name.strip()))]
    if len(counts) != 1 or len(numbered) < 2 or len(numbered) < len(columns) - 1 \
            or len({series for series, _, _ in numbered}) != 1:
        return None
    series = numbered[0][0]
    if not re.search(rf"\b{counts[0]}\s+(?:[\w-]+\s+){{0,2}}{re.escape(series)}", question.lower()):
        return None  # "the first (Route 7) bus" counts buses; "the first meeting" does not count rooms
    by_number = sorted(numbered, key=lambda entry: entry[1])
    if counts[0] == "last":
        return by_number[-1][2]
    wanted = ORDINALS.index(counts[0]) + 1
    return next((name for _, number, name in by_number if number == wanted), None)


# A column's word, and the words a question says it in: price lists' "ex VAT" and "inc VAT", the
# price or dose a question asks for with "how much", the duration with "how long", the remedy of
# a fault list with "what do I do".
_EXCLUDING = {"excluding", "before", "without", "exclusive", "net"}
_INCLUDING = {"including", "inclusive", "incl", "inc"}
_COLUMN_WORDS_SAID = {"ex": _EXCLUDING, "exc": _EXCLUDING, "excl": _EXCLUDING, "excluding": _EXCLUDING,
                      "inc": _INCLUDING, "incl": _INCLUDING, "including": _INCLUDING,
                      "price": {"much", "cost", "costs", "pay", "charge"}, "cost": {"much", "price", "pay", "charge"},
                      "dose": {"much", "dosage"}, "dosage": {"much", "dose"},
                      "duration": {"long"}, "length": {"long"}, "temperature": {"temp", "hot", "warm"},
                      "remedy": {"do", "fix", "solve"}, "solution": {"do", "fix", "solve"}, "action": {"do"},
                      "cause": {"why", "causes"}}

# The past of verbs whose doer names a column, where the stem does not show the verb: "Who lent
# the seal?" asks for the "Lender".
_IRREGULAR_PAST = {"lent": "lend", "wrote": "write", "written": "write", "led": "lead", "built": "build",
                   "made": "make", "paid": "pay", "sold": "sell", "bought": "buy", "taught": "teach",
                   "sent": "send", "gave": "give", "given": "give", "held": "hold", "kept": "keep",
                   "drove": "drive", "driven": "drive", "spoke": "speak", "spoken": "speak", "ran": "run",
                   "won": "win", "chose": "choose", "chosen": "choose"}


def _column_word_asked(word: str, asked: set[str]) -> bool:
    """Whether the question says a column's word, or the verb of a doer's ("owns" for "Owner",
    "approves" for "Approver", "lent" for "Lender")."""
    if stem(word) in asked:
        return True
    if len(word) <= 4 or not word.lower().endswith(("er", "or")):
        return False
    verbs = {stem(word[:-2]), stem(word[:-1])}  # "Owner": "own"; "Writer": "write"
    if len(word) > 5 and word[-3] == word[-4]:
        verbs.add(stem(word[:-3]))  # "Winner": "win"; "Runner": "run"
    return bool(verbs & asked) or any(stem(base) in verbs for past, base in _IRREGULAR_PAST.items() if past in asked)


def fills_a_named_cell(question: str, span: Span, passage: Passage) -> bool:
    """Whether a span is the value of a table row or labelled line that the question names (every
    word of its label, or of another cell of the row, and of the column where a row has several):
    "3,200 mAh lithium-ion" of "Battery — Value: 3,200 mAh lithium-ion" for "What is the battery
    capacity of the RX-200?", "Dr Laura Pineda" of "AIM7103 — Module: Natural Language Processing;
    …; Convenor: Dr Laura Pineda." for "Who convenes Natural Language Processing?".
    The layout then says what the span answers, whatever the reader's score: it learnt from prose,
    and scores the cells of a table low."""
    chunk = passage.chunk
    lines = Lines(chunk.text)
    start, end = span.start - chunk.start, span.end - chunk.start
    i = lines.index(start)
    if lines.index(max(start, end - 1)) != i:
        return False
    line, offset = lines[i], lines.bounds[i][0]
    if not in_named_line(question, start, end, lines):  # a row named by another of its cells, maybe
        cell = _cell_named_by_row_and_column(question, line)
        return cell is not None and offset + cell[0] <= start and end <= offset + cell[1] and \
            3 * (end - start) >= 2 * (cell[1] - cell[0])
    label, value_start, value_end = _label(line)
    if not re.search(r"[A-Za-z]", label):
        return False  # "2.3.1 — 2026-01-19": a version heading and its date, no row of a table
    row = row_cells(line)
    if row is None:
        cell = (offset + value_start, offset + value_end)
    else:
        cells = [(offset + s, offset + e, name) for s, e, name in row[1]]
        found = next(((s, e, name) for s, e, name in cells if s <= start and end <= e), None)
        if found is None or (len(cells) > 1 and _named_column(question, [name for _, _, name in cells]) != found[2]):
            return False
        cell = found[:2]
    # The span is the cell's value, or two thirds of it at least, not a word of a longer one.
    return 3 * (end - start) >= 2 * (cell[1] - cell[0])


def row_value(question: str, lines: Lines, i: int) -> tuple[int, int] | None:
    """Offsets of all the cells of table row i, without its label ("Monday to Friday: 15:05;
    Saturday: 15:05" of "Fourth — Monday to Friday: 15:05; Saturday: 15:05."), where the question
    names none of its columns; None otherwise, and for another line."""
    row = row_cells(lines[i])
    if row is None or _named_column(question, [name for _, _, name in row[1]]) is not None:
        return None
    _, value_start, value_end = _label(lines[i])
    value_end -= len(lines[i][:value_end]) - len(lines[i][:value_end].rstrip(". "))
    return lines.bounds[i][0] + value_start, lines.bounds[i][0] + value_end


def _price_for_another_quantity(question: str, value: str) -> bool:
    """Whether a labelled line's value is a price where the question asks for another quantity: "Full
    Service: £140" does not say "How long does the full service take?"."""
    quantities = asked_quantities(question)
    return bool(quantities) and "money" not in quantities and bool(figures_measuring(value, ("money",)))


def in_named_line(question: str, start: int, end: int, lines: Lines) -> bool:
    """Whether start..end is the value of a labelled line whose label the question names (and, a
    price, the question asks for no other quantity)."""
    i = lines.index(start)
    labelled = _label(lines[i]) if lines.index(max(start, end - 1)) == i else None
    if labelled is None or _price_for_another_quantity(question, lines[i][labelled[1]:labelled[2]]):
        return False
    words = _label_named(labelled[0], question, content_words(question))
    return bool(words) and start >= lines.bounds[i][0] + labelled[1]
