"""Turning new and changed corpus files into chunks and vectors: the step an index build hands
to a processor. The local processor does it in this process; `bot.cluster.indexing` does the same
work on a Ray cluster. Both return the same records, so the index rules (what to reuse, how rows
are numbered, atomic publication) stay in one place, bot/search/index.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bot.config import Settings
from bot.ingest.chunking import chunk_document
from bot.ingest.corpus import CorpusFile, try_load
from bot.search.embedding import QueryCachingEmbedder
from bot.types import Chunk

EMBED_BATCH = 256  # texts per encode call in a local build


@dataclass
class ProcessedDocument:
    """One file's chunks (numbered from 0) and their vectors, or why it was skipped."""

    rel: str
    kind: str = ""
    title: str = ""
    content_hash: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray | None = None
    skip_reason: str = ""


class DocumentProcessor(Protocol):
    def process(self, files: list[CorpusFile], settings: Settings, dimension: int,
                progress: bool) -> dict[str, ProcessedDocument]:
        """Every file's record, by its corpus-relative name."""
        ...


def embedding_text(chunk: Chunk, title: str) -> str:
    """What gets embedded: the passage with its document title and section, which often carry
    the subject the passage itself only refers to ("it", "the bureau")."""
    context = " - ".join(x for x in (title, chunk.section) if x and x != chunk.text)
    return f"{context}: {chunk.text}" if context else chunk.text


def parse_and_chunk(file: CorpusFile, settings: Settings) -> ProcessedDocument:
    """Parse one file and cut it into chunks (no vectors yet)."""
    doc, reason = try_load(file)
    if doc is None:
        return ProcessedDocument(file.rel, content_hash=file.content_hash, skip_reason=reason)
    chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap, first_id=0)
    if not chunks:
        return ProcessedDocument(file.rel, content_hash=file.content_hash, skip_reason="no text found")
    return ProcessedDocument(file.rel, doc.kind, doc.title, doc.content_hash, chunks)


class LocalProcessor:
    """Parse the files one by one, then embed all their chunks together in batches."""

    def __init__(self, embedder: QueryCachingEmbedder) -> None:
        self.embedder = embedder

    def process(self, files: list[CorpusFile], settings: Settings, dimension: int,
                progress: bool) -> dict[str, ProcessedDocument]:
        from tqdm.auto import tqdm

        docs = {f.rel: parse_and_chunk(f, settings) for f in files}
        rows = [(d, embedding_text(c, d.title)) for d in docs.values() for c in d.chunks]
        vectors = np.zeros((len(rows), dimension), dtype=np.float32)
        with tqdm(total=len(rows), unit="chunk", desc="embedding", disable=not progress) as bar:
            for b in range(0, len(rows), EMBED_BATCH):
                part = rows[b : b + EMBED_BATCH]
                vectors[b : b + len(part)] = self.embedder.encode([text for _, text in part])
                bar.update(len(part))
        first = 0
        for d in docs.values():
            d.vectors = vectors[first : first + len(d.chunks)]
            first += len(d.chunks)
        return docs
