"""Turn one file's content into reader-visible text with maps back to the source.

Markdown is rendered the way a reader sees it (link targets, emphasis markers and heading hashes
removed), HTML is reduced to its visible text, and plain text keeps its lines, less a page's
running headers and footers. Every piece of output text remembers the source line (and page) it
came from, and headings become sections. The builder of that text with its maps, and the way a
table row is written, are shared with the PDF and Word readers (`pdf.py`, `word.py`).
"""

from __future__ import annotations

import bisect
import html
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bot.ingest.page_numbers import PAGE_LABEL, PAGE_NUMBER_AT_EDGE, near_page, running_key
from bot.types import SECTION_SEPARATOR

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_MD_ORDERED = re.compile(r"^(\d{1,9})[.)]\s+")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")  # closing hashes: `_heading_text`
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
# A link's or image's label holds no bracket, and a parenthesised part of its destination
# ("wiki/Foo_(bar)") no parenthesis, as in CommonMark: each scan then stops at the next bracket or
# parenthesis. Labels that could hold "[" were scanned up to 500 characters from every "[" of a
# line ("[[[[…"), and destinations from every "](" ("[a](()[a](()…"): seconds per 100 KB. The
# destination's parts repeat possessively: each part is the only way to read its characters.
_MD_DESTINATION = r"\((?:[^()]|\([^()]{0,500}\)){0,2000}+\)"
_MD_IMAGE = re.compile(r"!\[([^\[\]]{0,500})\]" + _MD_DESTINATION)
_MD_LINK = re.compile(r"\[([^\[\]]{1,500})\]" + _MD_DESTINATION)
_MD_REF_LINK = re.compile(r"\[([^\[\]]{1,500})\]\[[^\[\]]{0,500}\]")
# An address in angle brackets (group 1). The last alternative takes a "<http:" whose run of
# characters meets a space or the line's end before any ">", to be kept as it is: no address can
# start inside that run, and each "<http:" in it would otherwise scan it again.
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+|[^@<>\s]+@[^@<>\s]+)>"
                          r"|<(?:https?|mailto):[^>\s]*+(?=\s|\Z)")
_MD_BACKTICKS = re.compile(r"`+")
# What every inline pattern needs to match: a line without any of these reads as it is written.
_MD_INLINE_SYNTAX = re.compile(r"[\\`\[<*_&]")
# Where a pair of strong emphasis's marks stands ("**", "__"), pairs overlapping (see `_strong`).
_MD_STRONG_MARKS = re.compile(r"(?=(\*\*|__))")
_STRONG_MAX_CHARS = 500
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*]{1,500}?)(?<=\S)\*(?![\w*])"
                    r"|(?<![\w_])_(?=\S)([^_]{1,500}?)(?<=\S)_(?![\w_])")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Raw HTML whose content no reader sees: comments (an author's private notes), scripts, styles.
_MD_HIDDEN_OPEN = re.compile(r"<!--|<(script|style)\b[^>]*>", re.IGNORECASE)
_MD_COMMENT_OPEN = "<!--"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MD_FRONT_MATTER = re.compile(r"^(?:---|\+\+\+)\s*$")
_MD_TAG = re.compile(r"</?[A-Za-z][^>]*>")
# A superscript in Markdown's inline HTML: the word it follows, and the mark.
_MD_SUPERSCRIPT = re.compile(r"([^\s(\[<>]{0,20})<sup>(.{0,40}?)</sup>", re.IGNORECASE)
_MD_SUPERSCRIPT_OPEN = re.compile(r"<sup>", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_TABLE_SEP = re.compile(r"^(?=.*\|)(?=.*-)[\s|:-]+$")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_MD_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^[^\]]+\]:\s*(.*)$")
_MD_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
# Leading whitespace is not limited to CommonMark's three spaces: fences nested in list items
# are indented further, and treating them as text would leak code into the prose.
_MD_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
# Only these end a line in an editor; str.splitlines also splits on \f, \v, \x1c-\x1e, \x85,
# U+2028 and U+2029, which would shift every later line number.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class ParsedText:
    text: str = ""
    line_starts: list[int] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""


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

    def add(self, line: str, source_line: int, heading: bool = False, level: int | None = None) -> None:
        self.add_pieces([Piece(line, source_line)], heading, level)

    def add_pieces(self, pieces: Sequence[Piece], heading: bool = False, level: int | None = None) -> None:
        """One output line made of pieces; the line map gains an entry wherever the source line changes."""
        if self.parts:
            self.parts.append("\n")
            self.length += 1
        line_start = self.length
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


def looks_like_heading(line: str, prev_blank: bool, next_blank: bool) -> bool:
    """A short stand-alone line without sentence punctuation, e.g. 'Domestic Security Initiatives'."""
    s = line.strip()
    if not s or len(s) > 80 or not prev_blank or not next_blank:
        return False
    # Closing quotes, brackets and footnote marks after the punctuation still end a sentence.
    end = re.sub(r"(?:\[\^[^\]]*\])+$", "", s).rstrip("\"'”’)]*_")
    if _BULLET.match(line) or not end or end[-1] in ".!?,;:" or s.startswith(("|", ">")):
        return False
    if "@" in s or "://" in s:  # "Corresponding author: H. Petersen, hjp@example.org" is no heading
        return False
    return s[0].isupper() or s[0].isdigit()


def _standalone(lines: list[str], i: int) -> tuple[bool, bool]:
    """Whether the lines before and after line i are blank (or absent)."""
    prev_blank = i == 0 or not lines[i - 1].strip()
    next_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
    return prev_blank, next_blank


# ----- tables -----

def table_row(cells: Sequence[Sequence[Piece]], header: Sequence[str] | None) -> list[Piece]:
    """One table row as a sentence a reader can answer from: the first cell names the row and
    each other cell follows its column's header ("Plus — Monthly fee: £40; Joining fee: none.").
    Cells one per line, or joined by pipes, lose which value belongs to which row and column."""
    texts = ["".join(p.text for p in cell).strip() for cell in cells]
    filled = [k for k, text in enumerate(texts) if text]
    pieces: list[Piece] = []
    for n, k in enumerate(filled):
        lead = "" if n == 0 else " — " if n == 1 and filled[0] == 0 and header is not None else "; "
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


def reads_as_header(first: Mapping[int, str], below: Sequence[Mapping[int, str]]) -> bool:
    """Whether a table's first row, unmarked, plainly holds column names (cells by column): three
    or more short labels, none with a digit or a full stop, over a column whose every other cell
    holds a figure ("Period | Monthly rent | Due date" over "$2,150.00", "$2,250.00"). A table of
    names whose last column has a room number in one row is not enough, and two columns are left
    alone: "Name | Ada" over "Age | 36" is a list of fields, not a header."""
    if len(first) < 3 or not all(0 < len(cell) <= _LABEL_MAX_CHARS and not re.search(r"[\d.]", cell)
                                 for cell in first.values()):
        return False
    return bool(below) and any(all(re.search(r"\d", cells.get(column, "")) for cells in below)
                               for column in first)


def table_cells(line: str) -> list[str]:
    """The cells of a Markdown table row ('| a | b |'); an escaped pipe stays in its cell."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


# ----- Markdown -----

def render_markdown_inline(line: str) -> str:
    """A line's visible text. Code spans are kept as written, and so are backslash-escaped marks."""
    if not _MD_INLINE_SYNTAX.search(line):  # most lines: a dozen patterns would find nothing
        return line
    out, last = [], 0
    for start, code, end in code_spans(line):
        out.append(_render_prose(line[last:start]) + code.strip())
        last = end
    return "".join(out) + _render_prose(line[last:])


def _heading_text(text: str) -> str:
    """An ATX heading's text, less its closing hashes ("## Fees ##"), found without backtracking."""
    text = text.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1].isspace()):
        text = bare.rstrip()
    return text


def code_spans(line: str) -> list[tuple[int, str, int]]:
    """(start, code, end) of each code span: a run of backticks up to the next run of as many, in
    one pass over the runs (a pattern trying every run against every other took minutes)."""
    runs = [(m.start(), m.end()) for m in _MD_BACKTICKS.finditer(line)]
    by_length: dict[int, list[int]] = {}
    for k, (s, e) in enumerate(runs):
        by_length.setdefault(e - s, []).append(k)
    spans, k = [], 0
    while k < len(runs):
        s, e = runs[k]
        same = by_length[e - s]
        after = bisect.bisect_right(same, k)
        if after == len(same):
            k += 1
            continue
        closing = same[after]
        spans.append((s, line[e : runs[closing][0]], runs[closing][1]))
        k = closing + 1
    return spans


def _render_prose(line: str) -> str:
    escaped: list[str] = []

    def hold(m: re.Match) -> str:  # a private-use character stands in until the marks are gone
        escaped.append(m.group(1))
        return chr(0xE000 + len(escaped) - 1)

    line = _MD_ESCAPE.sub(hold, line)
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_REF_LINK.sub(r"\1", line)
    line = _MD_AUTOLINK.sub(lambda m: m.group() if m.group(1) is None else m.group(1), line)
    line = _strong(line)
    line = _MD_EM.sub(lambda m: m.group(1) or m.group(2), line)
    line = _sub_to_last(_MD_FOOTNOTE_REF, "", line, "]")
    if _MD_SUPERSCRIPT_OPEN.search(line):  # that pattern is tried from every character of a line
        line = _MD_SUPERSCRIPT.sub(lambda m: m.group(1) + superscript_text(_MD_TAG.sub("", m.group(2)), m.group(1)[-1:],
                                                                         m.group(1)), line)
    line = html.unescape(_sub_to_last(_MD_TAG, "", line, ">"))

    def restore(m: re.Match) -> str:
        k = ord(m.group()) - 0xE000
        return escaped[k] if k < len(escaped) else m.group()

    return re.sub("[\ue000-\uf8ff]", restore, line)


def _strong(line: str) -> str:
    """Strong emphasis ("**text**", "__text__") as its text: from a pair of marks before a non-space,
    the shortest text of up to 500 characters ending in a non-space and the same pair. The closing
    pairs are looked up, not scanned for from each opening pair: a pattern doing that ran on for 500
    characters from every pair of "**a **a **a …"."""
    marks = [(m.start(), m.group(1)) for m in _MD_STRONG_MARKS.finditer(line)]
    closings: dict[str, list[int]] = {"**": [], "__": []}
    for at, mark in marks:
        if at and not line[at - 1].isspace():
            closings[mark].append(at)
    out, done = [], 0
    for at, mark in marks:
        if at < done or at + 2 >= len(line) or line[at + 2].isspace():
            continue
        ends = closings[mark]
        k = bisect.bisect_left(ends, at + 3)  # the text holds one character at least
        if k < len(ends) and ends[k] - (at + 2) <= _STRONG_MAX_CHARS:
            out += [line[done:at], line[at + 2 : ends[k]]]
            done = ends[k] + 2
    return "".join(out) + line[done:]


def _sub_to_last(pattern: re.Pattern[str], repl: str, line: str, closing: str) -> str:
    """pattern.sub over the line up to its last `closing` character, which ends every match of the
    pattern: past it, a match tried from each opening mark would scan to the line's end and fail,
    quadratic time on a long line of "<a<a<a…" or "[^[^[^…"."""
    end = line.rfind(closing) + 1
    return pattern.sub(repl, line[:end]) + line[end:]


def fence_opening(line: str) -> str | None:
    """The fence (e.g. '```' or '~~~~') a line opens, or None."""
    m = _MD_FENCE.match(line)
    if not m:
        return None
    fence, info = m.groups()
    if fence[0] == "`" and "`" in info:  # CommonMark: that is inline code, not a fence
        return None
    return fence


def closes_fence(line: str, fence: str) -> bool:
    """CommonMark: only the same character, at least as many times, and nothing after it."""
    m = _MD_FENCE.match(line)
    return bool(m) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip()


def strip_hidden_html(line: str, hidden: str | None) -> tuple[str, str | None]:
    """The part of a line outside HTML comments, scripts and styles, and the closing mark still
    awaited when one of them runs on past the line (`hidden`: the one awaited from earlier lines).
    The line is read once from a moving position, not cut and lowered again after each comment."""
    if hidden is None and "<" not in line:
        return line, None
    lowered = line.lower()
    if len(lowered) != len(line):  # "İ" lowers to two characters; the closing marks are ASCII
        lowered = line.translate(_ASCII_LOWER)
    tags_end = line.rfind(">") + 1  # a script or style tag ends at a ">": past the last, only "<!--" opens
    visible: list[str] = []
    at = 0
    while True:
        if hidden is not None:
            end = lowered.find(hidden, at)
            if end == -1:
                return "".join(visible), hidden
            at, hidden = end + len(hidden), None
        m = _MD_HIDDEN_OPEN.search(line, at, max(at, tags_end))
        if m:
            start, end = m.span()
            hidden = "-->" if m.group() == _MD_COMMENT_OPEN else f"</{m.group(1).lower()}>"
        else:
            start = line.find(_MD_COMMENT_OPEN, max(at, tags_end))
            if start == -1:
                visible.append(line[at:])
                return "".join(visible), None
            end, hidden = start + len(_MD_COMMENT_OPEN), "-->"
        visible.append(line[at:start])
        at = end


def front_matter(lines: list[str]) -> tuple[int, str]:
    """(lines taken by a YAML/TOML front matter block at the top, its title or '')."""
    if not lines or not _MD_FRONT_MATTER.match(lines[0]):
        return 0, ""
    for j in range(1, min(len(lines), 200)):
        if lines[j].strip() == lines[0].strip():
            titles = [re.match(r"^title\s*[:=]\s*(.*)$", line) for line in lines[1:j]]
            title = next((m.group(1).strip().strip("\"'") for m in titles if m), "")
            return j + 1, title
    return 0, ""


class ListNumbers:
    """Ordered-list items numbered as a viewer shows them: from the first item's number, one up
    for each further item at the same depth (a list written "1." on every item reads 1, 2, 3)."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}  # indent -> the number shown last at that depth

    def number(self, indent: int, written: int) -> int:
        for deeper in [depth for depth in self._last if depth > indent]:
            del self._last[deeper]  # a nested list ended: its next use starts afresh
        shown = self._last[indent] + 1 if indent in self._last else written
        self._last[indent] = shown
        return shown

    def end(self) -> None:
        self._last.clear()


def parse_markdown(content: str) -> ParsedText:
    lines = split_source_lines(content)
    b = TextBuilder()
    fence: str | None = None
    header: list[str] | None = None  # the column names of the table being read
    hidden: str | None = None  # the end of an HTML comment, script or style still open
    underlines: set[int] = set()  # the "====" / "----" lines under setext headings
    numbers = ListNumbers()
    metadata_lines, title = front_matter(lines)
    for i, raw in enumerate(lines):
        n = i + 1
        if i < metadata_lines or i in underlines:
            b.add("", n)
            continue
        if fence is not None:
            if closes_fence(raw, fence):
                fence = None
                b.add("", n)
            else:
                b.add(raw, n)
            continue
        fence = fence_opening(raw) if hidden is None else None
        if fence is not None:
            numbers.end()
            b.add("", n)
            continue
        visible, hidden = strip_hidden_html(raw, hidden)
        if visible != raw and not visible.strip():
            b.add("", n)
            continue
        raw = visible
        m = _MD_HEADING.match(raw)
        if m:
            numbers.end()
            b.add(render_markdown_inline(_heading_text(m.group(2))), n, heading=True, level=len(m.group(1)))
            continue
        footnote = _MD_FOOTNOTE_DEF.match(raw)
        if footnote:
            b.add(render_markdown_inline(footnote.group(1)), n)
            continue
        if _MD_RULE.match(raw) or _MD_TABLE_SEP.match(raw) or _MD_REF_DEF.match(raw):
            b.add("", n)
            if not _MD_TABLE_SEP.match(raw):
                header = None
            continue
        line = raw.strip()
        line = re.sub(r"^(>\s?)+", "", line)
        if line.startswith("|") and line.endswith("|") and len(line) > 1:
            numbers.end()
            cells = [render_markdown_inline(c) for c in table_cells(line)]
            if i + 1 < len(lines) and _MD_TABLE_SEP.match(lines[i + 1]):
                header = cells  # the header row: its names go into every row below it
                b.add("", n)
            else:
                b.add_pieces(table_row([[Piece(c, n)] for c in cells], header))
            continue
        header = None
        setext = (line and i + 1 < len(lines) and _MD_SETEXT.match(lines[i + 1]) and not _BULLET.match(raw)
                  and _standalone(lines, i)[0])
        if setext:
            underlines.add(i + 1)
        ordered = _MD_ORDERED.match(line)
        if ordered:  # the step's number stays: "What is the first step?" needs it
            number = numbers.number(len(raw) - len(raw.lstrip()), int(ordered.group(1)))
            line = f"{number}. {line[ordered.end():]}"
        else:
            if line and not raw[:1].isspace():
                numbers.end()  # a paragraph at the margin ends the list
            line = _BULLET.sub("", line)
        line = render_markdown_inline(line)
        setext_level = (1 if lines[i + 1].strip().startswith("=") else 2) if setext else None
        b.add(line, n, heading=bool(setext) or looks_like_heading(raw, *_standalone(lines, i)), level=setext_level)
    out = b.finish()
    if title:
        out.title = title
    return out


# ----- plain text -----

# An e-mail's quote marks ("> ", ">> ") before the quoted text.
_QUOTE_MARKS = re.compile(r"^(?:[ \t]*>)+[ \t]?")
# A table of contents' line: a title, a dot leader and a page number ("3. Timers ........ 12"). Only
# short lines ending in a digit are tried: the leader's pattern is tried from every dot of a line.
_CONTENTS_END = re.compile(r"(?:\s?\.){4,}\s*\d+\s*$")
_CONTENTS_MAX_CHARS = 200
# A numbered section heading's number ("2.", "2.3", "2.3.1."): its depth is the heading's level.
_NUMBERED_HEADING = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3})*)(?:\.\s+|\s+(?=\S))")
_LIST_NUMBER = re.compile(r"^\s*(\d{1,3})[.)]\s")
_PAGE_BREAK = "\f"
# Running headers and footers (plain text and PDF): the same text, page numbers aside, on this
# share of the pages (in plain text, of a text of three pages at least).
FURNITURE_SHARE = 0.5
_RUNNING_MIN_PAGES = 3
_ENDS_SENTENCE = re.compile(r"[.!?][\"'”’)\]]*$")


def parse_plain(content: str) -> ParsedText:
    """Lines as they are, less an e-mail's quote marks. A table of contents' lines and a page's
    running headers and footers are left out: a page number beside a title answers nothing
    (questions about numbers found them), and a footer would split the paragraph running over it.
    Numbered headings ("2.3  Results") are headings at their number's depth, and underlined ones
    ("Timeline" over "-----") at the underline's."""
    raw = split_source_lines(content)
    pages = _page_numbers(raw)
    furniture = page_furniture(raw, pages)
    lines = ["" if i in furniture or is_contents_line(line) else _QUOTE_MARKS.sub("", line).replace(_PAGE_BREAK, "")
             for i, line in enumerate(raw)]
    underlined = underlined_headings(lines)
    left_out = furniture | _blanks_inside_paragraphs(raw, lines, furniture) | {i + 1 for i in underlined}
    kept = [i for i in range(len(lines)) if i not in left_out]
    text_lines = [lines[i] for i in kept]
    b = TextBuilder()
    for k, (i, line) in enumerate(zip(kept, text_lines)):
        prev_blank, next_blank = _standalone(text_lines, k)
        level = underlined.get(i) or (numbered_heading_level(text_lines, k) if prev_blank and next_blank else None)
        heading = level is not None or looks_like_heading(line, prev_blank, next_blank)
        page = pages[i] if pages and line.strip() else None  # a blank line starts no page
        b.add_pieces([Piece(line.rstrip(), i + 1, page)], heading=heading, level=level)
    last_page = max((pages[i] for i in kept if lines[i].strip()), default=0) if pages else 0
    return b.finish(last_page)  # a form feed closing the file starts no page


_UNDERLINE = re.compile(r"^\s*(?:(=){3,}|-{3,})\s*$")


def underlined_headings(lines: list[str]) -> dict[int, int]:
    """Headings underlined as plain text writes them ("Timeline" over "--------"), by line index:
    level 1 under "=", 2 under "-". The line above must start a block and read as a heading."""
    found: dict[int, int] = {}
    for i in range(len(lines) - 1):
        m = _UNDERLINE.match(lines[i + 1])
        if m and (i == 0 or not lines[i - 1].strip()) and looks_like_heading(lines[i], True, True):
            found[i] = 1 if m.group(1) else 2
    return found


def _page_numbers(lines: list[str]) -> list[int]:
    """The page of each line, where form feeds break the text into pages (none where none do): a
    form feed before a line's text starts a new page with it."""
    if not any(_PAGE_BREAK in line for line in lines):
        return []
    pages, page = [], 1
    for line in lines:
        text_at = len(line) - len(line.lstrip())
        page += line.count(_PAGE_BREAK, 0, text_at)
        pages.append(page)
        page += line.count(_PAGE_BREAK, text_at)
    return pages


def is_contents_line(line: str) -> bool:
    """A title, a dot leader and a page number: short, and text before the leader."""
    if len(line) > _CONTENTS_MAX_CHARS or not line.rstrip()[-1:].isdigit():
        return False
    m = _CONTENTS_END.search(line)
    return m is not None and bool(line[: m.start()].strip())


def _blanks_inside_paragraphs(raw: list[str], lines: list[str], furniture: set[int]) -> set[int]:
    """The blank lines around a page break that falls inside a sentence ("…the committee", the
    footer and next page's header, "agreed to…"): left out, the sentence reads on across it."""
    out: set[int] = set()
    a = None  # the last line with text
    for c, line in enumerate(lines):
        if not line.strip():
            continue
        if a is not None and c > a + 1:
            gap = range(a + 1, c)
            broken = any(_PAGE_BREAK in raw[k] or k in furniture for k in gap)
            if broken and lines[a].rstrip()[-1] not in ".!?:;" and line.lstrip()[:1].islower():
                out.update(gap)
        a = c
    return out


def numbered_heading_level(lines: list[str], i: int) -> int | None:
    """The level of a stand-alone numbered heading ("1.  Introduction" is 1, "2.3 Results" 2), or
    None. A loose numbered list ("1. Preheat the oven", a blank line, "2. Mix the flour") is told
    apart by its neighbours: the item before or after is numbered one less or one more."""
    line = lines[i]
    m = _NUMBERED_HEADING.match(line)
    if not m or "." not in m.group(0) or not looks_like_heading(_NUMBERED_HEADING.sub("", line), True, True):
        return None
    number = m.group(1)
    if "." not in number:
        for j, step in ((_neighbour(lines, i, -1), 1), (_neighbour(lines, i, 1), -1)):
            item = _LIST_NUMBER.match(lines[j]) if j is not None else None
            if item and int(item.group(1)) + step == int(number):
                return None
    return number.count(".") + 1


def _neighbour(lines: list[str], i: int, step: int) -> int | None:
    """The index of the nearest non-blank line before (step -1) or after (step 1) line i."""
    j = i + step
    while 0 <= j < len(lines) and not lines[j].strip():
        j += step
    return j if 0 <= j < len(lines) else None


def page_furniture(lines: list[str], pages: list[int]) -> set[int]:
    """Indices of the lines that are a page's running header or footer, where form feeds break the
    text into pages: page-number lines (`PAGE_LABEL`, `PAGE_NUMBER_AT_EDGE`), and, in a text of
    three pages or more, a page's first or last line when the same one (page numbers aside) opens
    or closes half the pages, two at least, and ends no sentence. Without form feeds only "Page 3
    of 12" lines go."""
    furniture = {i for i, line in enumerate(lines) if PAGE_LABEL.match(line)}
    edges = page_edges(lines, pages)
    furniture |= {i for i, page in edges if PAGE_NUMBER_AT_EDGE.search(lines[i]) and near_page(lines[i], page)}
    page_count = len({page for _, page in edges})
    if page_count >= _RUNNING_MIN_PAGES:
        keys = {(i, page): running_key(lines[i], page) for i, page in edges}
        pages_with: dict[str, set[int]] = {}
        for (_, page), key in keys.items():
            pages_with.setdefault(key, set()).add(page)
        needed = max(2, page_count * FURNITURE_SHARE)
        furniture |= {i for (i, _), key in keys.items() if len(pages_with[key]) >= needed
                      and not _ENDS_SENTENCE.search(lines[i].strip())}
    return furniture


def page_edges(lines: list[str], pages: list[int]) -> list[tuple[int, int]]:
    """(line index, page) of each page's first and last line with text, given each line's page
    (`_page_numbers`: none where no form feeds break the text into pages)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, line in enumerate(lines):
        if pages and line.strip(" \t\f"):
            first.setdefault(pages[i], i)
            last[pages[i]] = i
    return sorted({(i, page) for page, i in first.items()} | {(i, page) for page, i in last.items()})


# ----- HTML -----

_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "header", "footer",
    "main", "aside", "nav", "blockquote", "pre", "dd", "dt", "dl", "figure", "figcaption", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "title", "body", "html", "td", "th", "form", "caption",
    "details", "summary",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg"}
# What html.parser leaves unread at the end of the input when a tag, comment, declaration or
# processing instruction there is not closed ("</" alone is text, as in a browser).
_UNTERMINATED = re.compile(r"<(?:[a-zA-Z!?]|/.)", re.DOTALL)
# What may stand in <head>; any other start tag (or visible text) ends the head without </head>.
_HEAD_TAGS = {"title", "meta", "link", "style", "script", "noscript", "base", "template", "head"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def collapse_whitespace(pieces: Sequence[Piece]) -> list[Piece]:
    """Runs of whitespace as one space, none at either end, as a browser shows them; each word
    keeps its source line. A newline inside a piece moves the words after it to the next line.
    Words are split off by str.split, not one regex match at a time (a 1 MB paragraph took
    seconds)."""
    lines: list[tuple[int, list[str]]] = []  # (source line, its words), joined once at the end
    pending_space = False
    for piece in pieces:
        for k, segment in enumerate(piece.text.split("\n")):
            words = segment.split()
            if not words:
                pending_space = pending_space or k > 0 or bool(segment)
                continue
            lead = " " if (pending_space or k > 0 or segment[0].isspace()) and lines else ""
            text = lead + " ".join(words)
            pending_space = segment[-1].isspace()
            line = piece.source_line + k
            if lines and lines[-1][0] == line:
                lines[-1][1].append(text)
            else:
                lines.append((line, [text]))
    return [Piece("".join(words), line) for line, words in lines]


@dataclass
class _OrderedList:
    """An <ol>'s numbering: from `start`, up or (reversed) down, as numbers, letters or Roman numerals."""

    last: int | None  # the number of the item before the next one; None: unknown (reversed, no start)
    step: int
    kind: str  # "1", "a", "A", "i" or "I", as the type attribute says

    @classmethod
    def from_attributes(cls, attrs: list[tuple[str, str | None]]) -> "_OrderedList":
        reversed_ = any(name == "reversed" for name, _ in attrs)
        start = _int_attribute(attrs, "start", None if reversed_ else 1)
        kind = dict(attrs).get("type") or "1"
        step = -1 if reversed_ else 1
        return cls(None if start is None else start - step, step, kind if kind in ("1", "a", "A", "i", "I") else "1")

    def next_mark(self, value: int | None) -> str:
        """The next item's mark ("3.", "c.", "iv."); "" when its number cannot be known (a
        reversed list without a start counts down from its length, not known until its end)."""
        if value is not None:
            self.last = value
        elif self.last is not None:
            self.last += self.step
        if self.last is None or self.last < 1 and self.kind != "1":
            return ""
        return list_number(self.last, self.kind) + "."


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


@dataclass
class _HTMLTable:
    """The row being read of an open <table>, and its column names once its first row gave them.
    Columns are the table's grid: a cell with colspan="2" covers two, and one with rowspan="2"
    stands in the next row too, as a browser lays them out."""

    header: dict[int, str] | None = None  # grid column -> its name
    row: list[list[Piece]] = field(default_factory=list)  # one list of pieces per cell
    header_cells: list[bool] = field(default_factory=list)  # which cells of the row are <th>
    spans: list[tuple[int, int]] = field(default_factory=list)  # each cell's (colspan, rowspan)
    carried: dict[int, tuple[list[Piece], int]] = field(default_factory=dict)  # column -> (cell, rows still to cover)
    rows_seen: int = 0

    def grid_row(self) -> list[tuple[range, list[Piece]]]:
        """The row's cells with the grid columns each covers, and the cells carried down from rows
        above; records which of its own cells carry on into the rows below."""
        out: list[tuple[range, list[Piece]]] = []
        column = 0
        cells = list(zip(self.row, self.spans))[::-1]  # popped from the end, first cell first
        reach = max(self.carried, default=-1)  # carried cells added below lie left of `column`
        while cells or column <= reach:
            if column in self.carried:
                cell, rows = self.carried.pop(column)
                out.append((range(column, column + 1), cell))
                if rows > 1:
                    self.carried[column] = (cell, rows - 1)
                column += 1
                continue
            if not cells:
                column += 1
                continue
            cell, (colspan, rowspan) = cells.pop()
            out.append((range(column, column + colspan), cell))
            if rowspan > 1:
                self.carried[column] = (cell, rowspan - 1)
            column += colspan
        return out

    @property
    def cell(self) -> list[Piece] | None:
        """Where the row's text goes: its last cell (stray text between cells joins the one before)."""
        return self.row[-1] if self.row else None


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = TextBuilder()
        self.current: list[Piece] = []
        self.skip_depth = 0
        self.heading_depth = 0
        self.heading_level: int | None = None  # of the <hN> being read
        self.in_head = False
        self.in_title = False
        self.title = ""
        self.tables: list[_HTMLTable] = []  # the tables open around the current text, innermost last
        # The lists open around the current text, innermost last: an <ol>'s numbering, or None
        # for a <ul>. An ordered item's number is written before it, as a browser shows it.
        self.lists: list[_OrderedList | None] = []
        # A definition list's last term: its definitions are written on its line ("Churn rate —
        # The share of …"), so that a definition is never read apart from what it defines. Kept as
        # the name a further definition's line starts with, made once: a long term over many lines
        # was joined again for each of thousands of definitions.
        self.term: Piece | None = None
        self.term_open = False  # the term's line is still the current one
        self.definition_pending = False  # "Term — " written, the definition's text not yet
        self.in_term = False  # inside a <dt>
        self.superscript: tuple[list[Piece], int] | None = None  # where an open <sup>'s text starts

    def close(self) -> None:
        # A tag, comment or declaration left open at the end of the input is no text, as in a browser
        # and in later versions of html.parser. Older versions turn it into text up to the next ">"
        # and read on, trying every later "<" against all the rest of the input ("<a <a <a …" with
        # no ">"): quadratic time.
        if not self.cdata_elem and _UNTERMINATED.match(self.rawdata):
            self.rawdata = ""
        super().close()

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # html.parser raises AssertionError on a marked section of a keyword it does not know
        # ("<![x]>"), which would lose the whole file; a browser takes it for a comment.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end == -1 else end + 1

    def _end_term(self) -> None:
        pieces = collapse_whitespace(self.current)
        self.term = Piece(short_name("".join(p.text for p in pieces)), pieces[0].source_line) if pieces else None
        self.term_open = self.term is not None
        self.in_term = False

    def _flush(self) -> None:
        pieces = collapse_whitespace(self.current)
        if pieces:
            self.builder.add_pieces(pieces, heading=self.heading_depth > 0, level=self.heading_level)
        self.current = []

    def _text_target(self) -> list[Piece]:
        """Where text goes: the table cell being read, or the current line."""
        cell = self.tables[-1].cell if self.tables else None
        return self.current if cell is None else cell

    def _block_boundary(self) -> None:
        """A block starts or ends: a new line, or inside a table cell a space (cells stay one row)."""
        target = self._text_target()
        if target is self.current:
            if not self.definition_pending:  # <dd><p>…: the definition's paragraph stays on the term's line
                self._flush()
        else:
            target.append(Piece(" ", self.getpos()[0]))

    def _table_tag(self, tag: str, start: bool, attrs: list[tuple[str, str | None]] = ()) -> bool:
        """Keep a table's cells together as rows (see `table_row`); True when the tag was a table's."""
        if tag == "table":
            self._flush()
            if start:
                self.tables.append(_HTMLTable())
            elif self.tables:
                self._emit_row(self.tables.pop())
            return True
        if not self.tables or tag not in ("tr", "td", "th"):
            return False
        table = self.tables[-1]
        if tag == "tr":
            self._emit_row(table)
        elif start:
            table.row.append([])
            table.header_cells.append(tag == "th")
            spans = [_int_attribute(attrs, name, 1) for name in ("colspan", "rowspan")]
            table.spans.append((min(max(spans[0], 1), _MAX_SPAN), min(max(spans[1], 1), _MAX_SPAN)))
        return True

    def _emit_row(self, table: _HTMLTable) -> None:
        if not table.row:  # <tr> and </tr> both end a row: the second has no cells (nor takes carried ones)
            return
        first_is_header = table.header is None and table.rows_seen == 0 and all(table.header_cells)
        grid = [(columns, collapse_whitespace(cell)) for columns, cell in table.grid_row()]
        if any(cell for _, cell in grid):
            if first_is_header:
                table.header = {}
                for columns, cell in grid:
                    for column in columns:  # a name over two columns names both
                        table.header[column] = "".join(p.text for p in cell)
            else:
                names = [column_names(table.header, columns) for columns, _ in grid] if table.header is not None else None
                self.builder.add_pieces(table_row([cell for _, cell in grid], names))
            table.rows_seen += 1
        table.row, table.header_cells, table.spans = [], [], []

    def handle_starttag(self, tag, attrs):
        if self.in_head and tag not in _HEAD_TAGS:
            self.in_head = False
        if tag == "head":
            self.in_head = True
            return
        if tag == "title" and not self.skip_depth:  # an <svg>'s <title> is not the page's
            self.in_title = True
            return
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
            return
        if self.skip_depth:  # inside a script, style or drawing: nothing of it is text
            return
        if self._table_tag(tag, start=True, attrs=attrs):
            return
        if tag == "sup":
            target = self._text_target()
            self.superscript = (target, len(target))
            return
        if tag in ("dt", "dd") and not self.tables:
            if self.in_term:  # </dt> left out, as HTML allows: the term ends where its definition starts
                self._end_term()
            if tag == "dt":
                self.term, self.term_open, self.definition_pending, self.in_term = None, False, False, True
            elif self.term is not None:
                if not self.term_open:  # a second definition of the term: on a line of its own, named
                    self._flush()
                    self.current = [self.term]
                self.current.append(Piece(" — ", self.getpos()[0]))
                self.term_open, self.definition_pending = False, True
                return
        self.term_open = False
        if tag in _BLOCK_TAGS:
            self._block_boundary()
        if tag in _HEADING_TAGS:
            self.heading_depth += 1
            self.heading_level = int(tag[1])
        if tag in ("ol", "ul"):
            self.lists.append(_OrderedList.from_attributes(attrs) if tag == "ol" else None)
        elif tag == "li" and self.lists and self.lists[-1] is not None:
            mark = self.lists[-1].next_mark(_int_attribute(attrs, "value", None))
            if mark:
                self._text_target().append(Piece(f"{mark} ", self.getpos()[0]))

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
            return
        if tag == "title" and self.in_title:
            self.in_title = False
            return
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if self._table_tag(tag, start=False):
            return
        if tag == "sup" and self.superscript is not None:
            target, at = self.superscript
            self.superscript = None
            if target is self._text_target() and len(target) > at:
                word = _last_word(target, at)
                marked = superscript_text("".join(p.text for p in target[at:]), word[-1:], word)
                target[at:] = [Piece(marked, target[at].source_line)]
            return
        if tag == "dt" and self.in_term:
            self._end_term()
            return  # the definition follows on this line
        if tag in ("dd", "dl") and self.definition_pending:  # an empty definition: the term stands alone
            while self.current and not self.current[-1].text.strip():  # "<dd> </dd>" too
                self.current.pop()
            if self.current and self.current[-1].text == " — ":
                self.current.pop()
            self.definition_pending = False
        if tag == "dl":
            self.term, self.term_open, self.in_term = None, False, False
        if tag in _BLOCK_TAGS:
            self._block_boundary()
        if tag in _HEADING_TAGS:
            self.heading_depth = max(0, self.heading_depth - 1)
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()

    def handle_data(self, data):
        if self.in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        if self.in_head:
            if not data.strip():
                return
            self.in_head = False  # visible text cannot be in <head>: the body has begun
        if data.strip():
            self.definition_pending = False
        self._text_target().append(Piece(data, self.getpos()[0]))


_MAX_SPAN = 100  # colspan/rowspan beyond this are a page's mistake, not a layout
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


def _last_word(pieces: Sequence[Piece], end: int) -> str:
    """The word pieces[:end] end with ("" after a space), found from the end."""
    tail = ""
    for k in range(end - 1, -1, -1):
        tail = pieces[k].text + tail
        if re.search(r"\s", tail) or len(tail) > 40:
            break
    m = re.search(r"[^\s(\[]*$", tail)
    return m.group() if m else ""


def column_names(header: dict[int, str], columns: range) -> str:
    """The names of the columns a cell covers: a value over two goes with both ("Adult, Child")."""
    return ", ".join(dict.fromkeys(short_name(header[c]) for c in columns if header.get(c)))


# A name written again where it is used (a heading in a section's path, a column's name in each row,
# a term before each of its definitions) is cut to this length, and a path to this many headings:
# a 100 KB heading over thousands of sections, or a 100 KB header cell over thousands of rows,
# would otherwise multiply a small file into gigabytes of text.
_NAME_CHARS = 150
_PATH_DEPTH = 6


def short_name(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1].rstrip() + "…"


def _int_attribute(attrs: list[tuple[str, str | None]], name: str, default: int | None) -> int | None:
    value = dict(attrs).get(name)
    try:
        return int(value.strip()) if value is not None else default
    except ValueError:  # <ol start="a">: as a browser does, the default
        return default


def parse_html(content: str) -> ParsedText:
    parser = _HTMLText()
    parser.feed(content)
    parser.close()
    parser._flush()
    out = parser.builder.finish()
    if parser.title.strip():
        out.title = re.sub(r"\s+", " ", parser.title).strip()
    return out
