"""Averaging a trained reader with the weights it started from (bot/training/averaging.py)."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from bot.errors import UsageError
from bot.training.averaging import WEIGHTS, interpolate_readers


@pytest.fixture
def pair(tiny_qa_model, tmp_path):
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    shutil.copytree(tiny_qa_model, base)
    shutil.copytree(tiny_qa_model, tuned)
    weights = load_file(tuned / WEIGHTS)
    save_file({k: v + 1.0 for k, v in weights.items()}, tuned / WEIGHTS, metadata={"format": "pt"})
    return base, tuned


def test_the_average_is_taken_tensor_by_tensor(pair, tmp_path):
    base, tuned = pair
    out = interpolate_readers(base, tuned, 0.25, tmp_path / "mixed")
    mixed, start = load_file(out / WEIGHTS), load_file(base / WEIGHTS)
    assert mixed.keys() == start.keys()
    for name in start:
        assert torch.allclose(mixed[name], start[name] + 0.25, atol=1e-6), name
    assert (out / "tokenizer.json").is_file()
    assert json.loads((out / "training_config.json").read_text())["averaged"]["weight_of_trained"] == 0.25


def test_the_average_may_replace_the_folder_it_started_from(pair):
    base, tuned = pair
    before = load_file(base / WEIGHTS)
    interpolate_readers(base, tuned, 0.5, base)
    after = load_file(base / WEIGHTS)
    assert all(torch.allclose(after[k], before[k] + 0.5, atol=1e-6) for k in before)
    assert not any(p.name.startswith(".") for p in base.parent.iterdir())  # no staging left behind


def test_different_architectures_or_weights_out_of_range_are_refused(pair, tmp_path):
    base, tuned = pair
    weights = load_file(tuned / WEIGHTS)
    name = next(iter(weights))
    weights[name] = torch.zeros(3)
    save_file(weights, tuned / WEIGHTS, metadata={"format": "pt"})
    with pytest.raises(UsageError, match="not the same architecture"):
        interpolate_readers(base, tuned, 0.5, tmp_path / "mixed")
    with pytest.raises(UsageError, match="between 0 and 1"):
        interpolate_readers(base, base, 1.5, tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()
