"""Word (.docx) files as reader-visible text, through python-docx.

Paragraphs and tables are read in document order. Heading styles ("Heading 1" to "Heading 9",
and "Title") start sections, so citations name the section; a table row becomes one line of its
cells joined by " | "; list items stay one line each.

A .docx has no lines of its own, so the "line" a citation names is the paragraph number: body
paragraphs are counted from 1 in document order, empty ones included (as Word shows them with
formatting marks on), and each table row counts as one paragraph.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from bot.ingest.parsing import ParsedText, _Builder

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
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                yield table_row_text(row), ""
        else:
            yield item.text.rstrip(), _style_name(item)


def table_row_text(row) -> str:
    """The row's cells joined by " | "; a cell merged across columns is shown once."""
    cells = []
    previous = None
    for cell in row.cells:
        if previous is not None and cell._tc is previous._tc:  # the same cell spanning a further column
            continue
        previous = cell
        cells.append(cell_text(cell))
    return " | ".join(cells).strip()


def cell_text(cell) -> str:
    """A cell's paragraphs, and the rows of any table nested in it, on one line."""
    from docx.table import Table

    parts = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            parts += [table_row_text(row) for row in item.rows]
        else:
            parts.append(item.text)
    return " ".join(" ".join(parts).split())


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
