"""Loading the BM25 index: read from the files stored with an index generation, against built
again from every chunk's text (what a start costs without the stored files: an index written
without them, or one whose files are missing or damaged).

    .venv/bin/python bench/bm25_load.py [--chunks 20000,100000] [--runs 3] [--save]

Both go through the index's own code: `IndexStore.add_bm25` writes the files and
`IndexStore.load_bm25` checks their checksums and loads them, as a sync does. The chunks are
SQuAD v1.1 train paragraphs of one shard (one paragraph a chunk, its article's title as the
document's), repeated until there are enough; the check that both rank alike uses its questions.

Target: loading the stored index is at least 10x faster than building it, and ranks identically.
"""

from __future__ import annotations

import json
import time

from _common import SHARED, emit, log, parser, percentiles, target, temp_dir

TRAIN_SHARD = SHARED / "data" / "squad" / "train" / "part-00.json"


def train_paragraphs() -> tuple[list[tuple[str, str]], list[str]]:
    """(title, paragraph) of every distinct paragraph of one SQuAD train shard, and its questions."""
    if not TRAIN_SHARD.is_file():
        raise SystemExit(f"no SQuAD train shard at {TRAIN_SHARD}")
    files = [TRAIN_SHARD]
    paragraphs: dict[str, str] = {}
    questions: list[str] = []
    for path in files:
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            title = article.get("title", "").replace("_", " ")
            for p in article.get("paragraphs", []):
                paragraphs.setdefault(p["context"], title)
                questions.extend(qa["question"] for qa in p.get("qas", []))
    return [(title, text) for text, title in paragraphs.items()], list(dict.fromkeys(questions))


def chunks_of(paragraphs: list[tuple[str, str]], n: int):
    """n chunks: the paragraphs over and over, each copy of an article its own document."""
    from bot.types import Chunk

    chunks, titles = [], {}
    for i in range(n):
        title, text = paragraphs[i % len(paragraphs)]
        doc = f"{title} ({i // len(paragraphs)})"
        titles[doc] = title
        chunks.append(Chunk(chunk_id=i, doc_id=doc, text=text, start=0, end=len(text), section="", line=1, page=None))
    return chunks, titles


def measure(n: int, paragraphs, questions: list[str], runs: int) -> dict:
    from bot.files import file_sha256
    from bot.search.index import IndexStore
    from bot.search.lexical import BM25Index, lexical_texts

    chunks, titles = chunks_of(paragraphs, n)
    texts = lexical_texts(chunks, titles)
    log(f"{n} chunks: building BM25 from the texts ({runs} runs)")
    build_s = []
    for _ in range(runs):
        t0 = time.perf_counter()
        built = BM25Index(texts)
        build_s.append(time.perf_counter() - t0)

    store = IndexStore(temp_dir("bm25") / "index")
    store.dir.mkdir(parents=True)
    documents = {d: {"title": t} for d, t in titles.items()}
    t0 = time.perf_counter()
    manifest = store.add_bm25({"format_version": 2, "n_chunks": n, "files": {}, "documents": documents}, built)
    write_s = time.perf_counter() - t0
    entry = manifest["bm25"]
    file_bytes = sum(info["bytes"] for info in entry["files"].values())

    log(f"{n} chunks: loading the stored files ({runs} runs)")
    load_s, checksum_s = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        for name in entry["files"]:
            file_sha256(store.dir / name)
        checksum_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        loaded, problem = store.load_bm25(manifest)
        load_s.append(time.perf_counter() - t0)
        assert loaded is not None, problem

    identical = all(built.search(q, 50) == loaded.search(q, 50) for q in questions)
    search_built, search_loaded = [], []
    for q in questions:
        for index, out in ((built, search_built), (loaded, search_loaded)):
            t0 = time.perf_counter()
            index.search(q, 50)
            out.append((time.perf_counter() - t0) * 1000)
    build, load = percentiles(build_s, 3), percentiles(load_s, 3)
    return {
        "chunks": n,
        "rebuilt_s": build,
        "stored_load_s": load,
        "of_which_checksums_s": percentiles(checksum_s, 3),
        "speedup": round(build["p50"] / load["p50"], 1) if load["p50"] else None,
        "write_s": round(write_s, 3),
        "stored_bytes": file_bytes,
        "stored_bytes_per_chunk": round(file_bytes / n, 1),
        "vocabulary": len(loaded.vocab),
        "identical_results": identical,
        "search_ms_built": percentiles(search_built, 3),
        "search_ms_loaded": percentiles(search_loaded, 3),
    }


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--chunks", default="20000,100000", help="index sizes, comma-separated (default 20000,100000)")
    p.add_argument("--runs", type=int, default=3, help="builds and loads timed at each size (default 3)")
    p.add_argument("--questions", type=int, default=300, help="questions searched on both (default 300)")
    args = p.parse_args()
    sizes = [int(s) for s in args.chunks.split(",") if s.strip()]
    if args.quick:
        sizes, args.runs, args.questions = [min(sizes[0], 2000)], 1, 30
    paragraphs, questions = train_paragraphs()
    questions = questions[: args.questions]
    from bot.search.lexical import BM25Index

    BM25Index(["imports and the stemmer, before timing"])
    by_size = {str(n): measure(n, paragraphs, questions, args.runs) for n in sizes}
    largest = by_size[str(sizes[-1])]
    identical = all(row["identical_results"] for row in by_size.values())
    result = {
        "figures": {"by_chunks": by_size},
        "targets": {
            f"stored_load_speedup_at_{sizes[-1]}": target(largest["speedup"], ">=", 10, "x"),
            "identical_results": {"value": identical, "target": "same ids and scores for every question",
                                  "met": identical},
        },
        "runs": args.runs,
        "settings": {"chunks": sizes, "questions": len(questions), "search_k": 50,
                     "load": "IndexStore.load_bm25: sha256 of each file, then bm25s.BM25.load(mmap=True)"},
        "data": {
            "chunks": f"{len(paragraphs)} distinct paragraphs of the SQuAD v1.1 train shard {TRAIN_SHARD.name}, "
                      "repeated; title + text indexed as the bot does",
            "questions": f"the first {len(questions)} distinct questions of that shard",
        },
        "notes": [
            "rebuilt_s: BM25Index over every chunk's text (tokenise, stem, score), the cost of each load before "
            "the index was stored",
            "stored_load_s: checksums and load of the stored files; the files are in the page cache (just written "
            "or read), so a first read from a cold disk adds its read time",
            "repeated paragraphs keep the vocabulary of one shard (a real corpus of this size has a larger one, "
            "so larger vocab files); the score arrays grow with the chunks as in a real corpus",
        ],
    }
    emit("bm25_load", result, args.save, started)
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
