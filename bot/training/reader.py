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
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from bot.errors import DataError
from bot.files import atomic_write
from bot.read.windows import WINDOW_STRIDE, WINDOW_TOKENS
from bot.training.export_folder import export_reader
from bot.training.loop import (
    CHECKPOINT, BatchLoss, StepLoop, load_reader, read_checkpoint, settings_record, start_run,
)
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
    run = start_run(config, log)
    feats = _load_features(config, run.tokenizer, run.work, log)
    lengths = np.array([len(x) for x in feats.input_ids])

    model = load_reader(run.base, run.device)
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    loop = StepLoop.create(model, config, steps_per_epoch, int(steps_per_epoch * config.epochs))
    resumed = loop.resume(_RUN_IDENTITY, log)
    if resumed is not None:
        config.extra = dict(resumed, **config.extra)
    elif config.continue_from:
        loop.step = _continue_from_export(config, model, loop.scheduler)
        log(f"continued from the step-{loop.step} export in {config.continue_from} (optimizer moments restarted)")

    def batch_loss(idx: np.ndarray) -> BatchLoss:
        batch = {k: v.to(run.device) for k, v in collate(feats, idx, run.tokenizer.pad_token_id).items()}
        with torch.autocast(device_type=run.device, dtype=torch.bfloat16, enabled=run.use_bf16):
            return BatchLoss(model(**batch).loss, len(idx))

    def export_epoch(step: int) -> None:
        if step % steps_per_epoch == 0:
            export_reader(model, run.tokenizer, run.work / f"epoch-{step // steps_per_epoch}", config)

    step = loop.run(lambda epoch: epoch_batches(lengths, config.batch_size, config.seed, epoch), batch_loss,
                    after_step=export_epoch, checkpoint_extra=config.extra)
    config.extra = {k: v for k, v in config.extra.items() if k != "exported_step"}
    if step < loop.total_steps:
        config.extra["exported_step"] = step
    return export_reader(model, run.tokenizer, Path(config.output_dir), config)


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

    checkpoint = Path(config.work_dir) / CHECKPOINT
    if not checkpoint.exists():
        raise DataError(f"no checkpoint in {config.work_dir}: train first")
    base = resolve_model(config.base_model, "base")
    model = AutoModelForQuestionAnswering.from_pretrained(base)
    state = read_checkpoint(checkpoint)
    model.load_state_dict(state["model"])
    config.extra = dict(config.extra, exported_step=state["step"])
    return export_reader(model, AutoTokenizer.from_pretrained(base), Path(config.output_dir), config)
