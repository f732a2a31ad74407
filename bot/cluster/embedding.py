"""An embedder whose bulk encoding runs on a pool of Ray actors, one model per actor.

The index build calls `encode` as it would a local embedder, so its rules hold unchanged: only
new and changed documents are embedded, and the index is published atomically by the driver
(a failed or killed build leaves the previous one). Questions (`encode_query`) and the
dimension stay local: one short text is not worth a round trip. A dead actor is restarted and
its block retried by Ray.
"""

from __future__ import annotations

import numpy as np

from bot.cluster.connect import check_workers, connect, worker_count
from bot.search.embedding import QueryCachingEmbedder, make_embedder

BLOCK = 128  # texts per task: large enough to batch well, small enough to spread


class _EmbedWorker:
    """One embedding model in one actor."""

    def __init__(self, model_name: str, backend: str, batch_size: int) -> None:
        self.embedder = make_embedder(model_name, backend, batch_size)
        self.embedder.warm_up()

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)


class RayEmbedder(QueryCachingEmbedder):
    def __init__(self, model_name: str, backend: str, address: str = "auto", workers: int | None = None,
                 cpus_per_worker: float = 1.0, batch_size: int = 64) -> None:
        super().__init__()
        check_workers(workers)
        self.model_name = model_name
        self.backend = backend
        self.local = make_embedder(model_name, backend, batch_size)
        self.address = address
        self.requested_workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.batch_size = batch_size
        self.actors: list = []

    def warm_up(self) -> None:
        self.local.warm_up()
        if self.actors:
            return
        ray = connect(self.address)
        n = worker_count(self.requested_workers, self.cpus_per_worker)
        worker = ray.remote(_EmbedWorker).options(num_cpus=self.cpus_per_worker, max_restarts=3,
                                                  max_task_retries=3)
        self.actors = [worker.remote(self.model_name, self.backend, self.batch_size) for _ in range(n)]

    @property
    def dimension(self) -> int:
        return self.local.dimension

    def vector_source(self) -> str:
        """The workers run the same backend and model copy as this process would."""
        return self.local.vector_source()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import ray

        blocks = [texts[i : i + BLOCK] for i in range(0, len(texts), BLOCK)]
        # Round-robin: each actor works through its queue; results come back in block order.
        futures = [self.actors[i % len(self.actors)].encode.remote(block) for i, block in enumerate(blocks)]
        return np.ascontiguousarray(np.concatenate(ray.get(futures)), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.local.encode_query(text)

    def clear_query_cache(self) -> None:
        self.local.clear_query_cache()

    def shutdown(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
