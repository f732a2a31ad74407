"""A model's fast tokenizer from its tokenizer.json, through `tokenizers` alone (no transformers
import: that takes most of a second)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.errors import ModelError


def load_tokenizer(model_dir: Path):
    """The model's fast tokenizer, without transformers; returns (tokenizer, pad id)."""
    from tokenizers import Tokenizer

    file = model_dir / "tokenizer.json"
    if not file.is_file():
        raise ModelError(f"the ONNX backend needs {file} (a fast tokenizer); use the torch backend for this model")
    tokenizer = Tokenizer.from_file(str(file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    pad_token = "[PAD]"
    config = model_dir / "tokenizer_config.json"
    if config.is_file():
        pad = json.loads(config.read_text()).get("pad_token")
        pad_token = pad.get("content", pad_token) if isinstance(pad, dict) else (pad or pad_token)
    pad_id = tokenizer.token_to_id(pad_token)
    return tokenizer, 0 if pad_id is None else pad_id
