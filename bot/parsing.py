"""Turn one file's content into reader-visible text with maps back to the source.

Markdown is rendered the way a reader sees it (link targets, emphasis markers and heading hashes
removed), HTML is reduced to its visible text, PDF text is taken page by page with pypdf. Each
output line remembers the source line (or page) it came from, and headings become sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")
_MD_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")


@dataclass
class ParsedText:
    text: str = ""
    line_starts: list[int] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""


class _Builder:
    """Appends rendered lines, keeping offsets, source lines and headings in step."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.out = ParsedText()

    def add(self, line: str, source_line: int, heading: bool = False) -> None:
        if self.parts:
            self.parts.append("\n")
            self.length += 1
        self.out.line_starts.append(self.length)
        self.out.source_lines.append(source_line)
        if heading and line.strip():
            self.out.headings.append((self.length, line.strip()))
            if not self.out.title:
                self.out.title = line.strip()
        self.parts.append(line)
        self.length += len(line)

    def start_page(self) -> None:
        self.out.page_starts.append(self.length + (1 if self.parts else 0))

    def finish(self) -> ParsedText:
        self.out.text = "".join(self.parts)
        return self.out


def looks_like_heading(line: str, prev_blank: bool, next_blank: bool) -> bool:
    """A short stand-alone line without sentence punctuation, e.g. 'Domestic Security Initiatives'."""
    s = line.strip()
    if not s or len(s) > 80 or not prev_blank or not next_blank:
        return False
    if _BULLET.match(line) or s[-1] in ".!?,;:" or s.startswith(("|", ">")):
        return False
    return s[0].isupper() or s[0].isdigit()


def render_markdown_inline(line: str) -> str:
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_REF_LINK.sub(r"\1", line)
    line = _MD_AUTOLINK.sub(r"\1", line)
    line = _MD_CODE.sub(r"\1", line)
    line = _MD_BOLD.sub(r"\2", line)
    line = _MD_EM.sub(lambda m: m.group(1) or m.group(2), line)
    return _MD_TAG.sub("", line)


def parse_markdown(content: str) -> ParsedText:
    lines = content.splitlines()
    b = _Builder()
    in_fence = False
    for i, raw in enumerate(lines):
        n = i + 1
        if raw.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            b.add("", n)
            continue
        if in_fence:
            b.add(raw, n)
            continue
        m = _MD_HEADING.match(raw)
        if m:
            b.add(render_markdown_inline(m.group(2)), n, heading=True)
            continue
        if _MD_RULE.match(raw) or _MD_TABLE_SEP.match(raw) or _MD_REF_DEF.match(raw):
            b.add("", n)
            continue
        line = raw.strip()
        line = re.sub(r"^(>\s?)+", "", line)
        line = _BULLET.sub("", line)
        if line.startswith("|") and line.endswith("|"):
            line = " | ".join(c.strip() for c in line.strip("|").split("|"))
        line = render_markdown_inline(line)
        prev_blank = i == 0 or not lines[i - 1].strip()
        next_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
        b.add(line, n, heading=looks_like_heading(raw, prev_blank, next_blank))
    return b.finish()


def parse_plain(content: str) -> ParsedText:
    lines = content.splitlines()
    b = _Builder()
    for i, raw in enumerate(lines):
        prev_blank = i == 0 or not lines[i - 1].strip()
        next_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
        b.add(raw.rstrip(), i + 1, heading=looks_like_heading(raw, prev_blank, next_blank))
    return b.finish()


_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "header", "footer",
    "main", "aside", "nav", "blockquote", "pre", "dd", "dt", "dl", "figure", "figcaption", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "title", "body", "html", "td", "th", "form",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = _Builder()
        self.current: list[str] = []
        self.current_line = 1
        self.skip_depth = 0
        self.heading_depth = 0
        self.in_title = False
        self.title = ""

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.current)).strip()
        if text:
            self.builder.add(text, self.current_line, heading=self.heading_depth > 0)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
            return
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            self.current_line = self.getpos()[0]
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading_depth += 1

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
            return
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading_depth = max(0, self.heading_depth - 1)

    def handle_data(self, data):
        if self.in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        if not self.current:
            self.current_line = self.getpos()[0]
        self.current.append(data)


def parse_html(content: str) -> ParsedText:
    parser = _HTMLText()
    parser.feed(content)
    parser.close()
    parser._flush()
    out = parser.builder.finish()
    if parser.title.strip():
        out.title = re.sub(r"\s+", " ", parser.title).strip()
    return out


def parse_pdf(path: Path) -> ParsedText:
    """Page-by-page text; raises whatever pypdf raises for a broken file (the caller reports it)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    b = _Builder()
    for page in reader.pages:
        b.start_page()
        lines = (page.extract_text() or "").splitlines() or [""]
        for i, raw in enumerate(lines):
            prev_blank = i == 0 or not lines[i - 1].strip()
            next_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
            b.add(raw.rstrip(), i + 1, heading=looks_like_heading(raw, prev_blank, next_blank))
    return b.finish()
