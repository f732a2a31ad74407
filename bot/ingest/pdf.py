"""PDF text reflowed into paragraphs from pdfminer.six's layout analysis: running headers and
footers dropped, headings found by size and weight, words split by a line-end hyphen joined again,
and pages kept for citations.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import first_line
from bot.ingest.page_numbers import page_number_line, running_key
from bot.ingest.parsed_text import FURNITURE_SHARE, ParsedText, Piece, TextBuilder, reads_as_header, table_row
from bot.ingest.pdf_layout import (
    CELL_MAX_CHARS, LaidLine, PdfTable, Rect, find_tables, reading_order, same_baseline, table_regions)

# A text box this much larger than the body text, or bold where the body is not, is a heading.
_PDF_HEADING_SCALE = 1.15
_PDF_HEADING_MAX_CHARS = 150
_PDF_HEADING_MAX_LINES = 3
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
# A paragraph that ends like this is complete; anything else at the foot of a page continues overleaf.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
# A bold line ending like this is a lead-in or a sentence, not a heading.
_NOT_HEADING_END = re.compile(r"[.!?:;,][\"'”’)\]]*$")
# A hyphen after a word or number, or a dash touching its word, at the end of a line ('informa-', '45-', '21–').
_HYPHEN_BREAK = re.compile(r"(?<!\w)(\w+)-$")  # tried from a word's start only: linear on a long word
_DASH_BREAK = re.compile(r"\S[–—]$")
_LEADING_WORD = re.compile(r"^([^\W\d_]+)")
_SOFT_HYPHEN = "\u00ad"
# The hyphen a browser's automatic hyphenation prints at a line's end (U+2010, after a space the
# text layer adds), after a word's first letters: "Rec ‐" / "reation".
_HYPHENATION_BREAK = re.compile(r"(?<![^\W\d_])([^\W\d_]+) ?\u2010$")
_ADDRESS = re.compile(r"@|://|^www\.")
# Typographic ligatures some PDFs map their glyphs to; a reader and a search index need the letters.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
# Running headers and footers sit in the page's top or bottom band (this share of its height).
_MARGIN_SHARE = 0.15
# A running header needs two pages at least to be told from the text (on half of them: FURNITURE_SHARE).
_FURNITURE_MIN_PAGES = 2
_PAGE_NUMBER_LINE = page_number_line()
# A footnote mark: a figure or symbol set at most this share of the line's size, raised off its
# baseline, right after a word or a sentence's end ("rates.¹"); the text layer would glue it on.
_MARK_SCALE = 0.8
_MARKS = frozenset("0123456789*†‡§")


@dataclass(frozen=True)
class PdfLine:
    text: str  # whitespace collapsed
    page: int  # 1-based
    number: int  # 1-based position among the page's text lines, in reading order


@dataclass
class PdfBlock:
    """One text box of pdfminer's layout analysis: a paragraph, a heading, a caption."""

    lines: list[PdfLine]
    size: float  # the font size most of its characters have
    bold: bool  # every character is set in a bold face
    chars: int
    bottom: float  # height of the box's lower edge on the page, in points
    top: float  # and of its upper edge
    in_margin: bool = False  # inside the page's top or bottom band, where running headers sit

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


@dataclass(frozen=True)
class PdfBody:
    """The style of the running text, against which headings stand out."""

    size: float
    bold: bool


class PdfWords:
    """Decides whether a hyphen at a line end was put there by line breaking or is part of the word."""

    def __init__(self, lines: Sequence[str], known: frozenset[str]) -> None:
        text = "\n".join(lines).lower()
        self.words = set(re.findall(r"[^\W\d_]+", text))
        self.compounds = set(re.findall(r"(?<![^\W\d_])[^\W\d_]+(?:-[^\W\d_]+)+", text))
        self.known = known

    def joins(self, left: str, right: str) -> bool:
        """True when `left-` / `right` is one word split by the line break ('informa-' / 'tion')."""
        if not right[:1].islower():
            return False  # 'Franco-' / 'Prussian', 'COVID-' / '19': a real hyphen
        joined, hyphenated = (left + right).lower(), f"{left}-{right}".lower()
        if hyphenated in self.compounds:
            return False
        if joined in self.words or joined in self.known:
            return True
        # Two whole words ('well-' / 'known') make a compound; a fragment ('informa') does not.
        return not (left.lower() in self.known and right.lower() in self.known)


@functools.lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Whole words of the packaged embedder's vocabulary: a word list that ships with the bot."""
    from bot.model_paths import DEFAULT_EMBEDDING_MODEL, packaged_model_dir

    try:
        folder = packaged_model_dir(DEFAULT_EMBEDDING_MODEL)
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split() if folder else []
    except Exception:  # without the list, joining falls back to the document's own words
        return frozenset()
    return frozenset(w for w in vocab if w.isalpha() and len(w) > 1)


NO_TEXT_LAYER = "no text layer (a scanned or image-only PDF; run OCR on it first)"


def parse_pdf(source: Path | bytes) -> ParsedText:
    """Paragraphs reflowed from the layout, headings from font size or weight, pages kept.

    source: the file, or its bytes (an upload is read before it is written to the corpus).
    Raises ValueError with a one-line reason for an unreadable, encrypted or image-only file.
    """
    pages, blocks = read_pdf_blocks(source)
    # A scan may carry a stamped page number or running header as its only text: that is no
    # text layer either, so the check comes after such page furniture is dropped.
    blocks = drop_page_furniture(blocks, pages)
    if not blocks:
        raise ValueError(NO_TEXT_LAYER)
    body = pdf_body_style(blocks)
    words = PdfWords([line.text for block in blocks for line in block.lines], known_words())
    b = TextBuilder()
    for paragraph, heading in pdf_paragraphs(blocks, body):
        for item in [paragraph] if heading else list_items(paragraph):
            b.add_pieces(reflow(item, words), heading=heading)
    return b.finish(pages)


def read_pdf_blocks(source: Path | bytes) -> tuple[int, list[PdfBlock]]:
    """(page count, text boxes in reading order) from pdfminer.six's layout analysis."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    check_page_contents(source)
    blocks: list[PdfBlock] = []
    pages = 0
    try:
        # all_texts: text drawn inside form objects (figures) is laid out and kept too.
        pdf = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        for pages, layout in enumerate(extract_pages(pdf, laparams=LAParams(all_texts=True)), start=1):
            blocks.extend(_page_blocks(layout, pages))
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ValueError("encrypted PDF (it needs a password)") from None
    except Exception as exc:  # pdfminer raises many kinds on damaged files; the reason is what matters
        detail = first_line(exc)
        raise ValueError(f"not a readable PDF ({detail})") from None
    return pages, blocks


# A page whose drawing instructions unpack to more than this, or a file whose pages do, is no
# document to read: the layout analysis takes some 4–9 s per MB, so a 50 KB file unpacking to 50 MB
# held indexing for minutes. (A page of dense text is some 50–200 KB.)
MAX_PAGE_CONTENT_MB = 2
MAX_FILE_CONTENT_MB = 64


def check_page_contents(source: Path | bytes) -> None:
    """ValueError when a page's content, with the forms it draws as often as it draws them, unpacks
    to over MAX_PAGE_CONTENT_MB, or all pages' to over MAX_FILE_CONTENT_MB (measured with pypdf, which unpacks in C and stops at its own
    limit). A file pypdf cannot open, or a page it cannot read, is left to pdfminer, whose reason
    for refusing it is the one the user sees."""
    import pypdf
    from pypdf.errors import LimitReachedError

    limit = MAX_PAGE_CONTENT_MB * 1024 * 1024
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its complaints about a damaged file are not ours
    try:
        reader = pypdf.PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
        pages = [] if reader.is_encrypted else reader.pages
    except Exception:
        return
    memo: dict[int, int] = {}
    total = 0
    for index in range(len(pages)):
        try:
            page = pages[index]
            contents = page.get_contents()
            size = _drawn_size(_unpacked(contents), page.get("/Resources"), limit, 0, memo) if contents is not None else 0
        except LimitReachedError:
            size = limit + 1
        except Exception:  # a damaged page
            continue
        total += size
        if size > limit or total > MAX_FILE_CONTENT_MB * 1024 * 1024:
            where = f"a page unpacks to over {MAX_PAGE_CONTENT_MB}" if size > limit else \
                f"its pages unpack to over {MAX_FILE_CONTENT_MB}"
            raise ValueError(f"not a readable PDF ({where} MB of drawing instructions)")


_DRAW = re.compile(rb"/([^\s/<>\[\](){}%]+)\s+Do\b")  # "/X1 Do": draw the form named X1
_MAX_FORM_DEPTH = 20


def _drawn_size(data: bytes, resources, limit: int, depth: int, memo: dict[int, int]) -> int:
    """The unpacked size of a content stream and of the forms it draws, each form as often as it is
    drawn (its text is laid out each time); counting stops past `limit`."""
    from pypdf.generic import DictionaryObject, StreamObject

    total = len(data)
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if total > limit or not isinstance(xobjects, DictionaryObject):
        return total
    draws = Counter(m.group(1).decode("latin-1") for m in _DRAW.finditer(data))
    for name, count in draws.items():
        form = xobjects.get("/" + name)
        form = form.get_object() if form is not None else None
        if not isinstance(form, StreamObject) or form.get("/Subtype") != "/Form":
            continue
        if depth >= _MAX_FORM_DEPTH:
            return limit + 1  # forms drawn within forms this deep are no document to read
        if id(form) not in memo:
            memo[id(form)] = 0  # a form that draws itself adds nothing more
            memo[id(form)] = _drawn_size(_unpacked(form), form.get("/Resources"), limit, depth + 1, memo)
        total += count * memo[id(form)]
        if total > limit:
            return total
    return total


def _unpacked(stream) -> bytes:
    """A stream's unpacked bytes, not kept by pypdf afterwards (a page's forms would fill memory)."""
    data = stream.get_data()
    if hasattr(stream, "decoded_self"):
        stream.decoded_self = None
    return data


def _page_blocks(layout, page: int) -> list[PdfBlock]:
    """The page's text boxes as blocks, in reading order (`pdf_layout.reading_order`); a table's
    rows are blocks of their own, one line each, where the table's first line was."""
    from pdfminer.layout import LTChar, LTTextLine

    boxes: list[list[_LineChars]] = []
    number = 0
    for box in _text_boxes(layout):
        entries = []
        lines = _left_to_right([line for line in box if isinstance(line, LTTextLine)])
        justified = _justified(lines)
        for line in lines:
            marks = _footnote_marks(line)
            text = clean_pdf_line("".join(item.get_text() for k, item in enumerate(line) if k not in marks))
            if not text:
                continue
            number += 1
            chars = [c for c in line if isinstance(c, LTChar) and not c.get_text().isspace()]
            bold = bool(chars) and all(_BOLD_FONT.search(c.fontname or "") for c in chars)
            laid = LaidLine(number, text, line.x0, line.x1, line.y0, line.y1, bold)
            entries.append(_LineChars(laid, chars, [laid] if justified else _cut_at_wide_gaps(line, laid, marks)))
        boxes += _split_at_style_changes(entries)
    boxes = _in_reading_order(boxes)
    chars_of = {entry.line.index: entry.chars for entries in boxes for entry in entries}
    table_of = {line.index: table for table in _find_page_tables(boxes)
                for row in table.rows for cell in row for line in cell}
    blocks: list[PdfBlock] = []
    written: list[PdfTable] = []
    for entries in boxes:
        segment: list[_LineChars] = []
        for entry in entries:
            table = table_of.get(entry.line.index)
            if table is None:
                segment.append(entry)
                continue
            blocks += _block(segment, page, layout)
            segment = []
            if not any(t is table for t in written):
                written.append(table)
                blocks += _table_blocks(table, chars_of, page, layout)
        blocks += _block(segment, page, layout)
    return blocks


def _split_at_style_changes(entries: list[_LineChars]) -> list[list[_LineChars]]:
    """A box cut around a few lines set larger, or in bold over regular text, at its top or after
    a line that ends a sentence: the layout analysis may put an 18 pt title, or a heading, in one
    box with paragraphs. A bold line inside a sentence stays in it."""
    if not entries:
        return []
    styles = [_line_style(entry) for entry in entries]
    runs: list[tuple[int, int]] = []  # (start, end) of each run of lines of one style
    for k in range(len(entries)):
        if runs and styles[k] == styles[runs[-1][0]]:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
    cuts: set[int] = set()
    for n, (start, end) in enumerate(runs):
        around = [styles[runs[m][0]] for m in (n - 1, n + 1) if 0 <= m < len(runs)]
        after_sentence = start == 0 or _SENTENCE_END.search(entries[start - 1].line.text)
        if around and end - start <= _PDF_HEADING_MAX_LINES and after_sentence and \
                all(_stands_out(styles[start], other) for other in around):
            cuts |= {start, end}
    bounds = [0, *sorted(cut for cut in cuts if 0 < cut < len(entries)), len(entries)]
    return [entries[i:j] for i, j in zip(bounds, bounds[1:])]


def _stands_out(style: tuple[float, bool], other: tuple[float, bool]) -> bool:
    (size, bold), (other_size, other_bold) = style, other
    return size >= other_size * _PDF_HEADING_SCALE or (bold and not other_bold and size >= other_size * 0.95)


def _line_style(entry: _LineChars) -> tuple[float, bool]:
    return _main_size(entry.chars), entry.line.bold


def _main_size(chars: Sequence) -> float:
    """The font size most of the characters have, to a tenth of a point (0 for none)."""
    sizes = Counter(round(c.size, 1) for c in chars)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _in_reading_order(boxes: list[list[_LineChars]]) -> list[list[_LineChars]]:
    if len(boxes) < 2:
        return boxes
    try:
        order = reading_order(_rects(boxes), _line_height(boxes))
    except RecursionError:  # boxes nested hundreds deep: the layout analysis's own order
        return boxes
    return [boxes[i] for i in order]


def _find_page_tables(boxes: list[list[_LineChars]]) -> list[PdfTable]:
    """The page's tables, each looked for within one region (`pdf_layout.table_regions`)."""
    if not boxes:
        return []
    prose = [any(len(piece.text) > CELL_MAX_CHARS for e in box for piece in e.segments) for box in boxes]
    return [table for region in table_regions(_rects(boxes), _line_height(boxes), prose)
            for table in find_tables([piece for i in region for e in boxes[i] for piece in e.segments])]


def _rects(boxes: list[list[_LineChars]]) -> list[Rect]:
    return [Rect(min(e.line.x0 for e in box), min(e.line.y0 for e in box),
                 max(e.line.x1 for e in box), max(e.line.y1 for e in box)) for box in boxes]


def _line_height(boxes: list[list[_LineChars]]) -> float:
    return statistics.median(e.line.height for box in boxes for e in box)


@dataclass(frozen=True)
class _LineChars:
    line: LaidLine
    chars: list  # its pdfminer LTChar objects, spaces left out
    segments: list[LaidLine]  # the line cut where a table's cells meet (`_cut_at_wide_gaps`)


# A gap this wide (in ems of the type) inside a line is no word space: the layout analysis joined
# two cells of a table row ("Check they spin freely" + "6 months") into one line. Justified text,
# whose word gaps are stretched, is not cut (`_justified`).
_CELL_GAP_EM = 0.7
# Lines of justified prose hold this many words at least, on average (a table of figures, each
# right-aligned, also starts and ends its lines at the same places).
_PROSE_WORDS = 5


def _left_to_right(lines: list) -> list:
    """A box's lines in reading order: lines on one baseline (justified text the layout analysis cut
    at its stretched gaps) from left to right."""
    out: list = []
    for line in lines:
        k = len(out)
        # The pieces of one cut line are of one height: the placed line's own sets how close.
        while k > 0 and same_baseline(out[k - 1], line, max(line.height, 1.0), inclusive=False) \
                and out[k - 1].x0 > line.x0:
            k -= 1
        out.insert(k, line)
    return out


def _justified(lines: list) -> bool:
    """Whether a box's lines are set justified: all but the last start and end at the same places,
    and hold words enough to be prose (its word gaps are then stretched, and wide ones join no cells)."""
    body = lines[:-1]
    return len(body) >= 2 and max(line.x0 for line in body) - min(line.x0 for line in body) < 1.0 \
        and max(line.x1 for line in body) - min(line.x1 for line in body) < 1.0 \
        and sum(len(line.get_text().split()) for line in body) >= _PROSE_WORDS * len(body)


def _footnote_marks(line) -> set[int]:
    """The positions in `line` of its characters that are footnote marks (see `_MARKS`)."""
    from pdfminer.layout import LTChar

    items = list(line)
    chars = [c for c in items if isinstance(c, LTChar) and not c.get_text().isspace()]
    size = _main_size(chars)
    body = [c.y0 for c in chars if round(c.size, 1) == size]
    if not body:
        return set()
    baseline = statistics.median(body)
    marks: set[int] = set()
    word = ""  # the letters, or the sentence end, the mark would follow
    for k, item in enumerate(items):
        text = item.get_text() if isinstance(item, LTChar) else " "
        if (text in _MARKS and item.size <= size * _MARK_SCALE and item.y0 > baseline + size * 0.15
                and (len(word) >= 3 or (word and word[-1] in ".,;:)"))):  # not "km²" after a short unit, nor "10⁶"
            marks.add(k)
            continue
        # A sentence's end counts after a figure too: "extension 4410.²" (but not "10⁶").
        word = word + text if text.isalpha() or text in ".,;:)" else ""
    return marks


def _cut_at_wide_gaps(line, laid: LaidLine, marks: set[int]) -> list[LaidLine]:
    """The line in the pieces that wide gaps separate, each where it sits (one piece for most)."""
    from pdfminer.layout import LTChar

    pieces: list[tuple[list[str], float, float]] = []
    previous = None
    for k, item in enumerate(line):  # footnote marks (`_footnote_marks`) left out
        if k in marks:
            continue
        if isinstance(item, LTChar):
            if previous is None or item.x0 - previous.x1 > _CELL_GAP_EM * max(previous.size, 1.0):
                pieces.append(([], item.x0, item.x1))
            pieces[-1][0].append(item.get_text())
            pieces[-1] = (pieces[-1][0], pieces[-1][1], item.x1)
            previous = item
        elif pieces:  # the layout analysis's own space between words
            pieces[-1][0].append(item.get_text())
    if len(pieces) < 2:
        return [laid]
    texts = [clean_pdf_line("".join(parts)) for parts, _, _ in pieces]
    return [replace(laid, text=text, x0=x0, x1=x1) for text, (_, x0, x1) in zip(texts, pieces) if text]


def _block(entries: Sequence[_LineChars], page: int, layout, row: str | None = None) -> list[PdfBlock]:
    """The lines of one box (or of the part of it outside a table) as a block, if they have text;
    or, given a table's row as text, that row as a block of one line."""
    chars = [c for entry in entries for c in entry.chars]
    if not entries or not chars:
        return []
    size = _main_size(chars)
    bottom, top = min(e.line.y0 for e in entries), max(e.line.y1 for e in entries)
    band = layout.height * _MARGIN_SHARE
    in_margin = bottom >= layout.y1 - band or top <= layout.y0 + band
    if row is not None:
        first = min(e.line.index for e in entries)
        return [PdfBlock([PdfLine(row, page, first)], size, False, len(chars), round(bottom, 1), round(top, 1),
                         in_margin)]
    bold = all(entry.line.bold for entry in entries if entry.chars)
    lines = [PdfLine(e.line.text, page, e.line.index) for e in entries]
    return [PdfBlock(lines, size, bold, len(chars), round(bottom, 1), round(top, 1), in_margin)]


def _table_blocks(table: PdfTable, chars_of: dict[int, list], page: int, layout) -> list[PdfBlock]:
    """Each row of a table as a one-line block written by `table_row`: "Oban - Craignure —
    Departs: 07:45; Adult fare: £4.20." A header row (set in bold, or plainly column names) is no
    row of its own but names the columns of the rows below it."""
    texts = [[_cell_text(cell) for cell in row] for row in table.rows]
    by_column = [{k: text for k, text in enumerate(row) if text} for row in texts]
    header = texts[0] if table.bold_header or reads_as_header(by_column[0], by_column[1:]) else None
    blocks = []
    for row, row_texts in zip(table.rows[1:] if header else table.rows, texts[1:] if header else texts):
        first = min(line.index for cell in row for line in cell)
        text = "".join(p.text for p in table_row([[Piece(t, first, page)] for t in row_texts], header))
        lines = {line.index: line for cell in row for line in cell}  # a line cut into cells counts once
        blocks += _block([_LineChars(line, chars_of[k], [line]) for k, line in sorted(lines.items())], page, layout, text)
    return blocks


def _cell_text(lines: Sequence[LaidLine]) -> str:
    """A table cell's lines as one text, a word a browser hyphenated across them joined ("Capa ‐" /
    "city": "Capacity")."""
    text = ""
    for line in lines:
        broken = _HYPHENATION_BREAK.search(text)
        text = (text[:broken.start()] + broken.group(1) + line.text if broken and line.text[:1].islower()
                else f"{text} {line.text}".strip())
    return text


def _text_boxes(container) -> Iterator:
    """Text boxes in layout order, including those inside figures."""
    from pdfminer.layout import LTContainer, LTTextBox

    for item in container:
        if isinstance(item, LTTextBox):
            yield item
        elif isinstance(item, LTContainer):
            yield from _text_boxes(item)


def clean_pdf_line(text: str) -> str:
    """Whitespace collapsed, ligatures spelled out, soft hyphens dropped except one ending the line."""
    text = re.sub(r"\s+", " ", text.translate(_LIGATURES)).strip()
    if text.endswith(_SOFT_HYPHEN):
        return text[:-1].replace(_SOFT_HYPHEN, "") + _SOFT_HYPHEN
    return text.replace(_SOFT_HYPHEN, "")


def drop_page_furniture(blocks: Sequence[PdfBlock], pages: int) -> list[PdfBlock]:
    """Without running headers and footers (titles, dates, page numbers), which would otherwise
    split every paragraph that runs over a page break."""
    blocks = [b for b in blocks if not (b.in_margin and _PAGE_NUMBER_LINE.fullmatch(b.text))]
    if pages < _FURNITURE_MIN_PAGES:
        return blocks
    pages_with: dict[tuple[float, str], set[int]] = {}
    for block in blocks:
        if block.in_margin:
            pages_with.setdefault(_furniture_key(block), set()).add(block.lines[0].page)
    needed = max(_FURNITURE_MIN_PAGES, pages * FURNITURE_SHARE)
    return [b for b in blocks if not b.in_margin or len(pages_with[_furniture_key(b)]) < needed]


def _furniture_key(block: PdfBlock) -> tuple[float, str]:
    """The same place and the same words on every page, page numbers aside."""
    return round(block.bottom), running_key(block.text, block.lines[0].page)


def pdf_body_style(blocks: Sequence[PdfBlock]) -> PdfBody:
    """The size and weight most characters of the document have (12 pt regular if it has none)."""
    sizes: Counter[float] = Counter({12.0: 0})
    bold_chars = 0
    for block in blocks:
        sizes[block.size] += block.chars
        bold_chars += block.chars if block.bold else 0
    return PdfBody(sizes.most_common(1)[0][0], bold_chars * 2 > sum(sizes.values()))


def is_pdf_heading(block: PdfBlock, body: PdfBody) -> bool:
    """A short box set larger than the body text, or in bold where the body is not."""
    text = block.text
    if len(block.lines) > _PDF_HEADING_MAX_LINES or len(text) > _PDF_HEADING_MAX_CHARS:
        return False
    if sum(ch.isalpha() for ch in text) < 2:
        return False
    if block.size >= body.size * _PDF_HEADING_SCALE:
        return True
    return _stands_out((block.size, block.bold), (body.size, body.bold)) and not _NOT_HEADING_END.search(text)


def pdf_paragraphs(blocks: Sequence[PdfBlock], body: PdfBody) -> Iterator[tuple[list[PdfLine], bool]]:
    """(lines, is heading) per paragraph. A paragraph cut by a page or column break is joined again
    (`_continues_overleaf`), and so is a heading wrapped into a box of its own (`_heading_wraps_into`)."""
    current: list[PdfLine] = []
    current_block: PdfBlock | None = None
    current_heading = False
    for block in blocks:
        heading = is_pdf_heading(block, body)
        if current_block is not None and heading == current_heading and (
                _heading_wraps_into(current_block, block) if heading
                else _continues_overleaf(current_block, current[-1], block)):
            current.extend(block.lines)
        else:
            if current:
                yield current, current_heading
            current = list(block.lines)
        current_block, current_heading = block, heading
    if current:
        yield current, current_heading


def _heading_wraps_into(previous: PdfBlock, block: PdfBlock) -> bool:
    """Whether heading box `block` is the next line of heading box `previous`, wrapped ("Employee
    Handbook: Leave, Hours and Expenses" / "Policy"): the same size and weight, right below it on
    the same page at the spacing of lines, after a line that ends no sentence."""
    return (abs(block.size - previous.size) < 0.5 and block.bold == previous.bold
            and block.lines[0].page == previous.lines[-1].page
            and 0 <= previous.bottom - block.top <= _NEXT_LINE_GAP * previous.size
            and not _NOT_HEADING_END.search(previous.lines[-1].text)
            and len(previous.lines) + len(block.lines) <= _PDF_HEADING_MAX_LINES)


# A list item's mark at the start of a line: a bullet, or a number or letter with "." or ")". (A
# dash is left out: "–" starting a wrapped line is as often the sentence's own.)
_ITEM_START = re.compile(r"^(?:[•▪◦‣●■]\s|\(?(?:\d{1,3}|[a-z])[.)]\s+\S)")


def list_items(lines: list[PdfLine]) -> Iterator[list[PdfLine]]:
    """A paragraph's lines cut where a list item starts: the layout analysis may put a whole
    numbered list in one box, and run together, "2. Rainfall too low. … 3. Wind direction wrong."
    reads as one item. A number starts an item only after a line that ends a sentence or a
    lead-in (":"), so that "chapter" / "3. The index" stays one sentence."""
    current: list[PdfLine] = []
    for line in lines:
        mark = _ITEM_START.match(line.text)
        if current and mark and (mark.group().startswith(tuple("•▪◦‣●■")) or _ENDS_ITEM.search(current[-1].text)):
            yield current
            current = []
        current.append(line)
    if current:
        yield current


_NEXT_LINE_GAP = 1.0  # at most this many type sizes between a box and the box that runs on below it
_PROSE_WORDS = 4  # a line of at least this many words is prose, not a label ("Attendees") above a list
_ENDS_ITEM = re.compile(r"[.!?:;][\"'”’)\]]*$")


def _continues_overleaf(previous: PdfBlock, last_line: PdfLine, block: PdfBlock) -> bool:
    """Whether a paragraph runs on from `previous` into `block`: the next page's first box, or the
    next column's (a box set higher up the same page) or the box right below that starts in lower
    case, in the same type size, after a line that ends no sentence. Right below, a line of prose
    (a few words) also runs on into a capital: at wide line spacing each line is a box of its own,
    and a name may wrap ("message Declan" / "Moorcroft to sign up")."""
    if abs(block.size - previous.size) >= 0.5 or _SENTENCE_END.search(last_line.text):
        return False
    if block.lines[0].page == last_line.page + 1:
        return True
    same_page = block.lines[0].page == last_line.page
    next_column = same_page and block.top > previous.top
    # A list item's hanging indent can put its wrapped lines in a box of their own, right below.
    next_line = same_page and 0 <= previous.bottom - block.top <= _NEXT_LINE_GAP * previous.size
    if block.lines[0].text[:1].islower():
        return next_column or next_line
    # A figure starting the next box is a table's next row as often as prose ("6 to 12 months").
    return (next_line and block.lines[0].text[:1].isupper() and not block.bold
            and len(last_line.text.split()) >= _PROSE_WORDS)


def reflow(lines: Sequence[PdfLine], words: PdfWords) -> list[Piece]:
    """One paragraph from wrapped lines, each line a piece that keeps its page and line number."""
    following = [line.text for line in lines[1:]] + [None]
    return [Piece(wrapped_line_end(line.text, nxt, words), line.number, line.page)
            for line, nxt in zip(lines, following)]


def wrapped_line_end(text: str, following: str | None, words: PdfWords) -> str:
    """A line as it runs into the next: a space at the wrap; nothing after a hyphen or a dash that
    touches its word ('well-known', '21–10'); and the hyphen itself dropped where the line break
    split a word ('informa-' + 'tion')."""
    if text.endswith(_SOFT_HYPHEN):  # marks a break inside a word by definition
        return text[:-1]
    if following is None:
        return text
    hyphenated = _HYPHENATION_BREAK.search(text)
    start = _LEADING_WORD.match(following)
    if hyphenated is not None and start is not None and words.joins(hyphenated.group(1), start.group(1)):
        return text[:hyphenated.end(1)]  # as a line-break hyphen is: "Monday ‐" / "Friday" keeps it
    if _DASH_BREAK.search(text):
        return text
    end = _HYPHEN_BREAK.search(text)
    if end is None:
        return text + " "
    if _ADDRESS.search(text.rsplit(None, 1)[-1]):
        return text  # "support@aquila-" / "instruments.example": an address keeps its hyphens
    start = _LEADING_WORD.match(following)
    if start is not None and end.group(1).isalpha() and words.joins(end.group(1), start.group(1)):
        return text[:-1]
    return text
