"""HTML reduced to the text a browser shows: the head, scripts and styles left out, whitespace
collapsed (a <pre> keeps its lines and indentation), list items numbered as their <ol> says, a
table's rows laid out on its grid (colspan, rowspan) and written as sentences, and a definition
written on its term's line. Headings keep their <hN> level, and <title> is the document's title.
The reader is built on html.parser, and works around its failures and quadratic cases on
malformed input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bot.ingest.parsed_text import (
    ParsedText, Piece, TextBuilder, column_names, list_number, short_name, superscript_text, table_row)

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
_MAX_SPAN = 100  # colspan/rowspan beyond this are a page's mistake, not a layout


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
        self.after_br = False  # the current line began at a <br>: a sentence may run on into it
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
        self.pre_depth = 0  # inside <pre>: each source line is a line, its indentation kept

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

    def finish(self) -> None:
        """Write what the end of the input leaves open: the current line, then the rows of tables
        never closed (a browser shows them), innermost first as their </table> would."""
        self._flush()
        while self.tables:
            self._emit_row(self.tables.pop())

    def _flush(self) -> None:
        pieces = _preformatted(self.current) if self.pre_depth else collapse_whitespace(self.current)
        if pieces:
            self.builder.add_pieces(pieces, heading=self.heading_depth > 0, level=self.heading_level,
                                    block=not self.after_br)
        self.current = []

    def _text_target(self) -> list[Piece]:
        """Where text goes: the table cell being read, or the current line."""
        cell = self.tables[-1].cell if self.tables else None
        return self.current if cell is None else cell

    def _block_boundary(self, tag: str) -> None:
        """A block starts or ends: a new line, or inside a table cell a space (cells stay one row)."""
        target = self._text_target()
        if target is self.current:
            if not self.definition_pending:  # <dd><p>…: the definition's paragraph stays on the term's line
                self._flush()
                self.after_br = tag == "br"
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
                self.builder.add_pieces(table_row([cell for _, cell in grid], names), block=True)
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
            self._block_boundary(tag)
        if tag == "pre":
            self.pre_depth += 1
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
            self._block_boundary(tag)  # within the <pre> still: its last line is kept as it is
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
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
        target = self._text_target()
        if self.pre_depth and target is self.current:  # in a table cell, a <pre> stays in its row
            line = self.getpos()[0]
            for k, segment in enumerate(data.split("\n")):
                if k:
                    # A <pre>'s next line may carry its sentence on; after a blank line, a new paragraph.
                    had_text = bool(self.current)
                    self._flush()
                    self.after_br = had_text
                if segment:
                    self.current.append(Piece(segment, line + k))
            return
        target.append(Piece(data, self.getpos()[0]))


def _preformatted(pieces: Sequence[Piece]) -> list[Piece]:
    """One line of a <pre> as a browser shows it, its indentation kept and its trailing spaces not;
    none for a blank line (this reader writes no blank lines: a block is a line)."""
    if not "".join(p.text for p in pieces).strip():
        return []
    out = list(pieces)
    while not out[-1].text.strip():
        out.pop()
    out[-1] = Piece(out[-1].text.rstrip(), out[-1].source_line, out[-1].page)
    return out


def _last_word(pieces: Sequence[Piece], end: int) -> str:
    """The word pieces[:end] end with ("" after a space), found from the end."""
    tail = ""
    for k in range(end - 1, -1, -1):
        tail = pieces[k].text + tail
        if re.search(r"\s", tail) or len(tail) > 40:
            break
    m = re.search(r"[^\s(\[]*$", tail)
    return m.group() if m else ""


def _int_attribute(attrs: list[tuple[str, str | None]], name: str, default: int | None) -> int | None:
    value = dict(attrs).get(name)
    try:
        return int(value.strip()) if value is not None else default
    except ValueError:  # <ol start="a">: as a browser does, the default
        return default


_NAV_TAG = re.compile(r"<(/?)nav\b[^>]*>", re.I)


def without_navigation(content: str) -> str:
    """`content` with each closed <nav>...</nav> (a site's menu, breadcrumbs, a sidebar of links:
    "Home | Recipes | About") emptied, its line breaks kept so that the lines after it keep their
    numbers. A <nav> never closed is left as it is: in a broken page it may run to the end and hold
    the content."""
    regions: list[tuple[int, int]] = []
    opened: list[int] = []
    for m in _NAV_TAG.finditer(content):
        if not m.group(1):
            opened.append(m.start())
        elif opened:
            start = opened.pop()
            if not opened:  # the outermost one closed
                regions.append((start, m.end()))
    if not regions:
        return content
    parts, at = [], 0
    for start, end in regions:
        parts += [content[at:start], "\n" * content.count("\n", start, end)]
        at = end
    return "".join(parts) + content[at:]


def parse_html(content: str) -> ParsedText:
    parser = _HTMLText()
    parser.feed(without_navigation(content))
    parser.close()
    parser.finish()
    out = parser.builder.finish()
    if parser.title.strip():
        out.title = re.sub(r"\s+", " ", parser.title).strip()
    return out
