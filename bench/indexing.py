"""Indexing throughput on a synthetic corpus built from SQuAD paragraphs, then the cost of an
incremental update after one document changes.

    .venv/bin/python bench/indexing.py [--docs 1000] [--paragraphs-per-doc 3] [--save]

Targets: >= 200 chunks/s for a full build; after editing one document, a re-sync embeds exactly
that document's chunks.
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import (SQUAD_TRAIN_DIR, apply_threads, bench_settings, emit, log, parser, settings_dict, squad_articles,
                     target, temp_dir)


def write_corpus(folder: Path, docs: int, per_doc: int) -> tuple[list[Path], str]:
    """`docs` text files of `per_doc` consecutive paragraphs of one SQuAD article each; also
    returns one more unused paragraph for the edit."""
    folder.mkdir(parents=True)
    paths: list[Path] = []
    spare = None
    for title, paragraphs, _ in squad_articles():
        for i in range(0, len(paragraphs) - per_doc + 1, per_doc):
            if len(paths) == docs:
                spare = paragraphs[i]
                break
            path = folder / f"doc-{len(paths):05d}.txt"
            path.write_text(f"{title}\n\n" + "\n\n".join(paragraphs[i : i + per_doc]) + "\n", encoding="utf-8")
            paths.append(path)
        if spare is not None:
            break
    if len(paths) < docs or spare is None:
        raise SystemExit(f"the SQuAD train shards hold fewer than {docs} documents of {per_doc} paragraphs")
    return paths, spare


def _time_encoding(embedder) -> None:
    """Count the time spent inside the embedding model, to split it from the rest of a sync."""
    encode = embedder.encode
    embedder.seconds = 0.0

    def timed(texts, show_progress=False):
        t0 = time.perf_counter()
        try:
            return encode(texts, show_progress)
        finally:
            embedder.seconds += time.perf_counter() - t0

    embedder.encode = timed


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=1000, help="documents in the synthetic corpus (default 1000)")
    p.add_argument("--paragraphs-per-doc", type=int, default=3, help="SQuAD paragraphs per document (default 3)")
    args = p.parse_args()
    if args.quick:
        args.docs = min(args.docs, 20)
    apply_threads(args)

    from bot.search.embedding import make_embedder
    from bot.pipeline import Bot
    from bot.read.sentence import SentenceReader

    work = temp_dir("indexing")
    paths, spare = write_corpus(work / "corpus", args.docs, args.paragraphs_per_doc)
    corpus_bytes = sum(path.stat().st_size for path in paths)
    settings = bench_settings(corpus_dir=work / "corpus", index_dir=work / "index", reader="none")
    embedder = make_embedder(settings.embedding_model, settings.embedding_backend)
    _time_encoding(embedder)
    embedder.warm_up()  # model load is start-up cost, not indexing throughput
    bot = Bot(settings, embedder=embedder, reader=SentenceReader(embedder))

    log(f"full build of {len(paths)} documents")
    t0 = time.perf_counter()
    full = bot.sync()
    full_wall = time.perf_counter() - t0
    full_embed = embedder.seconds
    n_chunks = bot.index.manifest["n_chunks"]

    t0 = time.perf_counter()
    noop = bot.sync()
    noop_wall = time.perf_counter() - t0

    edited = paths[len(paths) // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n" + spare + "\n", encoding="utf-8")
    embedder.seconds = 0.0
    log(f"re-sync after editing {edited.name}")
    t0 = time.perf_counter()
    inc = bot.sync()
    inc_wall = time.perf_counter() - t0
    edited_chunks = bot.index.manifest["documents"][edited.name]["n_chunks"]
    incremental_ok = (inc.embedded_chunks == edited_chunks and inc.changed == [edited.name]
                      and not inc.added and not inc.removed and len(inc.reused) == len(paths) - 1)

    rate = round(n_chunks / full_wall, 1)
    result = {
        "figures": {
            "full_build": {
                "documents": len(paths),
                "chunks": n_chunks,
                "embedded_chunks": full.embedded_chunks,
                "wall_s": round(full_wall, 2),
                "chunks_per_s": rate,
                "embedding_s": round(full_embed, 2),
                "embedding_chunks_per_s": round(full.embedded_chunks / full_embed, 1) if full_embed else None,
                "sync_index_s": round(full.seconds, 2),
                "retriever_build_s": round(full_wall - full.seconds, 2),
                "faiss": [shard["faiss"] for shard in bot.index.manifest["shards"]],
            },
            "unchanged_resync_s": round(noop_wall, 3),
            "unchanged_resync_embedded_chunks": noop.embedded_chunks,
            "incremental": {
                "edited_document": edited.name,
                "edited_document_chunks": edited_chunks,
                "re_embedded_chunks": inc.embedded_chunks,
                "changed": inc.changed,
                "reused_documents": len(inc.reused),
                "wall_s": round(inc_wall, 3),
                "embedding_s": round(embedder.seconds, 3),
                "only_the_edited_document_was_embedded": incremental_ok,
            },
        },
        "targets": {
            "full_build_chunks_per_s": target(rate, ">=", 200, " chunks/s"),
            "incremental_re_embeds_only_the_edited_document": {
                "value": inc.embedded_chunks, "target": f"== {edited_chunks} (chunks of {edited.name})",
                "met": incremental_ok},
        },
        "runs": 1,
        "settings": {**settings_dict(settings), "docs": args.docs, "paragraphs_per_doc": args.paragraphs_per_doc,
                     "embedding_batch": "sync_index sends 256 chunks per encode call; the model batches 64"},
        "data": {
            "corpus": f"{len(paths)} .txt files of {args.paragraphs_per_doc} consecutive paragraphs of one SQuAD "
                      f"train article each (title line first), in file order from {SQUAD_TRAIN_DIR}",
            "corpus_mb": round(corpus_bytes / 1e6, 2),
            "edit": "one more paragraph of the same shards appended to one document",
        },
        "notes": [
            "chunks_per_s = chunks / wall time of Bot.sync() (scan, parse, chunk, embed, FAISS and BM25 build, "
            "write); the embedding model is loaded before timing",
            "unchanged_resync: the start-up path when nothing changed (hash the corpus, verify index checksums, "
            "load the stored FAISS and BM25 files)",
        ],
    }
    emit("indexing", result, args.save, started)
    return 0 if incremental_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
