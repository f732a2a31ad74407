"""Index building on a local Ray cluster against the local build, in one run: chunks/s with 1
and 2 embedding actors, and the cost of starting the cluster.

    .venv/bin/python bench/distributed_indexing.py [--docs 300] [--save]

Each build indexes the same synthetic corpus (SQuAD train paragraphs, as bench/indexing.py) into
a fresh index folder. The cluster is started once (`ray.init(num_cpus=<cores>)`), timed, and
kept for both Ray builds; each Ray build's time includes the Ray Data pipeline's start, parsing
and chunking in tasks, starting its actors and loading one model per actor. On one machine the actors share its cores with each other, so Ray can only add
overhead here; the figures say how much, and what one more machine would have to make up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from _common import emit, log, parser, target, temp_dir
from indexing import write_corpus


def build(settings, embedder, processor=None) -> dict:
    from bot.search.index import sync_index

    t0 = time.perf_counter()
    index = sync_index(settings, embedder, processor=processor)
    wall = time.perf_counter() - t0
    chunks = index.manifest["n_chunks"]
    return {"chunks": chunks, "wall_s": round(wall, 2), "chunks_per_s": round(chunks / wall, 1)}


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=300, help="documents (default 300)")
    args = p.parse_args()
    if args.quick:
        args.docs = 20
    import ray

    from _common import bench_settings
    from bot.cluster.indexing import RayProcessor
    from bot.search.embedding import make_embedder

    work = temp_dir("distributed")
    write_corpus(work / "corpus", args.docs, 3)

    def settings_for(name: str):
        return bench_settings(corpus_dir=work / "corpus", index_dir=work / name, reader="none")

    local_settings = settings_for("local")
    embedder = make_embedder(local_settings.embedding_model, local_settings.embedding_backend)
    embedder.warm_up()  # model load is start-up cost, as in bench/indexing.py
    rows = {"local": build(local_settings, embedder)}
    log(f"local: {rows['local']}")

    cores = os.cpu_count() or 1
    ray_temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    t0 = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, _temp_dir=ray_temp)
    cluster_start_s = round(time.perf_counter() - t0, 2)
    try:
        for workers in (1, 2):
            s = settings_for(f"ray-{workers}")
            processor = RayProcessor(s.embedding_model, s.embedding_backend, workers=workers,
                                     cpus_per_worker=cores / workers)
            rows[f"ray, {workers} actor{'s' if workers > 1 else ''}"] = build(s, embedder, processor)
            log(f"ray {workers}: {rows[list(rows)[-1]]}")
    finally:
        ray.shutdown()
        shutil.rmtree(ray_temp, ignore_errors=True)
    best_ray = max(v["chunks_per_s"] for k, v in rows.items() if k.startswith("ray"))
    result = {
        "figures": {"builds": rows, "cluster_start_s": cluster_start_s},
        "targets": {"ray_vs_local_chunks_per_s": target(round(best_ray / rows["local"]["chunks_per_s"], 2), ">=",
                                                        0.8, "x of the local build on one machine")},
        "settings": {"documents": args.docs, "paragraphs_per_document": 3, "cluster_cpus": cores,
                     "embedding_backend": local_settings.embedding_backend},
        "notes": ["each Ray build includes starting its actors and loading one model per actor",
                  "actors get cores / workers CPUs each; ONNX Runtime and torch size their thread pools "
                  "from OMP_NUM_THREADS, which Ray sets to that share"],
    }
    emit("distributed_indexing", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
