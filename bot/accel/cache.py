"""Where ONNX copies live, how they are checked, and how they are opened.

A copy is keyed by the source model's files (name, size, mtime), the kind, the precision and
the exporter's versions; it is built into a temporary folder and renamed into place, so a
build that is killed leaves nothing half-written. Each copy records the SHA-256 of its model
file, checked on every load; a copy that fails the check is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from bot.errors import ModelError
from bot.files import file_sha256

PRECISIONS = ("fp32", "int8")
KINDS = ("reader", "embedder")
BUILD_VERSION = 4  # bump when the export itself changes
_SOURCE_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json")


@dataclass(frozen=True)
class OnnxModel:
    path: Path  # the .onnx file
    source_dir: Path
    kind: str
    precision: str
    inputs: tuple[str, ...]
    sha256: str
    size_bytes: int


def cache_root() -> Path:
    """BOT_ONNX_CACHE, else the user's cache folder (the package folder may be read-only)."""
    configured = os.environ.get("BOT_ONNX_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "docqa-bot" / "onnx"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def copy_key(source_dir: Path, kind: str, precision: str) -> str:
    h = hashlib.sha256(f"{BUILD_VERSION}|{kind}|{precision}|{source_dir.resolve()}".encode())
    for package in ("torch", "transformers", "onnx", "onnxruntime"):
        h.update(f"|{package}={_version(package)}".encode())
    for name in _SOURCE_FILES:
        path = source_dir / name
        if path.is_file():
            st = path.stat()
            h.update(f"|{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def note(message: str) -> None:
    """Tell the user on stderr what a slow first step is doing ("note: building the ONNX copy…")."""
    print(f"note: {message}", file=sys.stderr)


def onnx_copy(source_dir: str | Path, kind: str, precision: str, build: bool = True,
              notify: Callable[[str], None] | None = note) -> OnnxModel:
    """The checked ONNX copy of a local model folder, built first if needed (and allowed)."""
    if kind not in KINDS or precision not in PRECISIONS:
        raise ValueError(f"no ONNX copy of kind {kind!r} and precision {precision!r}")
    source = Path(source_dir)
    if not (source / "config.json").is_file():
        raise ModelError(f"an ONNX {kind} needs a local model folder with config.json (got {source})")
    folder = cache_root() / f"{kind}-{precision}-{copy_key(source, kind, precision)}"
    model = _load_checked(folder, source, notify)
    if model is not None:
        return model
    if not build:
        raise ModelError(f"no ONNX copy of the {kind} at {source}: run `bot export-onnx`")
    return _build(folder, source, kind, precision, notify)


def _load_checked(folder: Path, source: Path, notify) -> OnnxModel | None:
    record = folder / "build.json"
    if not record.is_file():
        return None
    try:
        meta = json.loads(record.read_text())
        path = folder / meta["file"]
        if file_sha256(path) == meta["sha256"]:
            return OnnxModel(path, source, meta["kind"], meta["precision"], tuple(meta["inputs"]), meta["sha256"],
                             path.stat().st_size)
    except (OSError, ValueError, KeyError):
        pass
    if notify:
        notify(f"the ONNX copy in {folder} fails its checksum; rebuilding it")
    shutil.rmtree(folder, ignore_errors=True)
    return None


def _build(folder: Path, source: Path, kind: str, precision: str, notify) -> OnnxModel:
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as exc:  # a read-only cache, or a file where the folder should be
        torch = ("BOT_READER_BACKEND=torch" if kind == "reader"
                 else "BOT_EMBEDDING_BACKEND=torch, which embeds the index again")
        raise ModelError(f"cannot build the ONNX {kind} in {folder.parent}: {exc.strerror or exc}; set BOT_ONNX_CACHE "
                         f"to a folder you may write to, or run the {kind} on torch ({torch})") from None
    from bot.accel.export import build_onnx

    if notify:
        notify(f"building the ONNX {precision} {kind} from {source} (once) into {folder}")
    try:
        t0 = time.perf_counter()
        inputs = build_onnx(str(source), kind, precision, staging / "model.onnx")
        digest = file_sha256(staging / "model.onnx")
        meta = {"file": "model.onnx", "kind": kind, "precision": precision, "inputs": inputs, "sha256": digest,
                "source": str(source), "build_seconds": round(time.perf_counter() - t0, 1),
                "versions": {p: _version(p) for p in ("torch", "transformers", "onnx", "onnxruntime")}}
        (staging / "build.json").write_text(json.dumps(meta, indent=2))
        try:
            staging.rename(folder)
        except OSError:  # another process published the same copy first: use theirs
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    model = _load_checked(folder, source, notify)
    if model is None:
        raise ModelError(f"the ONNX copy built in {folder} could not be read back")
    return model


def open_session(model: OnnxModel, spin: bool = True):
    """An ONNX Runtime CPU session using every core, with full graph optimisation.

    spin: let idle worker threads spin briefly after a call (faster back-to-back calls). A session
    called once per question between other work (the query embedder) should not: its spinning
    threads would take the cores from the reader that runs next."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # OMP_NUM_THREADS, where set (Ray sets it to an actor's CPU share), as torch reads it.
    threads = os.environ.get("OMP_NUM_THREADS", "")
    options.intra_op_num_threads = int(threads) if threads.isdigit() and int(threads) > 0 else (os.cpu_count() or 1)
    options.log_severity_level = 3
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(model.path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a file ONNX Runtime cannot run: say which, and how to get a good one
        raise ModelError(f"ONNX Runtime cannot load {model.path} ({type(exc).__name__}); delete it to rebuild") from exc
