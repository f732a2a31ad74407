"""Rendering for the chat page: answers, sources, documents and notices as HTML.

Documents are untrusted input: every piece of document or user text goes through `esc` before it
is put into HTML."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bot.conversation import Turn
from bot.formatting import added_text, place_text, shorten, size_text
from bot.ingest.corpus import SUPPORTED_SUFFIXES
from bot.types import SECTION_SEPARATOR, Citation, Passage, Response

UPLOADS_OFF = "Adding documents is turned off on this page."
LINK_REFUSED = "Files must be uploaded; this page does not fetch links."
UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
NOT_FOUND = "Not found in the documents."
SOURCES_EMPTY = (
    '<div class="qa-sources qa-empty"><p class="qa-title">Sources</p>'
    "<p>After each answer, the passage it was copied from appears here, with the answer "
    "<mark>highlighted</mark> and its document, section and line.</p></div>"
)

# One pass over the text: HTML's special characters, plus the characters Markdown would read as
# syntax (chat messages are rendered as Markdown), all become numeric character references.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]()#|~$!:{}="})


def esc(text) -> str:
    """Any text -> HTML that displays exactly that text, as plain HTML or inside Markdown."""
    return str(text).translate(_ENTITIES)


def _flat(text: str) -> str:
    # Chat messages must stay on one line: a blank line would end the HTML block and let
    # Markdown interpret what follows.
    return re.sub(r"\s+", " ", text)


def highlight(text: str, start: int, end: int, flat: bool = False) -> str:
    """Escaped text with text[start:end] wrapped in <mark>."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    pieces = [text[:start], text[start:end], text[end:]]
    if flat:
        pieces = [_flat(p) for p in pieces]
    before, span, after = (esc(p) for p in pieces)
    return f"{before}<mark>{span}</mark>{after}"


def where(doc: str, section: str = "", line=None, page=None) -> str:
    """'doc · section · page 3 · line 12', escaped."""
    parts = [f'<span class="qa-doc">{esc(doc)}</span>']
    if section:
        parts.append(esc(section))
    return " · ".join(parts + place_text(doc, page, line))


def _full_stop(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else message + "."


def _sentence_case(message: str) -> str:
    message = _full_stop(message)
    return message[:1].upper() + message[1:]


def notice_html(message: str) -> str:
    return f'<div class="qa-msg qa-notice"><p>{esc(_flat(_sentence_case(message)))}</p></div>'


def passage_for(citation: Citation, passages: list[Passage]) -> Passage | None:
    """The retrieved passage that holds the cited span."""
    for p in passages:
        c = p.chunk
        if c.doc_id == citation.doc and c.start <= citation.start and citation.end <= c.end:
            return p
    return None


def render_answer(response: Response, show_scores: bool = False) -> str:
    """The chat reply: the answer, its source sentence with the answer marked, numbered sources."""
    if response.abstained:
        return render_not_found(response, show_scores)
    cites = response.citations
    refs = "".join(f'<sup class="qa-ref">[{n}]</sup>' for n in range(1, len(cites) + 1))
    out = ['<div class="qa-msg qa-found">']
    if response.answer_items:  # a list: an item a line
        items = "".join(f"<li>{esc(_flat(item))}</li>" for item in response.answer_items)
        out.append(f'<div class="qa-lead"><ul class="qa-items">{items}</ul>{refs}</div>')
    elif not cites or _flat(response.answer).strip() != _flat(cites[0].quote).strip():
        out.append(f'<p class="qa-lead">{esc(_flat(response.answer))} {refs}</p>')
    for n, c in enumerate(cites, start=1):
        quote = highlight(c.quote, c.start - c.quote_start, c.end - c.quote_start, flat=True)
        out.append(f'<blockquote class="qa-quote">“{quote}” <sup class="qa-ref">[{n}]</sup>'
                   f'<span class="qa-where">[{n}] {where(c.doc, c.section, c.line, c.page)}</span></blockquote>')
    if response.reason:
        out.append(f'<p class="qa-note">Note: {esc(_flat(response.reason))}</p>')
    if show_scores:
        seconds = response.timings_ms.get("total", 0) / 1000
        out.append(f'<p class="qa-meta">confidence {response.score:.0%} · {seconds:.1f} s</p>')
    out.append("</div>")
    return "".join(out)


def render_not_found(response: Response, show_scores: bool = False) -> str:
    out = [f'<div class="qa-msg qa-notfound"><p class="qa-lead">{NOT_FOUND}</p>']
    if response.passages:
        out.append("<p>None of the passages answers this question. The closest ones were:</p><ul>")
        for n, p in enumerate(response.passages[:3], start=1):
            c = p.chunk
            out.append(f'<li><span class="qa-where">[{n}] {where(c.doc_id, c.section, c.line, c.page)}</span> '
                       f"“{esc(shorten(c.text, 160))}”</li>")
        out.append("</ul>")
    else:
        out.append("<p>No passage matched the question.</p>")
    if response.not_held:  # "no document mentions Peru": what the documents lack, scores or not
        out.append(f"<p>{esc(_flat(_sentence_case(response.not_held)))}</p>")
    if response.notice:  # e.g. only the start of a long question was read: say so, scores or not
        out.append(f'<p class="qa-note">Note: {esc(_flat(response.notice))}</p>')
    if show_scores:
        out.append(f'<p class="qa-meta">{esc(_flat(response.reason))}</p>')
    out.append("</div>")
    return "".join(out)


def _passage_block(n: int, p: Passage, citation: Citation | None, show_scores: bool) -> str:
    c = p.chunk
    if citation is not None:
        body = highlight(c.text, citation.start - c.start, citation.end - c.start)
        line, page = citation.line, citation.page
    else:
        body, line, page = esc(c.text), c.line, c.page
    score = ""
    if show_scores:
        bits = [f"rank {p.rank}"]
        if p.dense_score is not None:
            bits.append(f"similarity {p.dense_score:.2f}")
        if p.bm25_score is not None:
            bits.append(f"keyword score {p.bm25_score:.1f}")
        score = f'<span class="qa-meta">{" · ".join(bits)}</span>'
    return (f'<div class="qa-source"><div class="qa-source-head"><span class="qa-num">[{n}]</span> '
            f'{where(c.doc_id, c.section, line, page)}{score}</div><div class="qa-passage">{body}</div></div>')


def render_sources(response: Response, show_scores: bool = False) -> str:
    """The sources panel: each cited passage with the answer marked, then the other passages."""
    out = ['<div class="qa-sources"><p class="qa-title">Sources</p>',
           f'<p class="qa-asked">for “{esc(_flat(response.question))}”</p>']
    if response.asked_as and response.asked_as != response.question:  # a follow-up: what it was taken to ask
        out.append(f'<p class="qa-asked">read as “{esc(_flat(response.asked_as))}”</p>')
    cited: list[Passage] = []
    if not response.abstained:
        for n, cite in enumerate(response.citations, start=1):
            p = passage_for(cite, response.passages)
            if p is None:  # the quote alone still shows where the answer is
                q = highlight(cite.quote, cite.start - cite.quote_start, cite.end - cite.quote_start)
                out.append(f'<div class="qa-source"><div class="qa-source-head"><span class="qa-num">[{n}]</span> '
                           f'{where(cite.doc, cite.section, cite.line, cite.page)}</div>'
                           f'<div class="qa-passage">{q}</div></div>')
                continue
            cited.append(p)
            out.append(_passage_block(n, p, cite, show_scores))
        rest = [p for p in response.passages if p not in cited]
        if rest:
            out.append(f"<details><summary>Other passages searched ({len(rest)})</summary>")
            out += [_passage_block(n, p, None, show_scores) for n, p in enumerate(rest, start=len(cited) + 1)]
            out.append("</details>")
    else:
        out.append(f'<p class="qa-notfound">{NOT_FOUND} Closest passages:</p>' if response.passages
                   else f'<p class="qa-notfound">{NOT_FOUND}</p>')
        out += [_passage_block(n, p, None, show_scores) for n, p in enumerate(response.passages, start=1)]
    out.append("</div>")
    return "".join(out)


def render_documents(documents: list[dict], folder: Path, can_add: bool = True) -> str:
    if not documents:
        return f'<p class="qa-empty">No documents yet in {esc(folder)}{": add one below" if can_add else ""}.</p>'
    rows = "".join(
        f"<tr><td>{esc(d['doc'])}</td><td>{esc(d.get('title') or '')}</td>"
        f"<td>{esc(d.get('kind') or '')}</td><td class='qa-n'>{int(d['chunks'])}</td>"
        f"<td class='qa-n'>{esc(size_text(d.get('bytes')))}</td><td>{esc(added_text(d.get('added_at', '')))}</td></tr>"
        for d in documents
    )
    total = sum(int(d["chunks"]) for d in documents)
    return (f'<p>{len(documents)} document{"s" if len(documents) != 1 else ""} in the folder '
            f"<code>{esc(folder)}</code>, split into {total} passages for searching.</p>"
            '<table class="qa-docs"><thead><tr><th>Document</th><th>Title</th><th>Type</th>'
            f"<th>Passages</th><th>Size</th><th>Added</th></tr></thead><tbody>{rows}</tbody></table>")


def render_index_notes(messages: list[str]) -> str:
    """The last indexing's notes under the documents table: files skipped and why, a rebuild, an
    index that could not be updated ('' when there are none)."""
    if not messages:
        return ""
    items = "".join(f"<li>{esc(_flat(m))}</li>" for m in messages)
    return f'<div class="qa-note"><p>Notes from the last indexing:</p><ul>{items}</ul></div>'


def chat_turns(messages) -> list[Turn]:
    """Gradio's chat messages as the core's history: each question with the answer the reply
    gave (the span marked in its first quote; "" for a refusal or a notice)."""
    turns: list[Turn] = []
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "user":
            turns.append(Turn(message_text(m)))
        elif m.get("role") == "assistant" and turns and not turns[-1].answer:
            content = m.get("content")
            found = _MARKED.search(content) if isinstance(content, str) and "qa-found" in content else None
            if found:
                turns[-1] = Turn(turns[-1].question, html.unescape(found.group(1)))
    return turns


_MARKED = re.compile(r"<mark>(.*?)</mark>", re.S)


def message_text(message: dict) -> str:
    """The plain text of a Gradio message (content is a string or a list of parts)."""
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return html.unescape(content) if isinstance(content, str) else ""


_ACRONYM = re.compile(r"\b[A-Z][\w'’-]+(?: (?:[A-Z][\w'’-]*|of|for|and|on|the|in|to|de)){1,8} \(([A-Z][A-Z0-9&]{1,9})\)")


_SECTION_NUMBER_PREFIX = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?\s+")


def suggest_questions(chunks, titles: set[str], n: int = 4) -> list[str]:
    """Example questions the corpus may answer: what the acronyms it defines stand for, then its
    section headings that are questions themselves (an FAQ's "How do I reset my password?"). A
    heading that names a topic ("Regional Cooperation") makes no question a span answers."""
    acronyms: list[str] = []
    asked: list[str] = []
    for chunk in chunks:
        acronyms += [a for a in _ACRONYM.findall(chunk.text) if a not in acronyms]
        # "FAQ › 2.1. How do I reset my password?" asks "How do I reset my password?"
        section = _SECTION_NUMBER_PREFIX.sub("", " ".join(chunk.section.rsplit(SECTION_SEPARATOR, 1)[-1].split()))
        if section.endswith("?") and section not in titles and section not in asked and len(section) <= 80:
            asked.append(section)
    questions = [f"What is the {a}?" for a in acronyms[: max(1, n // 2)]]
    questions += asked
    return questions[:n]


