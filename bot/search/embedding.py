"""Sentence embeddings: the packaged all-MiniLM-L6-v2 offline, or any sentence-transformers model.

Two backends produce them: sentence-transformers on torch (`Embedder`), and ONNX Runtime
(`bot/search/onnx_embedding.py`). Their vectors differ slightly, so the index records which
backend made it. `make_embedder` picks one from the settings.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from bot.model_paths import hub_load_error, quiet_model_loading, resolve_model


QUERY_CACHE_SIZE = 1024


def make_embedder(model_name: str, backend: str = "torch", batch_size: int = 64):
    if backend == "torch":
        return Embedder(model_name, batch_size)
    if backend in ("onnx-fp32", "onnx-int8"):
        from bot.search.onnx_embedding import OnnxEmbedder

        return OnnxEmbedder(model_name, precision=backend.removeprefix("onnx-"), batch_size=batch_size)
    from bot.errors import UsageError

    raise UsageError(f"unknown embedding backend {backend!r}")


class QueryCachingEmbedder:
    """What every embedder shares: a per-instance cache of question vectors."""

    backend: str

    def __init__(self) -> None:
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def vector_source(self) -> str:
        """What makes the vectors, as the index records it (a change re-embeds the index)."""
        return self.backend

    def clear_query_cache(self) -> None:
        with self._cache_lock:
            self._query_cache.clear()

    def encode_query(self, text: str) -> np.ndarray:
        """Questions repeat (examples, retries, follow-ups); the last QUERY_CACHE_SIZE vectors are
        kept per embedder (a cache on the instance, so a dropped embedder is freed with it)."""
        with self._cache_lock:
            vector = self._query_cache.get(text)
            if vector is not None:
                self._query_cache.move_to_end(text)
                return vector
        vector = self.encode([text])[0]
        vector.setflags(write=False)
        with self._cache_lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector


def _weights_digest(path: str) -> str:
    """The first 16 hex digits of the SHA-256 of a model folder's weight files ('' for a hub name,
    whose files the hub's cache keeps by revision)."""
    folder = Path(path)
    if not folder.is_dir():
        return ""
    from bot.files import file_sha256

    files = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    return hashlib.sha256("".join(file_sha256(f) for f in files).encode()).hexdigest()[:16] if files else ""


class Embedder(QueryCachingEmbedder):
    """sentence-transformers on torch. Loads the model on first use; encodes to L2-normalised
    float32 rows (cosine = inner product)."""

    backend = "torch"

    def __init__(self, model_name: str, batch_size: int = 64) -> None:
        super().__init__()
        self.model_name = model_name
        self.batch_size = batch_size
        self._model = None
        self._weights = ""  # digest of the weight files, known once loaded
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # the tokenizer inside is not safe across threads

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            path = resolve_model(self.model_name, "embedding")
            quiet_model_loading()
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(path, device="cpu")
            except Exception as exc:
                raise hub_load_error(self.model_name, "embedding", exc) from exc
            self._weights = _weights_digest(path)
            self._model = model

    def vector_source(self) -> str:
        """torch, and for a model folder a digest of its weights: another model saved at the same
        path makes other vectors, and the index must not mix them."""
        self.warm_up()
        return f"torch {self._weights}" if self._weights else "torch"

    @property
    def dimension(self) -> int:
        self.warm_up()
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._encode_lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
