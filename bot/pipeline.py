"""The one core API: `Bot.ask(question, history=None) -> Response`.

The chat page, the CLI and the evaluator all go through this class; none of them touches
FAISS or transformers directly. It is longer than most modules because it is the one place that
owns the corpus folder's changes (uploads, removals, edits on disk) as well as answering.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from bot.read.answerability import (
    CALIBRATION_FILE, READER_ONLY_FILE, SENTENCE_FILE, Calibration, decide, default_calibration, refuses,
)
from bot.read.definitions import defines_asked_term
from bot.read.document_names import document_penalty
from bot.read.doubts import check, check_in_text, not_held
from bot.read.extent import widen
from bot.read.passage_prior import rank_with_retrieval
from bot.read.qualifiers import DocumentFacts, detail_penalty, mismatch
from bot.read.reading_order import reading_order
from bot.read.rows import fills_a_named_cell
from bot.read.succession import successor
from bot.read.unknown_names import CorpusVocabulary
from bot.config import Settings, load_settings
from bot.conversation import CHAIN_TURNS, Turn, previous_turns, resolve
from bot.ingest.corpus import ALLOWED_TYPES, SUPPORTED_SUFFIXES, editor_leftover, load_document
from bot.ingest.corpus_watch import Signature, corpus_signature
from bot.search.embedding import QueryCachingEmbedder, make_embedder
from bot.errors import CorpusError, IndexBusyError, IndexStoreError, UsageError, first_line
from bot.files import NAME_MAX, atomic_write, atomic_write_bytes
from bot.formatting import one_line_name
from bot.search.documents import DocumentProcessor
from bot.search.index import LoadedIndex, SyncReport, iso_time, load_published, manifest_stamp, sync_index
from bot.model_paths import BUNDLED_READER_DIR
from bot.questions import as_question, clean_question
from bot.search.retrieval import Retriever
from bot.read.sentence import SentenceReader
from bot.types import SECTION_SEPARATOR, Chunk, Citation, DocumentInfo, Passage, ReaderResult, ReadItem, Response, Span

log = logging.getLogger(__name__)



# How long a question waits for documents changed on disk to be indexed before it is answered
# from the index as it was (`Bot.refresh`).
REFRESH_WAIT_S = 5.0


class _Refresh(threading.Thread):
    """A sync of changes found on disk, run beside the questions; it holds the bot's sync lock,
    taken for it by `Bot.refresh`, and releases it when done."""

    def __init__(self, bot: "Bot") -> None:
        super().__init__(name="index-refresh", daemon=True)
        self.bot = bot
        self.refreshed = False
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.refreshed = self.bot._refresh_holding_lock()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for it (no usable documents...)
            self.failure = exc
        finally:
            self.bot._sync_lock.release()


def make_reader(settings: Settings, embedder):
    """"auto": the reader shipped with the bot; "none": sentence mode; anything else: a
    transformers QA model name or folder. It runs on the backend the settings name, or with
    reader_backend "auto" on the one measured fastest here (bot/accel/choice.py)."""
    model = _reader_model(settings)
    if model is None:
        return SentenceReader(embedder)
    backend = settings.reader_backend
    if backend == "auto":
        backend = _measured_backend(model)
    if backend == "torch":
        from bot.read.transformer import TransformerReader  # imports torch: only when it runs the reader

        return TransformerReader(model, max_answer_tokens=settings.max_answer_tokens)
    from bot.read.onnx_reader import OnnxReader

    return OnnxReader(model, precision=backend.removeprefix("onnx-"), max_answer_tokens=settings.max_answer_tokens)


def with_reader_backend_chosen(settings: Settings) -> Settings:
    """The settings with reader_backend "auto" replaced by the backend it stands for here (measured
    once per machine and model, the ONNX copies built): processes started from these settings
    then neither export nor measure again, nor measure while competing with each other."""
    model = _reader_model(settings, quiet=True)
    if settings.reader_backend != "auto" or model is None:
        return settings
    return replace(settings, reader_backend=_measured_backend(model))


def _reader_model(settings: Settings, quiet: bool = False) -> str | None:
    """The QA model the settings name (the bundled folder for "auto"), or None for sentence mode."""
    choice = settings.reader.strip()
    if choice.lower() == "none":
        return None
    if choice.lower() != "auto":
        return choice
    if not (BUNDLED_READER_DIR / "config.json").is_file():
        if not quiet:
            log.warning("the bundled reader is missing from %s; answering in sentence mode", BUNDLED_READER_DIR)
        return None
    return str(BUNDLED_READER_DIR)


def _measured_backend(model: str) -> str:
    """Local folders get the backend measured fastest here; hub names (which "auto" does not
    download or export) run on torch."""
    from bot.model_paths import resolve_model

    folder = Path(resolve_model(model, "reader"))
    if not folder.is_dir():
        return "torch"
    from bot.accel.choice import reader_backend_for

    return reader_backend_for(folder)


@dataclass
class _Prepared:
    """A question after cleaning and follow-up resolution, ready for retrieval."""

    question: str
    reader_question: str
    retrieval_query: str
    notice: str
    follow_up: bool = False  # read with the conversation before it
    unclear: str = ""  # why the question cannot be read as the conversation stands


@dataclass(frozen=True)
class _FolderEntry:
    """What a name in the corpus folder held before an upload took it: nothing, the bytes of a
    file, or a symbolic link (kept as a link: its target may lie outside the folder, and must not
    become a copy in it)."""

    data: bytes | None = None
    link: str | None = None

    @classmethod
    def of(cls, path: Path) -> "_FolderEntry":
        if path.is_symlink():
            return cls(link=os.readlink(path))
        return cls(data=path.read_bytes()) if path.exists() else cls()

    def restore(self, path: Path) -> None:
        if self.link is not None:
            atomic_write(path, lambda tmp: os.symlink(self.link, tmp))
        elif self.data is not None:
            atomic_write_bytes(path, self.data)
        else:
            path.unlink(missing_ok=True)


def upload_file_name(filename: str) -> str:
    """The name an uploaded file is stored under: the last part of its path, composed (NFC), with
    the characters some file systems forbid (<>:"|?*) and every character that does not print
    (controls, line separators, zero-width and direction marks: "invoice\u202etxt.pdf" would show
    as "invoicefdp.txt") replaced by "_". Brackets, commas and the like stay: "report (final).txt"
    and "report [final].txt" are two documents."""
    name = unicodedata.normalize("NFC", Path(filename.replace("\\", "/")).name)
    return "".join("_" if ch in '<>:"|?*' or not (ch.isprintable() or ch == " ") else ch for ch in name)


def _same_name(name: str, names, also=None) -> str:
    """The one of `names` that `name` means under another composition ("Cafe" + accent, as macOS
    writes it) or, given `also`, as `also` shows it; `name` itself when none or several do."""
    composed = unicodedata.normalize("NFC", name)
    same = [n for n in names if unicodedata.normalize("NFC", n) == composed or (also is not None and also(n) == name)]
    return same[0] if len(same) == 1 else name


class Bot:
    def __init__(self, settings: Settings | None = None, embedder: QueryCachingEmbedder | None = None, reader=None,
                 calibration: Calibration | None = None, processor: DocumentProcessor | None = None,
                 read_only: bool = False) -> None:
        """calibration: the answerability model to use instead of the stored ones (tests, experiments);
        processor: what parses and embeds new documents for the index (default: this process);
        read_only: a serving replica, which answers from the published index generation, follows
        each new one, and never builds, adds or removes anything (another process does)."""
        self.settings = settings.validate() if settings is not None else load_settings()
        self.embedder = embedder or make_embedder(self.settings.embedding_model, self.settings.embedding_backend)
        self._reader = reader  # built on first use: indexing never needs it
        self.processor = processor
        self.read_only = read_only
        self._index: LoadedIndex | None = None
        self._retriever: Retriever | None = None
        self._facts = DocumentFacts()  # titles and details of the indexed documents (bot/read/qualifiers.py)
        self._vocabulary: CorpusVocabulary | None = None  # their words (bot/read/unknown_names.py)
        self._calibration: Calibration | None = calibration
        self._reader_only_calibration: Calibration | None = None
        self._sync_lock = threading.Lock()
        self.messages: list[str] = []  # notices from the last index sync (rebuilds, skipped files)
        # Why the index could not be brought up to date, while answers come from it as it was ('' when up to date).
        self.out_of_date = ""
        # Another process was updating the index when this bot started: each question tries again,
        # without waiting for it, until the folder is free (`load_index`).
        self._other_writer = False
        self._signature: Signature | None = None  # the corpus folder as of the last sync
        self._refresher: _Refresh | None = None  # the background sync of changes found on disk

    @property
    def reader(self):
        if self._reader is None:
            self._reader = make_reader(self.settings, self.embedder)
        return self._reader

    @reader.setter
    def reader(self, reader) -> None:
        self._reader = reader
        self._calibration = self._reader_only_calibration = None  # they belong to the reader

    # ----- index -----
    @property
    def index(self) -> LoadedIndex:
        """The current index generation (built or loaded on first use)."""
        return self.load_index()

    def load_index(self, progress: bool = False) -> LoadedIndex:
        """Build or load the index now if that has not happened yet; returns it. `progress` shows
        the embedding of new documents on stderr. While another process updates the index (a
        `bot index` of a large folder), the index published before is answered from, not waited for."""
        if self._index is None:
            if self.read_only:
                with self._sync_lock:
                    self._adopt_published()
                return self._index
            try:
                with self._sync_lock:
                    if self._index is None:
                        self._sync_holding_lock(progress=progress, wait=False)
            except IndexBusyError as busy:
                try:
                    self._answer_from_published(busy)
                except IndexStoreError:  # nothing published yet to answer from: wait for the first
                    self.sync(progress=progress)
                else:  # each question's refresh tries again, until the folder is free
                    self._other_writer, self._signature = True, None
            except IndexStoreError as exc:
                self._answer_from_published(exc)
        return self._index

    def _answer_from_published(self, failure: IndexStoreError) -> None:
        """The index could not be brought up to date (a folder this bot may not write to, a full
        disk): answer from the generation published there, if it suits this bot, and say so."""
        with self._sync_lock:
            try:
                index = load_published(self.settings, self.embedder)
            except IndexStoreError:
                raise failure from None
            self._install(index, None)
            self._keep_answering(failure)

    def _keep_answering(self, failure: IndexStoreError) -> None:
        """Answer from the index in memory, and try to update it again only once the folder
        changes again (not before every question)."""
        self._signature = self._current_signature()
        busy = isinstance(failure, IndexBusyError)
        self.out_of_date = str(failure) if busy else f"the documents could not be indexed again ({failure})"
        self.messages = [f"{failure}; answering from the index as it was"]

    def sync(self, force: bool = False, progress: bool = False) -> SyncReport:
        """Bring the index in line with the corpus folder (only changed documents are embedded)."""
        with self._sync_lock:
            return self._sync_holding_lock(force, progress)

    def _check_writable(self) -> None:
        if self.read_only:
            raise UsageError("this bot answers from an index another process maintains; it cannot change it")

    def _sync_holding_lock(self, force: bool = False, progress: bool = False,
                           leave_out: frozenset[str] = frozenset(), wait: bool = True) -> SyncReport:
        self._check_writable()
        # Taken first: edits made during the sync are seen next time.
        signature = corpus_signature(self.settings.corpus_dir, self.settings.index_dir)
        messages: list[str] = []
        index = sync_index(self.settings, self.embedder, progress=progress, force=force, notify=messages.append,
                           processor=self.processor, leave_out=leave_out, wait=wait)
        self._install(index, signature)
        messages += [f"skipped {one_line_name(rel)}: {reason}" for rel, reason in index.report.skipped]
        self.messages, self.out_of_date = messages, ""
        return index.report

    def _adopt_published(self) -> None:
        stamp = manifest_stamp(self.settings.index_dir)  # taken first: a later publication is seen next time
        self._install(load_published(self.settings, self.embedder), stamp)

    def _install(self, index: LoadedIndex, signature) -> None:
        documents = index.manifest["documents"]
        titles = {d: info.get("title", "") for d, info in documents.items()}
        retriever = Retriever(index.chunks, index.vectors, index.faiss_index, self.embedder, titles, index.bm25)

        def text_of(doc_id: str) -> str:
            info = documents.get(doc_id)
            first, n = (info["first_chunk"], info["n_chunks"]) if info else (0, 0)
            return "\n".join(c.text for c in index.chunks[first: first + n])

        def sections_of(doc_id: str) -> set[str]:
            info = documents.get(doc_id)
            first, n = (info["first_chunk"], info["n_chunks"]) if info else (0, 0)
            return {c.section for c in index.chunks[first: first + n]}

        def saying(word_stem: str) -> frozenset[str]:
            return frozenset(index.chunks[i].doc_id for i in retriever.bm25.texts_saying(word_stem))

        # Swap all at once so concurrent questions see either the old or the new index.
        vocabulary = CorpusVocabulary(retriever.bm25.vocab, retriever.bm25.left_out, file_names=documents,
                                      texts=lambda: [*titles.values(), *(c.text for c in index.chunks)])
        facts = DocumentFacts(titles, text_of, saying, sections_of)
        self._index, self._retriever, self._facts, self._vocabulary = index, retriever, facts, vocabulary
        self._signature = signature

    def _current_signature(self):
        """What a change is noticed by: the corpus folder (a writer), or the published manifest
        (a read-only replica)."""
        if self.read_only:
            return manifest_stamp(self.settings.index_dir)
        return corpus_signature(self.settings.corpus_dir, self.settings.index_dir)

    def refresh(self, wait: float | None = None) -> bool:
        """Re-sync if files in the corpus folder were added, edited or deleted on disk since the
        last sync (a stat scan, cheap enough to run before every question); a read-only bot
        instead loads a newly published index generation. True if it did.

        The sync runs in a thread of its own, which the call that starts it waits for `wait`
        seconds at most (default REFRESH_WAIT_S): a large file dropped into the folder takes
        minutes to embed, and questions meanwhile are answered from the index as it was
        (`indexing` says so) instead of queueing behind it."""
        if self._index is None or self._current_signature() == self._signature:
            return False
        if self.indexing:
            return False  # the question that started it waited; the others are answered at once
        # A sync already running (an upload) picks the change up; meanwhile questions are
        # answered from the current index rather than waiting for it.
        if not self._sync_lock.acquire(blocking=False):
            return False
        worker = self._refresher = _Refresh(self)
        try:
            worker.start()  # it releases the lock when done
        except BaseException:
            self._sync_lock.release()
            raise
        worker.join(REFRESH_WAIT_S if wait is None else wait)
        if worker.is_alive():
            return False
        if worker.failure is not None:
            raise worker.failure
        return worker.refreshed

    @property
    def indexing(self) -> bool:
        """Whether documents changed on disk are being indexed in the background now."""
        worker = self._refresher
        return worker is not None and worker.is_alive()

    def _refresh_holding_lock(self) -> bool:
        """The sync `refresh` starts, in its thread; False when the index could not follow."""
        try:
            self._adopt_published() if self.read_only else self._sync_holding_lock(wait=not self._other_writer)
        except IndexBusyError:  # still another process's: the next question tries again
            self._signature = None
            return False
        except IndexStoreError as exc:  # the folder cannot take a new generation
            self._keep_answering(exc)
            return False
        self._other_writer = False
        return True

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Wait until no sync (an upload or a removal being indexed) is running; False on timeout.
        A server that stops waits here, so that an upload ends indexed rather than half done."""
        if not self._sync_lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self._sync_lock.release()
        return True

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents by name, with their size and when they were added."""
        self.refresh()  # files added or deleted on disk since the last question
        return [self._document_info(d, info) for d, info in sorted(self.index.manifest["documents"].items())]

    def _document_info(self, name: str, info: dict) -> DocumentInfo:
        path = self.settings.corpus_dir / name
        size, added = info.get("bytes"), info.get("added_at", "")
        if size is None or not added:  # an index built before these were recorded: ask the file
            try:
                stat = path.stat()
                size, added = (stat.st_size if size is None else size), (added or iso_time(stat.st_mtime))
            except OSError:
                pass
        return DocumentInfo(doc=name, title=info.get("title", ""), kind=info.get("kind", ""),
                            chunks=info["n_chunks"], bytes=size, added_at=added)

    def remove_document(self, name: str) -> SyncReport:
        """Take a document out of the corpus folder and the index together.

        The index is synced as if the file were gone, and only then is the file deleted: a removal
        stopped at any point (a failed sync, a killed process) leaves the file in the folder, and
        the index either still holds it or gets it back on the next sync. Nothing is lost.
        """
        self._check_writable()
        with self._sync_lock:
            if self._index is None:
                self._sync_holding_lock()
            documents = self._index.manifest["documents"]
            if isinstance(name, str) and name not in documents:
                # Typed "é" may be stored as "e" + accent (macOS names), and a name with a newline is
                # shown as "a\nb" (`one_line_name`): each is the same name to a reader.
                name = _same_name(name, documents, also=one_line_name)
            if name not in documents:
                known = ", ".join(one_line_name(d) for d in sorted(documents)[:10]) + (", ..." if len(documents) > 10 else "")
                shown = " ".join(str(name).split()) or "(no name)"  # one line, whatever was typed
                raise UsageError(f"{shown} is not among the documents (they are: {known})")
            if len(documents) == 1:
                raise UsageError(f"{name} is the only document: add another one before removing it")
            target = self.settings.corpus_dir / name
            if not os.path.lexists(target):  # already deleted on disk: the index only has to follow
                return self._sync_holding_lock()
            if not os.access(target.parent, os.W_OK):
                raise UsageError(f"cannot remove {name}: its folder {target.parent} is read-only")
            report = self._sync_holding_lock(leave_out=frozenset({name}))
            try:
                target.unlink()
            except OSError as exc:  # the index goes back to holding it, as the folder still does
                self._sync_holding_lock()
                raise UsageError(f"cannot remove {name}: {exc.strerror or exc}") from None
            return report

    def add_document(self, filename: str, data: bytes, replace: bool = False, progress: bool = False) -> SyncReport:
        """Add an uploaded file to the corpus folder and index it.

        The upload is read and checked before anything in the folder changes: a file that cannot
        be read, or that repeats a document already there, is refused and the folder stays as it
        was. A document of the same name is replaced only when `replace` says so. `progress`
        shows the embedding's progress bar (on stderr, and on the chat page, which follows it).
        """
        self._check_writable()
        name = self._upload_name(filename, data)
        try:
            # Up to date with the folder first, so that the checks below see what is there now and
            # the report lists only what the upload changed.
            if self._index is None:
                self.sync()
            else:
                self.refresh()
        except CorpusError:
            pass  # an empty corpus folder: the upload will be its first document
        corpus = self.settings.corpus_dir
        if not corpus.is_dir():
            raise CorpusError(f"corpus folder not found: {corpus}")
        name = self._stored_name(name)
        target = corpus / name
        if os.path.lexists(target) and not replace:  # a link to nothing is there too
            skipped = dict(self._index.report.skipped) if self._index is not None else {}
            if name in skipped:
                raise UsageError(f"{name} is in the corpus folder but was not indexed ({skipped[name]}); "
                                 f"replace it explicitly to put this upload in its place")
            raise UsageError(f"{name} is already in the documents; replace it explicitly to change it")
        if target.exists() and not target.is_file():
            raise UsageError(f"{name}: a folder of that name is in the corpus")
        try:
            document = load_document(target, name, raw=data)
        except Exception as exc:  # whatever the parser says, the reason goes back to the user
            raise UsageError(f"{name}: could not be read: {first_line(exc)}") from None
        same = [d for d, info in self.index.manifest["documents"].items()
                if info.get("hash") == document.content_hash and d != name] if self._index is not None else []
        if same:
            raise UsageError(f"{name} has the same content as {same[0]}, which is already in the documents")
        # Written and indexed under one lock: a question's refresh in between would index the
        # upload itself, and this report would then show nothing added.
        with self._sync_lock:
            previous = _FolderEntry.of(target)
            try:
                # Without `replace`, a file of that name saved (or uploaded) since the check above
                # is kept: the upload is then refused, never written over it.
                atomic_write_bytes(target, data, exclusive=not replace)
            except FileExistsError:
                raise UsageError(f"{name} is already in the documents; replace it explicitly to change it") from None
            try:
                report = self._sync_holding_lock(progress=progress)
            except BaseException:  # the folder goes back as it was, whatever stopped the indexing
                previous.restore(target)
                raise
            skipped = dict(report.skipped)
            if name in skipped:  # refused on indexing after all: put the folder back as it was
                previous.restore(target)
                self._sync_holding_lock()
                raise UsageError(f"{name}: {skipped[name]}")
            return report

    def _upload_name(self, filename: str, data: bytes) -> str:
        name = Path(filename.replace("\\", "/")).name
        suffix = Path(name).suffix.lower()
        if name.startswith(".") or editor_leftover(name):
            raise UsageError(f"{name}: a hidden or temporary file's name (one starting with '.' or '~$'); rename it")
        if not name or suffix not in SUPPORTED_SUFFIXES:
            raise UsageError(f"{name or 'file'}: unsupported type (allowed: {ALLOWED_TYPES})")
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        if len(data) > limit:
            raise UsageError(f"{name}: {len(data) / 1e6:.1f} MB is over the {self.settings.max_file_mb:g} MB limit")
        if not data:
            raise UsageError(f"{name}: the file is empty")
        stored = upload_file_name(name)
        if len(stored.encode()) > NAME_MAX:
            raise UsageError(f"{stored[:40]}…: the file name is too long (over {NAME_MAX} bytes); shorten it")
        return stored

    def _stored_name(self, name: str) -> str:
        """The name of the file already in the corpus folder that `name` means, if one is there under
        another composition ("Cafe" + accent, as macOS writes it): replacing it must not leave a twin."""
        if (self.settings.corpus_dir / name).exists():
            return name
        try:
            return _same_name(name, os.listdir(self.settings.corpus_dir))
        except OSError:
            return name

    # ----- calibration -----
    @property
    def calibration(self) -> Calibration:
        """Answerability model for passages found by retrieval: the user's own (stored with the
        index by `bot calibrate`), else the one shipped with the reader, else a default rule."""
        if self._calibration is None:
            model_file = CALIBRATION_FILE if self.reader.kind == "neural" else SENTENCE_FILE
            # Reader-only features come last: they hold whatever the embedder.
            fallback = [self._model_dir() / READER_ONLY_FILE] if self.reader.kind == "neural" else []
            self._calibration = self._load_calibration(
                [self.settings.index_dir / CALIBRATION_FILE, self._model_dir() / model_file, *fallback],
                check_identity=True)
        return self._calibration

    @property
    def reader_only_calibration(self) -> Calibration:
        """Answerability from reader scores alone, for reading a given paragraph (no retrieval)."""
        if self._reader_only_calibration is None:
            # Only a neural reader ships one: sentence mode's scores are cosines, not span logits.
            shipped = [self._model_dir() / READER_ONLY_FILE] if self.reader.kind == "neural" else []
            self._reader_only_calibration = self._load_calibration(shipped)
        return self._reader_only_calibration

    def _model_dir(self) -> Path:
        if self.reader.kind == "sentence":
            return BUNDLED_READER_DIR  # sentence-mode calibration ships with the bundled reader
        self.reader.warm_up()  # a neural reader knows its folder once loaded
        return Path(self.reader.model_dir)

    def _load_calibration(self, candidates: list[Path], check_identity: bool = False) -> Calibration:
        for path in candidates:
            if not path.is_file():
                continue
            try:
                cal = Calibration.load(path)
            except (OSError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable calibration %s (%s)", path, exc)
                continue
            # A user's calibration belongs to the reader it was fitted for.
            if check_identity and path.parent == self.settings.index_dir and cal.reader != self.reader.identity:
                log.warning("ignoring %s: fitted for reader %s, not %s", path, cal.reader, self.reader.identity)
                continue
            # Similarity features are on the scale of the embedder they were measured with.
            if not cal.fits_embedder(self.settings.embedding_model):
                log.warning("ignoring %s: its similarity features were fitted with %s, not %s",
                            path, cal.embedding_model, self.settings.embedding_model)
                continue
            return cal
        return default_calibration(self.reader.kind, self.reader.identity)

    @property
    def threshold(self) -> float:
        return self.threshold_for(self.calibration)

    def threshold_for(self, calibration: Calibration) -> float:
        """The threshold set by the user (`BOT_ABSTAIN_THRESHOLD`, `--threshold`), else the calibration's."""
        configured = self.settings.abstain_threshold
        return calibration.threshold if configured is None else configured

    # ----- answering -----
    def ask(self, question: str, history=None, top_k: int | None = None, threshold: float | None = None) -> Response:
        """Answer one question from the documents, with citations, or abstain."""
        return self.ask_many([question], [history], top_k=top_k, threshold=threshold)[0]

    def ask_many(self, questions: list[str], histories: list | None = None, top_k: int | None = None,
                 threshold: float | None = None) -> list[Response]:
        """Answer several questions; the reader batches all their passages together.

        threshold: refuse below this probability (None: the configured or calibrated one). An
        evaluation passes 0 to see the best answer to every question.
        """
        if isinstance(questions, str):
            raise UsageError("ask_many takes a list of questions; ask() takes one")
        questions = list(questions)
        histories = [None] * len(questions) if histories is None else list(histories)
        if len(histories) != len(questions):
            raise UsageError(f"{len(questions)} questions but {len(histories)} histories: give one per question")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 <= threshold <= 1):
            raise UsageError(f"threshold must be a probability from 0 to 1 (got {threshold!r})")
        top_k = self._checked_top_k(top_k)
        # Checked first: an empty question is refused before an index or a reader is built for it.
        prepared = [self._prepare(q, h) for q, h in zip(questions, histories)]
        if not self.refresh():
            self.load_index()  # before timing the question
        self.reader.warm_up()
        t_start = time.perf_counter()
        retriever = self._retriever
        timings = [dict() for _ in questions]
        passages: list[list[Passage]] = []
        vectors = None
        if len(prepared) > 1:  # one batched embedding call for many questions
            t0 = time.perf_counter()
            vectors = self.embedder.encode([p.retrieval_query for p in prepared])
            per_question = (time.perf_counter() - t0) * 1000 / len(prepared)
        for n, (p, t) in enumerate(zip(prepared, timings)):
            t0 = time.perf_counter()
            vector = vectors[n] if vectors is not None else self.embedder.encode_query(p.retrieval_query)
            t1 = time.perf_counter()
            passages.append(retriever.retrieve(p.retrieval_query, top_k, vector=vector))
            t2 = time.perf_counter()
            t["embed"] = per_question if vectors is not None else (t1 - t0) * 1000
            t["retrieve"] = (t2 - t1) * 1000
        responses = self._read_and_decide(prepared, passages, timings, threshold)
        if len(questions) == 1:  # one question: its total is the wall time, start-up excluded
            responses[0].timings_ms["total"] = (time.perf_counter() - t_start) * 1000
        return responses

    def answer_from(self, requests: list[tuple[str, list[Passage]]], threshold: float | None = None) -> list[Response]:
        """Answer questions from passages the caller chose (e.g. retrieved with some documents
        left out), with the same reading and decision as `ask_many`."""
        prepared = [self._prepare(q, None) for q, _ in requests]
        return self._read_and_decide(prepared, [ps for _, ps in requests], [dict() for _ in requests], threshold)

    def read_texts(self, requests: list[tuple[str, str, str]], threshold: float | None = None) -> list[Response]:
        """Answer each question from one given text, (question, text, name), with no retrieval.

        This is gold-context reading: the decision uses the reader-only calibration, since no
        retrieval evidence exists. The citation names the text and offsets into it."""
        calibration = self.reader_only_calibration
        if threshold is None:
            threshold = self.threshold_for(calibration)
        t0 = time.perf_counter()
        results = self.reader.read_batch([(as_question(q), [ReadItem(text, name, 0, 0)]) for q, text, name in requests])
        read_ms = (time.perf_counter() - t0) * 1000 / max(len(requests), 1)
        responses = []
        for (question, text, name), result in zip(requests, results):
            t1 = time.perf_counter()
            decision = decide(result, None, calibration, threshold)
            checked = check_in_text(question, result, text) if decision.best else None
            unlike = checked.why if checked else ""
            if checked and checked.replaced:  # a lower choice answers for what the best one lacks
                result = checked.result
                decision = decide(result, None, calibration, threshold)
            elif unlike:
                decision = replace(decision, score=0.0, refused=decision.refused or threshold > 0)
            response = Response(question=question, answer="", abstained=True, score=decision.score,
                                alternatives=result.spans[1:], features=decision.features)
            if decision.refused:
                response.reason = "; ".join(["the text does not appear to contain the answer", *filter(None, [unlike])])
            else:
                best = decision.best
                response.answer, response.abstained = best.text, False
                response.citations = [Citation(doc=name, section="", start=best.start, end=best.end, quote=text,
                                               quote_start=0, quote_end=len(text))]
            format_ms = (time.perf_counter() - t1) * 1000
            response.timings_ms = {"read": read_ms, "format": format_ms, "total": read_ms + format_ms}
            responses.append(response)
        return responses

    def _read_and_decide(self, prepared: list[_Prepared], passages: list[list[Passage]],
                         timings: list[dict[str, float]], threshold: float | None) -> list[Response]:
        t0 = time.perf_counter()
        # a passage naming the question's version or code is read, shown or not (bot/read/reading_order.py)
        passages = [reading_order(p.reader_question, ps, self.settings.read_k, self._facts)
                    for p, ps in zip(prepared, passages, strict=True)]
        results = self.read([(p.reader_question, ps) for p, ps in zip(prepared, passages, strict=True)])
        read_ms = (time.perf_counter() - t0) * 1000 / max(len(prepared), 1)
        threshold = self.threshold if threshold is None else threshold
        responses = []
        for p, ps, result, t in zip(prepared, passages, results, timings, strict=True):
            t["read"] = read_ms
            t0 = time.perf_counter()
            response = self._respond(p, ps, result, threshold)
            t["format"] = (time.perf_counter() - t0) * 1000
            t["total"] = sum(t.values())
            response.timings_ms = t
            responses.append(response)
        return responses

    def _checked_top_k(self, top_k) -> int:
        top_k = self.settings.top_k if top_k is None else top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= self.settings.max_top_k:
            raise UsageError(f"top_k must be a whole number from 1 to {self.settings.max_top_k} (got {top_k!r})")
        return top_k

    def retrieve(self, query: str, top_k: int | None = None,
                 exclude: Callable[[Chunk], bool] | None = None) -> list[Passage]:
        """Ranked passages for a query (no reading); `exclude`: chunks to treat as absent."""
        self.load_index()
        return self._retriever.retrieve(query, top_k or self.settings.top_k, exclude=exclude)

    def read(self, requests: list[tuple[str, list[Passage]]]) -> list[ReaderResult]:
        """Read the best read_k passages of each (question, passages) pair in one batch; a neural
        reader's spans are then ranked with the passages' retrieval scores and whether they name
        the years, versions... the question asks about (bot/read/qualifiers.py)."""
        results = self.reader.read_batch([
            (question, [read_item(x.chunk, i) for i, x in enumerate(passages[: self.settings.read_k])])
            for question, passages in requests
        ])
        if self.reader.kind != "neural":
            return results
        facts = self._facts
        return [rank_with_retrieval(result, passages, penalty=_summed(detail_penalty(question, passages, facts),
                                                                   document_penalty(question, passages, facts)))
                for result, (question, passages) in zip(results, requests, strict=True)]

    def _prepare(self, question: str, history) -> _Prepared:
        text, notice = clean_question(question, self.settings.max_question_chars)
        asked = as_question(text)
        resolved = resolve(asked, self._earlier_turns(history))
        return _Prepared(text, resolved.reader_question, resolved.retrieval_query, notice,
                         follow_up=resolved.retrieval_query != asked, unclear=resolved.unclear)

    def _earlier_turns(self, history) -> list[Turn]:
        """The turns a follow-up leans on (the last few), their questions and answers cleaned and
        cut like a question: a history is sent by the client, and a huge one must not cost more
        than a question does."""
        turns: list[Turn] = []
        for earlier in reversed(previous_turns(history)):
            try:
                question = clean_question(earlier.question, self.settings.max_question_chars)[0]
            except UsageError:  # nothing but control characters
                continue
            try:
                answer = clean_question(earlier.answer, self.settings.max_question_chars)[0]
            except UsageError:  # no answer, or nothing readable in it
                answer = ""
            turns.insert(0, Turn(question, answer))
            if len(turns) == CHAIN_TURNS:
                break
        return turns

    def _respond(self, p: _Prepared, passages: list[Passage], result: ReaderResult, threshold: float) -> Response:
        after = successor(p.reader_question, passages, self._facts, result.spans[0]) if result.spans else None
        if after is not None:  # who came after someone: the next year's list says it, no sentence does
            result = replace(result, spans=[after, *result.spans], best_null=after.no_answer_score)
        decision = decide(result, passages, self.calibration, threshold)
        # The documents hold something like the answer, not the answer (bot/read/doubts.py).
        checked = check(p.reader_question, result, passages, self._facts, self._vocabulary) \
            if decision.best and after is None else None
        unlike = p.unclear or (checked.why if checked else "")  # why the reader's own best span does not answer
        set_aside = ""
        if checked and checked.replaced and not p.unclear:  # the named row, or a lower choice, answers instead
            result, set_aside, unlike = checked.result, unlike, ""
            decision = decide(result, passages, self.calibration, threshold)
        if unlike:
            decision = replace(decision, score=0.0, refused=decision.refused or threshold > 0)
        elif decision.best and (decision.best is after
                                or fills_a_named_cell(p.reader_question, decision.best,
                                                      passages[decision.best.passage_index])
                                or defines_asked_term(p.reader_question, decision.best,
                                                      passages[decision.best.passage_index])):
            # The table, or the definition's sentence, says what the span answers, whatever the reader
            # scored it: answerable at the configured threshold at least (an evaluation, asking at 0,
            # judges it there too).
            score = max(decision.score, self.threshold)
            decision = replace(decision, score=score, refused=refuses(score, True, threshold))
        notices = [p.notice] if p.notice else []
        if self.indexing:  # the folder changed, and the index is catching up
            notices.append("answered from the index as it was: documents changed in the folder are being indexed")
        if self.out_of_date:  # the folder changed, but the index could not follow
            notices.append(f"answered from the index as it was: {self.out_of_date}")
        response = Response(question=p.question, answer="", abstained=True, score=decision.score,
                            passages=passages, retrieval_query=p.retrieval_query, follow_up=p.follow_up,
                            asked_as=p.reader_question if p.follow_up else "", notice="; ".join(notices),
                            not_held=unlike if decision.refused else "", alternatives=result.spans[1:],
                            features=decision.features)
        if decision.refused:
            why = ("no passage matched the question" if not passages else unlike or
                   f"confidence {decision.score:.2f} is below the threshold {threshold:.2f}"
                   + (f" (the reader's first choice: {set_aside})" if set_aside else ""))
            response.reason = "; ".join(notices + [p.unclear or f"the documents do not appear to contain the answer: {why}"])
            return response
        # The answer as long as the question asks: a whole list, the named row, a sentence's end.
        spans, rule = widen(p.reader_question, result.spans, passages,
                            held=lambda span: not not_held(p.reader_question, span, passages, self._facts,
                                                           self._vocabulary))
        response.answer, response.alternatives = spans[0].text, spans[1:]
        if rule == "list":
            response.answer_items = [item.strip() for item in response.answer.splitlines() if item.strip()]
        response.abstained = False
        response.citations = citations_for(
            spans, passages, supports=lambda span: not mismatch(p.reader_question, span, passages, self._facts))
        response.reason = "; ".join(notices)
        return response


def _summed(*penalties: Callable[[Span], float] | None) -> Callable[[Span], float] | None:
    """One penalty that adds up the given ones (None where none is given)."""
    given = [p for p in penalties if p is not None]
    if len(given) <= 1:
        return given[0] if given else None
    return lambda span: sum(p(span) for p in given)


def read_item(chunk: Chunk, passage_index: int) -> ReadItem:
    """What the reader reads of a passage: its text, after the headings of its section that it does
    not show itself ("2.3.0 — 2025-12-08" above a chunk starting at "Removed"; every heading above a
    section's second chunk), as a context line never answered from. A list or a table row cut off
    from its heading by the chunking still says what it belongs to."""
    shown = " ".join(chunk.text[:chunk.heading_length].split())
    missing = [h for h in chunk.section.split(SECTION_SEPARATOR) if h and h not in shown]
    context = f"{SECTION_SEPARATOR.join(missing)}\n" if missing else ""
    return ReadItem(context + chunk.text, chunk.doc_id, chunk.start - len(context), passage_index, chunk.sentences,
                    len(context) + chunk.heading_length, len(context))


def citations_for(spans: list[Span], passages: list[Passage],
                  supports: Callable[[Span], bool] = lambda span: True) -> list[Citation]:
    """The answer's (spans[0]) own location first, then other documents giving the same answer as
    the reader's next choices, where `supports` accepts them (the 2024 policy does not support an
    answer about the 2023 one). A same-worded span ranked below some other answer is a
    coincidence ("three months" of a probation period, for a question about returns), not support."""
    best = spans[0]
    norm = " ".join(best.text.lower().split())
    chosen = [best]
    for span in spans[1:]:
        if " ".join(span.text.lower().split()) != norm:
            break
        if span.doc_id not in {c.doc_id for c in chosen} and supports(span):
            chosen.append(span)
    return [cite(s, passages[s.passage_index]) for s in chosen]


def cite(span: Span, passage: Passage) -> Citation:
    """Quote the sentence(s) of the passage that contain the span."""
    chunk = passage.chunk
    q_start, q_end = chunk.sentences_around(span.start, span.end)
    quote = chunk.text[q_start - chunk.start : q_end - chunk.start]
    return Citation(doc=span.doc_id, section=chunk.section, start=span.start, end=span.end, quote=quote,
                    quote_start=q_start, quote_end=q_end, line=chunk.line_at(span.start), page=chunk.page_at(span.start),
                    passage_rank=passage.rank)
