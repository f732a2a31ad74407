"""The step loop both reader trainers run, and the work folder that makes a run resumable.

A run's work folder holds its settings (config.json), its last checkpoint (weights, optimizer,
schedule, step and random generators) and train.log. An epoch's batches are a function of the
seed and the epoch, and the checkpoint brings back the generators dropout draws from, so a resumed
run goes on exactly as an uninterrupted one would have.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np
import torch

from bot.errors import DataError
from bot.files import atomic_write, atomic_write_text
from bot.hardware import training_device
from bot.model_paths import resolve_model

CHECKPOINT = "checkpoint.pt"
LOG_EVERY = 20


class RunSettings(Protocol):
    """What the loop reads from a trainer's config, a dataclass that config.json records."""

    work_dir: str
    base_model: str
    seed: int
    bf16: bool | None
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    save_every: int
    stop_at_step: int | None


@dataclass(frozen=True)
class RunStart:
    """A run's work folder, device and base model, taken once the generators are seeded."""

    work: Path
    device: str
    use_bf16: bool
    base: str  # the base model as from_pretrained loads it
    tokenizer: Any


def start_run(config: RunSettings, log: Callable[[str], None], *, seed_numpy: bool = True) -> RunStart:
    """Create the work folder, seed the generators, choose the device and load the base tokenizer.

    `seed_numpy` False leaves numpy's global generator as it is: the multi-passage trainer draws
    nothing from it, and its checkpoints record it unseeded."""
    from transformers import AutoTokenizer  # imported before seeding, as the generators' draws follow it

    work = Path(config.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    random.seed(config.seed)
    if seed_numpy:
        np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device, use_bf16 = training_device(config.bf16, log)
    base = resolve_model(config.base_model, "base")
    return RunStart(work, device, use_bf16, base, AutoTokenizer.from_pretrained(base))


def load_reader(path: str, device: str) -> torch.nn.Module:
    """A question-answering model in fp32, the master weights training updates (even from an fp16 export)."""
    from transformers import AutoModelForQuestionAnswering

    return AutoModelForQuestionAnswering.from_pretrained(path, dtype=torch.float32).to(device)


def make_optimizer(model, learning_rate: float, weight_decay: float, warmup_ratio: float, total_steps: int):
    """AdamW (no decay on biases and layer norms) and a linear schedule with warm-up."""
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight", "layer_norm")
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ], lr=learning_rate)
    return optimizer, get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)


def optimizer_step(loss, model, optimizer, scheduler) -> None:
    """Backpropagate, clip the gradient norm at 1, then step the optimizer and the schedule."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


@dataclass
class Progress:
    """The smoothed loss and time per window, written to train.log every LOG_EVERY steps."""

    log_file: object
    total_steps: int
    started: float = field(default_factory=time.time)
    windows: int = 0
    running: float = 0.0

    def update(self, step: int, epoch: int, loss: float, n_windows: int, lr: float, force: bool = False) -> None:
        self.windows += n_windows
        self.running = 0.98 * self.running + 0.02 * loss if step > 1 else loss
        if step % LOG_EVERY == 0 or force:
            rate = (time.time() - self.started) / max(self.windows, 1) * 1000
            self.log_file.write(f"step {step}/{self.total_steps} epoch {epoch} loss {self.running:.3f} "
                                f"lr {lr:.2e} {rate:.0f} ms/window\n")
            self.log_file.flush()


def save_checkpoint(path: Path, model, optimizer, scheduler, step: int, extra: dict | None = None) -> None:
    # The random generators too (dropout, shuffles): a resumed run then goes on as an uninterrupted one.
    rng = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "step": step, "extra": extra or {}, "rng": rng}
    atomic_write(path, lambda tmp: torch.save(state, tmp), durable=True)


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's record, its tensors on the CPU (resumable on another device)."""
    return torch.load(path, weights_only=False, map_location="cpu")


def load_checkpoint(path: Path, model, optimizer, scheduler) -> tuple[int, dict]:
    """Load a checkpoint into model, optimizer and schedule; returns (step, the run's extra record)."""
    state = read_checkpoint(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng = state.get("rng")  # absent in checkpoints written before it was saved
    if rng:
        torch.set_rng_state(rng["torch"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
    return state["step"], state.get("extra", {})


def settings_record(config) -> dict:
    """A run's settings (a dataclass) as its config.json and training_config.json record them."""
    return json.loads(json.dumps(asdict(config)))


def check_same_run(work: Path, config, keys: tuple[str, ...]) -> None:
    """DataError if the checkpoint in `work` belongs to a run with other settings: resuming it would
    keep the old schedule and data order while the export recorded the new settings."""
    settings = settings_record(config)
    try:
        saved = json.loads((work / "config.json").read_text())
    except (OSError, ValueError):
        return  # no record (an older run): nothing to compare
    differing = [k for k in keys if k in saved and saved[k] != settings[k]]
    if differing:
        changes = ", ".join(f"{k} {saved[k]!r} -> {settings[k]!r}" for k in differing)
        raise DataError(f"{work} holds a checkpoint of a run with other settings ({changes}): run again with "
                        f"its settings to resume it, or choose another --work-dir")


class BatchLoss(NamedTuple):
    loss: torch.Tensor
    windows: int  # the batch's windows, for the time per window in train.log


Batch = TypeVar("Batch")


@dataclass
class StepLoop:
    """Optimizer steps from `step` to the run's end (or its stop_at_step), checkpointed in the work
    folder every save_every steps and where it stops. The schedule is always that of the full run."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    config: RunSettings
    steps_per_epoch: int
    total_steps: int
    step: int = 0

    @classmethod
    def create(cls, model: torch.nn.Module, config: RunSettings, steps_per_epoch: int, total_steps: int) -> StepLoop:
        optimizer, scheduler = make_optimizer(model, config.learning_rate, config.weight_decay, config.warmup_ratio,
                                              total_steps)
        return cls(model, optimizer, scheduler, config, steps_per_epoch, total_steps)

    @property
    def work(self) -> Path:
        return Path(self.config.work_dir)

    @property
    def end(self) -> int:
        return min(self.total_steps, self.config.stop_at_step or self.total_steps)

    def resume(self, identity: tuple[str, ...], log: Callable[[str], None]) -> dict | None:
        """Go on from the work folder's checkpoint, if there is one; returns its extra record (None: no
        checkpoint). The settings in `identity` must be those it was trained with."""
        checkpoint = self.work / CHECKPOINT
        if not checkpoint.exists():
            return None
        check_same_run(self.work, self.config, identity)
        self.step, extra = load_checkpoint(checkpoint, self.model, self.optimizer, self.scheduler)
        log(f"resumed from step {self.step}")
        return extra

    def run(self, epoch_batches: Callable[[int], Sequence[Batch]], batch_loss: Callable[[Batch], BatchLoss], *,
            after_step: Callable[[int], None] = lambda step: None, checkpoint_extra: dict | None = None,
            log_stop: bool = False) -> int:
        """Record the settings in config.json, then train to the end; returns the step reached.

        `epoch_batches(epoch)` is that epoch's batches, the same on every call; `after_step(step)` runs
        once the step is checkpointed (exports); `checkpoint_extra` goes into each checkpoint for a
        resumed run to pick up. train.log gets a line every LOG_EVERY steps and at the run's last step,
        and with `log_stop` at a stop_at_step too."""
        atomic_write_text(self.work / "config.json", json.dumps(asdict(self.config), indent=2))
        self.model.train()
        end = self.end
        logged_last = end if log_stop else self.total_steps
        with (self.work / "train.log").open("a") as log_file:
            progress = Progress(log_file, self.total_steps)
            while self.step < end:
                epoch, in_epoch = divmod(self.step, self.steps_per_epoch)
                for batch in epoch_batches(epoch)[in_epoch:]:
                    if self.step >= end:
                        break
                    loss, windows = batch_loss(batch)
                    optimizer_step(loss, self.model, self.optimizer, self.scheduler)
                    self.step += 1
                    progress.update(self.step, epoch, loss.item(), windows, self.scheduler.get_last_lr()[0],
                                    force=self.step == logged_last)
                    if self.step % self.config.save_every == 0 or self.step == end:
                        save_checkpoint(self.work / CHECKPOINT, self.model, self.optimizer, self.scheduler,
                                        self.step, checkpoint_extra)
                    after_step(self.step)
        return self.step
