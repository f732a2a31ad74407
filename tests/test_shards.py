"""An index cut into shards answers as one index over all rows would, rewrites only the shards
whose rows change, and chooses each shard's FAISS type by the shard's size."""

import json

import numpy as np
import pytest

import bot.search.shards as shards_module
from bot.config import load_settings
from bot.search.index import DEFAULT_SHARD_SIZE, IndexStore, named_files, sync_index
from bot.search.retrieval import Retriever
from bot.search.shards import ShardedRows, ShardedSearch, build_faiss, pq_codes, shard_ranges
from tests.conftest import FakeEmbedder, write_corpus

QUESTIONS = ["Which river crosses the most countries?", "When was the bridge opened?", "desert rainfall",
             "mountain 12", "What did the survey of lake 7 find?"]


def _documents(n: int = 30) -> dict[str, str]:
    topics = ("river", "bridge", "mountain", "lake", "desert")
    return {f"doc{i:02d}.txt": f"Notes on {topics[i % 5]} {i}\n\n"
            + " ".join(f"The {topics[i % 5]} number {i} was surveyed in {1900 + 3 * i + j} and found to "
                       f"hold {j * i % 17} features worth a visit." for j in range(12))
            for i in range(n)}


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus", _documents())


def _settings(corpus, index_dir, shard_size=None):
    return load_settings({"corpus_dir": corpus, "index_dir": index_dir, "shard_size": shard_size}, environ={})


def _ranking(index, embedder, question: str, k: int = 8):
    retriever = Retriever(index.chunks, index.vectors, index.faiss_index, embedder)
    return [(p.chunk.chunk_id, round(p.score, 9), round(p.dense_score, 6)) for p in retriever.retrieve(question, k)]


def test_shard_ranges_cover_every_row_once():
    assert shard_ranges(0, 10) == [(0, 0)]
    assert shard_ranges(25, 10) == [(0, 10), (10, 10), (20, 5)]
    assert shard_ranges(10, 10) == [(0, 10)]


def test_a_sharded_index_retrieves_exactly_what_one_index_does(corpus, tmp_path):
    embedder = FakeEmbedder()
    single = sync_index(_settings(corpus, tmp_path / "single"), embedder)
    sharded = sync_index(_settings(corpus, tmp_path / "sharded", shard_size=7), embedder)
    n = len(single.chunks)
    assert n > 20 and len(single.manifest["shards"]) == 1
    assert [(s["first_chunk"], s["n_chunks"]) for s in sharded.manifest["shards"]] == shard_ranges(n, 7)
    assert all(s["faiss"]["type"] == "IndexFlatIP" for s in sharded.manifest["shards"])
    assert [(c.doc_id, c.start, c.end, c.text) for c in single.chunks] == \
           [(c.doc_id, c.start, c.end, c.text) for c in sharded.chunks]
    assert np.array_equal(np.asarray(single.vectors), np.asarray(sharded.vectors))
    for question in QUESTIONS:
        assert _ranking(single, embedder, question) == _ranking(sharded, embedder, question)
    # and so does the same index loaded back from disk
    reloaded = sync_index(_settings(corpus, tmp_path / "sharded", shard_size=7), embedder)
    assert reloaded.report.embedded_chunks == 0 and isinstance(reloaded.faiss_index, ShardedSearch)
    # its vectors stay in their memory-mapped files, as one shard's do
    assert isinstance(reloaded.vectors, ShardedRows) and all(isinstance(p, np.memmap) for p in reloaded.vectors.parts)
    rows = [n - 1, 0, 8, 7]
    assert np.array_equal(reloaded.vectors[rows], np.asarray(single.vectors)[rows])
    assert [_ranking(reloaded, embedder, q) for q in QUESTIONS] == [_ranking(single, embedder, q) for q in QUESTIONS]


def test_an_index_keeps_its_shard_size_when_opened_without_one(corpus, tmp_path):
    embedder = FakeEmbedder()
    sharded = sync_index(_settings(corpus, tmp_path / "index", shard_size=7), embedder)
    reopened = sync_index(_settings(corpus, tmp_path / "index"), embedder)  # as `bot ask` or the page
    assert reopened.manifest["shard_size"] == 7 and reopened.manifest["shards"] == sharded.manifest["shards"]
    new = sync_index(_settings(corpus, tmp_path / "new"), embedder)
    assert new.manifest["shard_size"] == DEFAULT_SHARD_SIZE and len(new.manifest["shards"]) == 1


def test_adding_a_document_keeps_the_full_shards_files(corpus, tmp_path):
    embedder = FakeEmbedder()
    settings = _settings(corpus, tmp_path / "index", shard_size=10)
    first = sync_index(settings, embedder)
    (corpus / "zz-new.txt").write_text("A new note about glaciers and their retreat since 1850.\n")
    embedder.encoded = 0
    second = sync_index(settings, embedder)
    assert second.report.added == ["zz-new.txt"] and embedder.encoded == second.report.embedded_chunks == 1
    full = [s for s in first.manifest["shards"] if s["n_chunks"] == 10]
    assert full and all(s in second.manifest["shards"] for s in full)  # same files, same checksums
    IndexStore(settings.index_dir).verify_files(second.manifest)
    assert set(p.name for p in settings.index_dir.glob("*-*")) == named_files(second.manifest)
    top = _ranking(second, embedder, "glaciers retreat 1850", k=1)[0][0]
    assert second.chunks[top].doc_id == "zz-new.txt"


def test_a_new_shard_size_re_shards_without_embedding_again(corpus, tmp_path):
    embedder = FakeEmbedder()
    first = sync_index(_settings(corpus, tmp_path / "index"), embedder)
    embedder.encoded = 0
    resharded = sync_index(_settings(corpus, tmp_path / "index", shard_size=5), embedder)
    assert embedder.encoded == 0 and len(resharded.manifest["shards"]) == -(-len(first.chunks) // 5)
    assert resharded.manifest["shard_size"] == 5
    for question in QUESTIONS:
        assert _ranking(first, embedder, question) == _ranking(resharded, embedder, question)


def test_a_version_1_index_is_read_without_embedding_again(corpus, tmp_path):
    embedder = FakeEmbedder()
    settings = _settings(corpus, tmp_path / "index")
    first = sync_index(settings, embedder)
    path = settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    (shard,) = manifest.pop("shards")
    manifest.pop("shard_size")
    manifest.update(format_version=1, chunk_store=shard["chunk_store"], vectors=shard["vectors"],
                    faiss_file=shard["faiss_file"], faiss=shard["faiss"])
    path.write_text(json.dumps(manifest))
    embedder.encoded = 0
    again = sync_index(settings, embedder)
    assert embedder.encoded == 0 and again.report.rebuilt_reason == ""
    assert _ranking(again, embedder, QUESTIONS[0]) == _ranking(first, embedder, QUESTIONS[0])


def test_each_shard_gets_the_index_type_its_size_calls_for(corpus, tmp_path, monkeypatch):
    # Shrink the size limits so that a small corpus spans all three kinds.
    monkeypatch.setattr(shards_module, "EXACT_SEARCH_LIMIT", 20)
    monkeypatch.setattr(shards_module, "HNSW_LIMIT", 30)
    monkeypatch.setattr(shards_module, "IVF_TRAIN_PER_LIST", 4)
    monkeypatch.setattr(shards_module, "PQ_BITS", 4)  # 16 centroids: trainable on a few dozen rows
    embedder = FakeEmbedder(dim=64)
    write_corpus(corpus, _documents(60))
    index = sync_index(_settings(corpus, tmp_path / "index", shard_size=35), embedder)
    n = len(index.chunks)
    sizes = [size for _, size in shard_ranges(n, 35)]
    expected = ["IndexIVFPQ" if size > 30 else "IndexHNSWFlat" if size >= 20 else "IndexFlatIP" for size in sizes]
    assert expected.count("IndexIVFPQ") >= 2
    assert [s["faiss"]["type"] for s in index.manifest["shards"]] == expected
    ivf = index.manifest["shards"][0]["faiss"]
    assert ivf["pq_codes"] == pq_codes(64) == 8 and ivf["nlist"] >= 1 and ivf["nprobe"] >= 1
    # approximate shards still find a stored chunk by its own vector, with its global row number
    rows = [0, 36, n - 1]
    _, ids = index.faiss_index.search(np.asarray(index.vectors[rows]), 3)
    assert all(row in found for row, found in zip(rows, ids.tolist()))
    monkeypatch.setattr(shards_module, "HNSW_LIMIT", 100)
    assert build_faiss(np.asarray(index.vectors[:40]))[1]["type"] == "IndexHNSWFlat"


def test_pq_codes_divide_the_dimension():
    assert pq_codes(384) == 48 and pq_codes(768) == 96 and 30 % pq_codes(30) == 0
