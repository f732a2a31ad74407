"""The BM25 index is stored with each index generation and loaded instead of rebuilt: loading
ranks exactly as a fresh build does, and files that are missing, damaged or made with other
tokenisation settings are built again from the chunks (and stored where the folder allows)."""

import json

import numpy as np
import pytest

import bot.search.lexical as lexical
from bot.config import load_settings
from bot.search.index import IndexStore, load_published, sync_index
from bot.search.lexical import BM25Index, lexical_texts
from bot.search.retrieval import Retriever
from tests.conftest import FakeEmbedder, deny_writes, write_corpus

QUESTIONS = ["When was the bridge over river 3 opened?", "glacier retreat since 1850", "clause 2.4 refunds",
             "What did the survey of lake 7 find?", "How long is span 12?", "$2,150 rent", "zzzz qqqq"]


def _documents() -> dict[str, str]:
    topics = ("river", "bridge", "lake", "glacier")
    docs = {f"doc{i:02d}.txt": f"Notes on {topics[i % 4]} {i}\n\n"
            + " ".join(f"The {topics[i % 4]} number {i} was surveyed in {1850 + 7 * i + j}; span {j * i % 13} "
                       f"held {j} features, and clause {i % 5}.{j % 6} covers refunds." for j in range(9))
            for i in range(16)}
    docs["rent.md"] = "# Lease\n\nThe rent is $2,150.00 a month, signed on 12.05.2024.\n"
    return docs


@pytest.fixture
def setup(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", _documents())
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index"}, environ={})
    return settings, corpus, FakeEmbedder()


@pytest.fixture
def builds(monkeypatch):
    """How many BM25 indexes were built from texts (rather than loaded)."""
    count = {"n": 0}
    build = BM25Index.__init__

    def counted(self, texts):
        count["n"] += 1
        build(self, texts)

    monkeypatch.setattr(BM25Index, "__init__", counted)
    return count


def _fresh(index) -> BM25Index:
    titles = {d: info.get("title", "") for d, info in index.manifest["documents"].items()}
    return BM25Index(lexical_texts(index.chunks, titles))


def _hits(bm25: BM25Index) -> list:
    return [bm25.search(q, 50) for q in QUESTIONS]


def _ranking(index, embedder) -> list:
    retriever = Retriever(index.chunks, index.vectors, index.faiss_index, embedder, bm25=index.bm25)
    return [[(p.chunk.chunk_id, p.score, p.bm25_score) for p in retriever.retrieve(q, 8)] for q in QUESTIONS]


def _manifest(settings) -> dict:
    return json.loads((settings.index_dir / "manifest.json").read_text())


def test_a_stored_bm25_index_loads_and_ranks_exactly_as_a_fresh_build(setup, builds):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    assert builds["n"] == 1 and len(first.chunks) > 30
    entry = _manifest(settings)["bm25"]
    assert entry["settings"] == lexical.lexical_settings() and entry["n_chunks"] == len(first.chunks)
    assert sorted(entry["parts"]) == sorted(lexical.PARTS) and set(entry["files"]) == set(entry["parts"].values())

    again = sync_index(settings, emb)
    assert builds["n"] == 1 and again.report.embedded_chunks == 0  # loaded, not built
    assert isinstance(again.bm25.retriever.scores["data"], np.memmap)  # mapped, as the vectors are
    fresh = _fresh(again)
    assert _hits(again.bm25) == _hits(fresh) == _hits(first.bm25)  # same ids, same float scores
    assert any(_hits(fresh)) and _hits(fresh)[-1] == []
    assert _ranking(again, emb) == _ranking(first, emb)
    # as Retriever builds it itself when given none (an index without stored BM25 files)
    built_here = Retriever(again.chunks, again.vectors, again.faiss_index, emb,
                           {d: i["title"] for d, i in again.manifest["documents"].items()})
    assert _hits(built_here.bm25) == _hits(again.bm25)


def test_every_change_to_the_rows_stores_a_new_bm25_index(setup, builds):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    (corpus / "zz-new.txt").write_text("A glacier survey of 1850 found the river bridge 3 intact.\n")
    second = sync_index(settings, emb)
    assert builds["n"] == 2 and second.manifest["bm25"]["parts"] != first.manifest["bm25"]["parts"]
    assert not any((settings.index_dir / name).exists() for name in first.manifest["bm25"]["files"])
    assert _hits(sync_index(settings, emb).bm25) == _hits(_fresh(second)) and builds["n"] == 3  # 3: _fresh


@pytest.mark.parametrize("damage", ["delete_data", "flip_indices", "truncate_vocab", "garbage_params"])
def test_a_damaged_or_missing_bm25_file_is_rebuilt_from_the_chunks_and_stored_again(setup, builds, damage):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    parts = first.manifest["bm25"]["parts"]
    path = settings.index_dir / parts[{"delete_data": "data", "flip_indices": "indices", "truncate_vocab": "vocab",
                                       "garbage_params": "params"}[damage]]
    data = path.read_bytes()
    if damage == "delete_data":
        path.unlink()
    elif damage == "flip_indices":
        path.write_bytes(data[:-4] + bytes([data[-4] ^ 0x01]) + data[-3:])
    elif damage == "truncate_vocab":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_text("{not json")
    emb.encoded = 0
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert notes == [f"index file {path} is {'missing' if damage == 'delete_data' else 'corrupted (checksum mismatch)'}"
                     "; rebuilding it from the chunks"]
    assert emb.encoded == 0 and not rebuilt.report.rebuilt_reason and builds["n"] == 2  # BM25 alone
    assert rebuilt.manifest["files"] == first.manifest["files"]  # the dense files are kept
    assert _hits(rebuilt.bm25) == _hits(first.bm25)
    assert rebuilt.manifest == _manifest(settings) and not path.exists()
    again = sync_index(settings, emb, notify=notes.append)
    assert builds["n"] == 2 and len(notes) == 1 and _hits(again.bm25) == _hits(first.bm25)


@pytest.mark.parametrize("name, value", [("LEXICAL_VERSION", 2), ("BM25_K1", 0.9),
                                         ("TOKEN_PATTERN", r"(?u)\b\w\w+\b")])
def test_other_tokenisation_settings_rebuild_the_stored_bm25_index(setup, builds, monkeypatch, name, value):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    monkeypatch.setattr(lexical, name, value)
    emb.encoded = 0
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert notes == ["the BM25 index was made with other tokenisation settings; rebuilding it from the chunks"]
    assert emb.encoded == 0 and builds["n"] == 2 and rebuilt.manifest["files"] == first.manifest["files"]
    assert _manifest(settings)["bm25"]["settings"][{"LEXICAL_VERSION": "version", "BM25_K1": "k1",
                                                     "TOKEN_PATTERN": "token_pattern"}[name]] == value
    assert _hits(rebuilt.bm25) == _hits(_fresh(rebuilt))
    if name == "BM25_K1":
        assert _hits(rebuilt.bm25) != _hits(first.bm25)
    sync_index(settings, emb)
    assert builds["n"] == 3  # 3: _fresh; the stored index was loaded


def _without_stored_bm25(settings) -> dict:
    """The index as written before BM25 was stored: no entry in the manifest, no files."""
    manifest = _manifest(settings)
    for name in manifest.pop("bm25")["files"]:
        (settings.index_dir / name).unlink()
    (settings.index_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def test_an_index_from_before_bm25_was_stored_is_used_and_then_stored(setup, builds):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    old = _without_stored_bm25(settings)
    emb.encoded = 0
    notes = []
    again = sync_index(settings, emb, notify=notes.append)
    assert notes == [] and emb.encoded == 0 and builds["n"] == 2 and not again.report.rebuilt_reason
    stored = _manifest(settings)
    assert stored == again.manifest and stored == dict(old, bm25=stored["bm25"])
    IndexStore(settings.index_dir).verify_files(stored)
    assert _hits(again.bm25) == _hits(first.bm25)
    assert _hits(sync_index(settings, emb).bm25) == _hits(first.bm25) and builds["n"] == 2


@pytest.mark.parametrize("state", ["absent", "damaged"])
def test_a_read_only_index_folder_builds_bm25_in_memory_and_writes_nothing(setup, builds, monkeypatch, state):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    if state == "absent":
        _without_stored_bm25(settings)
    else:
        (settings.index_dir / first.manifest["bm25"]["parts"]["vocab"]).write_text("{}")
    before = {p.name: p.read_bytes() for p in settings.index_dir.iterdir() if p.is_file()}
    deny_writes(monkeypatch, settings.index_dir)
    again = sync_index(settings, FakeEmbedder())
    published = load_published(settings, FakeEmbedder())  # a replica's way in
    assert builds["n"] == 3 and again.report.reused
    assert _hits(again.bm25) == _hits(published.bm25) == _hits(first.bm25)
    assert {p.name: p.read_bytes() for p in settings.index_dir.iterdir() if p.is_file()} == before


def test_a_replica_loads_the_stored_bm25_index_and_never_writes_one(setup, builds):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    assert _hits(load_published(settings, emb).bm25) == _hits(first.bm25) and builds["n"] == 1
    _without_stored_bm25(settings)
    before = sorted(p.name for p in settings.index_dir.iterdir())
    assert _hits(load_published(settings, emb).bm25) == _hits(first.bm25) and builds["n"] == 2
    assert sorted(p.name for p in settings.index_dir.iterdir()) == before and "bm25" not in _manifest(settings)


def test_a_replica_that_cannot_read_the_files_says_so_in_words(setup, monkeypatch):
    from bot.errors import IndexStoreError
    from bot.search.index import IndexStore

    settings, corpus, emb = setup
    sync_index(settings, emb)

    def unreadable(self, manifest):
        raise FileNotFoundError(2, "No such file or directory", "chunks-0001.jsonl")

    monkeypatch.setattr(IndexStore, "load_chunks", unreadable)
    with pytest.raises(IndexStoreError, match="cannot read the index in .*No such file"):
        load_published(settings, emb)


def test_the_texts_saying_a_word_are_found_by_its_stem():
    from bot.words import stem

    bm25 = BM25Index(["Calmol is a syrup for children.", "Fevrolen tablets.", "Give Calmol's syringe back."])
    assert bm25.texts_saying(stem("calmol")) == [0, 2]
    assert bm25.texts_saying(stem("syrups")) == [0]
    assert bm25.texts_saying("unheard") == []
