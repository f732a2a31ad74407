"""What every reader makes of a file: the text a reader sees, with maps back to the source.

Each piece of output text remembers the source line (and page) it came from, and headings become
sections named with the headings above them. The readers (Markdown, plain text, HTML, PDF, Word)
share the builder of that text and the rules that should read alike whatever the file type: a
table row written as a sentence, a list item's number, a superscript as plain text, and a short
stand-alone line taken for a heading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.types import SECTION_SEPARATOR

# A list item's mark: a bullet, or a number of up to three digits.
BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
# Only these end a line in an editor; str.splitlines also splits on \f, \v, \x1c-\x1e, \x85,
# U+2028 and U+2029, which would shift every later line number.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Running headers and footers (plain text and PDF): the same text, page numbers aside, on this
# share of the pages (in plain text, of a text of three pages at least).
FURNITURE_SHARE = 0.5


@dataclass
class ParsedText:
    text: str = ""
    line_starts: list[int] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    # Where a line starts a new paragraph, list item, table row or heading, as the format marks it
    # (Word, HTML, Markdown's items): no sentence runs on into it, however the line before ends.
    block_starts: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Piece:
    """A run of output text and where it came from (page only for PDFs)."""

    text: str
    source_line: int
    page: int | None = None


class TextBuilder:
    """Appends rendered lines, keeping offsets, source lines, pages and headings in step."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.page = 0
        self.out = ParsedText()
        self.levels: list[int | None] = []  # each heading's level (1 = "#", <h1>), None where unknown

    def add(self, line: str, source_line: int, heading: bool = False, level: int | None = None,
            block: bool = False) -> None:
        self.add_pieces([Piece(line, source_line)], heading, level, block)

    def add_pieces(self, pieces: Sequence[Piece], heading: bool = False, level: int | None = None,
                   block: bool = False) -> None:
        """One output line made of pieces; the line map gains an entry wherever the source line
        changes. `block`: the line starts a paragraph, item, row or heading of the source."""
        if self.parts:
            self.parts.append("\n")
            self.length += 1
        line_start = self.length
        if block:
            self.out.block_starts.append(line_start)
        for k, piece in enumerate(pieces):
            self._reach_page(piece.page)
            if k == 0 or (piece.text and piece.source_line != self.out.source_lines[-1]):
                self.out.line_starts.append(self.length)
                self.out.source_lines.append(piece.source_line)
            self.parts.append(piece.text)
            self.length += len(piece.text)
        text = " ".join("".join(p.text for p in pieces).split())  # "2.  Scope" is named "2. Scope"
        if heading and text:
            self.out.headings.append((line_start, text))
            self.levels.append(level)
            if not self.out.title:
                self.out.title = text

    def _reach_page(self, page: int | None) -> None:
        while page is not None and self.page < page:
            self.page += 1
            self.out.page_starts.append(self.length)

    def finish(self, pages: int = 0) -> ParsedText:
        self._reach_page(pages or None)
        self.out.text = "".join(self.parts)
        self.out.headings = section_paths(self.out.headings, self.levels)
        return self.out


def section_paths(headings: list[tuple[int, str]], levels: list[int | None]) -> list[tuple[int, str]]:
    """Each heading named with the headings it sits under ("[3.2.0] - 2024-05-02 › Fixed"), where
    the format gives levels: a section called "Fixed" in a changelog, or "Late fees" in a lease,
    says little alone, and the path also lets search find it by its parent's words. A lone heading
    at the top level is the document's title and is left out of the paths. A heading without a
    level (a short stand-alone line) is named alone and leaves the others' paths as they were."""
    known = [level for level in levels if level is not None]
    if not known:
        return headings
    top = min(known)
    title_only = known.count(top) == 1 and known[0] == top
    out, stack = [], []  # stack: (level, text) of the headings above the current one
    for (offset, text), level in zip(headings, levels):
        if level is None or (title_only and level == top):
            out.append((offset, text))
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        out.append((offset, SECTION_SEPARATOR.join(short_name(name) for _, name in stack[-_PATH_DEPTH:])))
    return out


def split_source_lines(content: str) -> list[str]:
    """The lines of a file as a text editor numbers them."""
    lines = _LINE_BREAK.split(content)
    if lines[-1] == "":
        lines.pop()
    return lines


# A sentence ending inside a line, before another: "The newt lives in ponds. Ask Bob for details".
# A capitalised or short word before the stop is an abbreviation: "St. Mary's Church", "Acme Inc.
# Annual Report", "Arsenal vs. Chelsea", "Notes on Mrs. Dalloway", "U.S. Policy".
_INNER_SENTENCE_END = re.compile(
    r"\b(?!(?:etc|approx|incl|excl|dept|est|vol|fig|nos?|ibid|vs|cf|ed|pp)\.)[a-z]{2,}[.!?]\s+[A-Z]")


def looks_like_heading(line: str, prev_blank: bool, next_blank: bool, last: bool = False) -> bool:
    """A short stand-alone line without sentence punctuation, e.g. 'Domestic Security Initiatives';
    not the `last` line with text of a document, which heads nothing."""
    s = line.strip()
    if not s or len(s) > 80 or not prev_blank or not next_blank or last or _INNER_SENTENCE_END.search(s):
        return False
    # Closing quotes, brackets and footnote marks after the punctuation still end a sentence.
    end = re.sub(r"(?:\[\^[^\]]*\])+$", "", s).rstrip("\"'”’)]*_")
    if BULLET.match(line) or not end or end[-1] in ".!?,;:" or s.startswith(("|", ">")):
        return False
    if "@" in s or "://" in s:  # "Corresponding author: H. Petersen, hjp@example.org" is no heading
        return False
    # A price after a label, or several amounts: a line of figures ("Urgent treatment: £26.80",
    # "Reserves at year end   £22,600   £21,150"), not a heading
    if re.search(r":\s*[£$€]\s?\d", s) or len(re.findall(r"[£$€]\s?\d", s)) > 1:
        return False
    return s[0].isupper() or s[0].isdigit()


def blank_around(lines: list[str], i: int) -> tuple[bool, bool]:
    """Whether the lines before and after line i are blank (or absent)."""
    prev_blank = i == 0 or not lines[i - 1].strip()
    next_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
    return prev_blank, next_blank


# ----- tables -----

def table_row(cells: Sequence[Sequence[Piece]], header: Sequence[str] | None) -> list[Piece]:
    """One table row as a sentence a reader can answer from: the first cell names the row and
    each other cell follows its column's header ("Plus — Monthly fee: £40; Joining fee: none."),
    or, in a table of two columns without one, the first cell's colon before a short figure ("Nest
    swing: £2,350.").
    Cells one per line, or joined by pipes, lose which value belongs to which row and column."""
    texts = ["".join(p.text for p in cell).strip() for cell in cells]
    filled = [k for k, text in enumerate(texts) if text]
    # Two cells and no header, a name and a short figure: a field and its value, as a labelled line
    # ("Nest swing: £2,350."). A longer value is written as it stands: a labelled line answers a
    # question naming its label whatever the reader made of it, and a name such as "Extension" or
    # "Rejected" over a sentence is named by too many questions about other things.
    field = (header is None and filled == [0, 1] and len(cells) == 2 and len(texts[0]) <= _LABEL_MAX_CHARS
             and not re.search(r"[.:;!?]$", texts[0]) and len(texts[1]) <= _LABEL_MAX_CHARS
             and bool(re.search(r"\d", texts[1])))
    pieces: list[Piece] = []
    for n, k in enumerate(filled):
        lead = ("" if n == 0 else ": " if field
                else " — " if n == 1 and filled[0] == 0 and header is not None else "; ")
        if n and lead == "; " and texts[filled[n - 1]].endswith(":"):
            lead = " "  # a label cell and its value: "Policy number: A-1234"
        name = header[k].strip() if header is not None and 0 < k < len(header) else ""
        lead += f"{name}: " if name else ""
        if lead:
            pieces.append(Piece(lead, cells[k][0].source_line))
        pieces.extend(cells[k])
    if pieces and not re.search(r"[.!?]$", pieces[-1].text):
        pieces.append(Piece(".", pieces[-1].source_line))
    return pieces


_LABEL_MAX_CHARS = 40  # a column name is short
# A year naming a column: "2024", "FY2024", "2023/24", "2023–2024".
_YEAR_LABEL = re.compile(r"(?:FY\s?)?(?:19|20)\d\d(?:\s?[/–-]\s?(?:19|20)?\d\d)?")
# A column name's aside in brackets, which may hold figures: "Fridge (0-5 °C)", "How often (in 24 hours)".
_BRACKETED = re.compile(r"\s*\([^()]*\)")


def reads_as_header(first: Mapping[int, str], below: Sequence[Mapping[int, str]]) -> bool:
    """Whether a table's first row, unmarked, plainly holds column names (cells by column): three
    or more short labels (the corner may be empty), none with a digit or a full stop but for
    years ("Measure | 2023 | 2024"), asides in brackets ("Freezer (-18 °C)") and one name that
    counts in words ("How often in 24 hours"), over a column whose other cells hold figures, two
    thirds of them at least ("Period | Monthly rent | Due date" over "$2,150.00", "$2,250.00"; a spec sheet's
    "Weight: 1.3 kg; 1.7 kg" over "Hammer function: No; Yes"). A table of names whose last column
    has a room number in one row is not enough, and two columns are left alone: "Name | Ada" over
    "Age | 36" is a list of fields, not a header; nor is a row of years apart over four-digit
    figures ("Harbour Gallery | 1998 | 2015" over "Ropewalk | 1791 | 1968": when each site opened
    and closed), where years that follow each other ("2023 | 2024" over "1200 | 1350", or back in
    time as accounts write them) are."""
    names = [cell.strip() for _, cell in sorted(first.items())]
    year_columns = [column for column, cell in first.items() if _YEAR_LABEL.fullmatch(cell.strip())]
    years = [int(first[column].strip()[-4:]) for column in year_columns if first[column].strip()[-4:].isdigit()]
    labels = names[1:] if not names[0] else names  # "| 2023 | 2024", "| Monday | Tuesday": an empty corner
    steps = {b - a for a, b in zip(years, years[1:])}
    in_sequence = len(years) == len(year_columns) >= 2 and steps in ({1}, {-1})  # "2023 | 2024", "2024 | 2023"
    dated = not in_sequence and any(all(re.fullmatch(r"\d{4}", row.get(column, "").strip()) for row in below)
                                    for column in year_columns)
    plain = [name for name in labels if _YEAR_LABEL.fullmatch(name) or _reads_as_name(name)]
    # One name may count something in words ("How often in 24 hours") where the others are plain.
    counting = [name for name in labels
                if name not in plain and len(name) <= _LABEL_MAX_CHARS and _COUNTING_NAME.fullmatch(name)]
    if len(names) < 3 or len({first[c].strip() for c in year_columns}) < len(year_columns) or dated or \
            len(plain) + len(counting[:1]) < len(labels) or len(plain) < 2:
        return False
    # A spec sheet's "Hammer function: No; No; Yes" row among its figures still leaves them most cells.
    return bool(below) and any(
        sum(bool(re.search(r"\d", row.get(column, ""))) for row in below) >= max(1, -(-2 * len(below) // 3))
        for column in first)


def _reads_as_name(name: str) -> bool:
    """Short, with no digit and no full stop but in an aside in brackets."""
    bare = _BRACKETED.sub("", name)
    return 0 < len(name) <= _LABEL_MAX_CHARS and bool(bare) and not re.search(r"[\d.]", bare)


# A column's name that counts in words: three words or more, a word first ("How often in 24 hours").
_COUNTING_NAME = re.compile(r"[A-Za-z][a-z]*(?: [a-z]+)+ \d{1,3}(?: [a-z]+)*")


def column_names(header: dict[int, str], columns: range) -> str:
    """The names of the columns a cell covers: a value over two goes with both ("Adult, Child")."""
    return ", ".join(dict.fromkeys(short_name(header[c]) for c in columns if header.get(c)))


# ----- lists -----

def list_number(n: int, kind: str) -> str:
    """A list item's number as a list of `kind` shows it: "1" digits, "a"/"A" letters, "i"/"I"
    Roman numerals (HTML's <ol type>); digits where letters or numerals run out."""
    if kind in ("a", "A") and 1 <= n <= 26:
        text = chr(ord("a") + n - 1)
    elif kind in ("i", "I") and 1 <= n < 4000:
        text = _roman_numeral(n)
    else:
        text = str(n)
    return text.upper() if kind in ("A", "I") else text


def _roman_numeral(n: int) -> str:
    """n in lower-case Roman numerals ("iv")."""
    out = []
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out.append(numeral * count)
    return "".join(out)


# ----- names and marks -----

_ORDINAL_SUFFIX = re.compile(r"st|nd|rd|th", re.IGNORECASE)
_EXPONENT = re.compile(r"[-−+]?\d{1,3}")
# What an exponent follows: a unit ("m", "km", "s", "cm"), or the 10 of "10^8".
_EXPONENT_BASE = re.compile(r"[A-Za-zµ]{1,2}|10")


def superscript_text(text: str, before: str, word: str = "") -> str:
    """A <sup> as plain text, given the character and the word before it: an ordinal's ending stays
    on its number ("1st"), an exponent after a unit or 10 is marked as one ("m^2", "10^8"), and
    anything else is a note's mark, set apart ("165 [4]", "Smith [3]"): run into the figure before
    it, "165" would read "1654"."""
    if not text.strip():
        return " " if text else ""
    text = text.strip()
    if before.isdigit() and _ORDINAL_SUFFIX.fullmatch(text):
        return text
    if _EXPONENT.fullmatch(text) and _EXPONENT_BASE.fullmatch(word):
        return f"^{text}"
    return f" [{text}]"


# A name written again where it is used (a heading in a section's path, a column's name in each row,
# a term before each of its definitions) is cut to this length, and a path to this many headings:
# a 100 KB heading over thousands of sections, or a 100 KB header cell over thousands of rows,
# would otherwise multiply a small file into gigabytes of text.
_NAME_CHARS = 150
_PATH_DEPTH = 6


def short_name(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1].rstrip() + "…"
