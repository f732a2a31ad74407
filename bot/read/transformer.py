"""The extractive reader: any transformers question-answering model, run over the retrieved
passages in one batched forward pass.

preprocess: (question, passage) pairs cut into overlapping windows with character offsets;
forward:    one batch for all windows of a question (or of many questions during evaluation);
postprocess: best start/end pairs per window, aligned to whole words, mapped back to document
             offsets, duplicates from overlapping windows and chunks merged.
The answer is always `document.text[start:end]`, never re-tokenised text.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from dataclasses import dataclass, field

import torch

from bot.hardware import fast_bf16
from bot.model_paths import hub_load_error, quiet_model_loading, resolve_model
from bot.types import ReaderResult, ReadItem, Span

MAX_QUESTION_TOKENS = 64


def align_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen to whole words, then trim spaces and trailing punctuation that no answer needs."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    # A final period belongs to "U.S." or "Inc." but not to the end of a sentence.
    if end > start and text[end - 1] == "." and not re.search(r"(\b[A-Za-z]\.|\b(?:Inc|Ltd|Co|Jr|Sr|St)\.)$", text[start:end]):
        end -= 1
    # Drop a bracket or quote whose partner lies outside the span.
    for open_, close in (("(", ")"), ("[", "]"), ("“", "”"), ('"', '"')):
        span = text[start:end]
        if open_ == close:
            if span.count(open_) % 2 == 1:
                if span.startswith(open_):
                    start += 1
                elif span.endswith(close):
                    end -= 1
        elif span.startswith(open_) and span.count(close) < span.count(open_):
            start += 1
        elif span.endswith(close) and span.count(open_) < span.count(close):
            end -= 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _truncate_question(tokenizer, question: str) -> str:
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= MAX_QUESTION_TOKENS:
        return question
    return question[: enc["offset_mapping"][MAX_QUESTION_TOKENS - 1][1]]


class TransformerReader:
    """Reads passages with an `AutoModelForQuestionAnswering` model (ours or any from the hub)."""

    kind = "neural"

    def __init__(self, model: str, max_length: int = 192, stride: int = 64, max_answer_tokens: int = 30,
                 top_k: int = 5, batch_windows: int = 64) -> None:
        if max_answer_tokens < 1:
            raise ValueError(f"max_answer_tokens must be >= 1 (got {max_answer_tokens})")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1 (got {top_k})")
        self.model_name = model
        self.max_length = max_length
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.top_k = top_k
        self.batch_windows = batch_windows
        self.model = None
        self.tokenizer = None
        self.model_dir: str | None = None
        self._lock = threading.Lock()
        # The fast tokenizer keeps truncation and padding state per object, so two threads reading
        # at once corrupt each other's batches; reads take turns (they use every core anyway).
        self._read_lock = threading.Lock()
        self._bf16 = False

    @property
    def identity(self) -> str:
        """Stable name of the model, recorded with calibrations fitted for it."""
        from bot.model_paths import BUNDLED_READER_DIR

        try:
            if Path(self.model_name).resolve() == BUNDLED_READER_DIR:
                return "neural:bundled"
        except OSError:
            pass
        return f"neural:{self.model_name}"

    def warm_up(self) -> None:
        if self.model is not None:
            return
        with self._lock:
            if self.model is not None:
                return
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
            quiet_model_loading()
            path = resolve_model(self.model_name, "reader")
            try:
                tokenizer = AutoTokenizer.from_pretrained(path)
                model = AutoModelForQuestionAnswering.from_pretrained(path, dtype=torch.float32)
            except Exception as exc:
                raise hub_load_error(self.model_name, "reader", exc) from exc
            if not getattr(tokenizer, "is_fast", False):
                from bot.errors import ModelError

                raise ModelError(f"reader {self.model_name!r} needs a fast tokenizer (character offsets)")
            model.eval()
            self._bf16 = fast_bf16("cpu")
            self.model_dir = path
            self.tokenizer = tokenizer
            self.model = model

    def read(self, question: str, items: list[ReadItem]) -> ReaderResult:
        return self.read_batch([(question, items)])[0]

    def read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]:
        """Read many questions at once; windows are batched across questions for throughput.

        Safe to call from several threads (calls are serialised)."""
        self.warm_up()
        with self._read_lock:
            return self._read_batch(requests)

    def _read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]:
        pairs: list[tuple[int, ReadItem]] = []
        questions = []
        for q_index, (question, items) in enumerate(requests):
            q = _truncate_question(self.tokenizer, question.strip()) if question.strip() else ""
            questions.append(q)
            pairs.extend((q_index, item) for item in items if item.text.strip() and q)
        candidates: list[list[tuple[float, float, ReadItem, int, int]]] = [[] for _ in requests]
        nulls: list[_WindowScores] = [_WindowScores() for _ in requests]
        # Sort by context length so each batch pads little.
        pairs.sort(key=lambda p: len(p[1].text))
        step = max(1, self.batch_windows // 2)
        for b in range(0, len(pairs), step):
            self._read_pairs(pairs[b : b + step], questions, candidates, nulls)
        return [self._collect(c, n) for c, n in zip(candidates, nulls)]

    def _read_pairs(self, pairs, questions, candidates, nulls) -> None:
        enc = self.tokenizer(
            [questions[q] for q, _ in pairs],
            [item.text for _, item in pairs],
            truncation="only_second",
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="pt",
        )
        sample_map = enc.pop("overflow_to_sample_mapping").tolist()
        offsets = enc.pop("offset_mapping").tolist()
        n_windows = len(sample_map)
        context_mask = torch.zeros(enc["input_ids"].shape, dtype=torch.bool)
        for w in range(n_windows):
            seq = enc.sequence_ids(w)
            context_mask[w] = torch.tensor([s == 1 for s in seq])
        start_logits, end_logits = [], []
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            for b in range(0, n_windows, self.batch_windows):
                inputs = {k: v[b : b + self.batch_windows] for k, v in enc.items()}
                out = self.model(**inputs)
                start_logits.append(out.start_logits.float())
                end_logits.append(out.end_logits.float())
        start = torch.cat(start_logits)
        end = torch.cat(end_logits)
        null = start[:, 0] + end[:, 0]
        # Log-sum-exp over the positions a reader may pick: [CLS] and the passage's tokens.
        allowed = context_mask.clone()
        allowed[:, 0] = True
        start_lse = torch.logsumexp(start.masked_fill(~allowed, float("-inf")), dim=1)
        end_lse = torch.logsumexp(end.masked_fill(~allowed, float("-inf")), dim=1)
        # Score every (start, end) pair in one tensor; keep pairs inside the context, end after
        # start, and no longer than max_answer_tokens.
        length = start.shape[1]
        pos = torch.arange(length)
        band = (pos[None, :] >= pos[:, None]) & (pos[None, :] - pos[:, None] < self.max_answer_tokens)
        valid = band[None] & context_mask[:, :, None] & context_mask[:, None, :]
        scores = (start[:, :, None] + end[:, None, :]).masked_fill(~valid, float("-inf"))
        k = min(self.top_k * 2, length * length)
        best, flat = scores.view(n_windows, -1).topk(k, dim=1)
        for w in range(n_windows):
            q_index, item = pairs[sample_map[w]]
            nulls[q_index].add(float(null[w]), float(start[w, 0]), float(end[w, 0]), float(start_lse[w]),
                               float(end_lse[w]))
            for score, index in zip(best[w].tolist(), flat[w].tolist()):
                if score == float("-inf"):
                    break
                s_tok, e_tok = divmod(index, length)
                s_char, e_char = offsets[w][s_tok][0], offsets[w][e_tok][1]
                s_char, e_char = align_to_words(item.text, s_char, e_char)
                if e_char <= s_char:
                    continue
                candidates[q_index].append((score, float(null[w]), item, s_char, e_char))

    def _collect(self, candidates, windows: "_WindowScores") -> ReaderResult:
        nulls = windows.null
        merged: dict[tuple[str, int, int], Span] = {}
        for score, null, item, s, e in candidates:
            key = (item.doc_id, item.offset + s, item.offset + e)
            if key not in merged or merged[key].score < score:
                merged[key] = Span(text=item.text[s:e], doc_id=item.doc_id, start=key[1], end=key[2],
                                   score=score, passage_index=item.passage_index, no_answer_score=null)
        ranked = sorted(merged.values(), key=lambda s: -s.score)
        kept: list[Span] = []
        for span in ranked:
            # Overlapping spans of the same place are one answer; keep the best-scored reading.
            if any(k.doc_id == span.doc_id and k.start < span.end and span.start < k.end for k in kept):
                continue
            kept.append(span)
            if len(kept) == self.top_k:
                break
        best_null = kept[0].no_answer_score if kept else (min(nulls) if nulls else 0.0)
        return ReaderResult(spans=kept, best_null=best_null, min_null=min(nulls) if nulls else 0.0,
                            group_null=windows.group_null(), log_norm=windows.log_norm())


@dataclass
class _WindowScores:
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
