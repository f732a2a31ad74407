"""Where a trained reader is written: a folder that is a reader's (or new), replaced in one step.

An export holds the weights (fp16 safetensors), the tokenizer and the training record; it replaces
those files and keeps the others already there (the model card, calibrations, earlier stages'
records). A folder that holds no reader is refused before any training starts, so that a mistyped
--out never deletes anything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from bot.errors import UsageError


def check_export_folder(out: str | Path, keep_clear: Iterable[str | Path] = ()) -> None:
    """UsageError unless `out` can take a reader: new, empty, or a reader folder, and neither one
    of the `keep_clear` paths (the working folder, the training data, ...) nor a folder above one."""
    given = out
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {given} is a file, not a folder")
    if out == out.parent:
        raise UsageError(f"--out {given} is the root folder: choose a folder for the reader")
    for path in [Path.cwd(), *keep_clear]:
        inside = Path(path).resolve()
        if inside == out or out in inside.parents:
            raise UsageError(f"--out {given} holds {path}, which the export would replace: choose a folder of "
                             f"the reader's own")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise UsageError(f"--out {given} is a folder that holds no reader: choose a new or empty folder, or a "
                         f"reader's folder to replace")


def swap_in(staging: Path, out: Path) -> Path:
    """Make the finished `staging` folder `out`, keeping what `out` held that `staging` does not write.

    The old folder is renamed aside before the new one takes its name, so an interruption leaves
    one of the two complete (the old one under a hidden name)."""
    check_export_folder(out)
    if out.exists():
        for item in out.iterdir():
            if not (staging / item.name).exists():
                copy = shutil.copytree if item.is_dir() else shutil.copy2
                copy(item, staging / item.name)
        previous = out.with_name(f".{out.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(out, previous)
        os.replace(staging, out)
        shutil.rmtree(previous, ignore_errors=True)
    else:
        os.replace(staging, out)
    return out


def export_reader(model, tokenizer, out_dir: Path, config) -> Path:
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


def _write_export(model, tokenizer, tmp: Path, config) -> None:
    import torch  # here, so that checking a folder before training stays quick

    state = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    model.save_pretrained(tmp, state_dict=state, safe_serialization=True)
    # Training left its window settings on the tokenizer; readers pass their own, so ship it clean.
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.save_pretrained(tmp)
    record = config if isinstance(config, dict) else asdict(config)
    (tmp / "training_config.json").write_text(json.dumps(record, indent=2))
