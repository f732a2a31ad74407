"""Write minimal valid PDFs for tests: a page is one line of 12 pt text, or a list of TextLine
laid out top to bottom (size, weight and the gap above each line chosen by the test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LEFT, TOP = 72, 740
LEADING = 1.25  # line height as a multiple of the font size
# The fonts use WinAnsiEncoding, with codes 1 and 2 redefined as the 'fi' and 'fl' ligature glyphs.
LIGATURE_CODES = str.maketrans({"\ufb01": "\x01", "\ufb02": "\x02"})
ENCODING = b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /fi /fl] >>"


@dataclass(frozen=True)
class TextLine:
    text: str
    size: float = 12.0
    bold: bool = False
    gap: float = 0.0  # extra space above the line, in points: a paragraph break
    at: float | None = None  # a fixed height on the page instead (points from the bottom), as footers have
    x: float = LEFT  # where the line starts (points from the left): a table's cells share a height
    mark: str = ""  # set after the text small and raised, as a footnote mark is


def text_width(text: str, size: float, bold: bool = False) -> float:
    """How wide `text` is set in the helper's Helvetica, in points (the font's own metrics)."""
    from pdfminer.fontmetrics import FONT_METRICS

    widths = FONT_METRICS["Helvetica-Bold" if bold else "Helvetica"][1]
    return sum(widths.get(ch, 556) for ch in text) * size / 1000


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(lines: list[TextLine]) -> bytes:
    ops = []
    y = TOP
    for line in lines:
        y = line.at if line.at is not None else y - line.gap - line.size * LEADING
        font = "F2" if line.bold else "F1"
        raised = (f" /{font} {line.size * 0.6:g} Tf {line.size * 0.4:g} Ts ({_escape(line.mark)}) Tj 0 Ts"
                  if line.mark else "")
        ops.append(f"BT /{font} {line.size:g} Tf {line.x:g} {y:.2f} Td ({_escape(line.text)}) Tj{raised} ET")
    return "\n".join(ops).translate(LIGATURE_CODES).encode("cp1252")


def make_pdf(path: Path, pages: list[str | list[TextLine]]) -> None:
    objects: list[bytes] = []
    n = len(pages)
    page_ids = [5 + 2 * i for i in range(n)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{p} 0 R" for p in page_ids).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(n).encode() + b" >>")
    for font in (b"Helvetica", b"Helvetica-Bold"):
        objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /" + font + b" /Encoding " + ENCODING + b" >>")
    for i, page in enumerate(pages):
        lines = [TextLine(page)] if isinstance(page, str) else page
        stream = _content(lines)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >>"
            b" /Contents " + str(page_ids[i] + 1).encode() + b" 0 R >>"
        )
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for k, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{k} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    Path(path).write_bytes(bytes(out))
