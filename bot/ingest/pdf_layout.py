"""A PDF page's reading order and tables, from where its boxes and lines sit.

Reading order: pdfminer.six orders boxes by a weighted position, which reads a heading that
follows a two-column passage before the passage's right column. Here the page is cut at
horizontal gaps into bands, top to bottom, and a band at vertical gaps into columns, left to
right (an XY cut); bands that continue one multi-column flow are read as one.

Tables: pdfminer groups text into boxes by column, so a table comes out one column after another
("Route", the routes, "Departs", the times…) and no row can be read back. Here lines that share a
baseline and stand apart side by side are a row; rows one under the other, with short cells, are
a table; and the gaps that run down the whole table split it into columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Rect:
    """Where a box's text sits (PDF points, y upwards)."""

    x0: float
    y0: float
    x1: float
    y1: float


# A band starting within this many line heights below the end of a column continues the flow.
FLOW_GAP_LINES = 2.0


def reading_order(rects: Sequence[Rect], line_height: float) -> list[int]:
    """The boxes' indices in reading order (see the module's docstring)."""
    return _cut(list(range(len(rects))), rects, line_height)


def table_regions(rects: Sequence[Rect], line_height: float, prose: Sequence[bool]) -> list[list[int]]:
    """Groups of boxes to look for tables in: each band of the page (`reading_order`'s; adjacent
    bands without prose, such as a table's rows, together), or, where a band is set in columns and
    one of them holds prose, each of its columns. Short lines of a
    letter's signature in one column then never make rows with a table's cells in the other, while
    a table standing alone keeps the gaps between its own columns."""
    bands = _merge_flows(_split(list(range(len(rects))), rects, vertical=False), rects, line_height)
    regions: list[list[int]] = []
    for group, has_prose in _join_without_prose(bands, prose):  # a table's rows, each a band of its own
        if has_prose:  # its columns apart, a table's own columns together
            regions += [column for column, _ in _join_without_prose(_split(group, rects, vertical=True), prose)]
        else:
            regions.append(group)
    return regions


def _join_without_prose(groups: list[list[int]], prose: Sequence[bool]) -> list[tuple[list[int], bool]]:
    """Adjacent groups joined while neither holds prose; each with whether it does."""
    joined: list[tuple[list[int], bool]] = []
    for group in groups:
        has_prose = any(prose[i] for i in group)
        if joined and not has_prose and not joined[-1][1]:
            joined[-1][0].extend(group)
        else:
            joined.append((list(group), has_prose))
    return joined


def _cut(ids: list[int], rects: Sequence[Rect], line_height: float) -> list[int]:
    if len(ids) <= 1:
        return ids
    bands = _merge_flows(_split(ids, rects, vertical=False), rects, line_height)
    parts = bands if len(bands) > 1 else _split(ids, rects, vertical=True)
    if len(parts) == 1:
        return sorted(ids)  # no clean cut: the layout analysis's own order
    return [i for part in parts for i in _cut(part, rects, line_height)]


def _split(ids: list[int], rects: Sequence[Rect], vertical: bool) -> list[list[int]]:
    """The boxes in groups separated by gaps no box spans: side by side left to right when
    `vertical` (columns), else top to bottom (bands)."""
    def extent(i: int) -> tuple[float, float]:
        r = rects[i]
        return (r.x0, r.x1) if vertical else (-r.y1, -r.y0)

    # Boxes that only meet leave a gap no box spans between them: a cut passes there.
    return [group for group, _ in _overlapping(ids, extent, touching=False)]


def _overlapping(items: Iterable[T], extent: Callable[[T], tuple[float, float]],
                 touching: bool) -> list[tuple[list[T], tuple[float, float]]]:
    """The items in order of their extents (start, end), grouped where the extents overlap, or
    only meet (one ends where the next starts) when `touching`; each group with its whole extent."""
    groups: list[tuple[list[T], tuple[float, float]]] = []
    for item in sorted(items, key=extent):
        start, end = extent(item)
        reach = groups[-1][1][1] if groups else None
        if reach is not None and (start <= reach if touching else start < reach):
            members, (first, _) = groups[-1]
            members.append(item)
            groups[-1] = (members, (first, max(reach, end)))
        else:
            groups.append(([item], (start, end)))
    return groups


def _merge_flows(bands: list[list[int]], rects: Sequence[Rect], line_height: float) -> list[list[int]]:
    """Adjacent bands joined where they continue one multi-column flow: the band before is in
    columns, the two are still in columns together, and the next either starts close below where
    the first of those columns ended (a paragraph break in one column lining up with one in the
    other, or a column running on below the other's end) or is itself in columns within the same
    gutters. A heading after the columns starts below them all, in one column."""
    merged = [bands[0]]
    for band in bands[1:]:
        previous = merged[-1]
        columns = _split(previous, rects, vertical=True)
        # Where the column the band sits under ends (a left column running on below the right
        # one's end), or, for a band across them, where the first of them ended.
        left, right = min(rects[i].x0 for i in band), max(rects[i].x1 for i in band)
        under = [c for c in columns if min(rects[i].x0 for i in c) < right and left < max(rects[i].x1 for i in c)]
        ends = [min(rects[i].y0 for i in column) for column in (under if len(under) == 1 else columns)]
        first_end = max(ends)
        top = max(rects[i].y1 for i in band)
        together = len(_split(previous + band, rects, vertical=True))
        close = first_end - top <= FLOW_GAP_LINES * line_height
        same_columns = together == len(columns) and len(_split(band, rects, vertical=True)) > 1
        if len(columns) > 1 and together > 1 and (close or same_columns):
            merged[-1] = previous + band
        else:
            merged.append(band)
    return merged


@dataclass(frozen=True)
class LaidLine:
    """One text line of a page and where it sits (PDF points, y upwards)."""

    index: int  # its position among the page's lines, in layout order
    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    bold: bool

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass(frozen=True)
class PdfTable:
    rows: list[list[list[LaidLine]]]  # rows top to bottom, cells by column, a cell's lines left to right
    bold_header: bool  # the first row is set in bold and the second is not (a wrapped header's lines are one row)


# A cell is short: prose set in narrow columns has longer lines, and more words in most of them.
CELL_MAX_CHARS = 40
SHORT_CELL_WORDS = 3
SHORT_CELL_SHARE = 0.5
MIN_ROWS = 2
_MAX_HEADER_LINES = 3  # a header wraps onto a few lines; more bold rows are the table's own
# Rows further apart than this many line heights are two tables (or a table and a paragraph).
ROW_GAP_LINES = 2.5
# Prose's small words: left at a justified column's right margin, they are no table's cells.
_SMALL_WORDS = frozenset("a an the of and or but to at in on by for with from as is are was were be that this "
                         "which who it its their his her we they not".split())


def find_tables(lines: Sequence[LaidLine]) -> list[PdfTable]:
    """The tables among one page's lines."""
    tables: list[PdfTable] = []
    run: list[list[LaidLine]] = []
    for row in _baseline_groups(lines):
        if _is_row(row) and (not run or _follows(run[-1], row)):
            run.append(row)
            continue
        tables += _table(run)
        run = [row] if _is_row(row) else []
    tables += _table(run)
    return tables


class VerticalSpan(Protocol):
    """A text line's lower and upper edges (PDF points, y upwards): a `LaidLine`, or pdfminer's own."""

    @property
    def y0(self) -> float: ...

    @property
    def y1(self) -> float: ...


def same_baseline(a: VerticalSpan, b: VerticalSpan, height: float, *, inclusive: bool = True) -> bool:
    """Whether two lines sit on one baseline: their middles less than half of `height` apart, or
    exactly half when `inclusive`."""
    apart = abs((a.y0 + a.y1) / 2 - (b.y0 + b.y1) / 2)
    return apart <= 0.5 * height if inclusive else apart < 0.5 * height


def _baseline_groups(lines: Sequence[LaidLine]) -> list[list[LaidLine]]:
    """Lines grouped by baseline, top to bottom, each group left to right. The smaller line's
    height sets how close: a large line takes no smaller ones above or below it into its row."""
    groups: list[list[LaidLine]] = []
    for line in sorted(lines, key=lambda ln: -ln.middle):
        last = groups[-1] if groups else None
        if last and same_baseline(last[0], line, min(last[0].height, line.height)):
            last.append(line)
        else:
            groups.append([line])
    return [sorted(group, key=lambda ln: ln.x0) for group in groups]


def _is_row(group: list[LaidLine]) -> bool:
    """Two or more short lines side by side, not touching."""
    if len(group) < 2 or any(len(line.text) > CELL_MAX_CHARS for line in group):
        return False
    return all(right.x0 > left.x1 for left, right in zip(group, group[1:]))


def _follows(previous: list[LaidLine], row: list[LaidLine]) -> bool:
    return previous[0].middle - row[0].middle <= ROW_GAP_LINES * max(line.height for line in previous)


def _table(run: list[list[LaidLine]]) -> list[PdfTable]:
    """The run of rows as a table, or nothing when it reads as prose set in narrow columns."""
    cells = [line for row in run for line in row]
    if len(run) < MIN_ROWS:
        return []
    short = sum(len(line.text.split()) <= SHORT_CELL_WORDS for line in cells)
    if short < SHORT_CELL_SHARE * len(cells):
        return []
    # Justified text in a narrow column: the layout analysis splits a line at its stretched gaps,
    # and the words left at the right margin are prose's small words ("of", "and", "at the").
    if sum(_small_words(row[-1].text) for row in run) * 2 >= len(run):
        return []
    columns = _columns(cells)
    rows = []
    for row in run:
        by_column: list[list[LaidLine]] = [[] for _ in columns]
        for line in row:
            by_column[_column_of(line, columns)].append(line)
        rows.append(by_column)
    bold = [all(line.bold for line in row) for row in run]
    head = next((k for k, is_bold in enumerate(bold) if not is_bold), len(run))
    if 2 <= head <= _MAX_HEADER_LINES and head < len(run):  # a header wrapped ("Weekday rate (per" / "hour)"): one row
        rows = [[[line for row in rows[:head] for line in row[k]] for k in range(len(columns))], *rows[head:]]
    return [PdfTable(rows, 1 <= head <= _MAX_HEADER_LINES and head < len(run))]


def _small_words(text: str) -> bool:
    words = [w.strip(".,;:").lower() for w in text.split()]
    return bool(words) and all(w in _SMALL_WORDS for w in words)


def _columns(cells: list[LaidLine]) -> list[tuple[float, float]]:
    """The table's columns: its cells' horizontal extents merged where they overlap or meet
    (`_column_of` counts a column's ends as inside it)."""
    return [span for _, span in _overlapping(cells, lambda line: (line.x0, line.x1), touching=True)]


def _column_of(line: LaidLine, columns: list[tuple[float, float]]) -> int:
    return next(k for k, (x0, x1) in enumerate(columns) if x0 <= line.x0 <= x1)
