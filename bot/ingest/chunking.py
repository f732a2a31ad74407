"""Sentence-aware chunking with exact character offsets.

Sentences never cross a line (so bullets and paragraphs stay separate units), unless hard-wrapped
text carries one on into a next line that begins in lower case. Chunks never cross a section (a
heading with nothing under it joins the next), a section's heading is the first line of its first
chunk, no chunk lies inside another, and every chunk is a slice of the document:
`doc.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container

from bot.types import SECTION_SEPARATOR, Chunk, Document
from bot.words import STOP_WORDS

# Words that end with a period without ending the sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al",
    "inc", "ltd", "co", "corp", "gen", "gov", "sen", "rep", "lt", "col", "sgt", "capt", "no", "nos",
    "fig", "vol", "pp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "u.s", "u.k", "u.n", "a.m", "p.m", "approx", "dept", "est", "ca", "rev", "revd", "hon", "cllr",
    "fr", "supt", "insp",
}
# (Tried only where a run of marks starts: from every dot of "......" it would be quadratic.)
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"\S+$")
_WORD_LOOKBACK = 40  # how far back a sentence mark's word is looked for (abbreviations are short)


# A list item's mark at the start of a line ("- ", "12. ", "(b) "), as plain text writes one.
LIST_MARK = r"(?:[-*+•▪◦‣]|\(?(?:\d{1,3}|[a-zA-Z])[.)])"
_LIST_MARK = re.compile(rf"(?:{LIST_MARK}|>)(?:\s|$)")  # or a quoted e-mail's ">"

# Text hard-wrapped at a fixed width: most lines that a paragraph continues after end within this
# many characters of the width, and the width lies in this range (a list of short items is not a
# wrapped paragraph; lines longer than any fixed width mean paragraphs are kept on one line).
_WRAP_SLACK = 20
_WRAP_WIDTHS = range(50, 101)
_WRAP_MIN_LINES = 3
_WRAP_SHARE = 0.5
# A field of a header block ("Subject: Re: the lease", "Tel: +44 …"): its length says nothing of a width.
_FIELD = re.compile(r"\s*[A-Z][\w-]{0,20}:\s")
# Lines wider than the width found: one, or a few, may be ("On Tue, 12 Mar 2024, Priya <…> wrote:").
_WRAP_WIDER_SHARE = 0.05
# A line this long that stops without punctuation was broken off, not a list item.
_LONG_LINE = 40


def wrap_width(text: str) -> int | None:
    """The width `text` was hard-wrapped at, or None when it was not: the width at which most
    lines that a paragraph continues after end within `_WRAP_SLACK` characters, and which few lines
    pass. A line that ends a list item (the next starts with a list mark) is not counted, and a
    few lines may be wider (an e-mail's "On … wrote:" line, a long address)."""
    lines = [line.rstrip() for line in text.split("\n")]
    inner = [len(line) for line, following in zip(lines, lines[1:])
             if line and following.strip() and not _LIST_MARK.match(following.lstrip()) and not _FIELD.match(line)]
    filled = [len(line) for line in lines if line]
    candidates = sorted({n for n in filled if n in _WRAP_WIDTHS})
    if len(inner) < _WRAP_MIN_LINES or not candidates:
        return None
    # The width is the line length with the most inner lines just below it (the longest, on a tie).
    width = max(candidates, key=lambda w: (sum(w - _WRAP_SLACK <= n <= w for n in inner), w))
    near = sum(width - _WRAP_SLACK <= n <= width for n in inner)
    wider = sum(n > width for n in filled)
    return width if near >= _WRAP_SHARE * len(inner) and wider <= max(1, _WRAP_WIDER_SHARE * len(filled)) else None


def sentence_spans(text: str, start: int = 0, end: int | None = None, width: int | None = None,
                   blocks: Container[int] = ()) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in text[start:end], whitespace trimmed, per line, or
    per run of lines where hard-wrapped text carries a sentence on (see `runs_on`; `width` is the
    text's wrap width, found from text[start:end] when not given), never into a line starting at
    one of `blocks` (a new paragraph or list item, as the file's format marks it)."""
    end = len(text) if end is None else end
    width = wrap_width(text[start:end]) if width is None else width
    spans: list[tuple[int, int]] = []
    run_start = line_start = start
    while line_start < end:
        nl = text.find("\n", line_start, end)
        line_end = end if nl == -1 else nl
        if (nl == -1 or nl + 1 in blocks
                or not runs_on(text[line_start:line_end], next_line_start(text, line_end + 1, end), width)):
            _split_line(text, run_start, line_end, spans)
            run_start = line_end + 1
        line_start = line_end + 1
    return spans


# Words a sentence may stop at before a figure on the next line: "before" / "9:30", "of" / "2,000".
_BEFORE_FIGURE = STOP_WORDS | {"before", "after", "until", "since", "between", "than", "around", "under", "over",
                               "approximately", "per", "up", "least", "most", "only"}
_NUMBERED_LINE = re.compile(r"\d+(?:\.\d+)+\.?\s+[A-Z]|\d+\s+[A-Z]")  # "2.1 Scope", "1.0 Initial", "2023 Q1"


def next_line_start(text: str, start: int, end: int | None = None) -> str:
    """The first few characters of the line at `start`, after its indentation ("" for a blank
    line): enough to tell a list's mark ("12. ", "(b) ") from a number ("100.000 visitors")."""
    end = len(text) if end is None else end
    line_end = text.find("\n", start, end)
    return text[start : end if line_end == -1 else line_end].lstrip()[:12]


def runs_on(line: str, next_start: str, width: int | None = None) -> bool:
    """Whether a sentence runs on into the next line: this one does not end a sentence, a clause
    or a lead-in, and either the next begins in lower case after a line that reads as broken off
    (a long one, or one ending in a comma or a word such as "in" or "the"; a short item of a list,
    "Python 3.9 or newer" / "requests 2.28", is not), or the next begins with a figure after a comma
    or a word that needs one ("by phone before" / "9:30 a.m."), or, in text hard-wrapped at `width`, this one
    reaches the width (the next word did not fit: "paid for by the" / "European Maritime Fund.").
    The reader keeps its answers to the same rule."""
    stripped = line.rstrip()
    if not stripped or stripped[-1] in ".!?:;" or not next_start.strip() or _LIST_MARK.match(next_start):
        return False  # a sentence's end, a blank line, or a new item of a list
    if bool(width) and len(stripped) >= width - _WRAP_SLACK:
        return True
    last_word = stripped.rsplit(None, 1)[-1].lower()
    broken_off = len(stripped) >= _LONG_LINE or stripped[-1] == "," or last_word in STOP_WORDS
    if next_start[:1].isdigit():
        # A figure goes on a sentence that stops at a word it needs ("by phone before" / "9:30
        # a.m."), not a caption or a heading before a numbered line ("...by the company" / "2.1 Scope").
        return (stripped[-1] == "," or last_word in _BEFORE_FIGURE) and not _NUMBERED_LINE.match(next_start)
    return next_start[:1].islower() and broken_off


def _split_line(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    line = text[start:end]
    cut = 0
    for m in _BOUNDARY.finditer(line):
        word = _LAST_WORD.search(line, max(cut, m.start() - _WORD_LOOKBACK), m.start())
        token = word.group().lower().rstrip(".") if word else ""
        # "U.S." / single initials ("J. Smith") / known abbreviations do not end a sentence, and
        # neither does the number of a numbered heading or step ("6. Warranty", "2.1. Fit the lid").
        if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token):
            continue
        if m.start() - cut <= _WORD_LOOKBACK and re.fullmatch(r"\d{1,3}(?:\.\d{1,3})*", line[cut : m.start()].strip()):
            continue
        _append_trimmed(text, start + cut, start + m.end(), out)
        cut = m.end()
    _append_trimmed(text, start + cut, end, out)


def _append_trimmed(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _split_long(text: str, s: int, e: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than the chunk size into pieces that overlap by up to `overlap`
    characters, so that a phrase cut in two is whole in one of them. Each piece ends after a
    comma, semicolon or colon in its second half where there is one, else at a word boundary."""
    pieces = []
    while e - s > size:
        limit = s + size
        clause = max(text.rfind(mark, s + size // 2, limit - 1) for mark in (", ", "; ", ": "))
        cut = clause + 1 if clause > s else text.rfind(" ", s, limit)
        if cut <= s:
            cut = limit
        pieces.append((s, cut))
        space = text.find(" ", max(cut - overlap, (s + cut) // 2 + 1), cut)  # at least halfway on
        s = space + 1 if space != -1 else cut
        while s < e and text[s].isspace():
            s += 1
    if e > s:
        pieces.append((s, e))
    return pieces


def _changes(starts: tuple[int, ...], values: tuple[int, ...], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """(offset, value) for the entry covering `start` and every entry beginning before `end`."""
    if not starts:
        return ()
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    last = bisect.bisect_left(starts, end)
    return tuple((max(starts[k], start), values[k]) for k in range(first, max(last, first + 1)))


def chunk_document(doc: Document, chunk_size: int = 600, chunk_overlap: int = 150, first_id: int = 0) -> list[Chunk]:
    """Pack whole sentences into chunks of at most chunk_size characters, repeating up to
    chunk_overlap characters of trailing sentences at the start of the next chunk."""
    chunks: list[Chunk] = []
    width = wrap_width(doc.text) or 0  # found once: a short section alone does not show it
    blocks = frozenset(doc.block_starts)
    for sec_start, sec_end in _sections(doc):
        units: list[tuple[int, int]] = []
        # The heading line is the section's first unit: it names the section and, being text the
        # author wrote, may be the only place a fact is stated ("The winner was:" / "Maria Lopez").
        for s, e in sentence_spans(doc.text, sec_start, sec_end, width, blocks):
            units.extend(_split_long(doc.text, s, e, chunk_size, chunk_overlap))
        for i, j in pack_units(units, chunk_size, chunk_overlap):
            chunks.append(_make_chunk(doc, units[i : j + 1], first_id + len(chunks)))
    return chunks


def _sections(doc: Document) -> list[tuple[int, int]]:
    """(start, end) offsets of the sections: each heading line starts one; chunks never cross them.

    A heading with nothing under it ("5. Troubleshooting" right before "5.1 Filter light") joins
    the section after it: alone it would be a passage that answers nothing yet takes a reading slot.
    """
    heading_starts = {off for off, _ in doc.headings}
    boundaries = sorted({0, *heading_starts, len(doc.text)})
    starts = [boundaries[0]]
    # What the text from the last section's start to the last boundary holds, so that each
    # boundary reads only its own stretch (a run of 40,000 headings must not be read over and over).
    lines_so_far, headings_only = 0, True
    for before, boundary in zip(boundaries, boundaries[1:-1]):
        lines, all_headings = _lines_with_text(doc.text, before, boundary, heading_starts)
        lines_so_far, headings_only = lines_so_far + lines, headings_only and all_headings
        # One line so far ("ACME Corp" above "1. Introduction"), or a run of headings with nothing
        # under them ("Changelog", "2.3.1"): it joins the section below.
        if lines_so_far > 1 and not headings_only:
            starts.append(boundary)
            lines_so_far, headings_only = 0, True
    return list(zip(starts, starts[1:] + [len(doc.text)]))


def _lines_with_text(text: str, start: int, end: int, heading_starts: set[int]) -> tuple[int, bool]:
    """How many lines of text[start:end] hold text, and whether each of them starts a heading."""
    count, all_headings, at = 0, True, start
    for line in text[start:end].split("\n"):
        if line.strip():
            count += 1
            all_headings = all_headings and at in heading_starts
        at += len(line) + 1
    return count, all_headings


def pack_units(units: list[tuple[int, int]], chunk_size: int, chunk_overlap: int) -> list[tuple[int, int]]:
    """(first, last) unit indexes of each chunk.

    Each chunk takes as many units as fit; the next one starts with the trailing units that fit in
    the overlap, but only those that leave room for the unit that did not fit, so that every chunk
    reaches past the end of the one before it (none lies inside another).
    """
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= chunk_size:
            j += 1
        spans.append((i, j))
        if j + 1 >= len(units):
            break
        end, following_end = units[j][1], units[j + 1][1]
        k = j + 1
        while k - 1 > i and end - units[k - 1][0] <= chunk_overlap and following_end - units[k - 1][0] <= chunk_size:
            k -= 1
        i = k
    return spans


def _leading_headings(doc: Document, start: int, end: int) -> tuple[int, int]:
    """(where the heading lines doc.text[start:end] starts with end, the offset of the last of
    them); (start, start) when it starts with no heading. A heading with nothing under it joins
    the section below (`_sections`); where that section is one of its own ("2.3.1" above "Fixed",
    in a format with heading levels), all their lines are the chunk's heading."""
    i = bisect.bisect_left(doc.headings, start, key=lambda h: h[0])
    if i == len(doc.headings) or doc.headings[i][0] != start:
        return start, start
    last, path = doc.headings[i]
    # The document's first heading, with nothing under it, is its title (it heads every section,
    # though paths leave it out: `section_paths`) or an empty section: the one below is named.
    title = i == 0
    block_end = _line_end(doc.text, start, end)
    for j in range(i + 1, len(doc.headings)):  # stops at the first heading past the block: no copy of the rest
        offset, inner = doc.headings[j]
        nested = title or inner.startswith(path + SECTION_SEPARATOR)
        if offset >= end or doc.text[block_end:offset].strip() or not nested:
            break
        last, path, block_end, title = offset, inner, _line_end(doc.text, offset, end), False
    return block_end, last


def _line_end(text: str, offset: int, limit: int) -> int:
    newline = text.find("\n", offset, limit)
    return limit if newline < 0 else newline


def _make_chunk(doc: Document, units: list[tuple[int, int]], chunk_id: int) -> Chunk:
    start, end = units[0][0], units[-1][1]
    heading_end, last_heading = _leading_headings(doc, start, end)
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc.doc_id,
        text=doc.text[start:end],
        start=start,
        end=end,
        # The innermost heading of the block it starts with: "2.3.1 — 2026-01-19 › Fixed".
        section=doc.section_at(last_heading),
        line=doc.line_at(start),
        page=doc.page_at(start),
        sentences=tuple(units),
        line_map=_changes(doc.line_starts, doc.source_lines, start, end),
        page_map=_changes(doc.page_starts, tuple(range(1, len(doc.page_starts) + 1)), start, end),
        heading_end=heading_end - start,
    )
