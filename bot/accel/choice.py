"""Which reader backend runs fastest on this machine: measured once, then remembered.

The candidates read the same fixed batch (one question, three passages of about 150 word pieces
each, as the bot reads per question); the fastest median wins. The result is stored per CPU
(name, flags, core count) and model copy, so a new machine or a new model measures again, and
every later process starts without importing torch when an ONNX backend won. A measurement
taken while other processes kept the cores busy is used but not stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from bot.accel.cache import cache_root, copy_key, note
from bot.files import atomic_write_text
from bot.hardware import cpu_description, cpu_flags, fast_bf16

# Backends "auto" may pick: those that passed the quality gates against the fp32 reader on part A
# (README, "Fast path"): gold-paragraph F1 within 0.5, the same answers on seed_dev.
AUTO_CANDIDATES = ("torch", "onnx-fp32", "onnx-int8")
ROUNDS = 12
# Other processes' share of all cores during the timing above which the choice is not remembered:
# under contention ONNX Runtime's spinning worker threads lose far more than torch (measured on
# the 2-core AMD EPYC beside an evaluation: torch 73, int8 148 ms, where alone int8 is the
# fastest), so a choice made on a busy machine would stick for good. It is used by this process
# and measured again on a later start.
BUSY_SHARE = 0.25

_PASSAGE = (
    "The council met in the northern city in the spring of that year to settle the border dispute. "
    "Its members, drawn from eleven provinces, agreed to a commission that would survey the river, "
    "publish maps, and hear complaints from farmers whose fields had been divided by the new line. "
    "The commission finished its work four years later, and its report, written in three languages, "
    "was adopted with only two votes against it. Trade across the river doubled in the next decade, "
    "while disputes brought before the provincial courts fell by more than half."
)
QUESTION = "Who agreed to a commission that would survey the river?"


def _choice_file(model_dir: Path) -> Path:
    machine = f"{cpu_description()}|{sorted(cpu_flags())}|{os.cpu_count()}|{copy_key(model_dir, 'reader', 'int8')}"
    return cache_root() / f"reader-backend-{hashlib.sha256(machine.encode()).hexdigest()[:16]}.json"


def remembered_choice(model_dir: Path) -> dict | None:
    try:
        return json.loads(_choice_file(model_dir).read_text())
    except (OSError, ValueError):
        return None


def reader_backend_for(model_dir: Path, notify=note) -> str:
    """The fastest backend for this local reader folder on this machine (measured on first use)."""
    known = remembered_choice(model_dir)
    if known and known.get("backend") in AUTO_CANDIDATES:
        return known["backend"]
    try:
        record = measure_reader_backends(model_dir, AUTO_CANDIDATES, notify=notify)
    except Exception as exc:  # no onnxruntime, a model the exporter cannot trace, ...: torch always works
        notify(f"could not measure the ONNX reader ({type(exc).__name__}: {exc}); using torch")
        return "torch"
    return record["backend"]


def _usable_cpus() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def _busy_cpu_seconds(usable: set[int]) -> float | None:
    """CPU time the `usable` cores have spent busy since boot (Linux /proc/stat; None elsewhere)."""
    try:
        busy = 0.0
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                name, *fields = line.split()
                if not (name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in usable):
                    continue
                ticks = [int(x) for x in fields[:8]]
                busy += sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
        return busy / os.sysconf("SC_CLK_TCK") if busy else None
    except (OSError, ValueError, IndexError):
        return None


class _OtherLoad:
    """Measures what share of this process's usable cores other processes kept busy during a
    `with` block."""

    def __enter__(self) -> "_OtherLoad":
        self.share = 0.0
        self._cpus = _usable_cpus()
        self._busy, self._own, self._wall = _busy_cpu_seconds(self._cpus), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        busy = _busy_cpu_seconds(self._cpus)
        wall = time.perf_counter() - self._wall
        if busy is None or self._busy is None or wall <= 0:
            return
        others = (busy - self._busy) - (time.process_time() - self._own)
        self.share = max(0.0, others / (wall * len(self._cpus)))


def measure_reader_backends(model_dir: Path, backends: tuple[str, ...], rounds: int = ROUNDS, notify=note) -> dict:
    """Time each backend on the fixed batch and return the record, the fastest of AUTO_CANDIDATES
    as "backend". It is stored for later starts unless other work kept the machine busy."""
    with _OtherLoad() as load:
        timings = _median_ms(model_dir, backends, rounds)
    eligible = [b for b in timings if b in AUTO_CANDIDATES] or ["torch"]
    best = min(eligible, key=lambda b: timings.get(b, float("inf")))
    record = {"backend": best, "median_ms": {k: round(v, 2) for k, v in timings.items()},
              "cpu": cpu_description(), "cores": os.cpu_count(), "torch_bf16": fast_bf16("cpu"),
              "other_load": round(load.share, 3), "remembered": load.share <= BUSY_SHARE,
              "measured": time.strftime("%Y-%m-%dT%H:%M:%S")}
    timed = ", ".join(f"{k} {v:.1f} ms" for k, v in timings.items())
    if not record["remembered"]:
        notify(f"reader backend for {cpu_description()}: {best} ({timed} per question), for this run only: "
               f"other work kept {load.share:.0%} of the cores busy, so it is measured again next time")
        return record
    file = _choice_file(model_dir)
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(file, json.dumps(record, indent=2))
    notify(f"reader backend for {cpu_description()}: {best} ({timed} per question)")
    return record


def _median_ms(model_dir: Path, backends: tuple[str, ...], rounds: int) -> dict[str, float]:
    """Each backend's median time on the fixed batch, one backend after the other (not
    interleaved: a runtime's idle worker threads keep spinning for a while after each call and
    would slow whichever ran next)."""
    from bot.read.onnx_reader import OnnxReader
    from bot.read.transformer import TransformerReader
    from bot.types import ReadItem

    items = [ReadItem(text=_PASSAGE, doc_id=f"p{i}", offset=0, passage_index=i) for i in range(3)]
    timings: dict[str, float] = {}
    for backend in backends:
        reader = (TransformerReader(str(model_dir)) if backend == "torch"
                  else OnnxReader(str(model_dir), precision=backend.removeprefix("onnx-")))
        reader.warm_up()
        for _ in range(3):
            reader.read(QUESTION, items)
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            reader.read(QUESTION, items)
            samples.append(time.perf_counter() - t0)
        timings[backend] = sorted(samples)[len(samples) // 2] * 1000
    return timings
