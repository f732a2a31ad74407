"""One Settings object: defaults, overridden by BOT_* environment variables, then by flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.model_paths import DEFAULT_EMBEDDING_MODEL

# Questions answered together in batch evaluation (`bot eval --batch-size`). Here rather than in
# bot/evaluation, so that building the command line does not import the evaluator.
DEFAULT_BATCH = 64
# The shipped thresholds (`bot calibrate --model`) must hold on text they were not fitted on: in
# every tune file, refusals may lower the answerable questions' mean F1 by at most this much (2
# points). Where the reader's scores shift with the kind of text, this keeps it answering there
# rather than refusing right answers, at the price of answering more questions the documents do
# not hold.
ANSWERABLE_LOSS_BUDGET = 0.02

READER_BACKENDS = ("auto", "torch", "onnx-fp32", "onnx-int8")
EMBEDDING_BACKENDS = ("torch", "onnx-fp32", "onnx-int8")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # "auto": the bundled neural reader; "none": sentence-level mode; or any HF QA model name/path.
    reader: str = "auto"
    # How the neural reader runs: "torch", "onnx-fp32", "onnx-int8", or "auto" (the one measured
    # fastest on this machine among those that keep the reader's quality; see bot/accel/choice.py).
    reader_backend: str = "auto"
    # How the embedder runs: "onnx-int8" (1.6x the indexing speed of torch at the same retrieval
    # recall on part A: README "Fast path"), "onnx-fp32" (sentence-transformers' vectors to 1e-7,
    # without importing torch), or "torch" (sentence-transformers, for models the ONNX backend
    # cannot pool). Vectors differ between backends, so changing it re-embeds the index.
    embedding_backend: str = "onnx-int8"
    top_k: int = 5
    # The most passages one question may ask for (a client's top_k above this is refused).
    max_top_k: int = 50
    # How many passages the reader reads (the best of the top_k).
    read_k: int = 3
    chunk_size: int = 600  # characters; about 150 word pieces, one reader window with the question
    chunk_overlap: int = 150  # characters of trailing sentences repeated at the next chunk's start
    max_answer_tokens: int = 30
    # Chunks per index shard. Each shard gets the FAISS index type that suits its size, and a build
    # rewrites only the shards whose rows changed. None: the size the index was built with
    # (DEFAULT_SHARD_SIZE for a new one, which keeps a one-machine corpus in one shard).
    shard_size: int | None = None
    # Answerability probability below which the bot says the documents do not hold the answer.
    # None: the threshold stored with the calibration.
    abstain_threshold: float | None = None
    max_question_chars: int = 1000
    max_file_mb: float = 20.0
    host: str = "127.0.0.1"
    port: int = 7860

    def __post_init__(self) -> None:
        # Folders given as text (Settings(corpus_dir="docs")) are paths like the ones flags give.
        for name in ("corpus_dir", "index_dir"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, Path(getattr(self, name)))

    def validate(self) -> "Settings":
        if self.max_top_k < 1:
            raise UsageError(f"max_top_k must be >= 1 (got {self.max_top_k})")
        if not 1 <= self.top_k <= self.max_top_k:
            raise UsageError(f"top_k must be between 1 and max_top_k={self.max_top_k} (got {self.top_k})")
        if self.read_k < 1:
            raise UsageError(f"read_k must be >= 1 (got {self.read_k})")
        if self.chunk_size < 50:
            raise UsageError(f"chunk_size must be >= 50 characters (got {self.chunk_size})")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise UsageError(
                f"chunk_overlap must be between 0 and chunk_size-1 (got {self.chunk_overlap})"
            )
        if self.shard_size is not None and self.shard_size < 1:
            raise UsageError(f"shard_size must be >= 1 chunk (got {self.shard_size})")
        if self.max_answer_tokens < 1:
            raise UsageError(f"max_answer_tokens must be >= 1 (got {self.max_answer_tokens})")
        if self.max_question_chars < 1:
            raise UsageError(f"max_question_chars must be >= 1 (got {self.max_question_chars})")
        if not 0 < self.max_file_mb < 1e6:  # also refuses NaN and infinity
            raise UsageError(f"max_file_mb must be a size in MB, more than 0 (got {self.max_file_mb})")
        if self.abstain_threshold is not None and not 0 <= self.abstain_threshold <= 1:
            raise UsageError(f"abstain_threshold must be in [0, 1] (got {self.abstain_threshold})")
        for label, folder in (("index", self.index_dir), ("corpus", self.corpus_dir)):
            if folder.exists() and not folder.is_dir():
                raise UsageError(f"the {label} folder {folder} is a file, not a folder: choose a folder")
        if self.index_dir.resolve() == self.corpus_dir.resolve():
            raise UsageError(f"the index folder {self.index_dir} is the documents folder: give the index its own "
                             "folder (it may sit inside the documents folder)")
        for name, allowed in (("reader_backend", READER_BACKENDS), ("embedding_backend", EMBEDDING_BACKENDS)):
            if getattr(self, name) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)} (got {getattr(self, name)!r})")
        if not 1 <= self.port <= 65535:
            raise UsageError(f"port must be in 1..65535 (got {self.port})")
        return self


def _coerce(name: str, kind: Any, raw: str) -> Any:
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(raw).expanduser()
        if "float" in kind:
            return float(raw)
        if "int" in kind:
            return int(raw)
    except ValueError:
        raise UsageError(f"BOT_{name.upper()}={raw!r} is not a valid {kind.split('|')[0].strip()}") from None
    return raw


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then BOT_<FIELD> environment variables, then non-None overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"BOT_{f.name.upper()}")
        if raw is not None and raw.strip() != "":
            values[f.name] = _coerce(f.name, f.type, raw.strip())
    from_env = set(values)
    for key, value in (overrides or {}).items():
        if value is not None:
            if key.endswith("_dir") and not str(value).strip():  # Path("") is the current folder
                raise UsageError(f"the {key.removesuffix('_dir')} folder is empty: name a folder")
            values[key] = Path(value) if key.endswith("_dir") else value
            from_env.discard(key)
    if "top_k" not in values and values.get("max_top_k", Settings.max_top_k) < Settings.top_k:
        values["top_k"] = max(values["max_top_k"], 1)  # a lower limit lowers the default too
    try:
        return replace(Settings(), **values).validate()
    except UsageError as exc:  # say which variable, where the value came from one
        field = str(exc).split(" ", 1)[0]
        if field in from_env:
            raise UsageError(f"BOT_{field.upper()}={env[f'BOT_{field.upper()}'].strip()}: {exc}") from None
        raise
