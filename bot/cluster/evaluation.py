"""`bot eval --ray`: the questions spread over actors, each holding its own Bot.

The driver syncs the index first; the actors then open the same index generation read-only
(on a multi-machine cluster the corpus and index folders must be on storage every node sees).
Each actor scores its slices with the evaluator's own functions, and the results come back in
the dataset's order, so every metric but the latencies equals a local run's.
"""

from __future__ import annotations

from typing import Callable

from bot.cluster.connect import check_workers, connect, worker_count
from bot.config import Settings


class _EvalWorker:
    def __init__(self, settings: Settings) -> None:
        from bot.pipeline import Bot

        # The generation the driver synced, read as it is: a worker never rebuilds the index.
        self.bot = Bot(settings, read_only=True)

    def score(self, mode: str, items: list, threshold: float, batch_size: int, gold_docs: dict[int, str]) -> list:
        from bot.evaluation.run import ask_dataset, read_gold_contexts

        if mode == "gold-context":
            return read_gold_contexts(items, self.bot, threshold, batch_size)
        return ask_dataset(items, self.bot, threshold, batch_size, gold_docs=gold_docs)


def ray_spreader(address: str = "auto", workers: int | None = None, cpus_per_worker: float = 1.0) -> Callable:
    """A `spread` function for `run_evaluation` that scores questions on Ray actors."""
    check_workers(workers)

    def spread(items: list, settings: Settings, mode: str, threshold: float, batch_size: int,
               gold_docs: dict[int, str], progress: bool) -> list:
        ray = connect(address)
        n = worker_count(workers, cpus_per_worker)
        worker = ray.remote(_EvalWorker).options(num_cpus=cpus_per_worker, max_restarts=1, max_task_retries=1)
        actors = [worker.remote(settings) for _ in range(n)]
        try:
            slices = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
            futures = [actors[i % n].score.remote(mode, part, threshold, batch_size, gold_docs)
                       for i, part in enumerate(slices)]
            _wait_with_progress(ray, futures, [len(s) for s in slices], progress)
            return [result for part in ray.get(futures) for result in part]
        finally:
            for actor in actors:
                ray.kill(actor)

    return spread


def _wait_with_progress(ray, futures: list, sizes: list[int], progress: bool) -> None:
    if not progress:
        return
    from tqdm import tqdm

    size_of = dict(zip(futures, sizes))
    pending = list(futures)
    with tqdm(total=sum(sizes), unit="q", desc="evaluating on Ray") as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            bar.update(sum(size_of[f] for f in done))
