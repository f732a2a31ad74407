"""What every extractive reader backend shares: token windows in, ranked spans out.

A backend turns (question, passage) pairs into `Windows` (token ids plus character offsets) and
runs a question-answering model over them to get start/end logits. Everything after that is
here, in NumPy, so that the torch and ONNX Runtime backends decode identically:
best start/end pairs per window, aligned to whole words, mapped back to document offsets,
duplicates from overlapping windows and chunks merged, and the "no answer" scores that the
answerability model reads.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.ingest.chunking import LIST_MARK, next_line_start, runs_on, wrap_width
from bot.types import ReaderResult, ReadItem, Span

MAX_QUESTION_TOKENS = 64
# Token windows over question + passage, as the bundled reader was trained on them: the reader must
# read what it learned from (`bot train-reader` uses the same numbers).
WINDOW_TOKENS = 192
WINDOW_STRIDE = 64
_BREAK = re.compile(r"\n[ \t]*\n|\?[ \t]*\n")
# Where a table row's sentence joins two cells ("£180; Boat storage: £75", "Junior — Annual fee:"):
# the column's name there is the bot's wording, so no answer runs across it.
ROW_JOINT = re.compile(r"(?:; | — )[^;:—\n]{1,40}: ")
_ROW_LABEL_WORDS = 4  # a column's name is a few words
# What may stand before a line's own text: indentation and a list item's mark ("- ", "2. ", "(b) ").
_LINE_LEAD = re.compile(rf"[ \t]*(?:{LIST_MARK}[ \t]+)?")


def crosses_break(text: str, start: int, end: int, sentences: Sequence[tuple[int, int]] = (), offset: int = 0) -> bool:
    """Whether text[start:end] runs across a paragraph break, out of a line that asks a question
    (an FAQ's question is not part of its answer), from one line of a list or table into part of
    the next, or into the joint between two cells of a table row: no answer does. A span over
    several such lines takes them whole (the items of one list); a sentence hard-wrapped over lines
    is crossed freely: one of `sentences` (as the chunker found them for the whole document, in
    offsets of the text's document, where `text` starts at `offset`) when given, else as `runs_on`
    reads the text alone. The reader's tokens do not
    see line breaks, so without this it ends "50 GB" on the next row's label ("50 GB.\nPro")."""
    if _BREAK.search(text, start, end) is not None or _in_row_label(text, start, end):
        return True
    breaks = [i for i in range(start, end) if text[i] == "\n"]
    if not breaks:
        return False
    if sentences:
        inside = all(any(s <= offset + i < e for s, e in sentences) for i in breaks)
    else:
        width = wrap_width(text)
        inside = all(runs_on(text[text.rfind("\n", 0, i) + 1 : i], next_line_start(text, i + 1), width)
                     for i in breaks)
    return not inside and not _whole_lines(text, start, end)


def line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the line(s) holding text[start:end] start and end (their newlines left out)."""
    line_end = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end == -1 else line_end


def _in_row_label(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] runs across a table row's joint ("£180; Boat storage: £75"), or
    takes in part of one on a line that reads as a row (two joints or more: "Dyson — Price (USD):
    749; Weight (kg): 3.1."), whose column names are the bot's wording: "USD" is no answer to "How
    much does it cost?". A line with one joint is taken for a row when its name is short: "Grace
    period — The days allowed after the due date: …" is prose."""
    if ROW_JOINT.search(text, start, end) is not None:
        return True
    joints = list(ROW_JOINT.finditer(text, *line_bounds(text, start, end)))
    if len(joints) == 1 and len(joints[0].group().split()) > _ROW_LABEL_WORDS + 1:
        return False  # one joint whose "name" is a phrase: prose ("Term — The days allowed after…: ")
    return any(m.start() < end and start < m.end() for m in joints)


def answerable_span(item: ReadItem, start: int, end: int) -> bool:
    """Whether item.text[start:end] may be given as an answer: it crosses no break (`crosses_break`),
    is not a number that names a section or a clause, and is not words of the heading the text
    starts with that hold no figure: a label ("Root cause", a document's title) names the section
    and answers nothing, where a heading's date or version ("Minutes, 12 March 2024") may. A text
    that is all headings (short lines, each alone: "Visitors park in car park C") answers from them."""
    return not (start < item.context or crosses_break(item.text, start, end, item.sentences, item.offset)
                or end <= section_number_end(item.text, item.heading, item.context)
                or is_item_mark(item.text, start, end)
                or end <= item.heading < len(item.text.rstrip()) and not any(c.isdigit() for c in item.text[start:end]))


_HEADING_NUMBER = re.compile(r"\s*\d{1,3}(?:\.\d{1,3})*\.?(?=\s)")


def section_number_end(text: str, heading: int, start: int = 0) -> int:
    """Where the number of the heading that `text` starts with (at `start`) ends (0 when it has
    none): "4" of "4 Mileage" is the section's name, not an answer to "What is the mileage rate?"."""
    m = _HEADING_NUMBER.match(text, start, heading) if heading > start else None
    return m.end() if m else 0


# A numbered clause's or item's mark at a line's start, before a capital ("2. Mix…", "(b) The
# tenant…", "4. USB ports…"); a bare decimal only before a capitalised word ("5.4 Work outside…"):
# "5.4 million people", "2.5 GB" and "2.5 Mb" are figures, not marks.
_ITEM_MARK = re.compile(r"[ \t]*(?:\(?(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z])[.)]|\([A-Za-z0-9]{1,3}\))(?=[ \t]+[A-Z])"
                        r"|[ \t]*\d{1,3}(?:\.\d{1,3})+(?=[ \t]+[A-Z][a-z]{2})")


def is_item_mark(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies within the mark a numbered clause or item starts with: the
    clause's number is not what a question about the clause asks for."""
    line_start = text.rfind("\n", 0, start) + 1
    m = _ITEM_MARK.match(text, line_start)
    return m is not None and end <= m.end()


_LEADING_MARK = re.compile(rf"[ \t]*{LIST_MARK}[ \t]+")  # "2. ", "(b) ", "- "
_LETTER_MARK = re.compile(r"(?m)^[ \t]*\(?[A-Za-z][.)][ \t]+")  # "a. ", "(b) ", "C) "
_LEADING_CLAUSE_NUMBER = re.compile(r"[ \t]*((\d{1,3}(?:\.\d{1,3})*)\.\d{1,3})[ \t]+")  # "4.2 "


def after_item_mark(text: str, start: int, end: int) -> int:
    """Where a span that starts with its line's item or clause mark starts without it: "4.2 not to
    keep any pet..." answers "Can I keep a pet?" as "not to keep any pet...". A dotted number
    counts as a clause's only where another line starts with a number of the same clause ("4.1",
    "4.3"): "5.4 million people" at a line's start is a figure. A span over several marked items
    keeps its marks."""
    line_start = text.rfind("\n", 0, start) + 1
    later_marks = any(_LEADING_MARK.match(text, i + 1) or _LEADING_CLAUSE_NUMBER.match(text, i + 1)
                      for i in range(start, end) if text[i] == "\n")
    if text[line_start:start].strip() or later_marks:
        return start
    # A letter ("J. Smith") or a dotted number ("5.4 million") is a mark only beside another of its
    # kind: "(b)" beside "(a)", "4.3" beside "4.2".
    m = _LEADING_MARK.match(text, line_start)
    sibling = _LETTER_MARK if m is not None and m.group().strip()[:1].isalpha() else None
    if m is None:
        m = _LEADING_CLAUSE_NUMBER.match(text, line_start)
        if m is not None:
            sibling = re.compile(rf"(?m)^[ \t]*{re.escape(m.group(2))}\.\d{{1,3}}[ \t]")
    if sibling is not None:
        # The marks of its neighbours: the lines of its block (up to a blank line either side).
        before, after = text.rfind("\n\n", 0, line_start), text.find("\n\n", line_start)
        block = text[0 if before < 0 else before + 2: len(text) if after < 0 else after]
        if not any(other.group().strip() != m.group().strip() for other in sibling.finditer(block)):
            m = None
    return m.end() if m is not None and m.end() < end else start


def _whole_lines(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] starts where its first line's text does and ends where its last
    line's text does (a closing full stop or bracket aside)."""
    line_start, line_end = line_bounds(text, start, end)
    return (_LINE_LEAD.fullmatch(text[line_start:start]) is not None
            and not text[end:line_end].strip(" \t.,;:!?)]”’\"'"))


# Punctuation that joins the parts of one token when letters or digits stand on both sides:
# e-mail and web addresses, file names, times and decimals ("help.desk@example.co.uk",
# "https://example.org/a", "10:30", "2.5", "1,000"). Hyphens and apostrophes are left out: "two"
# of "two-year" can be the answer.
_JOINERS = frozenset(".@/_:")
_LONGEST_JOIN = 3  # "://"


def _join_length(text: str, i: int, step: int) -> int:
    """How many joining characters run from text[i] in direction `step` (+1 or -1) up to a letter
    or digit: 0 when they do not join anything."""
    run = ""
    while len(run) < _LONGEST_JOIN and 0 <= (at := i + step * len(run)) < len(text) and text[at] in _JOINERS | {","}:
        run += text[at]
    before, after = i - step, i + step * len(run)
    if not run or not 0 <= after < len(text) or not text[after].isalnum():
        return 0
    if "," in run:  # a thousands separator only: "1,000", not "Paris,London"
        return 1 if run == "," and text[before].isdigit() and text[after].isdigit() else 0
    right = text[max(before, after) : max(before, after) + 2]
    if run == "." and right[:1].isupper() and right[1:].islower():
        return 0  # "it.Next": a missing space between sentences
    return len(run)


_ABBREVIATION_END = re.compile(r"(?:\b[A-Za-z]\.)+[A-Za-z]$")
_ABBREVIATION_CHARS = 20  # looked for in the span's last characters only ("U.S", "p.m")


def align_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen to whole words, then trim spaces and trailing punctuation that no answer needs. An
    edge on a joiner inside a token ("https://api" before ".parcelpoint", "@parcelpoint" after
    "support") moves past it first, so the whole address or number is taken."""
    if 0 < start < end and text[start] in _JOINERS and text[start + 1 : start + 2].isalnum():
        start -= _join_length(text, start, -1)
    if start < end - 1 and text[end - 1] in _JOINERS and text[end - 2].isalnum():
        end += _join_length(text, end - 1, 1)
    while start > 0 and text[start].isalnum():
        if text[start - 1].isalnum():
            start -= 1
        elif n := _join_length(text, start - 1, -1):
            start -= n + 1
        else:
            break
    while end < len(text) and text[end - 1].isalnum():
        if text[end].isalnum():
            end += 1
        elif n := _join_length(text, end, 1):
            end += n + 1
        else:
            break
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    # An abbreviation's last full stop is part of it ("7 p.m.", "the U.S."), even at a sentence's end.
    if text[end : end + 1] == "." and _ABBREVIATION_END.search(text, max(start, end - _ABBREVIATION_CHARS), end):
        end += 1
    # A final period belongs to "U.S." or "Inc." but not to the end of a sentence.
    if end > start and text[end - 1] == "." and not re.search(r"(\b[A-Za-z]\.|\b(?:Inc|Ltd|Co|Jr|Sr|St)\.)$", text[start:end]):
        end -= 1
    # A bracket or quote whose partner lies outside the span: drop it at the span's edge, or take
    # in the partner when it stands right next to the span ('card “Welcome Aboard' + '”').
    for open_, close in (("(", ")"), ("[", "]"), ("“", "”"), ("‘", "’"), ('"', '"')):
        span = text[start:end]
        if open_ == close:
            if span.count(open_) % 2 == 1:
                if span.startswith(open_):
                    start += 1
                elif span.endswith(close):
                    end -= 1
                elif text[end:end + 1] == close:
                    end += 1
                elif start > 0 and text[start - 1] == open_:
                    start -= 1
        elif span.count(close) < span.count(open_):
            if span.startswith(open_):
                start += 1
            elif text[end:end + 1] == close:
                end += 1
        elif span.count(open_) < span.count(close):
            if span.endswith(close):
                end -= 1
            elif start > 0 and text[start - 1] == open_:
                start -= 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class Windows:
    """Token windows of (question, passage) pairs, padded to one length.

    `pair_of_window[w]` is the index of the pair window w was cut from; `offsets[w][t]` is the
    character range of token t in that pair's passage (meaningful where `context_mask` is set)."""

    inputs: dict[str, np.ndarray]  # int64 [windows, length]: input_ids, attention_mask, ...
    context_mask: np.ndarray  # bool [windows, length]: the passage's tokens
    offsets: list[list[tuple[int, int]]]
    pair_of_window: list[int]

    def __len__(self) -> int:
        return len(self.pair_of_window)


@dataclass
class WindowScores:
    """Per-window scores of one question, combined across all its windows."""

    null: list[float] = field(default_factory=list)
    cls_start: list[float] = field(default_factory=list)
    cls_end: list[float] = field(default_factory=list)
    start_lse: list[float] = field(default_factory=list)
    end_lse: list[float] = field(default_factory=list)

    def add(self, null: float, cls_start: float, cls_end: float, start_lse: float, end_lse: float) -> None:
        self.null.append(null)
        self.cls_start.append(cls_start)
        self.cls_end.append(cls_end)
        self.start_lse.append(start_lse)
        self.end_lse.append(end_lse)

    def group_null(self) -> float:
        return _logsumexp(self.cls_start) + _logsumexp(self.cls_end) if self.null else 0.0

    def log_norm(self) -> float:
        return _logsumexp(self.start_lse) + _logsumexp(self.end_lse) if self.null else 0.0


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _row_logsumexp(x: np.ndarray) -> np.ndarray:
    top = x.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=1, keepdims=True)))[:, 0]


# A candidate span before merging: (score, window's null score, item, start, end in item.text).
Candidate = tuple[float, float, ReadItem, int, int]


class WindowReader:
    """Reads passages in batched windows; subclasses tokenize and run the model.

    Thread-safe: reads take turns, because fast tokenizers keep truncation and padding state per
    object and two threads reading at once would corrupt each other's batches (a read uses
    every core anyway)."""

    kind = "neural"

    def __init__(self, max_length: int = WINDOW_TOKENS, stride: int = WINDOW_STRIDE, max_answer_tokens: int = 30, top_k: int = 5,
                 batch_windows: int = 64) -> None:
        if max_answer_tokens < 1:
            raise ValueError(f"max_answer_tokens must be >= 1 (got {max_answer_tokens})")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1 (got {top_k})")
        self.max_length = max_length
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.top_k = top_k
        self.batch_windows = batch_windows
        self._read_lock = threading.Lock()

    model_name: str

    @property
    def identity(self) -> str:
        """Stable name of the model, recorded with calibrations fitted for it (the same for every
        backend: they run the same weights)."""
        from bot.model_paths import BUNDLED_READER_DIR

        try:
            if Path(self.model_name).resolve() == BUNDLED_READER_DIR:
                return "neural:bundled"
        except OSError:
            pass
        return f"neural:{self.model_name}"

    # -- what a backend provides ------------------------------------------------------------
    def warm_up(self) -> None:
        raise NotImplementedError

    def truncate_question(self, question: str) -> str:
        """The question cut to MAX_QUESTION_TOKENS word pieces."""
        raise NotImplementedError

    def tokenize(self, questions: list[str], texts: list[str]) -> Windows:
        raise NotImplementedError

    def forward(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """float32 start and end logits [windows, length] for one batch of windows."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    def read(self, question: str, items: list[ReadItem]) -> ReaderResult:
        return self.read_batch([(question, items)])[0]

    def read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]:
        """Read many questions at once; windows are batched across questions for throughput."""
        self.warm_up()
        with self._read_lock:
            return self._read_batch(requests)

    def _read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]:
        pairs: list[tuple[int, ReadItem]] = []
        questions = []
        for q_index, (question, items) in enumerate(requests):
            q = self.truncate_question(question.strip()) if question.strip() else ""
            questions.append(q)
            pairs.extend((q_index, item) for item in items if item.text.strip() and q)
        candidates: list[list[Candidate]] = [[] for _ in requests]
        scores = [WindowScores() for _ in requests]
        # Sort by context length so each batch pads little.
        pairs.sort(key=lambda p: len(p[1].text))
        step = max(1, self.batch_windows // 2)
        for b in range(0, len(pairs), step):
            chunk = pairs[b : b + step]
            windows = self.tokenize([questions[q] for q, _ in chunk], [item.text for _, item in chunk])
            start, end = self._logits(windows)
            self._decode(windows, start, end, chunk, candidates, scores)
        return [self._collect(c, s) for c, s in zip(candidates, scores)]

    def _logits(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = [], []
        for b in range(0, len(windows), self.batch_windows):
            s, e = self.forward({k: v[b : b + self.batch_windows] for k, v in windows.inputs.items()})
            starts.append(s)
            ends.append(e)
        return np.concatenate(starts), np.concatenate(ends)

    def _decode(self, windows: Windows, start: np.ndarray, end: np.ndarray, pairs: list[tuple[int, ReadItem]],
                candidates: list[list[Candidate]], scores: list[WindowScores]) -> None:
        n_windows, length = start.shape
        context = windows.context_mask
        null = start[:, 0] + end[:, 0]
        # Log-sum-exp over the positions a reader may pick: [CLS] and the passage's tokens.
        allowed = context.copy()
        allowed[:, 0] = True
        start_lse = _row_logsumexp(np.where(allowed, start, -np.inf))
        end_lse = _row_logsumexp(np.where(allowed, end, -np.inf))
        # Score every (start, end) pair at once; keep pairs inside the context, end after start,
        # and no longer than max_answer_tokens.
        pos = np.arange(length)
        band = (pos[None, :] >= pos[:, None]) & (pos[None, :] - pos[:, None] < self.max_answer_tokens)
        valid = band[None] & context[:, :, None] & context[:, None, :]
        pair_scores = np.where(valid, start[:, :, None] + end[:, None, :], -np.inf).reshape(n_windows, -1)
        k = min(self.top_k * 2, length * length)
        top = np.argpartition(-pair_scores, k - 1, axis=1)[:, :k]
        for w in range(n_windows):
            q_index, item = pairs[windows.pair_of_window[w]]
            scores[q_index].add(float(null[w]), float(start[w, 0]), float(end[w, 0]), float(start_lse[w]),
                                float(end_lse[w]))
            ranked = top[w][np.argsort(-pair_scores[w, top[w]], kind="stable")]
            for index in ranked.tolist():
                score = float(pair_scores[w, index])
                if score == -math.inf:
                    break
                s_tok, e_tok = divmod(index, length)
                s_char, e_char = windows.offsets[w][s_tok][0], windows.offsets[w][e_tok][1]
                s_char, e_char = align_to_words(item.text, s_char, e_char)
                s_char = after_item_mark(item.text, s_char, e_char)
                if e_char <= s_char or not answerable_span(item, s_char, e_char):
                    continue
                candidates[q_index].append((score, float(null[w]), item, s_char, e_char))

    def _collect(self, candidates: list[Candidate], windows: WindowScores) -> ReaderResult:
        nulls = windows.null
        merged: dict[tuple[str, int, int], Span] = {}
        for score, null, item, s, e in candidates:
            key = (item.doc_id, item.offset + s, item.offset + e)
            if key not in merged or merged[key].score < score:
                merged[key] = Span(text=item.text[s:e], doc_id=item.doc_id, start=key[1], end=key[2],
                                   score=score, passage_index=item.passage_index, no_answer_score=null)
        ranked = sorted(merged.values(), key=lambda s: -s.score)
        with_spans = {s.passage_index for s in ranked}
        heard: set[int] = set()
        kept: list[Span] = []
        for span in ranked:
            # Overlapping spans of the same place are one answer; keep the best-scored reading.
            if any(k.doc_id == span.doc_id and k.start < span.end and span.start < k.end for k in kept):
                continue
            # Past the best top_k, a passage not yet heard from still gives its best span: ranked
            # with its retrieval score and the question's details (a year, a version), it may win.
            if len(kept) >= self.top_k and span.passage_index in heard:
                continue
            kept.append(span)
            heard.add(span.passage_index)
            if len(kept) >= self.top_k and heard == with_spans:
                break
        best_null = kept[0].no_answer_score if kept else (min(nulls) if nulls else 0.0)
        return ReaderResult(spans=kept, best_null=best_null, min_null=min(nulls) if nulls else 0.0,
                            group_null=windows.group_null(), log_norm=windows.log_norm())
