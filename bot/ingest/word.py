"""Word (.docx) files as reader-visible text, through python-docx's XML tree.

Paragraphs and tables are read in document order. Heading styles ("Heading 1" to "Heading 9",
and "Title") start sections, so citations name the section; list items stay one line each, with
the number Word shows before them ("2.4", "(b)": `ListNumbering`), bullets left out. A table
row becomes one line, written as the Markdown and HTML readers write one (`table_row`): when the
table has a header row, "Aurora — Tonnage: 1200 tons; Launched: 1901."; otherwise its cells joined
by "; ". A first row is the header when Word treats it as one (marked to repeat on each page, set in
bold in every cell, or shown as a header by the table's style with Table Design's "Header Row"
ticked), or when it plainly holds column names (`parsed_text.reads_as_header`); rows after it marked
by hand (repeated on each page, or bold) are header rows too, and a column takes the names it has in
each ("Daily allowance (EUR) – Meals"). Footnotes and endnotes follow the paragraph that refers to
them, marked "[1]" and "[i]" as Word numbers them; page headers and footers close the text, once each.

The text is the final document's, as Word shows it with tracked changes accepted: insertions and
moved-to text are in, deletions and moved-from text are out. Content controls, hyperlinks, smart
tags, custom XML and simple fields show their content in place; python-docx's own `.text` and
`iter_inner_content()` skip all of these, so the document's XML is walked here instead. A text
box's paragraphs follow the paragraph that anchors it.

A .docx has no lines of its own, so the line a citation names is the paragraph ("paragraph 3"): body
paragraphs (those in block content controls and text boxes too) are counted from 1 in document
order, empty ones included (as Word shows them with formatting marks on), and each table row
counts as one paragraph. A paragraph whose mark is a tracked deletion joins the next one. Notes,
headers and footers are not counted: a note is cited at the paragraph that refers to it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bot.errors import first_line
from bot.ingest.page_numbers import page_number_line
from bot.ingest.parsed_text import ParsedText, Piece, TextBuilder, column_names, list_number, reads_as_header, table_row

if TYPE_CHECKING:
    from lxml.etree import _Element

# The signature of an OLE compound file: Word keeps a password-protected .docx (and an old .doc)
# in one; an encrypted one holds a stream of this name.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
# A .docx is a zip: a small file may unpack to gigabytes of XML, so its unpacked size is capped,
# and so is the text read out of it (500 KB of zip can hold 200 MB of text: hours of indexing).
# 20 MB of text is the default largest document of any type (BOT_MAX_FILE_MB).
MAX_UNPACKED_MB = 200
MAX_TEXT_MB = 20
T = TypeVar("T")
_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"title", re.IGNORECASE)


def parse_docx(raw: bytes) -> ParsedText:
    """Raises ValueError with a one-line reason for an encrypted, damaged or non-Word file."""
    check_docx_container(raw)
    document = _open(raw)
    b = TextBuilder()
    style_title = ""
    number = 0
    size = 0
    for block in docx_blocks(document):
        number += block.counted
        text, style = block.text, block.style
        size += len(text)
        if size > MAX_TEXT_MB * 1024 * 1024:
            raise ValueError(f"its text is over {MAX_TEXT_MB} MB (split the document)")
        heading = bool(text) and is_heading_style(style)
        if heading and not style_title and _TITLE_STYLE.fullmatch(style.strip()):
            style_title = text
        if text:
            b.add(text, max(number, 1), heading=heading, level=heading_level(style) if heading else None, block=True)
    out = b.finish()
    out.title = _core_title(document) or style_title or out.title
    return out


def check_docx_container(raw: bytes) -> None:
    """Refuse what python-docx cannot open, with the reason a user can act on."""
    if raw.startswith(_COMPOUND_FILE):
        if _ENCRYPTED_STREAM in raw:
            raise ValueError("encrypted .docx (it needs a password; save a copy without one)")
        raise ValueError("an old Word .doc file, not a .docx (save it as .docx)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a readable .docx ({exc})") from None
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise ValueError(f"not a readable .docx (it unpacks to over {MAX_UNPACKED_MB} MB)")


def _open(raw: bytes):
    import docx

    try:
        return docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises many kinds on damaged files; the reason is what matters
        detail = first_line(exc)
        raise ValueError(f"not a readable .docx ({detail})") from None


@dataclass(frozen=True)
class DocxBlock:
    text: str
    style: str  # the paragraph's style name ("" for a table row or a note)
    counted: bool = True  # a body paragraph or table row, which citations count; not a note or a header


def docx_blocks(document) -> Iterator[DocxBlock]:
    """Each paragraph and table row in document order, each followed by the footnotes and endnotes
    it refers to (as Word prints them at the foot of its page: "[1] The Zurich rates also apply to
    Geneva and Basel."), then the text of the page headers and footers, once each."""

    reading = _Reading(_header_row_styles(document), ListNumbering(document), Notes(document))
    style_names = _ParagraphStyles(document)
    def notes() -> Iterator[DocxBlock]:
        return (DocxBlock(note, "", counted=False) for note in reading.notes.take_referenced(reading))

    table_notes: list[DocxBlock] = []  # referred to in a table (all read before its first row): after it
    for text, paragraph in _blocks(document.element.body, reading):
        if paragraph is None:
            table_notes += notes()
            yield DocxBlock(text.rstrip(), "")
            continue
        yield from table_notes
        table_notes = []
        yield DocxBlock(text.rstrip(), style_names.of(paragraph))
        yield from notes()
    yield from table_notes
    for text in _header_footer_texts(document, reading):
        yield DocxBlock(text, "", counted=False)


# WordprocessingML and markup-compatibility tags, in lxml's "{namespace}name" form.
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_P, _TBL, _TR, _TC, _R = _W + "p", _W + "tbl", _W + "tr", _W + "tc", _W + "r"
_TXBX_CONTENT = _W + "txbxContent"
_ALTERNATE_CONTENT, _CHOICE, _FALLBACK = _MC + "AlternateContent", _MC + "Choice", _MC + "Fallback"
# Elements that only group, mark or link the content inside them: the final document shows that
# content in place. Content controls (sdt), tracked insertions and moves' destinations are here;
# deletions and moves' sources (w:del, w:moveFrom) are not, so their text is left out.
_WRAPPERS = frozenset(_W + name for name in (
    "sdt", "sdtContent", "customXml", "smartTag", "hyperlink", "fldSimple", "ins", "moveTo", "dir", "bdo"))
# A paragraph mark or table row that is a tracked deletion: gone from the final document.
_DELETED_MARK = (f"{_W}pPr/{_W}rPr/{_W}del", f"{_W}pPr/{_W}rPr/{_W}moveFrom")
_DELETED_ROW = (f"{_W}trPr/{_W}del",)


def _blocks(container: _Element, reading: _Reading) -> Iterator[tuple[str, _Element | None]]:
    """(text, its w:p) per paragraph and (text, None) per table row of a body, cell or text box.

    A paragraph whose mark is a tracked deletion runs on into the next one, as Word shows it, so
    it is not a paragraph of its own. A text box's paragraphs follow the paragraph anchoring it.
    """
    carried = ""  # the text of paragraphs whose marks are deleted, waiting for the next paragraph
    carried_from: _Element | None = None
    boxes: list[_Element] = []
    for element in _contents(container, frozenset((_P, _TBL))):
        if element.tag == _TBL:
            if carried:  # a table cannot absorb a paragraph: it stays one
                yield carried, carried_from
            carried, carried_from = "", None
            yield from _boxes_blocks(boxes, reading)
            boxes = []
            for row in _table_rows(element, reading):
                yield row, None
            continue
        text = _paragraph_text(element, boxes, reading.notes)
        mark = reading.numbering.mark(element) if text.strip() else ""
        carried += f"{mark} {text}" if mark else text  # "2.4 Refunds are ...", as Word shows it
        carried_from = element
        if not any(element.find(path) is not None for path in _DELETED_MARK):
            yield carried, element
            carried, carried_from = "", None
            yield from _boxes_blocks(boxes, reading)
            boxes = []
    if carried:
        yield carried, carried_from
    yield from _boxes_blocks(boxes, reading)


def _boxes_blocks(boxes: list[_Element], reading: _Reading) -> Iterator[tuple[str, _Element | None]]:
    for box in boxes:
        yield from _blocks(box, reading)


def _contents(parent: _Element, kinds: frozenset[str]) -> Iterator[_Element]:
    """The children of `parent` with one of the tags `kinds`, in order, found through wrappers."""
    for child in parent:
        if child.tag in kinds:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _contents(child, kinds)
        elif child.tag == _ALTERNATE_CONTENT:
            branch = _branch(child)
            if branch is not None:
                yield from _contents(branch, kinds)


def _branch(alternate: _Element) -> _Element | None:
    """One branch of an mc:AlternateContent: the branches hold the same content in different
    markup (e.g. a text box as DrawingML and as VML), so reading both would double it."""
    choice = alternate.find(_CHOICE)
    return choice if choice is not None else alternate.find(_FALLBACK)


def _paragraph_text(paragraph: _Element, boxes: list[_Element], notes: Notes) -> str:
    """The paragraph's visible text; the text boxes anchored in it are added to `boxes`, and the
    notes it refers to to `notes`."""
    parts: list[str] = []
    for run in _contents(paragraph, frozenset((_R,))):
        _run_text(run, parts, boxes, notes)
    return "".join(parts)


def _run_text(run: _Element, parts: list[str], boxes: list[_Element], notes: Notes) -> None:
    """Appends what a run shows, as python-docx's `.text` renders it: a tab as a tab, a line break
    as a newline, a page or column break as nothing; field codes (w:instrText) stay hidden. A note
    reference shows its mark in brackets ("[2]"); a note's own mark is left to `Notes`."""
    for child in run:
        tag = child.tag
        if tag in _NOTE_REFERENCES:
            mark = notes.refer(_NOTE_REFERENCES[tag], child.get(_W + "id", ""))
            parts.append(f"[{mark}]" if mark else "")
        elif tag == _W + "t":
            parts.append(child.text or "")
        elif tag in (_W + "tab", _W + "ptab"):
            parts.append("\t")
        elif tag == _W + "br":
            parts.append("\n" if child.get(_W + "type", "textWrapping") == "textWrapping" else "")
        elif tag == _W + "cr":
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _ALTERNATE_CONTENT:
            branch = _branch(child)
            if branch is not None:
                _run_text(branch, parts, boxes, notes)
        elif tag in (_W + "drawing", _W + "pict", _W + "object"):
            _find_text_boxes(child, boxes)


def _find_text_boxes(element: _Element, boxes: list[_Element]) -> None:
    """The outermost text boxes in a drawing (one branch of each mc:AlternateContent only)."""
    for child in element:
        if child.tag == _TXBX_CONTENT:
            boxes.append(child)  # a text box inside it is found when its paragraphs are read
        elif child.tag == _ALTERNATE_CONTENT:
            branch = _branch(child)
            if branch is not None:
                _find_text_boxes(branch, boxes)
        else:
            _find_text_boxes(child, boxes)


def _table_rows(table: _Element, reading: _Reading) -> Iterator[str]:
    """Each row as one line (`table_row`), deleted rows left out; a header row is not a line of
    its own but names the columns of the rows below it, by grid column (a value merged across two
    columns goes with both names, as in HTML). A cell merged across columns is shown once; one
    merged down rows repeats its text in each row, so every row reads whole."""
    rows = list(_row_cells(table, reading))
    names: dict[int, str] | None = None  # grid column -> the header's name for it
    header_rows = _header_rows(table, rows, reading)
    if header_rows:
        levels: dict[int, list[str]] = {}  # grid column -> its names, top row first
        for row in rows[:header_rows]:
            for columns, text in zip(row.grid, row.cells):
                for column in columns:
                    if text and text not in levels.setdefault(column, []):  # a name merged down counts once
                        levels[column].append(text)
        names = {column: _HEADER_LEVELS.join(texts) for column, texts in levels.items()}
    for number, row in enumerate(rows):
        if number < header_rows:
            yield ""  # still a paragraph of its own, so that the rows below keep their numbers
            continue
        header = [column_names(names, columns) for columns in row.grid] if names is not None else None
        # an empty row is an (empty) paragraph too
        yield "".join(p.text for p in table_row([[Piece(text, 0)] for text in row.cells], header)).strip()


@dataclass
class _Row:
    element: _Element  # the w:tr
    cells: list[str]  # the text of each cell
    grid: list[range]  # the grid columns each cell covers

    @property
    def columns(self) -> list[int]:
        """The grid column each cell starts at."""
        return [columns.start for columns in self.grid]


def _row_cells(table: _Element, reading: _Reading) -> Iterator[_Row]:
    """Each row that is not a tracked deletion, with its cells' text and grid columns."""
    above: dict[int, str] = {}  # grid column -> the text shown there in the row above
    for row in _contents(table, frozenset((_TR,))):
        if any(row.find(path) is not None for path in _DELETED_ROW):
            continue
        column = _int_value(row, f"{_W}trPr/{_W}gridBefore", 0)
        here: dict[int, str] = {}
        cells, grid = [], []
        for cell in _contents(row, frozenset((_TC,))):
            merge = cell.find(f"{_W}tcPr/{_W}vMerge")
            if merge is not None and merge.get(_W + "val", "continue") == "continue" and column in above:
                text = above[column]  # a continued vertical merge: the text above, read once (list numbers count once)
            else:
                text = cell_text(cell, reading)
            here[column] = text
            cells.append(text)
            span = max(_int_value(cell, f"{_W}tcPr/{_W}gridSpan", 1), 1)
            grid.append(range(column, column + span))
            column += span
        above = here
        yield _Row(row, cells, grid)


@dataclass
class _Level:
    start: int
    format: str  # w:numFmt: "decimal", "lowerLetter", "bullet", ...
    text: str  # w:lvlText: "%1.", "%1.%2", "(%3)"


class ListNumbering:
    """Word's automatic list numbers ("1.", "2.4", "(b)"), counted as Word shows them: along each
    list definition, a level counting up from its start and the levels below it starting again
    when it moves on; a list instance (w:num) may restart a level (startOverride). Numbering set
    by the paragraph's style ("List Number") counts too. Bullets give no mark, as in Markdown."""

    def __init__(self, document) -> None:
        self._abstract_of: dict[str, str] = {}  # numId -> abstractNumId
        self._restarts: dict[str, dict[int, int]] = {}  # numId -> level -> start it restarts at
        self._overrides: dict[str, dict[int, _Level]] = {}  # numId -> level -> its own definition
        self._levels: dict[str, dict[int, _Level]] = {}  # abstractNumId -> level -> definition
        self._counts: dict[str, dict[int, int]] = {}  # abstractNumId -> level -> current count
        self._started: set[str] = set()  # numIds whose restarts were applied
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):  # a document without lists
            numbering = None
        if numbering is not None:
            self._read(numbering, _list_style_numbers(document))
        self._style_numbers = _style_numbering(document)

    def _read(self, numbering: _Element, list_styles: dict[str, str]) -> None:
        style_links: dict[str, str] = {}  # abstractNumId -> the list style it takes its levels from
        for abstract in numbering.iter(_W + "abstractNum"):
            abstract_id = abstract.get(_W + "abstractNumId", "")
            self._levels[abstract_id] = {_int_attr(level, "ilvl", 0): _level(level) for level in abstract.iter(_W + "lvl")}
            link = abstract.find(f"{_W}numStyleLink")
            if link is not None:
                style_links[abstract_id] = _attr(link, "")
        for num in numbering.iter(_W + "num"):
            num_id = num.get(_W + "numId", "")
            self._abstract_of[num_id] = _attr(num.find(f"{_W}abstractNumId"), "")
            self._restarts[num_id], self._overrides[num_id] = {}, {}
            for override in num.iter(_W + "lvlOverride"):
                level = _int_attr(override, "ilvl", 0)
                if override.find(f"{_W}startOverride") is not None:
                    self._restarts[num_id][level] = _int_value(override, f"{_W}startOverride", 1)
                if override.find(f"{_W}lvl") is not None:  # the level redefined, and restarted, for this list
                    self._overrides[num_id][level] = _level(override.find(f"{_W}lvl"))
                    self._restarts[num_id].setdefault(level, self._overrides[num_id][level].start)
        # A list made from a list style: its levels are those of the list the style numbers with.
        for abstract_id, style_id in style_links.items():
            linked = self._abstract_of.get(list_styles.get(style_id, ""), "")
            if linked and not self._levels.get(abstract_id):
                self._levels[abstract_id] = self._levels.get(linked, {})

    def mark(self, paragraph: _Element) -> str:
        """The number Word shows before this paragraph ("3.", "2.4"), counting it; "" for none."""
        num_pr = paragraph.find(f"{_W}pPr/{_W}numPr")
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        num_id, level = self._style_numbers.get(_attr(style, ""), ("", 0))
        if num_pr is not None:
            num_id = _attr(num_pr.find(f"{_W}numId"), num_id)
            level = _int_value(num_pr, f"{_W}ilvl", level)
        abstract = self._abstract_of.get(num_id)
        levels = {**self._levels.get(abstract or "", {}), **self._overrides.get(num_id, {})}
        if not levels or level not in levels or levels[level].format in ("bullet", "none"):
            return ""
        counts = self._counts.setdefault(abstract, {})
        if num_id not in self._started:  # a list instance that restarts its levels
            self._started.add(num_id)
            for restarted, start in self._restarts.get(num_id, {}).items():
                counts[restarted] = start - 1
        counts[level] = counts.get(level, levels[level].start - 1) + 1
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]
        return re.sub(r"%([1-9])", lambda m: self._shown(levels, counts, int(m.group(1)) - 1), levels[level].text).strip()

    @staticmethod
    def _shown(levels: dict[int, _Level], counts: dict[int, int], level: int) -> str:
        definition = levels.get(level)
        if definition is None:
            return ""
        n = counts.get(level, definition.start)
        if definition.format == "decimalZero":
            return f"{n:02d}"
        return list_number(n, _LIST_KINDS.get(definition.format, "1"))


# Word's number formats, as list_number's kinds (HTML's <ol type>); any other format shows digits.
_LIST_KINDS = {"lowerLetter": "a", "upperLetter": "A", "lowerRoman": "i", "upperRoman": "I"}


def _level(element: _Element) -> _Level:
    return _Level(start=_int_value(element, f"{_W}start", 1), format=_attr(element.find(f"{_W}numFmt"), "decimal"),
                  text=_attr(element.find(f"{_W}lvlText"), ""))


def _list_style_numbers(document) -> dict[str, str]:
    """List (numbering) style id -> the numId its own numPr names."""
    found = {style_id: style.find(f"{_W}pPr/{_W}numPr/{_W}numId") for style_id, style in _styles(document, "numbering").items()}
    return {style_id: _attr(num_id, "") for style_id, num_id in found.items() if num_id is not None}


def _style_numbering(document) -> dict[str, tuple[str, int]]:
    """Paragraph style id -> (numId, level) of the numbering it sets, through "based on" styles."""
    styles = _styles(document, "paragraph")

    def numbering(style: _Element) -> tuple[str, int] | None:
        num_pr = style.find(f"{_W}pPr/{_W}numPr")
        if num_pr is None or num_pr.find(f"{_W}numId") is None:
            return None
        return _attr(num_pr.find(f"{_W}numId"), ""), _int_value(num_pr, f"{_W}ilvl", 0)

    found = _through_based_on(styles, numbering)
    return {style_id: value for style_id, value in found.items() if value is not None}


def _styles(document, kind: str) -> dict[str, _Element]:
    """The document's styles of one kind ("paragraph", "table") by style id."""
    return {s.get(_W + "styleId"): s for s in document.styles.element.iter(_W + "style") if s.get(_W + "type") == kind}


def _through_based_on(styles: dict[str, _Element], find: Callable[[_Element], T | None]) -> dict[str, T | None]:
    """For every style, what `find` gives for it, or else for the style it is based on, and so on
    up; each style is looked at once (a chain of thousands of styles walked from each was quadratic)."""
    found: dict[str, T | None] = {}
    for start in styles:
        chain: list[str] = []
        style_id: str | None = start
        while style_id in styles and style_id not in found and style_id not in chain:
            chain.append(style_id)
            based_on = styles[style_id].find(f"{_W}basedOn")
            style_id = _attr(based_on, "") if based_on is not None else None
        value = found.get(style_id) if style_id is not None else None  # where the chain met one known, or ended
        for style_id in reversed(chain):
            own = find(styles[style_id])
            value = own if own is not None else value
            found[style_id] = value
    return found


def _attr(element: _Element | None, default: str) -> str:
    """An element's w:val, or `default` when there is no element or no value."""
    return element.get(_W + "val", default) if element is not None else default


def _int_attr(element: _Element, name: str, default: int) -> int:
    try:
        return int(element.get(_W + name, default))
    except ValueError:
        return default


@dataclass
class _Reading:
    """What reading one document takes besides its XML: the table styles that mark a header row,
    the list numbering's counts so far, and the notes referred to."""

    header_styles: frozenset[str]
    numbering: ListNumbering
    notes: Notes


# Joins the names a column has in two header rows: "Daily allowance (EUR) – Meals".
_HEADER_LEVELS = " – "
_MAX_HEADER_ROWS = 3


def _header_rows(table: _Element, rows: list[_Row], reading: _Reading) -> int:
    """How many rows at the top of the table are its header: the first when Word shows it as one
    or it plainly holds column names, and those after it marked the same way by hand (repeated on
    each page, or bold in every cell): "Daily allowance (EUR)" over "Meals | Lodging cap"."""
    first = rows[0] if len(rows) > 1 else None
    if first is None or len(first.cells) < 2 or not (
            _is_header_row(table, first.element, reading.header_styles)
            or reads_as_header(dict(zip(first.columns, first.cells)), [dict(zip(r.columns, r.cells)) for r in rows[1:]])):
        return 0
    # Bold marks a header only where the body is not bold too; and a header is a few rows at most.
    bold_body = all(_all_bold(row.element) for row in rows[1:])
    count = 1
    while count < min(len(rows) - 1, _MAX_HEADER_ROWS) and (
            _repeats_as_header(rows[count].element) or (_all_bold(rows[count].element) and not bold_body)):
        count += 1
    return count


def _is_header_row(table: _Element, row: _Element, header_styles: frozenset[str]) -> bool:
    """Whether Word shows a table's first row as its header (see the module's docstring)."""
    style = table.find(f"{_W}tblPr/{_W}tblStyle")
    if style is not None and style.get(_W + "val") in header_styles and _header_row_on(table):
        return True
    return _repeats_as_header(row) or _all_bold(row)  # marked to repeat on each page, or bold throughout


def _repeats_as_header(row: _Element) -> bool:
    return _on(row.find(f"{_W}trPr/{_W}tblHeader"))


def _all_bold(row: _Element) -> bool:
    runs = [run for run in row.iter(_R) if "".join(t.text or "" for t in run.iter(_W + "t")).strip()]
    return bool(runs) and all(_on(run.find(f"{_W}rPr/{_W}b")) for run in runs)


# An on/off attribute (w:firstRow, w:default) that is set: absent or any other value is off.
_ON_VALUES = ("1", "true", "on")


def _header_row_on(table: _Element) -> bool:
    """Table Design's "Header Row" option (w:tblLook), in its attribute or its older bit mask."""
    look = table.find(f"{_W}tblPr/{_W}tblLook")
    if look is None:
        return False
    if look.get(_W + "firstRow") is not None:
        return look.get(_W + "firstRow") in _ON_VALUES
    try:
        return bool(int(look.get(_W + "val", "0"), 16) & 0x0020)
    except ValueError:
        return False


def _on(toggle: _Element | None) -> bool:
    """A WordprocessingML on/off property (w:b, w:tblHeader): present and not switched off."""
    return toggle is not None and toggle.get(_W + "val", "true") not in ("0", "false", "off")


def _header_row_styles(document) -> frozenset[str]:
    """The ids of the table styles that set a first row apart (bold or shaded), following each
    style's "based on" chain: with the "Header Row" option on, that row is the header."""
    styles = _styles(document, "table")

    def marks_first_row(style: _Element) -> bool | None:
        for conditional in style.iter(_W + "tblStylePr"):
            if conditional.get(_W + "type") == "firstRow" and (
                    _on(conditional.find(f"{_W}rPr/{_W}b")) or conditional.find(f"{_W}tcPr/{_W}shd") is not None):
                return True
        return None  # not this style: perhaps the one it is based on

    return frozenset(style_id for style_id, marked in _through_based_on(styles, marks_first_row).items() if marked)


def _int_value(element: _Element, path: str, default: int) -> int:
    found = element.find(path)
    try:
        return max(int(found.get(_W + "val", default)), 0) if found is not None else default
    except ValueError:  # a damaged value: read as if it were absent
        return default


def cell_text(cell: _Element, reading: _Reading) -> str:
    """A cell's (w:tc) paragraphs, and the rows of any table nested in it, on one line."""
    return " ".join(" ".join(text for text, _ in _blocks(cell, reading)).split())


def heading_level(style: str) -> int:
    """A heading style's level: "Heading 2" is 2, "Title" 0 (above every heading)."""
    found = _HEADING_STYLE.fullmatch(style.strip())
    return int(found.group(1)) if found else 0


def is_heading_style(style: str) -> bool:
    return bool(_HEADING_STYLE.fullmatch(style.strip()) or _TITLE_STYLE.fullmatch(style.strip()))


class _ParagraphStyles:
    """Paragraph style names by style id, read once (python-docx looks each paragraph's style up
    among all styles, most of the time spent on a long document). A paragraph without a style, or
    with one the styles part lacks, has the default paragraph style, as Word shows it."""

    def __init__(self, document) -> None:
        self.names: dict[str, str] = {}
        self.default = ""
        try:
            styles = _styles(document, "paragraph")
        except Exception:  # no styles part: every paragraph is body text
            return
        for style_id, style in styles.items():
            self.names[style_id] = _attr(style.find(f"{_W}name"), "")
            if style.get(_W + "default") in _ON_VALUES:
                self.default = self.names[style_id]

    def of(self, paragraph: _Element | None) -> str:
        mark = paragraph.find(f"{_W}pPr/{_W}pStyle") if paragraph is not None else None
        return self.names.get(_attr(mark, ""), self.default) if mark is not None else self.default


_NOTE_REFERENCES = {_W + "footnoteReference": "footnote", _W + "endnoteReference": "endnote"}


class Notes:
    """Footnotes and endnotes, marked as Word marks them by default: footnotes 1, 2, 3 and
    endnotes i, ii, iii, in the order the text first refers to them."""

    def __init__(self, document) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        self._notes: dict[str, dict[str, _Element]] = {
            "footnote": _note_elements(document, RT.FOOTNOTES, "footnote"),
            "endnote": _note_elements(document, RT.ENDNOTES, "endnote")}
        self._marks: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}  # notes of each kind marked so far
        self._referenced: list[tuple[str, str]] = []  # (kind, id) referred to, not yet taken

    def refer(self, kind: str, note_id: str) -> str:
        """The mark of a reference to this note ("" for a note the file lacks)."""
        if note_id not in self._notes[kind]:
            return ""
        key = (kind, note_id)
        if key not in self._marks:
            self._counts[kind] = count = self._counts.get(kind, 0) + 1
            self._marks[key] = str(count) if kind == "footnote" else list_number(count, "i")
            self._referenced.append(key)
        return self._marks[key]

    def take_referenced(self, reading: _Reading) -> Iterator[str]:
        """The text of each note referred to since the last call, after its mark, on one line."""
        referenced, self._referenced = self._referenced, []
        for key in referenced:
            text = " ".join(t.strip() for t, _ in _blocks(self._notes[key[0]][key[1]], reading) if t.strip())
            if text:
                yield f"[{self._marks[key]}] {text}"


def _note_elements(document, relationship: str, tag: str) -> dict[str, _Element]:
    """The document's notes of one kind by id, less Word's separators."""
    from docx.oxml import parse_xml

    try:
        root = parse_xml(document.part.part_related_by(relationship).blob)
    except (KeyError, ValueError, SyntaxError):  # no such part, or a damaged one: no notes
        return {}
    return {note.get(_W + "id", ""): note for note in root.iter(_W + tag)
            if note.get(_W + "type") not in ("separator", "continuationSeparator", "continuationNotice")}


# A header or footer line that holds only a page number ("Page 3 of 12", "- 3 -", "Page  of " from
# fields never updated; not "2024", a year).
_PAGE_NUMBER_TEXT = page_number_line(most_digits=3, unfilled_fields=True)


def _header_footer_texts(document, reading: _Reading) -> Iterator[str]:
    """The text of the sections' page headers and footers, each once, less page numbers."""
    seen: set[str] = set()
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.even_page_header,
                     section.footer, section.first_page_footer, section.even_page_footer):
            if part.is_linked_to_previous:
                continue
            for text, _ in _blocks(part.part.element, reading):
                text = text.strip()
                if text and text not in seen and not _PAGE_NUMBER_TEXT.fullmatch(text):
                    seen.add(text)
                    yield text


def _core_title(document) -> str:
    try:
        return " ".join((document.core_properties.title or "").split())
    except Exception:  # a damaged properties part only costs the title
        return ""
