"""The extractive reader on torch: any transformers question-answering model (ours or any from
the hub), run over the retrieved passages in batched forward passes.

Tokenizing uses the model's fast tokenizer (character offsets); decoding is shared with the
other backends (bot/read/windows.py). The answer is always `document.text[start:end]`, never
re-tokenised text.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from bot.hardware import fast_bf16
from bot.model_paths import hub_load_error, quiet_model_loading, resolve_model
from bot.read.windows import (  # noqa: F401
    MAX_QUESTION_TOKENS, WINDOW_STRIDE, WINDOW_TOKENS, Windows, WindowReader, align_to_words)
from bot.types import ReadItem  # noqa: F401  (re-exported for callers of this module)


class TransformerReader(WindowReader):
    """Reads passages with an `AutoModelForQuestionAnswering` model on torch."""

    backend = "torch"

    def __init__(self, model: str, max_length: int = WINDOW_TOKENS, stride: int = WINDOW_STRIDE, max_answer_tokens: int = 30,
                 top_k: int = 5, batch_windows: int = 64) -> None:
        super().__init__(max_length, stride, max_answer_tokens, top_k, batch_windows)
        self.model_name = model
        self.model = None
        self.tokenizer = None
        self.model_dir: str | None = None
        self._lock = threading.Lock()
        self._bf16 = False

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

    def truncate_question(self, question: str) -> str:
        enc = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) <= MAX_QUESTION_TOKENS:
            return question
        return question[: enc["offset_mapping"][MAX_QUESTION_TOKENS - 1][1]]

    def tokenize(self, questions: list[str], texts: list[str]) -> Windows:
        enc = self.tokenizer(
            questions,
            texts,
            truncation="only_second",
            max_length=self.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="np",
        )
        pair_of_window = enc.pop("overflow_to_sample_mapping").tolist()
        offsets = [[tuple(o) for o in row] for row in enc.pop("offset_mapping").tolist()]
        context = np.array([[s == 1 for s in enc.sequence_ids(w)] for w in range(len(pair_of_window))], dtype=bool)
        inputs = {k: np.asarray(v, dtype=np.int64) for k, v in enc.items()}
        return Windows(inputs, context.reshape(len(pair_of_window), -1), offsets, pair_of_window)

    def forward(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            out = self.model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
            return out.start_logits.float().numpy(), out.end_logits.float().numpy()
