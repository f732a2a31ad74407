"""Plain text kept line for line, less what a reader skips: an e-mail's quote marks, a table of
contents' lines and, where form feeds break the text into pages, each page's running headers,
footers and page numbers. With no markup, headings are told by their layout: underlined,
numbered ("2.3  Results") or a short line standing alone; and tables by their columns, cut by
tabs or lined up with spaces, whose rows are written as the other formats write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.ingest.page_numbers import PAGE_LABEL, PAGE_NUMBER_AT_EDGE, near_page, running_key
from bot.ingest.parsed_text import (
    FURNITURE_SHARE, ParsedText, Piece, TextBuilder, blank_around, looks_like_heading, reads_as_header,
    split_source_lines, table_row)

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
# The fewest pages a text needs for its running headers and footers to be looked for.
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
    tables = plain_tables(text_lines)
    b = TextBuilder()
    last = max((k for k, line in enumerate(text_lines) if line.strip()), default=-1)
    for k, (i, line) in enumerate(zip(kept, text_lines)):
        if k in tables:
            row = tables[k]
            page = pages[i] if pages else None
            if row is None:  # the header, or the rule under it: its names go into every row
                b.add("", i + 1)
            else:
                b.add_pieces(table_row([[Piece(cell, i + 1, page)] for cell in row.cells], row.header), block=True)
            continue
        prev_blank, next_blank = blank_around(text_lines, k)
        next_blank = next_blank or _heads_indented_block(text_lines, k)
        level = underlined.get(i) or (numbered_heading_level(text_lines, k) if prev_blank and next_blank else None)
        # A quoted line is the earlier message's ("> Nadia" signing it), never a heading of this one.
        heading = _QUOTE_MARKS.match(raw[i]) is None and (
            level is not None or looks_like_heading(line, prev_blank, next_blank, last=k == last))
        page = pages[i] if pages and line.strip() else None  # a blank line starts no page
        b.add_pieces([Piece(line.rstrip(), i + 1, page)], heading=heading, level=level)
    last_page = max((pages[i] for i in kept if lines[i].strip()), default=0) if pages else 0
    out = b.finish(last_page)  # a form feed closing the file starts no page
    subject = next((m.group(1) for line in raw[:_HEADER_LINES] if (m := _SUBJECT.match(line))), "")
    if subject.strip():  # an e-mail is called by its subject, not by a line of its body
        out.title = " ".join(_REPLY_PREFIXES.sub("", subject).split())
    return out


def _heads_indented_block(lines: list[str], k: int) -> bool:
    """Whether line k, not indented, stands above lines indented under it ("Spring Term 2025" over
    "  Term starts: Monday 6 January 2025"): as a blank line after it, the indent sets it apart."""
    line, following = lines[k], lines[k + 1] if k + 1 < len(lines) else ""
    # A lower-case word goes on the line's sentence ("1. First item with a hanging\n   indent").
    return (bool(line.strip()) and not line[:1].isspace() and bool(following.strip())
            and following.startswith(("  ", "\t")) and not following.strip()[0].islower())


# An e-mail's subject among its first lines, and the "Re: Fwd: " before it.
_HEADER_LINES = 15
_SUBJECT = re.compile(r"^\s*Subject:\s*(.+)$", re.I)
_REPLY_PREFIXES = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv)\s*:\s*)+", re.I)


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


# ----- tables -----

# A cell: words with single spaces between them; cells are cut by a tab or by two spaces or more.
_CELL = re.compile(r"[^\t ]+(?: [^\t ]+)*")
_RULE_LINE = re.compile(r"^[ \t]*[-=]{3,}(?:[ \t]+[-=]{3,})*[ \t]*$")  # "-------  ----  ----" under a header
_TABLE_MIN_LINES = 3  # a header and two rows, or three rows
_ALIGN_SLACK = 2  # characters a lined-up cell may start or end off its column


@dataclass(frozen=True)
class PlainRow:
    cells: list[str]
    header: list[str] | None


def _cells(line: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each cell; cut by tabs, a cell may be empty, and where it sits is not told."""
    if "\t" in line:
        cells = [cell.strip() for cell in line.strip(" \r\n").split("\t")]  # an empty first or last cell counts
        return [(0, 0, " ".join(cell.split())) for cell in cells]
    return [(m.start(), m.end(), m.group()) for m in _CELL.finditer(line)]


def _lined_up(first: list[tuple[int, int, str]], other: list[tuple[int, int, str]]) -> bool:
    """Whether each cell of `other` starts or ends where the same column's cell of `first` does."""
    return all(abs(a[0] - b[0]) <= _ALIGN_SLACK or abs(a[1] - b[1]) <= _ALIGN_SLACK for a, b in zip(first, other))


def _blank_corner(lines: list[str], i: int) -> list[tuple[int, int, str]] | None:
    """The cells of line i, an empty top-left one first, where it heads the columns of the line
    below but for its first, the rows' labels ("          2022-23   2023-24" over "Grants   £21,000
    £29,500"); None otherwise."""
    if i + 1 >= len(lines) or "\t" in lines[i] or not lines[i].startswith("    "):
        return None
    above, below = _cells(lines[i]), _cells(lines[i + 1])
    if not above or len(below) != len(above) + 1 or above[0][0] <= below[0][1] or not _lined_up(below[1:], above):
        return None
    return [(below[0][0], below[0][0], ""), *above]


def plain_tables(lines: list[str]) -> dict[int, PlainRow | None]:
    """The lines of the text's tables, by index: each row with its cells and its table's column
    names (None for the header line and a rule under it). A table is three lines or more, each of
    the same number of cells, two at least; cells cut by spaces must line up in columns, and a
    table of two columns needs a header (two aligned columns without one are a list of fields,
    kept as written). The first line is the header when a rule underlines it, it leaves the rows'
    labels' column empty (`_blank_corner`), or it reads as one (`reads_as_header`)."""
    found: dict[int, PlainRow | None] = {}
    i = 0
    while i < len(lines):
        first = _cells(lines[i]) if "\t" in lines[i] or "  " in lines[i].strip() else []
        corner = _blank_corner(lines, i)
        if corner is not None:
            first = corner
        if len(first) < 2:
            i += 1
            continue
        tabbed = "\t" in lines[i]
        ruled = i + 1 < len(lines) and _RULE_LINE.match(lines[i + 1]) is not None
        j = i + 2 if ruled else i + 1
        rows: list[int] = []
        texts: list[list[str]] = []
        while j < len(lines):
            cells = _cells(lines[j])
            if len(cells) != len(first) or ("\t" in lines[j]) != tabbed or (not tabbed and not _lined_up(first, cells)):
                break
            rows.append(j)
            texts.append([text for _, _, text in cells])
            j += 1
        header_cells = [text for _, _, text in first]
        header = ruled or corner is not None or (bool(texts) and reads_as_header(dict(enumerate(header_cells)),
                                                            [dict(enumerate(row)) for row in texts]))
        if len(rows) + 1 < _TABLE_MIN_LINES or (len(first) < 3 and not header):
            i = max(j, i + 1)  # its rows start no table of their own: they line up with this one
            continue
        if header:
            found[i] = None
            if ruled:
                found[i + 1] = None
            for k, row in zip(rows, texts):
                found[k] = PlainRow(row, header_cells)
        else:
            for k, row in zip([i, *rows], [header_cells, *texts]):
                found[k] = PlainRow(row, None)
        i = j
    return found
