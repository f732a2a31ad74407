"""Word (.docx) files as reader-visible text, through python-docx's XML tree.

Paragraphs and tables are read in document order. Heading styles ("Heading 1" to "Heading 9",
and "Title") start sections, so citations name the section; a table row becomes one line of its
cells joined by " | "; list items stay one line each.

The text is the final document's, as Word shows it with tracked changes accepted: insertions and
moved-to text are in, deletions and moved-from text are out. Content controls, hyperlinks, smart
tags, custom XML and simple fields show their content in place; python-docx's own `.text` and
`iter_inner_content()` skip all of these, so the document's XML is walked here instead. A text
box's paragraphs follow the paragraph that anchors it.

A .docx has no lines of its own, so the line a citation names is the paragraph ("paragraph 3"): body
paragraphs (those in block content controls and text boxes too) are counted from 1 in document
order, empty ones included (as Word shows them with formatting marks on), and each table row
counts as one paragraph. A paragraph whose mark is a tracked deletion joins the next one.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.ingest.parsing import ParsedText, _Builder

if TYPE_CHECKING:
    from lxml.etree import _Element

# The signature of an OLE compound file: Word keeps a password-protected .docx (and an old .doc)
# in one; an encrypted one holds a stream of this name.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
# A .docx is a zip: a small file may unpack to gigabytes of XML, so its unpacked size is capped.
MAX_UNPACKED_MB = 200
_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"title", re.IGNORECASE)


def parse_docx(raw: bytes) -> ParsedText:
    """Raises ValueError with a one-line reason for an encrypted, damaged or non-Word file."""
    check_docx_container(raw)
    document = _open(raw)
    b = _Builder()
    style_title = ""
    for number, (text, style) in enumerate(docx_blocks(document), start=1):
        heading = bool(text) and is_heading_style(style)
        if heading and not style_title and _TITLE_STYLE.fullmatch(style.strip()):
            style_title = text
        if text:
            b.add(text, number, heading=heading)
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
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"not a readable .docx ({detail})") from None


def docx_blocks(document) -> Iterator[tuple[str, str]]:
    """(text, paragraph style name) per paragraph and per table row, in document order."""
    from docx.text.paragraph import Paragraph

    for text, paragraph in _blocks(document.element.body):
        yield text.rstrip(), (_style_name(Paragraph(paragraph, document)) if paragraph is not None else "")


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


def _blocks(container: _Element) -> Iterator[tuple[str, _Element | None]]:
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
            yield from _boxes_blocks(boxes)
            boxes = []
            for row in _table_rows(element):
                yield row, None
            continue
        carried += _paragraph_text(element, boxes)
        carried_from = element
        if not any(element.find(path) is not None for path in _DELETED_MARK):
            yield carried, element
            carried, carried_from = "", None
            yield from _boxes_blocks(boxes)
            boxes = []
    if carried:
        yield carried, carried_from
    yield from _boxes_blocks(boxes)


def _boxes_blocks(boxes: list[_Element]) -> Iterator[tuple[str, _Element | None]]:
    for box in boxes:
        yield from _blocks(box)


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


def _paragraph_text(paragraph: _Element, boxes: list[_Element]) -> str:
    """The paragraph's visible text; the text boxes anchored in it are added to `boxes`."""
    parts: list[str] = []
    for run in _contents(paragraph, frozenset((_R,))):
        _run_text(run, parts, boxes)
    return "".join(parts)


def _run_text(run: _Element, parts: list[str], boxes: list[_Element]) -> None:
    """Appends what a run shows, as python-docx's `.text` renders it: a tab as a tab, a line break
    as a newline, a page or column break as nothing; field codes (w:instrText) stay hidden."""
    for child in run:
        tag = child.tag
        if tag == _W + "t":
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
                _run_text(branch, parts, boxes)
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


def _table_rows(table: _Element) -> Iterator[str]:
    """Each row's cells joined by " | ", deleted rows left out. A cell merged across columns is
    shown once; one merged down rows repeats its text in each row, so every row reads whole."""
    above: dict[int, _Element] = {}  # grid column -> the cell holding the text there, last row
    for row in _contents(table, frozenset((_TR,))):
        if any(row.find(path) is not None for path in _DELETED_ROW):
            continue
        column = _int_value(row, f"{_W}trPr/{_W}gridBefore", 0)
        here: dict[int, _Element] = {}
        cells = []
        for cell in _contents(row, frozenset((_TC,))):
            shown = cell
            merge = cell.find(f"{_W}tcPr/{_W}vMerge")
            if merge is not None and merge.get(_W + "val", "continue") == "continue":
                shown = above.get(column, cell)  # a continued vertical merge: the text is above
            here[column] = shown
            cells.append(cell_text(shown))
            column += _int_value(cell, f"{_W}tcPr/{_W}gridSpan", 1)
        above = here
        yield " | ".join(cells).strip()


def _int_value(element: _Element, path: str, default: int) -> int:
    found = element.find(path)
    try:
        return max(int(found.get(_W + "val", default)), 0) if found is not None else default
    except ValueError:  # a damaged value: read as if it were absent
        return default


def cell_text(cell: _Element) -> str:
    """A cell's (w:tc) paragraphs, and the rows of any table nested in it, on one line."""
    return " ".join(" ".join(text for text, _ in _blocks(cell)).split())


def is_heading_style(style: str) -> bool:
    return bool(_HEADING_STYLE.fullmatch(style.strip()) or _TITLE_STYLE.fullmatch(style.strip()))


def _style_name(paragraph) -> str:
    try:
        style = paragraph.style
    except Exception:  # a style id the styles part does not define: treated as body text
        return ""
    return (style.name or "") if style is not None else ""


def _core_title(document) -> str:
    try:
        return " ".join((document.core_properties.title or "").split())
    except Exception:  # a damaged properties part only costs the title
        return ""
