"""The chat page: a thin Gradio layer over `bot.pipeline.Bot`.

`ChatPage` holds the behaviour (answering, rendering, uploads) as plain methods, so it is tested
without a server; `build_app` wires it to Gradio components; `serve` loads the bot and listens.

Documents are untrusted input: every piece of document or user text goes through `esc` before
it is put into HTML, and the page never serves files from the corpus or index folders. Requests
are untrusted too: no input of any event can make the server fetch a URL (`PageBlocks`,
`refuse_downloads`), and the page can be read-only or behind a sign-in (`uploads_allowed`,
bot/auth.py).
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import httpx
from gradio import processing_utils
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from bot.config import Settings
from bot.corpus import SUPPORTED_SUFFIXES
from bot.errors import BotError, CorpusError, UsageError
from bot.questions import clean_question
from bot.types import Citation, Passage, Response

if TYPE_CHECKING:
    from gradio.block_function import BlockFunction
    from gradio.state_holder import SessionState

log = logging.getLogger(__name__)

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
    if page is not None:
        parts.append(f"page {int(page)}")
    if line is not None:
        parts.append(f"line {int(line)}")
    return " · ".join(parts)


def _snippet(text: str, n: int = 160) -> str:
    text = _flat(text).strip()
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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
    if not cites or _flat(response.answer).strip() != _flat(cites[0].quote).strip():
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
                       f"“{esc(_snippet(c.text))}”</li>")
        out.append("</ul>")
    else:
        out.append("<p>No passage matched the question.</p>")
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
        f"<td>{esc(d.get('kind') or '')}</td><td class='qa-n'>{int(d['chunks'])}</td></tr>"
        for d in documents
    )
    total = sum(int(d["chunks"]) for d in documents)
    return (f'<p>{len(documents)} document{"s" if len(documents) != 1 else ""} in the folder '
            f"<code>{esc(folder)}</code>, split into {total} passages for searching.</p>"
            '<table class="qa-docs"><thead><tr><th>Document</th><th>Title</th><th>Type</th>'
            f"<th>Passages</th></tr></thead><tbody>{rows}</tbody></table>")


def message_text(message: dict) -> str:
    """The plain text of a Gradio message (content is a string or a list of parts)."""
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return html.unescape(content) if isinstance(content, str) else ""


_ACRONYM = re.compile(r"\b[A-Z][\w'’-]+(?: (?:[A-Z][\w'’-]*|of|for|and|on|the|in|to|de)){1,8} \(([A-Z][A-Z0-9&]{1,9})\)")


def suggest_questions(chunks, titles: set[str], n: int = 4) -> list[str]:
    """Example questions built from the corpus: the acronyms it defines, then its section headings."""
    acronyms: list[str] = []
    sections: list[str] = []
    for chunk in chunks:
        acronyms += [a for a in _ACRONYM.findall(chunk.text) if a not in acronyms]
        section = " ".join(chunk.section.split())
        if section and section not in titles and section not in sections and len(section) <= 60:
            sections.append(section)
    questions = [f"What is the {a}?" for a in acronyms[: max(1, n // 2)]]
    questions += [f"What does the document say about {s}?" for s in sections]
    return questions[:n]


class ChatPage:
    """What the page does, independent of Gradio's components."""

    def __init__(self, bot, examples: list[str] | None = None, uploads: bool = True) -> None:
        self.bot = bot
        self.settings: Settings = bot.settings
        self._examples = examples
        self.uploads = uploads  # False: read-only, the corpus cannot be changed from the page

    # ----- chat -----
    def display_question(self, question) -> str:
        """The question as the chat shows it: cleaned, and cut like the bot cuts it."""
        try:
            text, notice = clean_question(question, self.settings.max_question_chars)
        except BotError:
            return ""
        return text + "…" if notice else text

    def submit(self, question, history):
        """First half of a turn: show the question at once, clear the box, remember the question."""
        history = list(history or [])
        shown = self.display_question(question)
        if shown:
            history.append({"role": "user", "content": esc(shown)})
        return history, "", question if isinstance(question, str) else ""

    def answer(self, question, history, top_k=None, show_scores=False):
        """Second half: the reply to the question shown last, and the sources panel."""
        history = list(history or [])
        shown = self.display_question(question)
        asked_before = history[:-1] if shown and history and history[-1].get("role") == "user" else history
        message, sources = self.reply(question, asked_before, top_k, show_scores)
        history.append({"role": "assistant", "content": message})
        return history, sources

    def reply(self, question, history=None, top_k=None, show_scores=False) -> tuple[str, str]:
        """(chat message HTML, sources panel HTML) for one question; never raises."""
        previous = [{"role": "user", "content": message_text(m)}
                    for m in history or [] if isinstance(m, dict) and m.get("role") == "user"]
        try:
            k = int(top_k) if top_k else None
            response = self.bot.ask(question, history=previous, top_k=k)
        except BotError as exc:
            return notice_html(str(exc)), SOURCES_EMPTY
        except Exception:  # the page shows a message; the details go to the server log
            log.exception("answering %r failed", question)
            return notice_html("Something went wrong while answering; the server log has the details"), SOURCES_EMPTY
        return render_answer(response, bool(show_scores)), render_sources(response, bool(show_scores))

    def examples(self) -> list[str]:
        if self._examples is None:
            try:
                titles = {d["title"] for d in self.bot.documents()}
                self._examples = suggest_questions(self.bot.index.chunks, titles)
            except BotError:
                self._examples = []
        return self._examples

    # ----- documents -----
    def documents_html(self) -> str:
        try:
            return render_documents(self.bot.documents(), self.settings.corpus_dir, self.uploads)
        except BotError as exc:
            return notice_html(str(exc))

    def upload(self, files, replace: bool = False) -> tuple[str, str]:
        """Add uploaded files to the corpus; (status HTML, documents HTML). Never raises.

        A document of the same name is replaced only when `replace` is ticked."""
        if not self.uploads:
            return f'<p class="qa-error">{UPLOADS_OFF}</p>', self.documents_html()
        if not files:
            return "", self.documents_html()
        lines = []
        for f in files if isinstance(files, list) else [files]:
            ok, message = self._add(Path(str(getattr(f, "name", f))), bool(replace))
            lines.append(f'<p class="{"qa-ok" if ok else "qa-error"}">{esc(message)}</p>')
        return "".join(lines), self.documents_html()

    def _add(self, path: Path, replace: bool = False) -> tuple[bool, str]:
        name = path.name
        limit_mb = self.settings.max_file_mb
        try:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                return False, f"{name} was not added: only {', '.join(UPLOAD_TYPES)} files can be added."
            size = path.stat().st_size
            if size > limit_mb * 1024 * 1024:  # checked before reading it into memory
                return False, f"{name} was not added: {size / 1e6:.1f} MB is over the {limit_mb:g} MB limit."
            try:
                self.bot.index  # loaded first, so the sync report below is about this file only
            except CorpusError:
                pass  # no usable documents yet: this upload may be the first
            report = self.bot.add_document(name, path.read_bytes(), replace=replace)
        except BotError as exc:
            return False, f"Not added: {_full_stop(str(exc))}"
        except OSError as exc:
            return False, f"{name} was not added: the upload could not be read ({exc.strerror or exc})."
        except Exception:
            log.exception("adding %s failed", name)
            return False, f"{name} was not added: something went wrong (the server log has the details)."
        docs = report.added + report.changed
        if not docs:
            return True, f"{name} is already in the documents, unchanged."
        doc = name if name in docs else docs[0]  # the bot may have renamed it to a safe name
        n = {d["doc"]: d["chunks"] for d in self.bot.documents()}.get(doc, 0)
        verb = "Updated" if doc in report.changed else "Added"
        return True, f"{verb} {doc} ({n} passage{'s' if n != 1 else ''}). You can ask about it in the Chat tab now."

    # ----- API -----
    def ask_api(self, question: str, history: list[str] | None = None, top_k: int | None = None) -> dict:
        # The endpoint is public: an API client may send anything, so top_k is checked here.
        limit = self.settings.max_top_k
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 0 <= top_k <= limit):
            raise gr.Error(f"top_k must be a whole number of passages from 1 to {limit} (0 for the default), "
                           f"not {top_k!r}")
        try:
            return self.bot.ask(question, history=history or None, top_k=top_k or None).to_dict()
        except BotError as exc:
            raise gr.Error(_sentence_case(str(exc))) from None


CSS = """
.qa-msg p, .qa-sources p { margin: 0 0 .45em; }
.qa-lead { font-weight: 600; font-size: 1.05em; }
.qa-quote { margin: .35em 0; padding: .25em .75em; border-left: 3px solid #e0b000; font-style: normal; }
.qa-where { display: block; margin-top: .25em; font-size: .85em; opacity: .8; }
.qa-doc { font-weight: 600; }
.qa-ref, .qa-num { font-weight: 700; color: #1d4ed8; }
.qa-meta, .qa-note, .qa-asked { font-size: .85em; opacity: .8; }
.qa-meta { display: block; }
mark { background: #fde68a; color: #111; padding: 0 .1em; border-radius: 2px; }
.qa-notfound .qa-lead, p.qa-notfound { color: #b45309; font-weight: 600; }
.qa-msg ul { margin: .2em 0 0 1.1em; padding: 0; }
.qa-title { font-weight: 700; font-size: 1.1em; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .55em .75em; margin: 0 0 .6em; }
.qa-source-head { font-size: .9em; margin-bottom: .3em; }
.qa-passage { white-space: pre-wrap; font-size: .92em; line-height: 1.5; overflow-wrap: anywhere; }
.qa-sources details summary { cursor: pointer; margin: .3em 0 .6em; }
.qa-docs { border-collapse: collapse; width: 100%; }
.qa-docs th, .qa-docs td { text-align: left; padding: .3em .6em; border-bottom: 1px solid var(--border-color-primary); }
.qa-docs td { overflow-wrap: anywhere; }
.qa-n { text-align: right; }
.qa-ok { color: #15803d; }
.qa-error { color: #b91c1c; }
.qa-intro p { margin: 0; }
#chat .placeholder-content { padding: 0 1em; }
.dark .qa-ref, .dark .qa-num { color: #93c5fd; }
.dark .qa-notfound .qa-lead, .dark p.qa-notfound { color: #fbbf24; }
.dark .qa-ok { color: #4ade80; }
.dark .qa-error { color: #f87171; }
"""


# Any scheme://, not only the http(s) Gradio downloads today: a file input never needs a link.
_URL = re.compile(r"[\x00-\x20]*[A-Za-z][A-Za-z0-9+.-]*:[\\/]{2}")


def file_links(value: Any) -> list[str]:
    """The links given as files anywhere in an event's input: the `path` of every file-shaped
    object (`{"path": ...}`, with or without Gradio's FileData marker) that names a URL."""
    if isinstance(value, dict):
        path = value.get("path")
        found = [path] if isinstance(path, str) and _URL.match(path) else []
        return found + [link for v in value.values() for link in file_links(v)]
    if isinstance(value, (list, tuple)):
        return [link for v in value for link in file_links(v)]
    return []


class PageBlocks(gr.Blocks):
    """The page's Blocks. Gradio downloads any file input whose path is an http(s) URL before the
    event's function sees it; every event of every route passes through `preprocess_data`, so a
    link is refused there, before anything is fetched."""

    async def preprocess_data(self, block_fn: BlockFunction, inputs: list[Any], state: SessionState | None,
                              explicit_call: bool = False) -> list[Any]:
        if file_links(inputs):
            raise gr.Error(LINK_REFUSED, print_exception=False)
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


def build_app(page: ChatPage) -> gr.Blocks:
    settings = page.settings
    with PageBlocks(title="Ask the documents", analytics_enabled=False) as app:
        gr.HTML(
            '<div class="qa-intro"><h2>Ask the documents</h2><p>Answers are copied word for word from the '
            "documents listed in the Documents tab. The <mark>highlighted</mark> words are the answer; "
            "the number in brackets, like [1], points to the source shown under Sources.</p></div>",
            js_on_load=None,
        )
        pending = gr.State("")
        with gr.Tab("Chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=340):
                    chat = gr.Chatbot(
                        elem_id="chat", label="Conversation", show_label=False, height=460, buttons=["copy"],
                        feedback_options=None, latex_delimiters=[], allow_tags=False,
                        placeholder="Ask a question below, or pick an example. "
                                    "When the documents do not hold the answer, the bot says so.",
                        examples=[{"text": q} for q in page.examples()] or None,
                    )
                    with gr.Row():
                        question = gr.Textbox(elem_id="question", show_label=False, scale=5, min_width=180,
                                              placeholder="Type your question…", lines=1,
                                              max_lines=4, autofocus=True)
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                    clear = gr.Button("Clear chat", size="sm", min_width=100, elem_id="clear")
                    with gr.Accordion("Settings", open=False):
                        most = min(10, settings.max_top_k)
                        top_k = gr.Slider(1, most, value=min(settings.top_k, most), step=1,
                                          label="Passages to search (top k)")
                        show_scores = gr.Checkbox(False, label="Show scores (confidence, similarity, time)")
                with gr.Column(scale=2, min_width=300):
                    sources = gr.HTML(SOURCES_EMPTY, elem_id="sources", js_on_load=None)
        with gr.Tab("Documents"):
            documents = gr.HTML(page.documents_html(), elem_id="documents", js_on_load=None)
            if page.uploads:
                upload = gr.File(label=f"Add documents: .txt, .md, .html or .pdf, up to {settings.max_file_mb:g} MB "
                                 "each", file_types=UPLOAD_TYPES, file_count="multiple", type="filepath",
                                 elem_id="upload")
                replace_existing = gr.Checkbox(False, label="Replace documents of the same name",
                                               elem_id="replace-existing")
                status = gr.HTML("", elem_id="upload-status", js_on_load=None)
            else:  # read-only: no control, and below no event that could add a document
                gr.HTML(f'<p class="qa-note">{UPLOADS_OFF}</p>', elem_id="uploads-off", js_on_load=None)

        # Others may have added documents since the page was built.
        app.load(page.documents_html, None, documents, api_visibility="private")

        turn = dict(fn=page.answer, inputs=[pending, chat, top_k, show_scores], outputs=[chat, sources],
                    api_visibility="private", concurrency_id="bot")
        gr.on([ask.click, question.submit], page.submit, [question, chat], [chat, question, pending],
              queue=False, api_visibility="private").then(**turn)

        def pick_example(history, event: gr.SelectData):
            return page.submit(event.value.get("text", ""), history)

        chat.example_select(pick_example, chat, [chat, question, pending],
                            queue=False, api_visibility="private").then(**turn)
        clear.click(lambda: ([], SOURCES_EMPTY, "", ""), None, [chat, sources, question, pending],
                    queue=False, api_visibility="private")
        # The chat's own trash icon clears only the messages; the sources belong to them.
        chat.clear(lambda: (SOURCES_EMPTY, ""), None, [sources, pending], queue=False, api_visibility="private")
        if page.uploads:
            # Indexing has its own slot: questions go on, answered from the current index meanwhile.
            upload.upload(page.upload, [upload, replace_existing], [status, documents], api_visibility="private",
                          concurrency_id="upload").then(lambda: None, None, upload, queue=False,
                                                     api_visibility="private")

        def ask_endpoint(question: str, history: list[str] | None = None, top_k: int | None = None) -> dict:
            """Answer a question from the documents. history: earlier questions of the conversation,
            oldest first (for follow-ups). Returns the answer, whether it abstained, its confidence,
            the citations (document, section, line/page, quoted sentence) and the passages searched."""
            return page.ask_api(question, history, top_k)

        gr.api(ask_endpoint, api_name="ask", concurrency_id="bot")
    return app


class PageGuard:
    """ASGI middleware. Gradio's `/file=` route, given an http(s) URL instead of a path, fetches it
    on the server's behalf; this page only ever serves local files, so such requests end here. On a
    read-only page, Gradio's generic upload route is closed too: nothing on the page uses it."""

    def __init__(self, app, uploads: bool = True) -> None:
        self.app = app
        self.uploads = uploads

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            _, found, target = path.partition("/file=")
            if found and target.lstrip().lower().startswith(("http:", "https:")):
                await PlainTextResponse("Remote files are not served.", status_code=403)(scope, receive, send)
                return
            if not self.uploads and path.rstrip("/").endswith("/upload"):
                await PlainTextResponse(UPLOADS_OFF, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _NoDownloads(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"this page does not fetch URLs ({request.url.host})", request=request)


def refuse_downloads() -> None:
    """Gradio fetches a URL given as a file (and components fetch theirs) through one transport
    hook; this one refuses before any name lookup or connection, so a link that slipped past
    `PageBlocks` could not connect out either. (The file route fetches on its own: `PageGuard`.)"""
    processing_utils.async_transport = _NoDownloads()


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uploads_allowed(host: str, signed_in: bool, no_uploads: bool = False,
                    allow_uploads: bool = False) -> tuple[bool, str | None]:
    """Whether the page may add documents, and the notice to print when they are off by default:
    a page others can reach, where nobody signs in, does not let them change the corpus unless
    asked to."""
    if no_uploads and allow_uploads:
        raise UsageError("--no-uploads and --allow-uploads contradict each other; choose one")
    if no_uploads:
        return False, None
    if allow_uploads or signed_in or is_loopback(host):
        return True, None
    return False, (f"adding documents is off: the page listens on {host} without sign-in "
                   "(require it with --auth FILE, or pass --allow-uploads to let anyone add documents)")


def launch_options(settings: Settings, uploads: bool = True,
                   auth: Callable[[str, str], Awaitable[bool]] | None = None) -> dict:
    """Safe defaults: local only, no share link, no monitoring or MCP endpoints, no run history
    kept in the browser, and the corpus and index folders never served. auth: Gradio's sign-in
    check (username, password) -> bool, or None for an open page."""
    folders = [str(settings.corpus_dir.resolve()), str(settings.index_dir.resolve())]
    options = dict(
        server_name=settings.host, server_port=settings.port, share=False, inbrowser=False,
        show_error=False, quiet=True, enable_monitoring=False, mcp_server=False, pwa=False,
        ssr_mode=False, run_history=False, footer_links=["api"], blocked_paths=folders,
        max_file_size=int(settings.max_file_mb * 1024 * 1024), css=CSS,
        app_kwargs={"middleware": [Middleware(PageGuard, uploads=uploads)]},
        # System fonts: nothing to download, and they read well on every platform.
        theme=gr.themes.Default(primary_hue="blue", font=["ui-sans-serif", "system-ui", "sans-serif"],
                                font_mono=["ui-monospace", "monospace"]),
    )
    if auth is not None:
        options.update(auth=auth, auth_message="Sign in to ask the documents.")
    return options


def page_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def _address_error(settings: Settings, exc: OSError) -> UsageError:
    reason = exc.strerror or _first_line(exc)
    return UsageError(f"cannot listen on {settings.host}:{settings.port} ({reason}); "
                      "choose another address with --host/--port")


def _check_address(settings: Settings) -> None:
    """Fail fast when the address cannot be bound (port taken, unknown host)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(settings.host, settings.port,
                                                             type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself does
            probe.bind(address)
    except OSError as exc:
        raise _address_error(settings, exc) from None


def serve(settings: Settings, examples: list[str] | None = None, *, auth_file: Path | None = None,
          no_uploads: bool = False, allow_uploads: bool = False) -> None:
    """Load the documents and models, then serve the chat page until interrupted. auth_file: the
    users who may sign in (bot/auth.py); without one the page is open to whoever reaches it."""
    from bot.auth import Authenticator
    from bot.pipeline import Bot

    if not settings.corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {settings.corpus_dir} (create it, or pass --corpus DIR)")
    _check_address(settings)  # before the slow model loads, like the sign-in file
    authenticator = Authenticator.from_file(auth_file) if auth_file is not None else None
    uploads, notice = uploads_allowed(settings.host, authenticator is not None, no_uploads, allow_uploads)
    if notice:
        print(f"note: {notice}", file=sys.stderr, flush=True)
    print("Loading the documents and models…", file=sys.stderr, flush=True)
    bot = Bot(settings)
    try:
        bot.index
        bot.ask("What are these documents about?")  # loads every model now, not on the first question
    except CorpusError as exc:  # an empty folder: the page still opens so documents can be uploaded
        print(f"warning: {exc}", file=sys.stderr)
    for message in bot.messages:
        print(f"note: {message}", file=sys.stderr)
    app = build_app(ChatPage(bot, examples, uploads=uploads))
    app.queue(default_concurrency_limit=1, max_size=64)
    refuse_downloads()
    try:
        app.launch(prevent_thread_lock=True,
                   **launch_options(settings, uploads, authenticator.check if authenticator else None))
    except OSError as exc:  # taken in the meantime
        raise _address_error(settings, exc) from None
    print(f"Chat page: {page_url(settings)}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
    app.block_thread()
