"""How the command line and the chat page show a document's size, the time it was added, the
place a citation points to, and text cut short."""

from __future__ import annotations

import unicodedata
from datetime import datetime


def shorten(text: str, n: int) -> str:
    """The text on one line, cut at a word to at most n characters with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    return text[: n - 1].rsplit(" ", 1)[0] + "\u2026"


def size_text(n_bytes: int | None) -> str:
    """'812 B', '14.2 KB', '3.1 MB' (decimal units, as file managers show them); '?' if unknown."""
    if n_bytes is None:
        return "?"
    if n_bytes < 1000:
        return f"{n_bytes} B"
    value = float(n_bytes)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def added_text(iso: str) -> str:
    """An ISO 8601 time as 'YYYY-MM-DD HH:MM' in this machine's time zone; as given if unparsable."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or "?"
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def place_text(doc: str, page: int | None, line: int | None) -> list[str]:
    """'page 3', 'line 12': where in the document. A .docx has no lines of its own, so what it
    counts is paragraphs, and a citation says so."""
    parts = [f"page {int(page)}"] if page is not None else []
    if line is not None:
        parts.append(f"{'paragraph' if doc.lower().endswith('.docx') else 'line'} {int(line)}")
    return parts


def one_line_name(name: str) -> str:
    """A file name as one printable line: a newline or other control character in it is shown as
    its escape ("tower\\nnotes.txt"), so that terminal output keeps one document per line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def display_width(text: str) -> int:
    """Columns a terminal gives the text: wide East Asian characters take two, combining marks
    none, so that tables of names in any script stay aligned."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width
