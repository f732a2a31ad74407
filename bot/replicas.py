"""Answering in several processes: N read-only replicas over the published index generation.

The process that holds the pool (the chat page) stays the only writer: it syncs the index and
takes uploads. Each replica holds its own `Bot(read_only=True)`, answers from the generation
manifest.json names, and before each question switches to a newer one once the writer has
published it (a stat of the manifest). Questions wait in one queue that every replica takes from,
so the next free replica answers the next question. The machine's cores are shared out: each
replica's ONNX Runtime or torch thread pool is sized by OMP_NUM_THREADS, set before it loads.
A replica that dies is started again; the question it held fails with a message, not a hang.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import threading
from concurrent.futures import Future

from bot import errors
from bot.config import Settings
from bot.errors import BotError, UsageError
from bot.types import Response

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often the pool checks that its replicas are alive


def _replica_main(settings: Settings, number: int, threads: int, jobs, results) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before any model library is imported
    from bot.pipeline import Bot

    try:
        bot = Bot(settings, read_only=True)
        bot.load_index()
        bot.ask("What are these documents about?")  # every model loaded before the first real question
    except BaseException as exc:  # noqa: BLE001 - the pool reports it and stops
        results.put(("failed", number, _error_payload(exc)))
        return
    results.put(("ready", number, os.getpid()))
    while True:
        job = jobs.get()
        if job is None:
            return
        job_id, question, history, top_k = job
        results.put(("taken", job_id, number))
        try:
            results.put(("done", job_id, bot.ask(question, history=history, top_k=top_k)))
        except BaseException as exc:  # noqa: BLE001 - every question gets an answer or an error back
            if not isinstance(exc, BotError):
                log.exception("answering %r failed", question)
            results.put(("error", job_id, _error_payload(exc)))


def _error_payload(exc: BaseException) -> tuple[str, str]:
    """(class name, message): the bot's own errors are rebuilt by name on the other side."""
    return type(exc).__name__, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _rebuild_error(payload: tuple[str, str]) -> Exception:
    name, message = payload
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, BotError):
        return kind(message)
    return RuntimeError(f"a replica failed: {name}: {message}")


class ReplicaPool:
    """N answering processes; `ask` has the signature of `Bot.ask` and blocks for the answer."""

    def __init__(self, settings: Settings, replicas: int, threads_per_replica: int | None = None,
                 start_timeout_s: float = 900) -> None:
        if replicas < 1:
            raise UsageError(f"--replicas must be >= 1 (got {replicas})")
        self.settings = settings
        self.size = replicas
        self.threads = threads_per_replica or max(1, (os.cpu_count() or 1) // replicas)
        self.start_timeout_s = start_timeout_s
        self._context = multiprocessing.get_context("spawn")  # no forked copies of loaded models
        self._jobs = self._context.Queue()
        self._results = self._context.Queue()
        self._processes: list = [None] * replicas
        self._pending: dict[int, Future] = {}
        self._held_by: dict[int, int] = {}  # job -> replica answering it
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._collector: threading.Thread | None = None
        self._closing = False
        self.pids: list[int | None] = [None] * replicas

    def start(self) -> "ReplicaPool":
        """Start every replica and wait until each has loaded the index and its models."""
        for number in range(self.size):
            self._spawn(number)
        ready = 0
        while ready < self.size:
            try:
                kind, number, detail = self._results.get(timeout=self.start_timeout_s)
            except queue.Empty:
                self.close()
                raise BotError(f"the answering replicas did not start within {self.start_timeout_s:.0f} s") from None
            if kind == "failed":
                self.close()
                raise _rebuild_error(detail)
            if kind == "ready":
                self.pids[number] = detail
                ready += 1
        self._collector = threading.Thread(target=self._collect, name="replica-results", daemon=True)
        self._collector.start()
        return self

    def _spawn(self, number: int) -> None:
        process = self._context.Process(target=_replica_main, name=f"bot-replica-{number}", daemon=True,
                                        args=(self.settings, number, self.threads, self._jobs, self._results))
        process.start()
        self._processes[number] = process

    def ask(self, question: str, history=None, top_k: int | None = None) -> Response:
        if self._collector is None:
            raise BotError("the answering replicas are not running")
        future: Future = Future()
        with self._lock:
            job_id = next(self._ids)
            self._pending[job_id] = future
        self._jobs.put((job_id, question, list(history) if history else None, top_k))
        return future.result()

    def _collect(self) -> None:
        while not self._closing:
            try:
                kind, key, detail = self._results.get(timeout=POLL_S)
            except queue.Empty:
                self._replace_dead_replicas()
                continue
            except (EOFError, OSError):
                return
            with self._lock:
                if kind == "taken":
                    self._held_by[key] = detail
                    continue
                if kind == "ready":  # a replacement replica
                    self.pids[key] = detail
                    continue
                if kind == "failed":
                    log.error("a replica could not start again: %s", detail[1])
                    continue
                future = self._pending.pop(key, None)
                self._held_by.pop(key, None)
            if future is not None:
                future.set_result(detail) if kind == "done" else future.set_exception(_rebuild_error(detail))

    def _replace_dead_replicas(self) -> None:
        for number, process in enumerate(self._processes):
            if self._closing or process is None or process.is_alive():
                continue
            log.warning("answering replica %d stopped (exit %s); starting it again", number, process.exitcode)
            with self._lock:
                lost = [job for job, holder in self._held_by.items() if holder == number]
                futures = [self._pending.pop(job) for job in lost if job in self._pending]
                for job in lost:
                    self._held_by.pop(job, None)
            for future in futures:
                future.set_exception(BotError("the process answering this question stopped; please ask again"))
            self._spawn(number)

    def close(self) -> None:
        self._closing = True
        for _ in self._processes:
            self._jobs.put(None)
        for process in self._processes:
            if process is not None:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
        with self._lock:
            futures, self._pending = list(self._pending.values()), {}
        for future in futures:
            future.set_exception(BotError("the answering replicas stopped"))

    def __enter__(self) -> "ReplicaPool":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
