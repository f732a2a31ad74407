"""The embedder: normalised float32 rows, an empty batch, and a bounded per-instance query cache."""

import numpy as np

from bot.search import embedding
from bot.search.embedding import Embedder


class _CountingModel:
    def __init__(self):
        self.calls = 0

    def encode(self, texts, **_):
        self.calls += 1
        rows = np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float64)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def get_embedding_dimension(self):
        return 3


def _embedder():
    e = Embedder("fake")
    e._model = _CountingModel()  # what warm_up would load
    return e


def test_rows_are_float32_and_an_empty_batch_keeps_the_dimension():
    e = _embedder()
    out = e.encode(["a", "bbb"])
    assert out.dtype == np.float32 and out.shape == (2, 3) and out.flags["C_CONTIGUOUS"]
    assert e.encode([]).shape == (0, 3)


def test_query_vectors_are_cached_read_only_and_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(embedding, "QUERY_CACHE_SIZE", 2)
    e = _embedder()
    first = e.encode_query("one")
    assert e.encode_query("one") is first and e._model.calls == 1 and not first.flags.writeable
    e.encode_query("two")
    e.encode_query("three")  # "one" is the oldest: dropped
    e.encode_query("one")
    assert e._model.calls == 4 and len(e._query_cache) == 2
    other = _embedder()
    other.encode_query("one")
    assert other._model.calls == 1  # caches are per embedder


def test_the_vectors_source_names_the_weights_of_a_model_folder(tmp_path):
    from bot.search.embedding import _weights_digest

    (tmp_path / "model.safetensors").write_bytes(b"weights of model A")
    first = _weights_digest(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"weights of model B")  # another model, same path
    assert first and _weights_digest(str(tmp_path)) != first
    assert _weights_digest("sentence-transformers/all-MiniLM-L6-v2") == ""  # a hub name: its cache's revision
