"""Markdown rendered the way a reader sees it: link targets, emphasis markers, heading hashes,
fences, front matter and hidden HTML (comments, scripts, styles) left out, ordered lists numbered
as a viewer shows them, and a table's rows written as sentences under their column names.
Headings keep their levels ("#" and setext underlines). Inline syntax is read in bounded or
single passes: a line written to trip a backtracking pattern must not take minutes.
"""

from __future__ import annotations

import bisect
import html
import re
import string

from bot.ingest.parsed_text import (
    BULLET, ParsedText, Piece, TextBuilder, blank_around, looks_like_heading, split_source_lines, superscript_text,
    table_row)

_MD_ORDERED = re.compile(r"^(\d{1,9})[.)]\s+")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")  # closing hashes: `_heading_text`
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
# A link's or image's label holds no bracket, and a parenthesised part of its destination
# ("wiki/Foo_(bar)") no parenthesis, as in CommonMark: each scan then stops at the next bracket or
# parenthesis, so a line of "[[[[…" or "[a](()[a](()…" is read in one pass. The destination's
# parts repeat possessively: each part is the only way to read its characters.
_MD_DESTINATION = r"\((?:[^()]|\([^()]{0,500}\)){0,2000}+\)"
_MD_IMAGE = re.compile(r"!\[([^\[\]]{0,500})\]" + _MD_DESTINATION)
_MD_LINK = re.compile(r"\[([^\[\]]{1,500})\]" + _MD_DESTINATION)
_MD_REF_LINK = re.compile(r"\[([^\[\]]{1,500})\]\[[^\[\]]{0,500}\]")
# An address in angle brackets (group 1). The last alternative takes a "<http:" whose run of
# characters meets a space or the line's end before any ">", to be kept as it is: no address can
# start inside that run, and each "<http:" in it would otherwise scan it again.
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+|[^@<>\s]+@[^@<>\s]+)>"
                          r"|<(?:https?|mailto):[^>\s]*+(?=\s|\Z)")
_MD_BACKTICKS = re.compile(r"`+")
# What every inline pattern needs to match: a line without any of these reads as it is written.
_MD_INLINE_SYNTAX = re.compile(r"[\\`\[<*_&]")
# Where a pair of strong emphasis's marks stands ("**", "__"), pairs overlapping (see `_strong`).
_MD_STRONG_MARKS = re.compile(r"(?=(\*\*|__))")
_STRONG_MAX_CHARS = 500
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*]{1,500}?)(?<=\S)\*(?![\w*])"
                    r"|(?<![\w_])_(?=\S)([^_]{1,500}?)(?<=\S)_(?![\w_])")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Raw HTML whose content no reader sees: comments (an author's private notes), scripts, styles.
_MD_HIDDEN_OPEN = re.compile(r"<!--|<(script|style)\b[^>]*>", re.IGNORECASE)
_MD_COMMENT_OPEN = "<!--"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MD_FRONT_MATTER = re.compile(r"^(?:---|\+\+\+)\s*$")
_MD_TAG = re.compile(r"</?[A-Za-z][^>]*>")
# A superscript in Markdown's inline HTML: the word it follows, and the mark.
_MD_SUPERSCRIPT = re.compile(r"([^\s(\[<>]{0,20})<sup>(.{0,40}?)</sup>", re.IGNORECASE)
_MD_SUPERSCRIPT_OPEN = re.compile(r"<sup>", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_TABLE_SEP = re.compile(r"^(?=.*\|)(?=.*-)[\s|:-]+$")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_MD_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^[^\]]+\]:\s*(.*)$")
_MD_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
# Leading whitespace is not limited to CommonMark's three spaces: fences nested in list items
# are indented further, and treating them as text would leak code into the prose.
_MD_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")


def table_cells(line: str) -> list[str]:
    """The cells of a Markdown table row ('| a | b |'); an escaped pipe stays in its cell."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def render_markdown_inline(line: str) -> str:
    """A line's visible text. Code spans are kept as written, and so are backslash-escaped marks."""
    if not _MD_INLINE_SYNTAX.search(line):  # most lines: a dozen patterns would find nothing
        return line
    out, last = [], 0
    for start, code, end in code_spans(line):
        out.append(_render_prose(line[last:start]) + code.strip())
        last = end
    return "".join(out) + _render_prose(line[last:])


def _heading_text(text: str) -> str:
    """An ATX heading's text, less its closing hashes ("## Fees ##"), found without backtracking."""
    text = text.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1].isspace()):
        text = bare.rstrip()
    return text


def code_spans(line: str) -> list[tuple[int, str, int]]:
    """(start, code, end) of each code span: a run of backticks up to the next run of as many, in
    one pass over the runs (a pattern trying every run against every other took minutes)."""
    runs = [(m.start(), m.end()) for m in _MD_BACKTICKS.finditer(line)]
    by_length: dict[int, list[int]] = {}
    for k, (s, e) in enumerate(runs):
        by_length.setdefault(e - s, []).append(k)
    spans, k = [], 0
    while k < len(runs):
        s, e = runs[k]
        same = by_length[e - s]
        after = bisect.bisect_right(same, k)
        if after == len(same):
            k += 1
            continue
        closing = same[after]
        spans.append((s, line[e : runs[closing][0]], runs[closing][1]))
        k = closing + 1
    return spans


def _render_prose(line: str) -> str:
    escaped: list[str] = []

    def hold(m: re.Match) -> str:  # a private-use character stands in until the marks are gone
        escaped.append(m.group(1))
        return chr(0xE000 + len(escaped) - 1)

    line = _MD_ESCAPE.sub(hold, line)
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_REF_LINK.sub(r"\1", line)
    line = _MD_AUTOLINK.sub(lambda m: m.group() if m.group(1) is None else m.group(1), line)
    line = _strong(line)
    line = _MD_EM.sub(lambda m: m.group(1) or m.group(2), line)
    line = _sub_to_last(_MD_FOOTNOTE_REF, "", line, "]")
    if _MD_SUPERSCRIPT_OPEN.search(line):  # that pattern is tried from every character of a line
        line = _MD_SUPERSCRIPT.sub(lambda m: m.group(1) + superscript_text(_MD_TAG.sub("", m.group(2)), m.group(1)[-1:],
                                                                         m.group(1)), line)
    line = html.unescape(_sub_to_last(_MD_TAG, "", line, ">"))

    def restore(m: re.Match) -> str:
        k = ord(m.group()) - 0xE000
        return escaped[k] if k < len(escaped) else m.group()

    return re.sub("[\ue000-\uf8ff]", restore, line)


def _strong(line: str) -> str:
    """Strong emphasis ("**text**", "__text__") as its text: from a pair of marks before a non-space,
    the shortest text of up to 500 characters ending in a non-space and the same pair. The closing
    pairs are looked up, not scanned for from each opening pair: a pattern doing that ran on for 500
    characters from every pair of "**a **a **a …"."""
    marks = [(m.start(), m.group(1)) for m in _MD_STRONG_MARKS.finditer(line)]
    closings: dict[str, list[int]] = {"**": [], "__": []}
    for at, mark in marks:
        if at and not line[at - 1].isspace():
            closings[mark].append(at)
    out, done = [], 0
    for at, mark in marks:
        if at < done or at + 2 >= len(line) or line[at + 2].isspace():
            continue
        ends = closings[mark]
        k = bisect.bisect_left(ends, at + 3)  # the text holds one character at least
        if k < len(ends) and ends[k] - (at + 2) <= _STRONG_MAX_CHARS:
            out += [line[done:at], line[at + 2 : ends[k]]]
            done = ends[k] + 2
    return "".join(out) + line[done:]


def _sub_to_last(pattern: re.Pattern[str], repl: str, line: str, closing: str) -> str:
    """pattern.sub over the line up to its last `closing` character, which ends every match of the
    pattern: past it, a match tried from each opening mark would scan to the line's end and fail,
    quadratic time on a long line of "<a<a<a…" or "[^[^[^…"."""
    end = line.rfind(closing) + 1
    return pattern.sub(repl, line[:end]) + line[end:]


def fence_opening(line: str) -> str | None:
    """The fence (e.g. '```' or '~~~~') a line opens, or None."""
    m = _MD_FENCE.match(line)
    if not m:
        return None
    fence, info = m.groups()
    if fence[0] == "`" and "`" in info:  # CommonMark: that is inline code, not a fence
        return None
    return fence


def closes_fence(line: str, fence: str) -> bool:
    """CommonMark: only the same character, at least as many times, and nothing after it."""
    m = _MD_FENCE.match(line)
    return bool(m) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip()


def strip_hidden_html(line: str, hidden: str | None) -> tuple[str, str | None]:
    """The part of a line outside HTML comments, scripts and styles, and the closing mark still
    awaited when one of them runs on past the line (`hidden`: the one awaited from earlier lines).
    The line is read once from a moving position, not cut and lowered again after each comment."""
    if hidden is None and "<" not in line:
        return line, None
    lowered = line.lower()
    if len(lowered) != len(line):  # "İ" lowers to two characters; the closing marks are ASCII
        lowered = line.translate(_ASCII_LOWER)
    tags_end = line.rfind(">") + 1  # a script or style tag ends at a ">": past the last, only "<!--" opens
    visible: list[str] = []
    at = 0
    while True:
        if hidden is not None:
            end = lowered.find(hidden, at)
            if end == -1:
                return "".join(visible), hidden
            at, hidden = end + len(hidden), None
        m = _MD_HIDDEN_OPEN.search(line, at, max(at, tags_end))
        if m:
            start, end = m.span()
            hidden = "-->" if m.group() == _MD_COMMENT_OPEN else f"</{m.group(1).lower()}>"
        else:
            start = line.find(_MD_COMMENT_OPEN, max(at, tags_end))
            if start == -1:
                visible.append(line[at:])
                return "".join(visible), None
            end, hidden = start + len(_MD_COMMENT_OPEN), "-->"
        visible.append(line[at:start])
        at = end


def front_matter(lines: list[str]) -> tuple[int, str]:
    """(lines taken by a YAML/TOML front matter block at the top, its title or '')."""
    if not lines or not _MD_FRONT_MATTER.match(lines[0]):
        return 0, ""
    for j in range(1, min(len(lines), 200)):
        if lines[j].strip() == lines[0].strip():
            titles = [re.match(r"^title\s*[:=]\s*(.*)$", line) for line in lines[1:j]]
            title = next((m.group(1).strip().strip("\"'") for m in titles if m), "")
            return j + 1, title
    return 0, ""


class ListNumbers:
    """Ordered-list items numbered as a viewer shows them: from the first item's number, one up
    for each further item at the same depth (a list written "1." on every item reads 1, 2, 3)."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}  # indent -> the number shown last at that depth

    def number(self, indent: int, written: int) -> int:
        for deeper in [depth for depth in self._last if depth > indent]:
            del self._last[deeper]  # a nested list ended: its next use starts afresh
        shown = self._last[indent] + 1 if indent in self._last else written
        self._last[indent] = shown
        return shown

    def end(self) -> None:
        self._last.clear()


def parse_markdown(content: str) -> ParsedText:
    lines = split_source_lines(content)
    b = TextBuilder()
    fence: str | None = None
    header: list[str] | None = None  # the column names of the table being read
    hidden: str | None = None  # the end of an HTML comment, script or style still open
    underlines: set[int] = set()  # the "====" / "----" lines under setext headings
    numbers = ListNumbers()
    metadata_lines, title = front_matter(lines)
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, raw in enumerate(lines):
        n = i + 1
        if i < metadata_lines or i in underlines:
            b.add("", n)
            continue
        if fence is not None:
            if closes_fence(raw, fence):
                fence = None
                b.add("", n)
            else:
                b.add(raw, n)
            continue
        fence = fence_opening(raw) if hidden is None else None
        if fence is not None:
            numbers.end()
            b.add("", n)
            continue
        visible, hidden = strip_hidden_html(raw, hidden)
        if visible != raw and not visible.strip():
            b.add("", n)
            continue
        raw = visible
        m = _MD_HEADING.match(raw)
        if m:
            numbers.end()
            b.add(render_markdown_inline(_heading_text(m.group(2))), n, heading=True, level=len(m.group(1)), block=True)
            continue
        footnote = _MD_FOOTNOTE_DEF.match(raw)
        if footnote:
            b.add(render_markdown_inline(footnote.group(1)), n, block=True)
            continue
        if _MD_RULE.match(raw) or _MD_TABLE_SEP.match(raw) or _MD_REF_DEF.match(raw):
            b.add("", n)
            if not _MD_TABLE_SEP.match(raw):
                header = None
            continue
        line = raw.strip()
        line = re.sub(r"^(>\s?)+", "", line)
        if line.startswith("|") and line.endswith("|") and len(line) > 1:
            numbers.end()
            cells = [render_markdown_inline(c) for c in table_cells(line)]
            if i + 1 < len(lines) and _MD_TABLE_SEP.match(lines[i + 1]):
                header = cells  # the header row: its names go into every row below it
                b.add("", n)
            else:
                b.add_pieces(table_row([[Piece(c, n)] for c in cells], header), block=True)
            continue
        header = None
        setext = (line and i + 1 < len(lines) and _MD_SETEXT.match(lines[i + 1]) and not BULLET.match(raw)
                  and blank_around(lines, i)[0])
        if setext:
            underlines.add(i + 1)
        ordered = _MD_ORDERED.match(line)
        item = bool(ordered or BULLET.match(line))  # a list item's first line: a block of its own
        if ordered:  # the step's number stays: "What is the first step?" needs it
            number = numbers.number(len(raw) - len(raw.lstrip()), int(ordered.group(1)))
            line = f"{number}. {line[ordered.end():]}"
        else:
            if line and not raw[:1].isspace():
                numbers.end()  # a paragraph at the margin ends the list
            line = BULLET.sub("", line)
        line = render_markdown_inline(line)
        setext_level = (1 if lines[i + 1].strip().startswith("=") else 2) if setext else None
        heading = bool(setext) or looks_like_heading(raw, *blank_around(lines, i), last=i == last)
        b.add(line, n, heading=heading, level=setext_level, block=item or heading)
    out = b.finish()
    if title:
        out.title = title
    return out
