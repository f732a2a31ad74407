"""Multi-passage reader training with one normalisation per question (Clark & Gardner, 2018).

All windows of a question's passages share one softmax over start positions and one over end
positions, so span scores from different passages become comparable, and the [CLS] positions of
all its windows together are the "no answer" outcome: a question whose passages do not hold the
answer puts its probability mass there, one that does puts it on the gold tokens. At run time the
reader compares its best span with the combined [CLS] score of all windows it read.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from bot.errors import DataError
from bot.model_paths import resolve_model
from bot.read.windows import WINDOW_STRIDE, WINDOW_TOKENS
from bot.training.export_folder import export_reader
from bot.training.loop import BatchLoss, StepLoop, load_reader, start_run
from bot.training.passage_groups import Group, GroupSpec


@dataclass
class GroupedWindows:
    """Tokenised windows; each belongs to a group (one question) and may hold the gold span."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    start_positions: list[int]  # 0 ([CLS]) where the window does not hold the answer
    end_positions: list[int]
    group_of: list[int]  # window -> group
    group_windows: list[list[int]]  # group -> its windows
    answerable: list[bool]  # per group


def window_groups(groups: list[Group], tokenizer, max_length: int, stride: int) -> GroupedWindows:
    """Cut every passage of every group into windows and label the gold tokens where present."""
    out = GroupedWindows([], [], [], [], [], [], [])
    pairs = [(g_index, p) for g_index, g in enumerate(groups) for p in g.passages]
    questions = [g.question.strip() for g in groups]
    per_group: list[list[int]] = [[] for _ in groups]
    batch = 2000
    for offset in range(0, len(pairs), batch):
        part = pairs[offset : offset + batch]
        enc = tokenizer([questions[g] for g, _ in part], [p.text for _, p in part], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=False)
        for w, offsets in enumerate(enc["offset_mapping"]):
            g_index, passage = part[enc["overflow_to_sample_mapping"][w]]
            start_pos, end_pos = _label(enc.sequence_ids(w), offsets, passage.answer)
            per_group[g_index].append(len(out.input_ids))
            out.input_ids.append(enc["input_ids"][w])
            out.token_type_ids.append(enc["token_type_ids"][w] if "token_type_ids" in enc else [0] * len(offsets))
            out.start_positions.append(start_pos)
            out.end_positions.append(end_pos)
            out.group_of.append(g_index)
    for g_index, group in enumerate(groups):
        labelled = any(out.start_positions[w] > 0 for w in per_group[g_index])
        # An answerable group whose answer no window holds whole (cut by the window) is dropped.
        if group.answerable and not labelled:
            per_group[g_index] = []
    out.group_windows = per_group
    out.answerable = [g.answerable for g in groups]
    return out


def _label(seq_ids, offsets, answer: tuple[int, int] | None) -> tuple[int, int]:
    if answer is None:
        return 0, 0
    ctx = [t for t, s in enumerate(seq_ids) if s == 1]
    if not ctx:
        return 0, 0
    first, last = ctx[0], ctx[-1]
    a_start, a_end = answer
    if not (offsets[first][0] <= a_start and offsets[last][1] >= a_end):
        return 0, 0
    s = first
    while s <= last and offsets[s][1] <= a_start:
        s += 1
    e = last
    while e >= first and offsets[e][0] >= a_end:
        e -= 1
    return (s, e) if s <= e else (0, 0)


def group_batches(data: GroupedWindows, groups_per_batch: int, seed: int, epoch: int) -> list[list[int]]:
    """Seeded batches of whole groups, grouped by length so padding stays small."""
    usable = [g for g, ws in enumerate(data.group_windows) if ws]
    rng = np.random.default_rng(seed * 1000 + epoch)
    order = [usable[i] for i in rng.permutation(len(usable))]
    longest = {g: max(len(data.input_ids[w]) for w in data.group_windows[g]) for g in usable}
    bucket = groups_per_batch * 50
    batches: list[list[int]] = []
    for b in range(0, len(order), bucket):
        chunk = sorted(order[b : b + bucket], key=lambda g: longest[g])
        batches.extend(chunk[i : i + groups_per_batch] for i in range(0, len(chunk), groups_per_batch))
    rng.shuffle(batches)
    return batches


def collate_groups(data: GroupedWindows, group_ids: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    windows = [w for g in group_ids for w in data.group_windows[g]]
    width = max(len(data.input_ids[w]) for w in windows)
    n = len(windows)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    types = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    candidates = torch.zeros((n, width), dtype=torch.bool)
    for row, w in enumerate(windows):
        length = len(data.input_ids[w])
        ids[row, :length] = torch.tensor(data.input_ids[w])
        types[row, :length] = torch.tensor(data.token_type_ids[w])
        mask[row, :length] = 1
        # Positions the reader may choose: [CLS] (no answer) and the passage's tokens.
        candidates[row, 0] = True
        if data.token_type_ids[w] and any(data.token_type_ids[w]):
            candidates[row, :length] |= torch.tensor(data.token_type_ids[w], dtype=torch.bool)
    local = {g: i for i, g in enumerate(group_ids)}
    return {
        "input_ids": ids, "token_type_ids": types, "attention_mask": mask, "candidates": candidates,
        "group": torch.tensor([local[data.group_of[w]] for w in windows]),
        "start": torch.tensor([data.start_positions[w] for w in windows]),
        "end": torch.tensor([data.end_positions[w] for w in windows]),
        "answerable": torch.tensor([data.answerable[g] for g in group_ids]),
    }


def _group_logsumexp(values: torch.Tensor, group: torch.Tensor, n_groups: int) -> torch.Tensor:
    """log(sum(exp(values))) over the rows of each group, in one pass (no loop over groups, which
    costs a device round trip per group on a GPU). A group whose values are all -inf gets -inf."""
    peak = values.new_full((n_groups,), float("-inf")).scatter_reduce(0, group, values, "amax")
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak)).detach()
    total = values.new_zeros(n_groups).index_add(0, group, torch.exp(values - peak[group]))
    return torch.log(total) + peak


def _candidate_logits(logits: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """fp32 logits with every position that is no candidate (question, padding) at -inf."""
    return logits.float().masked_fill(~candidates, float("-inf"))


def _group_normaliser(logits: torch.Tensor, group: torch.Tensor, n_groups: int) -> torch.Tensor:
    """log of each group's softmax denominator over all positions of all its windows."""
    return _group_logsumexp(torch.logsumexp(logits, dim=1), group, n_groups)


def shared_norm_loss(start_logits: torch.Tensor, end_logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean over groups of -log P(gold start) - log P(gold end), each softmax over all positions
    of all the group's windows. Gold is the labelled tokens, or every [CLS] for "no answer"."""
    group, n_groups = batch["group"], int(batch["answerable"].shape[0])
    answerable_row = batch["answerable"][group]
    losses = []
    for logits, gold in ((start_logits, batch["start"]), (end_logits, batch["end"])):
        logits = _candidate_logits(logits, batch["candidates"])
        total = _group_normaliser(logits, group, n_groups)
        picked = logits.gather(1, gold[:, None]).squeeze(1)
        # An answerable group's target is its labelled tokens; an unanswerable one's, every [CLS].
        target_row = torch.where(answerable_row, picked.masked_fill(gold == 0, float("-inf")), logits[:, 0])
        losses.append(total - _group_logsumexp(target_row, group, n_groups))
    return ((losses[0] + losses[1]) / 2).mean()


def distillation_loss(student: tuple[torch.Tensor, torch.Tensor], teacher: tuple[torch.Tensor, torch.Tensor],
                      batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """KL(teacher || student) of the shared-normalised start and end distributions, summed over the
    answerable groups and divided by all groups (the scale of `shared_norm_loss`).

    It holds the answerable questions' span choices where the teacher put them, so that training
    for "no answer" on the other groups does not cost reading (learning without forgetting)."""
    group, n_groups = batch["group"], int(batch["answerable"].shape[0])
    counted = batch["candidates"] & batch["answerable"][group][:, None]
    total = student[0].new_zeros((), dtype=torch.float32)
    for s_logits, t_logits in zip(student, teacher):
        # Positions not counted are zeroed before the arithmetic: -inf - -inf would be NaN.
        log_s, log_t = (torch.where(counted, _log_probs_per_group(x, batch["candidates"], group, n_groups), 0.0)
                        for x in (s_logits, t_logits))
        total = total + (torch.where(counted, log_t.exp(), 0.0) * (log_t - log_s)).sum() / 2
    return total / max(1, n_groups)


def _log_probs_per_group(logits: torch.Tensor, candidates: torch.Tensor, group: torch.Tensor,
                         n_groups: int) -> torch.Tensor:
    """Log-probabilities over every candidate position of each group's windows (one softmax per
    group); positions that are no candidates get -inf."""
    logits = _candidate_logits(logits, candidates)
    return logits - _group_normaliser(logits, group, n_groups)[group][:, None]


@dataclass
class MultiPassageConfig:
    train_files: list[str]
    output_dir: str
    base_model: str
    work_dir: str = "runs/reader-mp"
    epochs: float = 1.0
    groups_per_batch: int = 8
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    max_length: int = WINDOW_TOKENS
    stride: int = WINDOW_STRIDE
    seed: int = 13
    save_every: int = 200
    export_every: int = 0  # also export work_dir/step-N every N steps (a tuning curve); 0: never
    stop_at_step: int | None = None
    bf16: bool | None = None
    distil_from: str | None = None  # a reader whose span choices on answerable groups are kept
    distil_weight: float = 1.0
    groups: GroupSpec = field(default_factory=GroupSpec)
    extra: dict = field(default_factory=dict)


# Settings a checkpoint's schedule and data order depend on: resuming with others is refused.
_RUN_IDENTITY = ("train_files", "base_model", "epochs", "groups_per_batch", "learning_rate", "warmup_ratio",
                 "weight_decay", "max_length", "stride", "seed", "distil_from", "distil_weight", "groups")


def _group_settings(config: MultiPassageConfig) -> dict:
    """What shapes the training groups and their windows (recorded with the cached windows)."""
    return {"train_files": [str(f) for f in config.train_files], "max_length": config.max_length,
            "stride": config.stride, **asdict(config.groups)}


def _prepare(config: MultiPassageConfig, tokenizer, work: Path, log, embedder=None) -> GroupedWindows:
    """The run's groups as token windows, built once and cached in the work folder.

    The checkpoint beside the cache was trained on those windows, so a run with other group
    settings must not reuse the folder: it is refused rather than silently trained on the old groups."""
    cache = work / "windows.pt"
    settings = _group_settings(config)
    if cache.exists():
        saved = torch.load(cache, weights_only=False)
        if "settings" not in saved:  # cached before settings were recorded
            return GroupedWindows(**saved)
        changed = [f"{key} {saved['settings'].get(key)!r} -> {value!r}" for key, value in settings.items()
                   if saved["settings"].get(key) != value]
        if changed:
            raise DataError(f"{work} holds training groups built with other settings ({'; '.join(changed)}): "
                            "use a fresh --work-dir")
        return GroupedWindows(**saved["windows"])
    from bot.search.embedding import Embedder
    from bot.model_paths import DEFAULT_EMBEDDING_MODEL
    from bot.files import atomic_write
    from bot.training.altered_questions import altered_questions
    from bot.training.passage_groups import answer_lengths, choose_answerable, load_examples, make_groups, summarize

    t0 = time.time()
    answerable, unanswerable = load_examples(config.train_files)
    chosen = choose_answerable(answerable, config.groups)
    log(f"answer length in word pieces (training sample): {answer_lengths(chosen, tokenizer)}")
    # Altered from the chosen questions themselves: the reader sees both versions of each.
    altered = altered_questions(chosen, config.groups.altered, config.groups.seed + 2, donors_from=answerable)
    groups = make_groups(chosen, unanswerable, embedder or Embedder(DEFAULT_EMBEDDING_MODEL), config.groups, log,
                         altered=altered)
    data = window_groups(groups, tokenizer, config.max_length, config.stride)
    kept = sum(1 for ws in data.group_windows if ws)
    log(f"built {kept} groups {summarize(groups)}, {sum(len(ws) for ws in data.group_windows)} windows, "
        f"in {time.time() - t0:.0f}s")
    atomic_write(cache, lambda tmp: torch.save({"settings": settings, "windows": asdict(data)}, tmp))
    return data


def train_multi_passage(config: MultiPassageConfig, log=print, embedder=None) -> Path:
    """Train (or resume) with shared normalisation and export fp16 to config.output_dir.

    `embedder` ranks the passages (default: the bot's default embedding model)."""
    run = start_run(config, log, seed_numpy=False)
    data = _prepare(config, run.tokenizer, run.work, log, embedder)

    model = load_reader(run.base, run.device)
    teacher = None
    if config.distil_from:
        teacher = load_reader(resolve_model(config.distil_from, "teacher"), run.device).eval()
    steps_per_epoch = len(group_batches(data, config.groups_per_batch, config.seed, 0))
    loop = StepLoop.create(model, config, steps_per_epoch, max(1, int(steps_per_epoch * config.epochs)))
    loop.resume(_RUN_IDENTITY, log)

    def batch_loss(group_ids: list[int]) -> BatchLoss:
        batch = {k: v.to(run.device) for k, v in collate_groups(data, group_ids, run.tokenizer.pad_token_id).items()}
        inputs = {k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
        with torch.autocast(device_type=run.device, dtype=torch.bfloat16, enabled=run.use_bf16):
            out = model(**inputs)
        loss = shared_norm_loss(out.start_logits, out.end_logits, batch)
        if teacher is not None:
            loss = loss + config.distil_weight * distillation_loss(
                (out.start_logits, out.end_logits), _teacher_logits(teacher, inputs, batch, run.use_bf16), batch)
        return BatchLoss(loss, len(batch["input_ids"]))

    def export_step(step: int) -> None:
        if config.export_every and step % config.export_every == 0 and step < loop.total_steps:
            export_reader(model, run.tokenizer, run.work / f"step-{step}", _export_config(config, step))

    step = loop.run(lambda epoch: group_batches(data, config.groups_per_batch, config.seed, epoch), batch_loss,
                    after_step=export_step, log_stop=True)
    final_step = step if step < loop.total_steps else None
    return export_reader(model, run.tokenizer, Path(config.output_dir), _export_config(config, final_step))


def _teacher_logits(teacher, inputs: dict[str, torch.Tensor], batch: dict[str, torch.Tensor],
                    use_bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's start and end logits for the windows of answerable groups, the only ones
    `distillation_loss` reads (other rows stay zero): unanswerable windows are not run."""
    rows = batch["answerable"][batch["group"]]
    start = torch.zeros(batch["input_ids"].shape, dtype=torch.float32, device=rows.device)
    end = torch.zeros_like(start)
    if rows.any():
        with torch.no_grad(), torch.autocast(device_type=rows.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            kept = teacher(**{k: v[rows] for k, v in inputs.items()})
        start[rows], end[rows] = kept.start_logits.float(), kept.end_logits.float()
    return start, end


def _export_config(config: MultiPassageConfig, step: int | None):
    """What export_reader records: this run's settings, with the step of an unfinished export."""
    extra = dict(config.extra, objective="shared-normalisation over the question's passages")
    if step is not None:
        extra["exported_step"] = step
    return asdict(config) | {"extra": extra}
