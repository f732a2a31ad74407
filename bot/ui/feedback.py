"""The chat page's feedback controls: Gradio's own thumbs on each reply, an optional "what is the
right answer?" box after a thumbs-down, and the calibration status in Settings.

This module only turns Gradio's events into calls to the core (`bot.feedback`): which reply was
rated, what the thumbs mean for it, and what to show back. On a refusal ("Not found in the
documents") thumbs-up means "right, it is not there" and thumbs-down "it is in the documents".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr

from bot.errors import BotError
from bot.feedback import DOWN, MAX_CORRECTION_CHARS, UP, WITHDRAWN, FeedbackStore, RatedReply, Rating, rate
from bot.read.answerability import CALIBRATION_FILE, Calibration
from bot.ui.render import esc

log = logging.getLogger(__name__)

HINT = ('<p class="qa-note" id="feedback-hint">Rate each reply with the thumbs under it. On “Not found in the '
        "documents”: thumbs up = right, it is not there; thumbs down = it is in the documents.</p>")
ASK_ANSWER = "What is the right answer? (optional)"
ASK_LOCATION = "It is in the documents: what is the answer? (optional)"
NOT_RATABLE = ("Only the bot's answers can be rated, not notices, and only those given since the page was last "
               "started: ask again to rate an earlier answer.")


@dataclass(frozen=True)
class FeedbackView:
    """What the page shows after a rating event."""

    status: str  # HTML
    box_open: bool = False  # the "what is the right answer?" box
    box_label: str = ASK_ANSWER
    target: str = ""  # the reply the box's Send applies to
    clear_text: bool = True  # False keeps what the user typed (a send that failed)


def _status(text: str, ok: bool = True) -> str:
    return f'<p class="{"qa-ok" if ok else "qa-error"}">{esc(text)}</p>'


def _indexes(index, group_size: int) -> list[int]:
    """The message indexes of the rated group, last first (Gradio reports a group of consecutive
    replies by its first message and their contents)."""
    first = index[0] if isinstance(index, (list, tuple)) else index
    if isinstance(first, bool) or not isinstance(first, int):
        return []
    return list(range(first + max(group_size, 1) - 1, first - 1, -1))


class FeedbackPanel:
    """Ratings from one page, stored in the index folder's feedback file."""

    def __init__(self, page) -> None:
        self.page = page
        self.store = FeedbackStore(page.settings.index_dir)

    # ----- remembering what each reply was -----
    def answer(self, question, history, top_k=None, show_scores=False, turns=None):
        """The page's answer, plus the reply kept under its message index for rating later."""
        history, sources, response = self.page.answer_turn(question, history, top_k, show_scores)
        turns = dict(turns or {})
        if response is not None:
            turns[str(len(history) - 1)] = RatedReply.from_response(
                response, self.page.bot.reader.identity, self.page.settings.embedding_model)
        return history, sources, turns

    # ----- rating -----
    def like(self, turns, index, liked, group_size: int = 1) -> FeedbackView:
        """A click on a reply's thumbs: liked True (up), False (down), or "" (taken back)."""
        reply = next((turns[str(i)] for i in _indexes(index, group_size) if str(i) in (turns or {})), None)
        if reply is None:
            return FeedbackView(_status(NOT_RATABLE, ok=False))
        rating = UP if liked is True else DOWN if liked is False else WITHDRAWN
        _, failure = self._store(reply, rating)
        if failure:
            return FeedbackView(_status(failure, ok=False))
        if rating == WITHDRAWN:
            return FeedbackView(_status("Rating removed."))
        if rating == UP:
            said = ("Thanks: noted that the documents do not hold this answer." if reply.refused
                    else "Thanks: noted that this answer is right.")
            return FeedbackView(_status(said))
        said = ("Noted that the answer is in the documents. If you know it, type it below and press Send."
                if reply.refused else
                "Noted that this answer is wrong. If you know the right one, type it below and press Send.")
        return FeedbackView(_status(said), True, ASK_LOCATION if reply.refused else ASK_ANSWER, reply.id)

    def send(self, turns, target: str, correction) -> FeedbackView:
        """Send in the box: the thumbs-down of `target`, now with the user's answer."""
        reply = next((r for r in (turns or {}).values() if r.id == target), None) if target else None
        if reply is None:
            return FeedbackView(_status("Rate a reply with thumbs down first, then type the right answer.", ok=False))
        text = correction.strip() if isinstance(correction, str) else ""
        label = ASK_LOCATION if reply.refused else ASK_ANSWER
        if not text:
            return FeedbackView(_status("Type the right answer first, or leave the box: the thumbs down is already saved.",
                                        ok=False), True, label, target)
        stored, failure = self._store(reply, DOWN, text)
        if failure:
            return FeedbackView(_status(failure, ok=False), True, label, target, clear_text=False)
        if stored.correction_found and not reply.follow_up:
            return FeedbackView(_status("Thanks: your answer was found in the documents and will be used to test "
                                        "and tune the bot."))
        if reply.follow_up:  # its words alone do not say what was asked: never a labelled question
            return FeedbackView(_status("Thanks: saved. A follow-up question depends on the conversation before "
                                        "it, so your answer is kept as a note and not used to test the bot."))
        return FeedbackView(_status("Thanks: saved. Your answer was not found word for word in the documents, "
                                    "so it is kept as a note and not used to test the bot."))

    def _store(self, reply: RatedReply, rating: str, correction: str = "") -> tuple[Rating | None, str]:
        """Store a rating: (the rating, "") or (None, what to tell the user)."""
        try:
            texts = (c.text for c in self.page.bot.index.chunks) if correction else ()
            stored = rate(reply, rating, correction, texts)
            self.store.append(stored)
        except BotError as exc:
            return None, f"Not saved: {exc}."
        except OSError as exc:
            log.warning("could not store a rating in %s: %s", self.store.path, exc)
            return None, "Not saved: the feedback file could not be written (the server log has the details)."
        return stored, ""

    # ----- Gradio events -----
    def build(self, chat: gr.Chatbot, clears: list) -> gr.State:
        """The box and status under the chat, wired to the chat's thumbs. Returns the state that
        keeps each reply by message index (the page's answer event must fill it)."""
        turns = gr.State({})
        target = gr.State("")
        gr.HTML(HINT, elem_id="feedback-hint-block", js_on_load=None)
        with gr.Group(visible=False, elem_id="correction-box") as box:
            correction = gr.Textbox(label=ASK_ANSWER, value="", placeholder="Type the answer as the documents "
                                    "say it", lines=1, max_lines=3, max_length=MAX_CORRECTION_CHARS,
                                    elem_id="correction")
            send = gr.Button("Send", size="sm", elem_id="send-correction")
        status = gr.HTML("", elem_id="feedback-status", js_on_load=None)

        def on_like(turns_value, event: gr.LikeData):
            size = len(event.value) if isinstance(event.value, list) else 1
            return self._updates(self.like(turns_value, event.index, event.liked, size))

        def on_send(turns_value, target_value, text):
            return self._updates(self.send(turns_value, target_value, text))

        outputs = [status, box, correction, target]
        chat.like(on_like, [turns], outputs, queue=False, api_visibility="private")
        gr.on([send.click, correction.submit], on_send, [turns, target, correction], outputs, queue=False,
              api_visibility="private")
        for clear in clears:  # a cleared chat has no replies left to rate
            clear(lambda: ({}, "", gr.update(visible=False), gr.update(value=""), ""), None,
                  [turns, target, box, correction, status], queue=False, api_visibility="private")
        return turns

    @staticmethod
    def _updates(view: FeedbackView):
        # Emptied whenever it opens or closes, so an answer typed for one reply never carries over.
        text = gr.update(label=view.box_label, value="") if view.clear_text else gr.update(label=view.box_label)
        return view.status, gr.update(visible=view.box_open), text, view.target

    # ----- Settings -----
    def calibration_html(self) -> str:
        return f'<p class="qa-note">{esc(calibration_note(self.page.bot))}</p>'


def calibration_note(bot) -> str:
    """Which calibration decides refusals: the user's own (index/calibration.json) or the reader's."""
    try:
        active = bot.calibration
    except Exception:  # the page still works; the reason goes to the server log
        log.exception("reading the calibration failed")
        return "The refusal threshold could not be read (the server log has the details)."
    user_file = bot.settings.index_dir / CALIBRATION_FILE
    user = None
    if user_file.is_file():
        try:
            user = Calibration.load(user_file)
        except (OSError, ValueError, TypeError):
            user = None
    fitted = f"fitted on {active.fitted_on or 'a default rule'}, {active.n_examples} examples"
    if user is not None and user == active:
        note = f"Your calibration is active ({user_file}): {fitted}; refusal threshold {active.threshold:.2f}."
    else:
        note = (f"The reader's calibration is in use ({fitted}; refusal threshold {active.threshold:.2f}). "
                "Rate replies, then run “bot calibrate --feedback” to fit your own.")
        if user_file.is_file():
            note += (f" {user_file} is not in use: it is unreadable, fitted for another reader or embedder, "
                     "or saved after the page started (restart the page to use it).")
    if bot.settings.abstain_threshold is not None:
        note += f" The threshold is set to {bot.settings.abstain_threshold:.2f} by --threshold or BOT_ABSTAIN_THRESHOLD."
    return note
