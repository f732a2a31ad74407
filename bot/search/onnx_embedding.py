"""Sentence embeddings on ONNX Runtime, without importing torch or sentence-transformers.

Serves sentence-transformers models made of a Transformer, a Pooling (mean or [CLS]) and an
optional Normalize module, as all-MiniLM-L6-v2 is: the transformer runs as an ONNX copy, the
pooling in NumPy, with the model's own maximum sequence length. Vectors are L2-normalised either
way (cosine = inner product), like the torch backend's.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from bot.accel.tokens import load_tokenizer
from bot.errors import ModelError
from bot.search.embedding import QueryCachingEmbedder

# Every text is padded to the next multiple of this many tokens, whatever else is in its batch:
# with int8 weights a text's vector moves (by up to ~0.005) with the length it is padded to, so
# padding to the batch's longest text would make vectors depend on their batch-mates, and a
# document embedded alone, in a larger build or on another machine would get other vectors.
PAD_MULTIPLE = 32


def _pooling_of(model_dir: Path) -> tuple[str, int | None]:
    """The pooling mode and dimension a sentence-transformers folder declares; refuse others."""
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        return "mean", None  # a plain transformers encoder: mean pooling, as sentence-transformers does
    modules = json.loads(modules_file.read_text())
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"} or modules[0].get("path"):
        raise ModelError(f"the ONNX embedding backend serves Transformer + Pooling (+ Normalize) models; "
                         f"{model_dir} has {', '.join(kinds)}: use --embedding-backend torch")
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
    if pooling.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif pooling.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        raise ModelError(f"the ONNX embedding backend pools by mean or [CLS] only ({model_dir}): "
                         f"use --embedding-backend torch")
    return mode, pooling.get("word_embedding_dimension")


def _max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        value = json.loads(config.read_text()).get("max_seq_length")
        if value:
            return int(value)
    return int(json.loads((model_dir / "config.json").read_text()).get("max_position_embeddings", 512))


class OnnxEmbedder(QueryCachingEmbedder):
    def __init__(self, model_name: str, precision: str = "int8", batch_size: int = 64) -> None:
        super().__init__()
        self.model_name = model_name
        self.precision = precision
        self.backend = f"onnx-{precision}"
        self.batch_size = batch_size
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

            path = model_folder(self.model_name, "embedding")
            self._pooling, dimension = _pooling_of(path)
            self._dimension = dimension or int(json.loads((path / "config.json").read_text())["hidden_size"])
            tokenizer, pad_id = load_tokenizer(path)
            tokenizer.enable_truncation(_max_seq_length(path))
            tokenizer.no_padding()
            self._tokenizer, self._pad_id = tokenizer, pad_id
            self.onnx_model = onnx_copy(path, "embedder", self.precision)
            self._session = open_session(self.onnx_model, spin=False)

    def vector_source(self) -> str:
        """The backend and the copy of the model that make the vectors (recorded in the index)."""
        self.warm_up()
        return f"{self.backend} {self.onnx_model.sha256[:16]} pad{PAD_MULTIPLE}"

    @property
    def dimension(self) -> int:
        self.warm_up()
        return self._dimension

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)  # unpadded: each text is padded below
        # Texts of one padded length together, so a batch pads each text to its own length's bucket.
        by_length: dict[int, list[int]] = {}
        for i, encoding in enumerate(encodings):
            by_length.setdefault(-(-len(encoding.ids) // PAD_MULTIPLE) * PAD_MULTIPLE, []).append(i)
        for length, rows in sorted(by_length.items(), reverse=True):
            for b in range(0, len(rows), self.batch_size):
                part = rows[b : b + self.batch_size]
                out[part] = self._encode_batch([encodings[i] for i in part], length)
        return out

    def _encode_batch(self, encodings: list, length: int) -> np.ndarray:
        inputs = {name: np.zeros((len(encodings), length), dtype=np.int64)
                  for name in ("input_ids", "attention_mask", "token_type_ids")}
        inputs["input_ids"][:] = self._pad_id
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            inputs["input_ids"][row, :n] = encoding.ids
            inputs["attention_mask"][row, :n] = 1
            inputs["token_type_ids"][row, :n] = encoding.type_ids
        (hidden,) = self._session.run(["last_hidden_state"], {k: inputs[k] for k in self.onnx_model.inputs})
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = inputs["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
