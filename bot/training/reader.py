"""Fine-tune an encoder into the extractive reader on SQuAD-format data.

Reproducible (seeded shuffles, resumable from the last checkpoint) and sized for CPUs: windows
close to the passage length the bot reads at run time, padding per batch over length-sorted
groups, and bf16 autocast where the CPU has bf16 units (AMX halves the step time). The same code
uses a GPU when one is present.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from bot.errors import DataError
from bot.files import atomic_write, atomic_write_text
from bot.hardware import training_device
from bot.read.windows import WINDOW_STRIDE, WINDOW_TOKENS
from bot.training.export_folder import swap_in
from bot.model_paths import DEFAULT_EMBEDDING_MODEL, resolve_model
from bot.evaluation.squad import SquadExample, load_squad


@dataclass
class TrainConfig:
    train_files: list[str]
    output_dir: str
    work_dir: str = "runs/reader"
    base_model: str = DEFAULT_EMBEDDING_MODEL
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    max_length: int = WINDOW_TOKENS
    stride: int = WINDOW_STRIDE
    seed: int = 13
    limit: int | None = None
    save_every: int = 300
    bf16: bool | None = None  # None: only where the hardware makes it fast
    negative_keep: float = 0.5
    stop_at_step: int | None = None  # checkpoint and export here; the schedule stays that of the full run
    continue_from: str | None = None  # an export of this run to go on from when no checkpoint is left
    extra: dict = field(default_factory=dict)


@dataclass
class Features:
    """Tokenised training windows with answer token positions (0 = [CLS] = no answer here)."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    start_positions: list[int]
    end_positions: list[int]


def build_features(examples: list[SquadExample], tokenizer, max_length: int, stride: int) -> Features:
    """Cut each (question, context) into overlapping windows and label the answer tokens."""
    feats = Features([], [], [], [])
    batch = 2000
    for offset in range(0, len(examples), batch):
        part = examples[offset : offset + batch]
        enc = tokenizer(
            [e.question.strip() for e in part],
            [e.context for e in part],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )
        for i, offsets in enumerate(enc["offset_mapping"]):
            example = part[enc["overflow_to_sample_mapping"][i]]
            seq_ids = enc.sequence_ids(i)
            start_pos = end_pos = 0
            if example.answers:
                ans_start = example.answer_starts[0]
                ans_end = ans_start + len(example.answers[0])
                ctx_tokens = [t for t, s in enumerate(seq_ids) if s == 1]
                first, last = ctx_tokens[0], ctx_tokens[-1]
                # Label only windows that hold the whole answer; others teach "no answer here".
                if offsets[first][0] <= ans_start and offsets[last][1] >= ans_end:
                    s = first
                    while s <= last and offsets[s][1] <= ans_start:
                        s += 1
                    e = last
                    while e >= first and offsets[e][0] >= ans_end:
                        e -= 1
                    if s <= e:
                        start_pos, end_pos = s, e
            feats.input_ids.append(enc["input_ids"][i])
            feats.token_type_ids.append(enc["token_type_ids"][i] if "token_type_ids" in enc else [0] * len(offsets))
            feats.start_positions.append(start_pos)
            feats.end_positions.append(end_pos)
    return feats


def subsample_negatives(feats: Features, keep: float, seed: int) -> Features:
    """Keep every window that holds its answer and a seeded share of those that do not.

    Answer-free windows teach the [CLS] "no answer here" score; half of them is enough and
    saves a fifth of the training time.
    """
    rng = np.random.default_rng(seed)
    chosen = [i for i, s in enumerate(feats.start_positions) if s > 0 or rng.random() < keep]
    return Features(
        [feats.input_ids[i] for i in chosen],
        [feats.token_type_ids[i] for i in chosen],
        [feats.start_positions[i] for i in chosen],
        [feats.end_positions[i] for i in chosen],
    )


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Deterministic batches for one epoch: shuffled, then length-sorted inside large groups
    so padding per batch stays small, then the batch order shuffled again."""
    rng = np.random.default_rng(seed * 1000 + epoch)
    order = rng.permutation(len(lengths))
    group = batch_size * 50
    batches: list[np.ndarray] = []
    for g in range(0, len(order), group):
        chunk = order[g : g + group]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(feats: Features, idx: np.ndarray, pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(feats.input_ids[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(idx), width), dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        n = len(feats.input_ids[i])
        ids[row, :n] = torch.tensor(feats.input_ids[i])
        types[row, :n] = torch.tensor(feats.token_type_ids[i])
        mask[row, :n] = 1
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "start_positions": torch.tensor([feats.start_positions[i] for i in idx]),
        "end_positions": torch.tensor([feats.end_positions[i] for i in idx]),
    }


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


LOG_EVERY = 20


def save_checkpoint(path: Path, model, optimizer, scheduler, step: int, extra: dict | None = None) -> None:
    # The random generators too (dropout, shuffles): a resumed run then goes on as an uninterrupted one.
    rng = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "step": step, "extra": extra or {}, "rng": rng}
    atomic_write(path, lambda tmp: torch.save(state, tmp), durable=True)


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


def resume(path: Path, model, optimizer, scheduler) -> tuple[int, dict]:
    """Load a checkpoint into model, optimizer and schedule; returns (step, the run's extra record)."""
    state = torch.load(path, weights_only=False, map_location="cpu")  # resumable on another device
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


def load_training_examples(files: list[str], limit: int | None, seed: int) -> list[SquadExample]:
    paths: list[Path] = []
    for f in files:
        p = Path(f)
        paths.extend(sorted(p.glob("part-*.json")) if p.is_dir() else [p])
    if not paths:
        raise DataError(f"no training files found in {files}")
    examples = [e for p in paths for e in load_squad(p)]
    if limit:
        random.Random(seed).shuffle(examples)
        examples = examples[:limit]
    return examples


def _load_features(config: TrainConfig, tokenizer, work: Path, log) -> Features:
    """The run's training windows, built once and cached in the work folder."""
    # The data's paths and sizes are in the name: a work folder reused with other data builds anew.
    data = hashlib.sha256(json.dumps([[str(f), _size(f)] for f in config.train_files]).encode()).hexdigest()[:12]
    cache = work / (f"features-{config.max_length}-{config.stride}-{config.limit}-{config.seed}-"
                    f"{config.negative_keep}-{data}.pt")
    if cache.exists():
        return Features(**torch.load(cache, weights_only=False))
    t0 = time.time()
    examples = load_training_examples(config.train_files, config.limit, config.seed)
    feats = build_features(examples, tokenizer, config.max_length, config.stride)
    feats = subsample_negatives(feats, config.negative_keep, config.seed)
    atomic_write(cache, lambda tmp: torch.save(asdict(feats), tmp))
    log(f"built {len(feats.input_ids)} windows from {len(examples)} questions in {time.time() - t0:.0f}s")
    return feats


def _size(path: str) -> int:
    """Bytes under a training path (a file, or a folder of shards); 0 if it is missing."""
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size if p.exists() else 0


def train_reader(config: TrainConfig, log=print) -> Path:
    """Train (or resume) and export fp16 safetensors to config.output_dir. Returns that folder."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    work = Path(config.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device, use_bf16 = training_device(config.bf16, log)
    base = resolve_model(config.base_model, "base")
    tokenizer = AutoTokenizer.from_pretrained(base)

    feats = _load_features(config, tokenizer, work, log)
    lengths = np.array([len(x) for x in feats.input_ids])

    # fp32 master weights, even from an fp16 export
    model = AutoModelForQuestionAnswering.from_pretrained(base, dtype=torch.float32).to(device)
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total_steps = int(steps_per_epoch * config.epochs)
    optimizer, scheduler = make_optimizer(model, config.learning_rate, config.weight_decay, config.warmup_ratio,
                                          total_steps)

    checkpoint = work / "checkpoint.pt"
    step = 0
    if checkpoint.exists():
        check_same_run(work, config, _RUN_IDENTITY)
        step, extra = resume(checkpoint, model, optimizer, scheduler)
        config.extra = dict(extra, **config.extra)
        log(f"resumed from step {step}")
    elif config.continue_from:
        step = _continue_from_export(config, model, scheduler)
        log(f"continued from the step-{step} export in {config.continue_from} (optimizer moments restarted)")
    atomic_write_text(work / "config.json", json.dumps(asdict(config), indent=2))

    model.train()
    with (work / "train.log").open("a") as log_file:
        progress = Progress(log_file, total_steps)
        end = min(total_steps, config.stop_at_step or total_steps)
        while step < end:
            epoch, in_epoch = divmod(step, steps_per_epoch)
            batches = epoch_batches(lengths, config.batch_size, config.seed, epoch)
            for idx in batches[in_epoch:]:
                if step >= end:
                    break
                batch = {k: v.to(device) for k, v in collate(feats, idx, tokenizer.pad_token_id).items()}
                with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
                    loss = model(**batch).loss
                optimizer_step(loss, model, optimizer, scheduler)
                step += 1
                progress.update(step, epoch, loss.item(), len(idx), scheduler.get_last_lr()[0],
                                force=step == total_steps)
                if step % config.save_every == 0 or step == end:
                    save_checkpoint(checkpoint, model, optimizer, scheduler, step, config.extra)
                if step % steps_per_epoch == 0:
                    export_reader(model, tokenizer, work / f"epoch-{step // steps_per_epoch}", config)
    config.extra = {k: v for k, v in config.extra.items() if k != "exported_step"}
    if step < total_steps:
        config.extra["exported_step"] = step
    return export_reader(model, tokenizer, Path(config.output_dir), config)


# Settings that must match for an export to be a point on this run's path.
_RUN_IDENTITY = ("train_files", "base_model", "epochs", "batch_size", "learning_rate", "warmup_ratio",
                 "weight_decay", "max_length", "stride", "seed", "limit", "negative_keep")


def _continue_from_export(config: TrainConfig, model, scheduler) -> int:
    """Load an unfinished export's weights and move the schedule to its step; returns that step.

    The checkpoint (with AdamW's moments) may be lost while the exported fp16 weights survive; going
    on from them keeps the data order and learning-rate schedule of the full run, at the cost of
    restarting the optimizer moments, which the run records in its training config.
    """
    import warnings

    from safetensors.torch import load_file

    folder = Path(config.continue_from)
    try:
        saved = json.loads((folder / "training_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{folder} is not an exported reader of this trainer: {exc}") from exc
    step = saved.get("extra", {}).get("exported_step")
    if not step:
        raise DataError(f"{folder} holds a finished run (no exported_step): nothing to continue")
    settings = settings_record(config)
    differing = [k for k in _RUN_IDENTITY if saved.get(k) != settings[k]]
    if differing:
        raise DataError(f"{folder} was trained with other settings ({', '.join(differing)}): cannot continue it")
    weights = load_file(str(folder / "model.safetensors"))
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    with warnings.catch_warnings():  # stepping the schedule without optimizer steps is the point here
        warnings.simplefilter("ignore")
        for _ in range(step):
            scheduler.step()
    config.extra = dict(config.extra, continued_from_step=step)
    return step


def export_checkpoint(config: TrainConfig) -> Path:
    """Export the latest checkpoint of a (possibly unfinished) run, e.g. to evaluate it midway."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    checkpoint = Path(config.work_dir) / "checkpoint.pt"
    if not checkpoint.exists():
        raise DataError(f"no checkpoint in {config.work_dir}: train first")
    base = resolve_model(config.base_model, "base")
    model = AutoModelForQuestionAnswering.from_pretrained(base)
    state = torch.load(checkpoint, weights_only=False, map_location="cpu")
    model.load_state_dict(state["model"])
    config.extra = dict(config.extra, exported_step=state["step"])
    return export_reader(model, AutoTokenizer.from_pretrained(base), Path(config.output_dir), config)


def export_reader(model, tokenizer, out_dir: Path, config: TrainConfig | dict) -> Path:
    """Write the model as fp16 safetensors (half the size, same answers) plus its tokenizer.

    `config` is recorded as training_config.json (a dataclass, or the dict to write). Other files
    already in out_dir (model card, calibrations) are kept."""
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        _write_export(model, tokenizer, tmp, config)
        return swap_in(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_export(model, tokenizer, tmp: Path, config: TrainConfig | dict) -> None:
    state = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    model.save_pretrained(tmp, state_dict=state, safe_serialization=True)
    # Training left its window settings on the tokenizer; readers pass their own, so ship it clean.
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.save_pretrained(tmp)
    record = config if isinstance(config, dict) else asdict(config)
    (tmp / "training_config.json").write_text(json.dumps(record, indent=2))
