"""Averaging a fine-tuned reader's weights with those it started from.

Multi-passage training moves the reader towards choosing among passages and away from reading one
gold paragraph; the average of the two weight sets keeps most of both (weight-space ensembling,
Wortsman et al. 2022, "Robust fine-tuning of zero-shot models"). Both folders must hold the same
architecture; the result is written in the tuned folder's format, next to its tokenizer files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bot.errors import UsageError
from bot.training.export_folder import swap_in

WEIGHTS = "model.safetensors"


def check_weight(weight: float) -> None:
    """UsageError unless weight is a share (checked before a training run, not after it)."""
    if not 0 <= weight <= 1:
        raise UsageError(f"--average-weight must be between 0 and 1 (got {weight})")


def interpolate_readers(base: Path, tuned: Path, weight: float, out: Path) -> Path:
    """out = weight × tuned + (1 − weight) × base, tensor by tensor; returns out.

    The folder is assembled in a temporary folder beside `out` and swapped in, so `out` may be
    `base` or `tuned` themselves and an interrupted run leaves it as it was."""
    from safetensors.torch import load_file, save_file

    check_weight(weight)
    for folder in (base, tuned):
        if not (folder / WEIGHTS).is_file():
            raise UsageError(f"{folder} holds no {WEIGHTS}")
    base_weights, tuned_weights = load_file(base / WEIGHTS), load_file(tuned / WEIGHTS)
    if base_weights.keys() != tuned_weights.keys() or any(
            base_weights[k].shape != tuned_weights[k].shape for k in base_weights):
        raise UsageError(f"{base} and {tuned} are not the same architecture: their weights cannot be averaged")
    mixed = {name: (weight * tuned_weights[name].float() + (1 - weight) * base_weights[name].float())
             .to(tuned_weights[name].dtype) for name in tuned_weights}

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for item in tuned.iterdir():
            if item.is_file() and item.name != WEIGHTS:
                shutil.copy2(item, staging / item.name)
        save_file(mixed, staging / WEIGHTS, metadata={"format": "pt"})
        record = staging / "training_config.json"
        config = json.loads(record.read_text()) if record.is_file() else {}
        config["averaged"] = {"with": str(base), "weight_of_trained": weight,
                              "formula": "weight * trained + (1 - weight) * base, per tensor"}
        record.write_text(json.dumps(config, indent=2))
        swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
