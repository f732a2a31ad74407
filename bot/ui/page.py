"""The chat page: `ChatPage` holds the behaviour (answering, rendering, uploads) as plain methods,
so it is tested without a server; `build_app` wires it to Gradio components. No input of any event
can make the server fetch a URL (`PageBlocks`)."""


from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from bot.config import Settings
from bot.ingest.corpus import ALLOWED_TYPES, SUPPORTED_SUFFIXES
from bot.errors import BotError, CorpusError
from bot.questions import clean_question
from bot.pipeline import upload_file_name

if TYPE_CHECKING:
    from gradio.block_function import BlockFunction
    from gradio.state_holder import SessionState

from bot.ui.feedback import FeedbackPanel
from bot.ui.render import (
    LINK_REFUSED, SOURCES_EMPTY, UPLOAD_TYPES, UPLOADS_OFF, _full_stop, _sentence_case, chat_turns, esc,
    notice_html, render_answer, render_documents, render_index_notes, render_sources, suggest_questions,
)

log = logging.getLogger(__name__)

REMOVAL_OFF = "Removing documents is turned off on this page."
EXAMPLES = 4  # example questions shown under an empty chat
EXAMPLE_MIN_SCORE = 0.5  # the confidence an example's answer must have
# Gradio shows an event's tqdm bars (the embedding of an upload) on the page when its handler
# takes one of these as a default argument.
_EMBEDDING_PROGRESS = gr.Progress(track_tqdm=True)


def _inside(path: str | os.PathLike, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def _failure(name: str, verb: str, exc: Exception, file_problem: str) -> str:
    """The page's message for an upload or removal that failed; unexpected errors go to the log."""
    if isinstance(exc, BotError):
        return f"Not {verb}: {_full_stop(str(exc))}"
    if isinstance(exc, OSError):
        return f"{name} was not {verb}: {file_problem} ({exc.strerror or exc})."
    log.error("%s: not %s", name, verb, exc_info=exc)
    return f"{name} was not {verb}: something went wrong (the server log has the details)."


class ChatPage:
    """What the page does, independent of Gradio's components."""

    def __init__(self, bot, examples: list[str] | None = None, uploads: bool = True, replicas=None) -> None:
        """replicas: a started ReplicaPool (bot/replicas.py) that answers the questions; `bot`
        then only keeps the index (uploads, removals, documents on disk) as the one writer."""
        self.bot = bot
        self.settings: Settings = bot.settings
        self._examples = examples
        self.uploads = uploads  # False: read-only, the corpus cannot be changed from the page
        self.replicas = replicas
        self.concurrency = replicas.size if replicas is not None else 1  # questions answered at once
        # Gradio keeps two uploads of one file at one path: the copy the first one deleted
        # (`_discard_upload_copy`) -> what became of it, for a second one still waiting.
        self._handled_copies: dict[str, tuple[bool, str]] = {}

    def _ask(self, question, history=None, top_k=None):
        if self.replicas is None:
            return self.bot.ask(question, history=history, top_k=top_k)
        self.bot.refresh()  # the writer notices documents changed on disk and publishes them
        return self.replicas.ask(question, history=history, top_k=top_k)

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
        history, sources, _ = self.answer_turn(question, history, top_k, show_scores)
        return history, sources

    def answer_turn(self, question, history, top_k=None, show_scores=False):
        """`answer`, plus the Response behind the reply (None when the reply is a notice), which
        a rating of the reply records."""
        history = list(history or [])
        shown = self.display_question(question)
        asked_before = history[:-1] if shown and history and history[-1].get("role") == "user" else history
        message, sources, response = self.respond(question, asked_before, top_k, show_scores)
        history.append({"role": "assistant", "content": message})
        return history, sources, response

    def reply(self, question, history=None, top_k=None, show_scores=False) -> tuple[str, str]:
        """(chat message HTML, sources panel HTML) for one question; never raises."""
        message, sources, _ = self.respond(question, history, top_k, show_scores)
        return message, sources

    def respond(self, question, history=None, top_k=None, show_scores=False):
        """(chat message HTML, sources panel HTML, Response or None on an error notice); never raises."""
        previous = chat_turns(history)
        try:
            k = int(top_k) if top_k else None
            response = self._ask(question, history=previous, top_k=k)
        except BotError as exc:
            return notice_html(str(exc)), SOURCES_EMPTY, None
        except Exception:  # the page shows a message; the details go to the server log
            log.exception("answering %r failed", question)
            return (notice_html("Something went wrong while answering; the server log has the details"),
                    SOURCES_EMPTY, None)
        return render_answer(response, bool(show_scores)), render_sources(response, bool(show_scores)), response

    def examples(self) -> list[str]:
        """Example questions for the chat: those of `suggest_questions` the bot answers with some
        confidence, so that a new user's first click is not "not found"."""
        if self._examples is None:
            try:
                titles = {d["title"] for d in self.bot.documents()}
                candidates = suggest_questions(self.bot.index.chunks, titles, n=3 * EXAMPLES)
                answers = self.bot.ask_many(candidates) if candidates else []
                self._examples = [q for q, r in zip(candidates, answers, strict=True)
                                  if not r.abstained and r.score >= EXAMPLE_MIN_SCORE][:EXAMPLES]
            except BotError:
                self._examples = []
        return self._examples

    # ----- documents -----
    def documents_html(self) -> str:
        try:
            listed = render_documents(self.bot.documents(), self.settings.corpus_dir, self.uploads)
        except BotError as exc:
            return notice_html(str(exc))
        # Files of the folder that are not indexed, and why; an index that could not follow the folder.
        return listed + render_index_notes(self.bot.messages)

    def upload(self, files, replace: bool = False, progress=_EMBEDDING_PROGRESS) -> tuple[str, str]:
        """Add uploaded files to the corpus; (status HTML, documents HTML). Never raises.

        A document of the same name is replaced only when `replace` is ticked. The embedding's
        progress bar shows on the page (`progress`: Gradio follows it): a large file takes minutes."""
        if not self.uploads:
            return f'<p class="qa-error">{UPLOADS_OFF}</p>', self.documents_html()
        if not files:
            return "", self.documents_html()
        lines = []
        for f in files if isinstance(files, list) else [files]:
            path = Path(str(getattr(f, "name", f)))
            if not path.exists() and str(path) in self._handled_copies:
                ok, message = self._handled_copies[str(path)]  # the same file, sent again meanwhile
            else:
                ok, message = False, f"{path.name} was not added."
                try:
                    ok, message = self._add(path, bool(replace))
                finally:
                    if _discard_upload_copy(path):
                        recent = list(self._handled_copies.items())[-99:]
                        self._handled_copies = dict(recent) | {str(path): (ok, message)}
            lines.append(f'<p class="{"qa-ok" if ok else "qa-error"}">{esc(message)}</p>')
        return "".join(lines), self.documents_html()

    def _upload_problem(self, exc: Exception) -> str:
        """What an OSError of an upload says went wrong: writing into the documents folder (read-only,
        full) or reading the upload itself."""
        if isinstance(exc, OSError) and exc.filename and _inside(exc.filename, self.settings.corpus_dir):
            return "the documents folder could not be written to"
        return "the upload could not be read"

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
                self.bot.load_index()  # first, so the sync report below is about this file only
            except CorpusError:
                pass  # no usable documents yet: this upload may be the first
            report = self.bot.add_document(name, path.read_bytes(), replace=replace, progress=True)
        except Exception as exc:  # every failure becomes one friendly line
            return False, _failure(name, "added", exc, self._upload_problem(exc))
        docs = report.added + report.changed
        if not docs:
            return True, f"{name} is already in the documents, unchanged."
        stored = upload_file_name(name)  # the bot may have renamed it to a safe name
        doc = stored if stored in docs else docs[0]
        n = {d["doc"]: d["chunks"] for d in self.bot.documents()}.get(doc, 0)
        verb = "Updated" if doc in report.changed else "Added"
        return True, f"{verb} {doc} ({n} passage{'s' if n != 1 else ''}). You can ask about it in the Chat tab now."

    def document_names(self) -> list[str]:
        try:
            return [d["doc"] for d in self.bot.documents()]
        except BotError:
            return []

    def remove_choices(self) -> gr.Dropdown:
        """The list to remove from, as the documents are now, with nothing chosen."""
        return gr.Dropdown(choices=self.document_names(), value=None)

    def remove(self, name) -> tuple[str, str]:
        """Take a document out of the corpus and the index; (status HTML, documents HTML). Never raises."""
        if not self.uploads:
            return f'<p class="qa-error">{REMOVAL_OFF}</p>', self.documents_html()
        if not isinstance(name, str) or not name:
            return '<p class="qa-error">Choose a document to remove first.</p>', self.documents_html()
        ok, message = self._remove(name)
        return f'<p class="{"qa-ok" if ok else "qa-error"}">{esc(message)}</p>', self.documents_html()

    def _remove(self, name: str) -> tuple[bool, str]:
        try:
            self.bot.remove_document(name)
        except Exception as exc:  # every failure becomes one friendly line
            return False, _failure(name, "removed", exc, "the file could not be moved")
        return True, f"Removed {name}. Questions are answered without it now."

    # ----- API -----
    def ask_api(self, question: str, history: list | None = None, top_k: int | None = None) -> dict:
        # The endpoint is public: an API client may send anything, so top_k is checked here.
        limit = self.settings.max_top_k
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 0 <= top_k <= limit):
            # The caller's mistake, answered in words: no traceback in the server's log.
            raise gr.Error(f"top_k must be a whole number of passages from 1 to {limit} (0 for the default), "
                           f"not {top_k!r}", print_exception=False)
        try:
            return self._ask(question, history=history or None, top_k=top_k or None).to_dict()
        except BotError as exc:
            raise gr.Error(_sentence_case(str(exc)), print_exception=False) from None


CSS = """
.qa-msg p, .qa-sources p { margin: 0 0 .45em; }
.qa-lead { font-weight: 600; font-size: 1.05em; }
.qa-items { list-style: none; padding-left: 0; margin: 0 0 0.4em 0; }  /* a list answer keeps its own numbers */
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


def _discard_upload_copy(path: Path) -> bool:
    """Delete Gradio's copy of an uploaded file (in its upload folder; a path elsewhere is the
    caller's own file and stays): the corpus holds the document now, or it was refused, and a copy
    left there would still be served at its /file= address after the document is removed. Whether
    it was one of Gradio's copies."""
    from gradio.utils import get_upload_folder

    try:
        folder = Path(get_upload_folder()).resolve()
        copy = path.resolve()
        if not copy.is_relative_to(folder) or copy == folder:
            return False
        copy.unlink(missing_ok=True)
        if copy.parent != folder:
            copy.parent.rmdir()  # the upload's own folder, when nothing else is in it
    except OSError:
        pass  # gone already, or not empty: Gradio's own clean-up (`delete_cache`) takes the rest
    return True


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
    # Gradio's temporary copies (uploads, and anything else it caches) are deleted after an hour
    # and when the page stops: nothing on the page needs them longer.
    with PageBlocks(title="Ask the documents", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
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
                        elem_id="chat", label="Conversation", show_label=False, height=460, buttons=[],
                        feedback_options=("Like", "Dislike"), latex_delimiters=[], allow_tags=False,
                        placeholder="Ask a question below, or pick an example. "
                                    "When the documents do not hold the answer, the bot says so.",
                        examples=[{"text": q} for q in page.examples()] or None,
                    )
                    with gr.Row():
                        question = gr.Textbox(elem_id="question", label="Your question", show_label=False,
                                              scale=5, min_width=180,
                                              placeholder="Type your question…", lines=1,
                                              max_lines=4, autofocus=True)
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                    clear = gr.Button("Clear chat", size="sm", min_width=100, elem_id="clear")
                    feedback = FeedbackPanel(page)
                    turns = feedback.build(chat, [clear.click, chat.clear])
                    with gr.Accordion("Settings", open=False):
                        most = min(10, settings.max_top_k)
                        top_k = gr.Slider(1, most, value=min(settings.top_k, most), step=1,
                                          label="Passages to search (top k)")
                        show_scores = gr.Checkbox(False, label="Show scores (confidence, similarity, time)")
                        calibration = gr.HTML(feedback.calibration_html(), elem_id="calibration-status",
                                              js_on_load=None)
                with gr.Column(scale=2, min_width=300):
                    sources = gr.HTML(SOURCES_EMPTY, elem_id="sources", js_on_load=None)
        with gr.Tab("Documents"):
            documents = gr.HTML(page.documents_html(), elem_id="documents", js_on_load=None)
            if page.uploads:
                upload = gr.File(label=f"Add documents: {ALLOWED_TYPES}, up to {settings.max_file_mb:g} MB "
                                 "each", file_types=UPLOAD_TYPES, file_count="multiple", type="filepath",
                                 elem_id="upload")
                replace_existing = gr.Checkbox(False, label="Replace documents of the same name",
                                               elem_id="replace-existing")
                status = gr.HTML("", elem_id="upload-status", js_on_load=None)
                with gr.Row(equal_height=True):
                    remove_name = gr.Dropdown(page.document_names(), value=None, label="Remove a document",
                                              elem_id="remove-name", scale=4, min_width=200)
                    remove = gr.Button("Remove", variant="stop", elem_id="remove", scale=1, min_width=90)
                removal = gr.HTML("", elem_id="remove-status", js_on_load=None)
            else:  # read-only: no control, and below no event that could add or remove a document
                gr.HTML(f'<p class="qa-note">{UPLOADS_OFF}</p>', elem_id="uploads-off", js_on_load=None)

        # Others may have added documents since the page was built.
        app.load(page.documents_html, None, documents, api_visibility="private")

        # A calibration fitted since the page was built shows on the next load.
        app.load(feedback.calibration_html, None, calibration, api_visibility="private")
        turn = dict(fn=feedback.answer, inputs=[pending, chat, top_k, show_scores, turns],
                    outputs=[chat, sources, turns],
                    api_visibility="private", concurrency_id="bot", concurrency_limit=page.concurrency)
        # The box and the button stay locked until the reply is in: a question sent meanwhile would
        # be shown, then overwritten by the pending reply's history, and never answered.
        def submit_locked(text, history):
            history, cleared, asked = page.submit(text, history)
            return history, gr.Textbox(value=cleared, interactive=False), asked, gr.Button(interactive=False)

        unlock = dict(fn=lambda: (gr.Textbox(interactive=True), gr.Button(interactive=True)), inputs=None,
                      outputs=[question, ask], queue=False, api_visibility="private")
        # Typing goes on in the box once it is open again: locking it took the focus away.
        refocus = dict(fn=None, inputs=None, outputs=None, queue=False, api_visibility="private",
                       js="() => { document.querySelector('#question textarea')?.focus(); }")
        gr.on([ask.click, question.submit], submit_locked, [question, chat], [chat, question, pending, ask],
              queue=False, api_visibility="private").then(**turn).then(**unlock).then(**refocus)

        def pick_example(history, event: gr.SelectData):
            return submit_locked(event.value.get("text", ""), history)

        chat.example_select(pick_example, chat, [chat, question, pending, ask],
                            queue=False, api_visibility="private").then(**turn).then(**unlock).then(**refocus)
        clear.click(lambda: ([], SOURCES_EMPTY, "", ""), None, [chat, sources, question, pending],
                    queue=False, api_visibility="private")
        # The chat's own trash icon clears only the messages; the sources belong to them.
        chat.clear(lambda: (SOURCES_EMPTY, ""), None, [sources, pending], queue=False, api_visibility="private")
        if page.uploads:
            # The remove list follows the documents: on load, after an upload and after a removal.
            choices = dict(fn=page.remove_choices, inputs=None, outputs=remove_name, queue=False,
                           api_visibility="private")
            # Indexing has its own slot: questions go on, answered from the current index meanwhile.
            # "multiple": a file chosen while another is being indexed waits its turn, not dropped.
            upload.upload(page.upload, [upload, replace_existing], [status, documents], api_visibility="private",
                          concurrency_id="upload", trigger_mode="multiple").then(
                lambda: None, None, upload, queue=False, api_visibility="private").then(**choices)
            remove.click(page.remove, remove_name, [removal, documents], api_visibility="private",
                         concurrency_id="upload").then(**choices)
            app.load(**choices)

        def ask_endpoint(question: str, history: list | None = None, top_k: int | None = None) -> dict:
            """Answer a question from the documents. history: the earlier turns of the conversation,
            oldest first (for follow-ups), each a question or a {"question", "answer"} object.
            Returns the answer, whether it abstained, its confidence, the citations (document,
            section, line/page, quoted sentence) and the passages searched."""
            return page.ask_api(question, history, top_k)

        gr.api(ask_endpoint, api_name="ask", concurrency_id="bot", concurrency_limit=page.concurrency)
    return app


