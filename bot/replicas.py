"""Answering in several processes: N read-only replicas over the published index generation.

The process that holds the pool (the chat page) stays the only writer: it syncs the index and
takes uploads. Each replica holds its own `Bot(read_only=True)`, answers from the generation
manifest.json names, and before each question switches to a newer one once the writer has
published it (a stat of the manifest). Questions wait in one queue in this process; each replica
has its own pipe and a thread here that feeds it, so the next free replica answers the next
question, and a replica that dies holds no lock that the others need. The machine's cores are shared out: each
replica's ONNX Runtime or torch thread pool is sized by OMP_NUM_THREADS, set before it loads.
A replica that dies is started again; the question it held fails with a message, not a hang.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future

from bot import errors
from bot.config import Settings
from bot.conversation import previous_turns
from bot.errors import BotError, UsageError, first_line
from bot.types import Response

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often an idle feeder checks that its replica is alive
MAX_RESTART_PAUSE_S = 60.0  # the longest wait between tries to start a replica that keeps failing
PARENT_CHECK_S = 1.0  # how often an idle replica checks that the process that started it is alive


def _replica_main(settings: Settings, threads: int, connection) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before any model library is imported
    from bot.pipeline import Bot

    try:
        bot = Bot(settings, read_only=True)
        bot.load_index()
        bot.ask("What are these documents about?")  # every model loaded before the first real question
    except BaseException as exc:  # noqa: BLE001 - the pool reports it and stops
        connection.send(("failed", _error_payload(exc)))
        return
    connection.send(("ready", os.getpid()))
    parent = multiprocessing.parent_process()
    while True:
        if not connection.poll(PARENT_CHECK_S):
            if parent is not None and not parent.is_alive():
                return  # the page was killed without closing the pool: do not linger
            continue
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        question, history, top_k = job
        try:
            connection.send(("done", bot.ask(question, history=history, top_k=top_k)))
        except BaseException as exc:  # noqa: BLE001 - every question gets an answer or an error back
            if not isinstance(exc, BotError):
                log.exception("answering %r failed", question)
            connection.send(("error", _error_payload(exc)))


def _error_payload(exc: BaseException) -> tuple[str, str]:
    """(class name, message): the bot's own errors are rebuilt by name on the other side."""
    return type(exc).__name__, first_line(exc)


def _rebuild_error(payload: tuple[str, str]) -> Exception:
    name, message = payload
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, BotError):
        return kind(message)
    return RuntimeError(f"a replica failed: {name}: {message}")


class _Replica:
    """One answering process and the pipe to it."""

    def __init__(self, context, settings: Settings, threads: int, number: int) -> None:
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_replica_main, name=f"bot-replica-{number}", daemon=True,
                                       args=(settings, threads, child_end))
        self.process.start()
        child_end.close()  # the child holds its end: a dead child then reads as EOF here
        self.pid: int | None = None

    def wait_ready(self, timeout_s: float) -> None:
        """Until the replica has loaded everything; BotError if it fails, dies or takes too long."""
        if not self.connection.poll(timeout_s):
            raise BotError(f"an answering replica did not start within {timeout_s:.0f} s")
        try:
            kind, detail = self.connection.recv()
        except EOFError:
            self.process.join(timeout=5)
            raise BotError(f"an answering replica exited while starting (exit code {self.process.exitcode}); "
                           "the log above says why") from None
        if kind == "failed":
            raise _rebuild_error(detail)
        self.pid = detail

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
        self.connection.close()


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
        self._jobs: queue.Queue = queue.Queue()
        self._replicas: list[_Replica] = []
        self._feeders: list[threading.Thread] = []
        self._closing = False

    @property
    def pids(self) -> list[int | None]:
        return [replica.pid for replica in self._replicas]

    def start(self) -> "ReplicaPool":
        """Start every replica and wait until each has loaded the index and its models."""
        from bot.pipeline import with_reader_backend_chosen

        self.settings = with_reader_backend_chosen(self.settings)  # here, once, not in every replica
        self._replicas = [self._new_replica(n) for n in range(self.size)]
        try:
            for replica in self._replicas:
                replica.wait_ready(self.start_timeout_s)
        except BaseException:
            self.close()
            raise
        self._feeders = [threading.Thread(target=self._feed, args=(n,), name=f"replica-feeder-{n}", daemon=True)
                         for n in range(self.size)]
        for feeder in self._feeders:
            feeder.start()
        return self

    def _new_replica(self, number: int) -> _Replica:
        return _Replica(self._context, self.settings, self.threads, number)

    def ask(self, question: str, history=None, top_k: int | None = None) -> Response:
        if not self._feeders or self._closing:
            raise BotError("the answering replicas are not running")
        future: Future = Future()
        # Cleaned here as in-process asking would: a client's odd value ("abc", 3) is no conversation.
        self._jobs.put((future, (question, previous_turns(history), top_k)))
        return future.result()

    def _feed(self, number: int) -> None:
        """Hand replica `number` one question at a time, and start it again when it dies: this
        thread alone looks after that replica."""
        while not self._closing:
            try:
                item = self._jobs.get(timeout=POLL_S)
            except queue.Empty:
                if not self._replicas[number].process.is_alive():
                    self._restart(number)
                continue
            if item is None:
                return
            future, job = item
            if not self._replicas[number].process.is_alive():
                self._restart(number)
            replica = self._replicas[number]
            try:
                replica.connection.send(job)
                kind, detail = replica.connection.recv()
            except (EOFError, OSError):
                future.set_exception(BotError("the process answering this question stopped; please ask again"))
                self._restart(number)
                continue
            future.set_result(detail) if kind == "done" else future.set_exception(_rebuild_error(detail))

    def _restart(self, number: int) -> None:
        log.warning("answering replica %d stopped (exit %s); starting it again", number,
                    self._replicas[number].process.exitcode)
        self._replicas[number].stop()
        pause = POLL_S
        while not self._closing:
            replacement = self._new_replica(number)
            try:
                replacement.wait_ready(self.start_timeout_s)
            except BotError as exc:  # e.g. the index folder went away: retry, less and less often
                log.error("a replica could not start again (next try in %.0f s): %s", pause, exc)
                replacement.stop()
                time.sleep(pause)
                pause = min(pause * 2, MAX_RESTART_PAUSE_S)
                continue
            self._replicas[number] = replacement
            return

    def close(self) -> None:
        self._closing = True
        for _ in self._feeders:
            self._jobs.put(None)
        for replica in self._replicas:
            replica.stop()
        while True:  # questions still waiting get an answer too
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].set_exception(BotError("the answering replicas stopped"))

    def __enter__(self) -> "ReplicaPool":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
