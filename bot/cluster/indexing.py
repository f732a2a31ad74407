"""`bot index --ray`: new and changed documents parsed, chunked and embedded on a Ray cluster.

A Ray Data pipeline reads the list of files the build hands it, parses and chunks them in tasks
(one row per chunk, all CPUs of the cluster), then embeds the chunk rows in an actor pool (one
model per actor, batches of BLOCK texts, `cpus_per_worker` CPUs each). The records come back to the driver, which keeps the
index rules of a local build: which files to process at all (only new and changed ones), how rows
are numbered and sharded, and atomic publication (a failed or killed build publishes nothing).
Ray Data restarts a dead actor and retries its batch.

On a cluster of several machines every node must see the corpus folder at the same path.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bot.cluster.connect import check_workers, connect, worker_count
from bot.config import Settings
from bot.ingest.corpus import CorpusFile
from bot.search.documents import ProcessedDocument, embedding_text, parse_and_chunk
from bot.search.embedding import make_embedder
from bot.search.index import chunk_from_json, chunk_to_json

BLOCK = 128  # texts per embedding batch: large enough to batch well, small enough to spread
FILES_PER_TASK = 16  # files per parsing task


def _parse_rows(item: dict, settings: Settings) -> list[dict]:
    """One file -> one row per chunk (or one row saying why it was skipped)."""
    file = CorpusFile(item["rel"], Path(item["path"]), item["hash"], item["skip"], item["size"])
    doc = parse_and_chunk(file, settings)
    head = {"rel": doc.rel, "kind": doc.kind, "title": doc.title, "hash": doc.content_hash}
    if doc.skip_reason:
        return [dict(head, order=-1, skip=doc.skip_reason, chunk="", text="")]
    return [dict(head, order=i, skip="", chunk=json.dumps(chunk_to_json(c), ensure_ascii=False),
                 text=embedding_text(c, doc.title)) for i, c in enumerate(doc.chunks)]


class _EmbedRows:
    """One embedding model in one actor of the pool."""

    def __init__(self, model_name: str, backend: str, batch_size: int) -> None:
        self.embedder = make_embedder(model_name, backend, batch_size)
        self.embedder.warm_up()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        rows = [i for i, skip in enumerate(batch["skip"]) if not skip]
        if rows:
            vectors[rows] = self.embedder.encode([texts[i] for i in rows])
        out = {key: batch[key] for key in ("rel", "kind", "title", "hash", "order", "skip", "chunk")}
        out["vector"] = vectors
        return out


class RayProcessor:
    """A DocumentProcessor (bot/search/documents.py) that runs on a Ray cluster."""

    def __init__(self, model_name: str, backend: str, address: str = "auto", workers: int | None = None,
                 cpus_per_worker: float = 1.0, batch_size: int = 64) -> None:
        check_workers(workers)
        self.model_name = model_name
        self.backend = backend
        self.address = address
        self.requested_workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.batch_size = batch_size
        self.last_run: dict = {}  # workers and timings of the last process() call

    def process(self, files: list[CorpusFile], settings: Settings, dimension: int,
                progress: bool) -> dict[str, ProcessedDocument]:
        connect(self.address)
        import ray.data  # binds `ray`, with its data library loaded

        logging.getLogger("ray.data").setLevel(logging.ERROR)
        ray.data.DataContext.get_current().enable_progress_bars = False  # the build reports its own progress
        # No more actors than files: a one-file update should not load the model twice.
        workers = min(worker_count(self.requested_workers, self.cpus_per_worker), max(1, len(files)))
        t0 = time.perf_counter()
        items = [{"rel": f.rel, "path": str(f.path), "hash": f.content_hash, "skip": f.skip_reason, "size": f.size}
                 for f in files]
        # Parsing finishes before the embedding actors start: actors that hold every CPU of the
        # cluster would otherwise leave none for the parsing tasks feeding them.
        rows = (ray.data.from_items(items, override_num_blocks=max(1, -(-len(items) // FILES_PER_TASK)))
                .flat_map(_parse_rows, fn_kwargs={"settings": settings})
                .materialize())
        embedded = rows.map_batches(_EmbedRows, fn_constructor_args=(self.model_name, self.backend, self.batch_size),
                                    batch_size=BLOCK, batch_format="numpy",
                                    compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=self.cpus_per_worker)
        docs = self._collect(embedded, files, dimension, progress)
        self.last_run = {"workers": workers, "seconds": time.perf_counter() - t0,
                         "chunks": sum(len(d.chunks) for d in docs.values())}
        return docs

    @staticmethod
    def _collect(embedded, files: list[CorpusFile], dimension: int, progress: bool) -> dict[str, ProcessedDocument]:
        from tqdm.auto import tqdm

        parts: dict[str, list[tuple[int, str, np.ndarray]]] = defaultdict(list)
        heads: dict[str, ProcessedDocument] = {}
        with tqdm(unit="chunk", desc="embedding on Ray", disable=not progress) as bar:
            for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
                for i, rel in enumerate(batch["rel"]):
                    rel = str(rel)
                    if rel not in heads:
                        heads[rel] = ProcessedDocument(rel, str(batch["kind"][i]), str(batch["title"][i]),
                                                       str(batch["hash"][i]), skip_reason=str(batch["skip"][i]))
                    if not batch["skip"][i]:
                        parts[rel].append((int(batch["order"][i]), str(batch["chunk"][i]), batch["vector"][i]))
                bar.update(len(batch["rel"]))
        docs: dict[str, ProcessedDocument] = {}
        for file in files:
            doc = heads[file.rel]
            ordered = sorted(parts.get(file.rel, []), key=lambda part: part[0])
            doc.chunks = [chunk_from_json(json.loads(chunk)) for _, chunk, _ in ordered]
            doc.vectors = (np.stack([vector for _, _, vector in ordered]).astype(np.float32) if ordered
                           else np.zeros((0, dimension), dtype=np.float32))
            docs[file.rel] = doc
        return docs
