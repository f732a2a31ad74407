"""Dense retrieval at scale: build the index the bot would choose for N passages, then time single
queries and measure recall@10 against exact search.

    .venv/bin/python bench/scale.py [--passages 1000000] [--base 20000] [--queries 500] [--save]

The N passage vectors are not N embedded passages (that would take hours on a CPU). They are
cheaply derived: a base set of real sentences from SQuAD train contexts is embedded with the
bot's embedder; each synthetic vector is a random convex mixture of 2-3 base vectors from the same
article plus small Gaussian noise, normalised. Mixing within an article gives the topical cluster
structure that makes approximate search harder than uniform random vectors would. Queries are
derived the same way (fresh draws) unless --query-source questions, which embeds real SQuAD
train questions instead.

Targets: retrieval p50 <= 50 ms, recall@10 >= 0.95, index memory <= 2 GB.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from _common import (RESULTS_DIR, SQUAD_TRAIN_DIR, emit, log, parser, percentiles, process_memory, squad_articles,
                     target, temp_dir)

GIB = 2**30


def base_sentences(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """n distinct sentences (20..400 chars) sampled from SQuAD train contexts, with the index of
    the article each came from, sorted by article so each article's sentences are contiguous."""
    from bot.ingest.chunking import sentence_spans

    sentences, articles = [], []
    seen = set()
    for a, (_, paragraphs, _) in enumerate(squad_articles()):
        for text in paragraphs:
            for s, e in sentence_spans(text):
                sentence = text[s:e]
                if 20 <= len(sentence) <= 400 and sentence not in seen:
                    seen.add(sentence)
                    sentences.append(sentence)
                    articles.append(a)
        if len(sentences) >= 4 * n:  # enough to sample from; spares parsing every shard for small runs
            break
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(sentences), size=min(n, len(sentences)), replace=False))
    return [sentences[i] for i in pick], np.asarray(articles)[pick]


def squad_questions(n: int, seed: int) -> list[str]:
    questions = [q for _, _, qs in squad_articles() for q in qs]
    rng = np.random.default_rng(seed + 1)
    return [questions[i] for i in rng.choice(len(questions), size=min(n, len(questions)), replace=False)]


def embed_cached(texts: list[str], model: str, cache: Path | None, tag: str) -> np.ndarray:
    """Embed with the bot's embedder; cached by content so a 1M run can reuse a 100k run's base."""
    key = hashlib.sha256("\n".join([model, *texts]).encode()).hexdigest()[:16]
    path = cache / f"scale-{tag}-{key}.npy" if cache else None
    if path is not None and path.is_file():
        log(f"{tag}: reusing cached embeddings {path}")
        return np.load(path)
    from bot.search.embedding import Embedder

    log(f"{tag}: embedding {len(texts)} texts with {model}")
    t0 = time.perf_counter()
    vectors = Embedder(model).encode(texts)
    log(f"{tag}: embedded in {time.perf_counter() - t0:.1f}s")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def derive(base: np.ndarray, articles: np.ndarray, n: int, rng: np.random.Generator, noise: float,
           block: int = 65536) -> np.ndarray:
    """n unit vectors, each a Dirichlet-weighted mix of 2-3 base vectors of one article plus
    isotropic noise whose norm is about `noise` times the mixture's."""
    dim = base.shape[1]
    # Each article's base rows are contiguous (sorted by article): start and size per row.
    _, first, counts = np.unique(articles, return_index=True, return_counts=True)
    group_start = np.repeat(first, counts)
    group_size = np.repeat(counts, counts)
    out = np.empty((n, dim), dtype=np.float32)
    for b in range(0, n, block):
        m = min(block, n - b)
        anchor = rng.integers(0, len(base), m)
        others = group_start[anchor][:, None] + rng.integers(0, 1 << 30, (m, 2)) % group_size[anchor][:, None]
        weights = rng.dirichlet(np.ones(3), m).astype(np.float32)
        weights[rng.random(m) < 0.5, 2] = 0.0  # half the vectors mix 2 sentences, half 3
        weights /= weights.sum(axis=1, keepdims=True)
        mix = (weights[:, :1] * base[anchor] + weights[:, 1:2] * base[others[:, 0]]
               + weights[:, 2:3] * base[others[:, 1]])
        mix += rng.standard_normal((m, dim), dtype=np.float32) * (
            noise * np.linalg.norm(mix, axis=1, keepdims=True) / np.sqrt(dim))
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        out[b : b + m] = mix
    return out


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 200_000) -> np.ndarray:
    """Exact inner-product top-k ids, block by block with IndexFlatIP, so the ground truth never
    needs a second full copy of the vectors."""
    import faiss

    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    for b in range(0, len(vectors), block):
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors[b : b + block])
        scores, ids = flat.search(queries, min(k, flat.ntotal))
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, ids + b], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(scores, order, axis=1)
        best_ids = np.take_along_axis(ids, order, axis=1)
    return best_ids


def ivfpq_figures(vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, k: int, search_k: int,
                  pq_bytes: int, nprobes: list[int], rng: np.random.Generator) -> dict:
    """The multi-machine option of docs/scaling.md, measured on the same vectors: FAISS IVF-PQ
    with `pq_bytes`-byte codes, alone and with the candidates re-scored on the full vectors."""
    import faiss

    n, dim = vectors.shape
    # About 4*sqrt(n) lists (a FAISS rule of thumb), a power of two, with >= 39 training points each.
    nlist = int(2 ** np.floor(np.log2(max(16, min(4 * np.sqrt(n), n / 39)))))
    index = faiss.index_factory(dim, f"IVF{nlist},PQ{pq_bytes}", faiss.METRIC_INNER_PRODUCT)
    # The factory turns on polysemous training (code reordering for Hamming filtering, unused
    # here); with 64 sub-quantisers it costs far more than the index itself.
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    ivf.do_polysemous_training = False
    # 64 points per PQ centroid (16k vectors per sub-quantiser) instead of FAISS's 256: above
    # its 39-point minimum, and 4x less k-means time on a 2-core machine.
    ivf.pq.cp.max_points_per_centroid = 64
    sample = vectors[np.sort(rng.choice(n, size=min(n, max(64 * nlist, 65536)), replace=False))]
    t0 = time.perf_counter()
    index.train(sample)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(vectors)
    add_s = time.perf_counter() - t0
    size = int(faiss.serialize_index(index).nbytes)
    rerank_k = 5 * search_k
    runs = {}
    for nprobe in nprobes:
        index.nprobe = nprobe
        lat, lat_rerank, hits, hits_rerank = [], [], [], []
        for q, t in zip(queries, truth):
            t0 = time.perf_counter()
            _, ids = index.search(q[None, :], search_k)
            lat.append((time.perf_counter() - t0) * 1000)
            hits.append(len(set(ids[0, :k]) & set(t)) / k)
            # Re-rank: more PQ candidates, re-scored exactly from the stored float vectors.
            t0 = time.perf_counter()
            _, ids = index.search(q[None, :], rerank_k)
            cand = ids[0][ids[0] >= 0]
            best = cand[np.argsort(-(vectors[cand] @ q))[:k]]
            lat_rerank.append((time.perf_counter() - t0) * 1000)
            hits_rerank.append(len(set(best) & set(t)) / k)
        runs[f"nprobe_{nprobe}"] = {
            "search_ms": percentiles(lat, digits=3), f"recall_at_{k}": round(float(np.mean(hits)), 4),
            f"reranked_top{rerank_k}_search_ms": percentiles(lat_rerank, digits=3),
            f"reranked_recall_at_{k}": round(float(np.mean(hits_rerank)), 4)}
    return {"factory": f"IVF{nlist},PQ{pq_bytes}", "train_vectors": len(sample), "train_s": round(train_s, 2),
            "add_s": round(add_s, 2), "serialised_bytes": size, "bytes_per_vector": round(size / n, 1),
            # Each vector costs its code plus a 64-bit id in its inverted list; the rest is fixed
            # (centroids, codebooks) and fades as n grows.
            "bytes_per_vector_asymptotic": pq_bytes + 8,
            "by_nprobe": runs}


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--passages", type=int, default=1_000_000, help="synthetic passage vectors (default 1,000,000)")
    p.add_argument("--base", type=int, default=20_000, help="real sentences embedded as the base set (default 20,000)")
    p.add_argument("--queries", type=int, default=500, help="single queries to time (default 500)")
    p.add_argument("--query-source", choices=("derived", "questions"), default="derived",
                   help="queries derived like the passages (default) or real embedded SQuAD train questions")
    p.add_argument("--k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--search-k", type=int, default=20,
                   help="neighbours asked per query, as the bot's retriever does for top_k=5 (default 20)")
    p.add_argument("--noise", type=float, default=0.3, help="noise norm relative to the mixture (default 0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=str(RESULTS_DIR / "cache"), help="where base embeddings are cached ('' = off)")
    p.add_argument("--no-load-check", action="store_true", help="skip writing and re-reading the index file")
    p.add_argument("--ivfpq", action="store_true",
                   help="also measure FAISS IVF-PQ on the same vectors (the sharded option of docs/scaling.md)")
    p.add_argument("--pq-bytes", type=int, default=64, help="IVF-PQ code size in bytes (default 64)")
    p.add_argument("--nprobe", default="16,64", help="IVF lists probed per query, comma-separated (default 16,64)")
    args = p.parse_args()
    if args.quick:  # a smoke check: sizes that run in seconds, whatever the defaults
        args.queries, args.passages, args.base = min(args.queries, 100), min(args.passages, 5000), min(args.base, 200)
    import faiss

    if args.threads:  # here it also sets FAISS's OpenMP threads (index build, k-means, batch search)
        import torch

        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)

    from bot.files import file_sha256
    from bot.search.index import build_faiss
    from bot.model_paths import DEFAULT_EMBEDDING_MODEL

    cache = Path(args.cache) if args.cache else None
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    sentences, articles = base_sentences(args.base, args.seed)
    base = embed_cached(sentences, DEFAULT_EMBEDDING_MODEL, cache, f"base{len(sentences)}")
    base_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    vectors = derive(base, articles, args.passages, rng, args.noise)
    if args.query_source == "derived":
        queries = derive(base, articles, args.queries, rng, args.noise)
    else:
        queries = embed_cached(squad_questions(args.queries, args.seed), DEFAULT_EMBEDDING_MODEL, cache, "questions")
    derive_s = time.perf_counter() - t0
    log(f"{len(vectors)} vectors of dim {vectors.shape[1]} derived in {derive_s:.1f}s")

    mem_before = process_memory()
    log("building the index (bot.search.index.build_faiss)")
    t0 = time.perf_counter()
    index, info = build_faiss(vectors)
    build_s = time.perf_counter() - t0
    mem_after = process_memory()
    log(f"{info['type']} built in {build_s:.1f}s")

    index_file_bytes = load_s = checksum_s = None
    if not args.no_load_check:
        path = temp_dir("scale") / "faiss.index"
        faiss.write_index(index, str(path))
        index_file_bytes = path.stat().st_size
        t0 = time.perf_counter()
        file_sha256(path)  # what every bot start does to each index file before trusting it
        checksum_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        loaded = faiss.read_index(str(path))
        load_s = time.perf_counter() - t0
        del loaded
        os.unlink(path)

    search_k = max(args.search_k, args.k)
    latencies, found = [], []
    for q in queries:  # one at a time, like a user's question
        t0 = time.perf_counter()
        _, ids = index.search(q[None, :], search_k)
        latencies.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0, : args.k])
    log("exact ground truth")
    t0 = time.perf_counter()
    truth = exact_top_k(vectors, queries, args.k)
    truth_s = time.perf_counter() - t0
    recall = float(np.mean([len(set(f) & set(t)) / args.k for f, t in zip(found, truth)]))

    ivfpq = None
    if args.ivfpq:
        log("IVF-PQ comparison")
        ivfpq = ivfpq_figures(vectors, queries, truth, args.k, search_k, args.pq_bytes,
                              [int(x) for x in args.nprobe.split(",")], rng)

    lat = percentiles(latencies, digits=3)
    rss_delta = mem_after["rss"] - mem_before["rss"]
    index_bytes = index_file_bytes or rss_delta
    result = {
        "figures": {
            "index_type": info["type"],
            "faiss": info,
            "build_s": round(build_s, 3),
            "search_ms": lat,
            f"recall_at_{args.k}": round(recall, 4),
            "memory": {
                "index_file_bytes": index_file_bytes,
                "index_rss_delta_bytes": rss_delta,
                "bytes_per_vector": round(index_bytes / len(vectors), 1),
                "raw_vector_bytes_per_vector": vectors.shape[1] * 4,
                "vectors_array_bytes": int(vectors.nbytes),
                "process_peak_rss_bytes": mem_after["peak_rss"],
            },
            "index_load_s": round(load_s, 3) if load_s is not None else None,
            "index_file_sha256_s": round(checksum_s, 3) if checksum_s is not None else None,
            "ground_truth_s": round(truth_s, 2),
            "base_embedding_s": round(base_s, 2),
            "derive_s": round(derive_s, 2),
            "ivfpq_comparison": ivfpq,
        },
        "targets": {
            "search_p50_ms": target(lat["p50"], "<=", 50, " ms"),
            f"recall_at_{args.k}": target(round(recall, 4), ">=", 0.95),
            "index_memory_gb": target(round(index_bytes / GIB, 3), "<=", 2, " GiB"),
        },
        "runs": len(queries),
        "settings": {"passages": args.passages, "base": len(sentences), "queries": len(queries),
                     "query_source": args.query_source, "k": args.k, "search_k": search_k, "noise": args.noise,
                     "seed": args.seed, "dimension": int(vectors.shape[1]), "embedding_model": DEFAULT_EMBEDDING_MODEL},
        "data": {
            "vectors": f"DERIVED, not embedded passages: {args.passages} normalised Dirichlet mixtures of 2-3 "
                       f"embeddings of sentences from one SQuAD train article ({len(sentences)} real sentences "
                       f"from {SQUAD_TRAIN_DIR}, embedded with {DEFAULT_EMBEDDING_MODEL}) plus Gaussian noise "
                       f"(norm {args.noise} x the mixture's)",
            "queries": ("derived the same way, fresh draws" if args.query_source == "derived"
                        else "real SQuAD train questions embedded with the same model"),
        },
        "notes": [
            "index memory target checked against the serialised FAISS file size (what the bot writes and loads); "
            "index_rss_delta_bytes is the resident growth while building",
            "covers the dense index only: the bot also keeps vectors-<gen>.npy memory-mapped (raw_vector_bytes_"
            "per_vector each), every chunk's text in memory and a BM25 index over all chunks",
            f"search_ms: faiss index.search of one query for {search_k} neighbours (the bot's candidate count "
            "for top_k=5), wall time per call",
            f"recall@{args.k}: overlap of the index's top {args.k} with exact inner-product search (IndexFlatIP "
            "over the same vectors, block by block)",
            "index_file_sha256_s: the bot checksums every index file on each start before loading it",
        ] + ([
            "ivfpq_comparison is NOT what the bot uses: FAISS IVF-PQ on the same vectors, for docs/scaling.md; "
            "'reranked' asks for 5x search_k PQ candidates and re-scores them exactly with the float vectors "
            "(held in RAM here; on a real shard they would be read from disk)"] if ivfpq else []),
    }
    emit("scale", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
