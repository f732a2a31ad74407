"""The extractive reader on ONNX Runtime: the same weights as the torch reader, exported once
(int8 or fp32), run without importing torch or transformers.

Windows are cut with the model's own `tokenizer.json` through the `tokenizers` library, with the
same truncation, stride and padding as the transformers tokenizer, so both backends read the
same tokens (tests/test_onnx.py checks that).
"""

from __future__ import annotations

import threading

import numpy as np

from bot.accel.tokens import load_tokenizer
from bot.read.windows import MAX_QUESTION_TOKENS, WINDOW_STRIDE, WINDOW_TOKENS, Windows, WindowReader


class OnnxReader(WindowReader):
    """Reads passages with an ONNX Runtime copy of a question-answering model."""

    def __init__(self, model: str, precision: str = "int8", max_length: int = WINDOW_TOKENS, stride: int = WINDOW_STRIDE,
                 max_answer_tokens: int = 30, top_k: int = 5, batch_windows: int = 64) -> None:
        super().__init__(max_length, stride, max_answer_tokens, top_k, batch_windows)
        self.model_name = model
        self.precision = precision
        self.backend = f"onnx-{precision}"
        self.model_dir: str | None = None
        self.onnx_model = None
        self._session = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from bot.accel.cache import onnx_copy, open_session
            from bot.model_paths import model_folder

            path = model_folder(self.model_name, "reader")
            pairs, pad_id = load_tokenizer(path)
            # Two tokenizer objects: truncation settings are per object, and questions are measured
            # without them.
            questions, _ = load_tokenizer(path)
            pairs.enable_truncation(self.max_length, stride=self.stride, strategy="only_second")
            self.onnx_model = onnx_copy(path, "reader", self.precision)
            self._pairs, self._questions, self._pad_id = pairs, questions, pad_id
            self.model_dir = str(path)
            self._session = open_session(self.onnx_model)

    def truncate_question(self, question: str) -> str:
        enc = self._questions.encode(question, add_special_tokens=False)
        if len(enc.ids) <= MAX_QUESTION_TOKENS:
            return question
        return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]

    def tokenize(self, questions: list[str], texts: list[str]) -> Windows:
        encodings = self._pairs.encode_batch(list(zip(questions, texts)))
        windows, pair_of_window = [], []
        for pair, enc in enumerate(encodings):
            for window in [enc, *enc.overflowing]:
                windows.append(window)
                pair_of_window.append(pair)
        length = max(len(w.ids) for w in windows)
        n = len(windows)
        ids = np.full((n, length), self._pad_id, dtype=np.int64)
        types = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.int64)
        context = np.zeros((n, length), dtype=bool)
        offsets: list[list[tuple[int, int]]] = []
        for w, window in enumerate(windows):
            size = len(window.ids)
            ids[w, :size] = window.ids
            types[w, :size] = window.type_ids
            mask[w, :size] = 1
            context[w, :size] = [s == 1 for s in window.sequence_ids]
            offsets.append(list(window.offsets) + [(0, 0)] * (length - size))
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return Windows({k: v for k, v in inputs.items() if k in self.onnx_model.inputs}, context, offsets,
                       pair_of_window)

    def forward(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        start, end = self._session.run(["start_logits", "end_logits"], inputs)
        return start.astype(np.float32, copy=False), end.astype(np.float32, copy=False)
