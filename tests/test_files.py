"""Shared file helpers: digests, and writes that are whole or absent."""

import hashlib

import pytest

from bot.files import atomic_write, atomic_write_bytes, atomic_write_files, file_sha256, staging_path
from bot.search.index import _STAGING


def test_file_sha256_matches_the_digest_of_the_bytes(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 40_000  # more than one read block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("old")

    def fails_halfway(tmp):
        tmp.write_text("half of the n")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(path, fails_halfway, durable=True)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["calibration.json"]
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["calibration.json"]


def test_the_index_clears_temporary_files_of_the_shared_writer(tmp_path):
    """A killed build leaves its temporary files under staging_path's names: the next sync must
    recognise them as its own leftovers."""
    for name in ("manifest.json", "chunks-18f00000000-0000.jsonl", "faiss-18f00000000-0000.index",
                 "bm25-18f00000000-data.npy", "bm25-18f00000000-vocab.json"):
        assert _STAGING.fullmatch(staging_path(tmp_path / name).name)
    assert not _STAGING.fullmatch(staging_path(tmp_path / "notes.md").name)


def test_a_set_of_files_saved_by_a_library_is_written_whole_or_not_at_all(tmp_path):
    def save(folder, fail=False):
        (folder / "a.npy").write_bytes(b"arrays")
        if fail:
            raise OSError(28, "No space left on device")
        (folder / "b.json").write_text("{}")

    with pytest.raises(OSError):
        atomic_write_files(tmp_path, ["a.npy", "b.json"], lambda folder: save(folder, fail=True), durable=True)
    assert list(tmp_path.iterdir()) == []  # neither file, nor the staging folder
    atomic_write_files(tmp_path, ["a.npy", "b.json"], save, durable=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.json"]
    assert (tmp_path / "a.npy").read_bytes() == b"arrays"
