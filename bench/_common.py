"""Helpers shared by the benchmark scripts: machine description, percentiles, test data,
the reader model to time, and the one JSON object each script prints."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(REPO))

SHARED = Path(os.environ.get("BENCH_SHARED_DIR", REPO.parent / "shared"))
SEED_QUESTIONS = SHARED / "eval" / "seed_dev.jsonl"
# Synthetic corpora use the SQuAD *train* split only: nothing here tunes a model, but keeping
# the dev/test halves untouched means a benchmark can never leak into an evaluation.
SQUAD_TRAIN_DIR = SHARED / "data" / "squad" / "train"
RESULTS_DIR = REPO / "bench" / "results"
DEFAULT_CORPUS = REPO / "corpus"


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays one JSON object."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--save", action="store_true", help="also write bench/results/<name>.json")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke check (well under a minute)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own choice); on a "
                   "machine shared with other work, 1 avoids threads waiting on each other")
    return p


def apply_threads(args) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


# ----- machine -----

def _load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


_LOAD_AT_START = _load_average()


def cpu_model() -> str:
    from bot.hardware import cpu_name

    return cpu_name()


def machine_info() -> dict:
    from bot.hardware import cpu_description

    info = {
        "cpu_model": cpu_model(),
        "cpu": cpu_description(),  # with the flags that decide the fast kernels (AVX2, AVX-512, VNNI, bf16, AMX)
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine inflates every timing; the load average says how much there was.
        "load_average_at_start": _LOAD_AT_START,
        "load_average_at_end": _load_average(),
        "memory_total_gb": round(_meminfo_kb("MemTotal") / 2**20, 1) if _meminfo_kb("MemTotal") else None,
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch_threads"] = None
    if "faiss" in sys.modules:
        import faiss

        info["faiss_omp_threads"] = faiss.omp_get_max_threads()
    try:
        from bot.search.index import library_versions

        info["versions"] = library_versions()
    except Exception:  # a benchmark's JSON should not fail because of a version lookup
        pass
    return info


def _meminfo_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def process_memory() -> dict:
    """Resident set size now and at its peak (VmHWM), in bytes."""
    out = {"rss": 0, "peak_rss": 0}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                out["peak_rss"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


# ----- statistics -----

def percentiles(values, digits: int = 2) -> dict:
    """p50/p95 (linear interpolation between samples), mean, min, max and the sample count."""
    import numpy as np

    if len(values) == 0:
        return {"n": 0}
    a = np.asarray(values, dtype=float)
    return {
        "p50": round(float(np.percentile(a, 50)), digits),
        "p95": round(float(np.percentile(a, 95)), digits),
        "mean": round(float(a.mean()), digits),
        "min": round(float(a.min()), digits),
        "max": round(float(a.max()), digits),
        "n": int(a.size),
    }


def target(value, op: str, limit: float, unit: str = "") -> dict:
    """A target check; `met` is None when the value could not be measured."""
    met = None
    if value is not None:
        met = bool(value <= limit) if op == "<=" else bool(value >= limit)
    return {"value": value, "target": f"{op} {limit:g}{unit}", "met": met}


# ----- output -----

def emit(name: str, result: dict, save: bool, started: float) -> dict:
    """Print the result as one JSON object; with save, also write bench/results/<name>.json."""
    out = {"benchmark": name, **result}
    out["machine"] = machine_info()
    out["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out["duration_s"] = round(time.perf_counter() - started, 1)
    text = json.dumps(out, indent=1, ensure_ascii=False, default=str)
    print(text, flush=True)
    if save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{name}.json"
        path.write_text(text + "\n", encoding="utf-8")
        log(f"saved {path}")
    return out


def settings_dict(settings) -> dict:
    from dataclasses import asdict

    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}


def corpus_data(bot, corpus) -> dict:
    """What a benchmark ran over: the corpus folder and the size of its index."""
    manifest = bot.index.manifest
    return {"corpus": str(corpus), "corpus_documents": len(manifest["documents"]), "corpus_chunks": manifest["n_chunks"]}


BACKEND_VARIABLES = ("BOT_READER_BACKEND", "BOT_EMBEDDING_BACKEND")


def bench_settings(**overrides):
    """Settings for a benchmark: the defaults plus overrides, ignoring the shell's BOT_* variables
    (numbers must not depend on who ran them) except the two that choose the backends, which
    bench/backends.py sets per run; the settings printed with every result name both."""
    from bot.config import load_settings

    return load_settings(overrides, environ={k: os.environ[k] for k in BACKEND_VARIABLES if k in os.environ})


def temp_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


# ----- data -----

def seed_questions(path: Path = SEED_QUESTIONS) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def squad_articles(directory: Path = SQUAD_TRAIN_DIR):
    """(title, [paragraph contexts], [questions]) per article of the SQuAD train shards, in file order."""
    files = sorted(directory.glob("part-*.json"))
    if not files:
        raise SystemExit(f"no SQuAD train shards (part-*.json) in {directory}")
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for article in data["data"]:
            paragraphs = [p["context"] for p in article.get("paragraphs", [])]
            questions = [qa["question"] for p in article.get("paragraphs", []) for qa in p.get("qas", [])]
            yield article.get("title", "").replace("_", " "), paragraphs, questions


# ----- reader model -----

def reader_model(path: str | None) -> tuple[str, dict]:
    """The QA model folder to time, and what it is.

    An explicit path wins; then the bundled reader; else a randomly initialised QA model with
    the packaged MiniLM's architecture and tokenizer, saved to a temp folder so that every
    process and library in a benchmark loads exactly the same weights. Its answers are noise,
    but its speed is that of the real reader (same architecture and sequence lengths).
    """
    from bot.model_paths import BUNDLED_READER_DIR, packaged_model_dir

    if path:
        folder = Path(path).expanduser().resolve()
        if not (folder / "config.json").is_file():
            raise SystemExit(f"--reader-model {path}: no config.json in that folder")
        info = {"path": str(folder), "kind": "given"}
    elif (BUNDLED_READER_DIR / "config.json").is_file():
        info = {"path": str(BUNDLED_READER_DIR), "kind": "bundled (bot/models/reader)"}
    else:
        import torch
        from transformers import AutoConfig, AutoModelForQuestionAnswering, AutoTokenizer

        from bot.model_paths import quiet_model_loading

        quiet_model_loading()
        base = packaged_model_dir("all-MiniLM-L6-v2")
        torch.manual_seed(0)
        model = AutoModelForQuestionAnswering.from_config(AutoConfig.from_pretrained(base))
        folder = temp_dir("reader")
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(base).save_pretrained(folder)
        info = {"path": str(folder), "kind": "random-init from the packaged all-MiniLM-L6-v2 config "
                "(bot/models/reader missing): speed only, answers are meaningless",
                "architecture_from": str(base)}
    config = json.loads(Path(info["path"], "config.json").read_text())
    info.update({k: config.get(k) for k in ("model_type", "num_hidden_layers", "hidden_size")})
    log(f"reader model: {info['path']} ({info['kind']})")
    return info["path"], info


def reader_parser(description: str) -> argparse.ArgumentParser:
    """The flags every reader benchmark shares: runs, model, corpus, questions, passages per question."""
    p = parser(description)
    p.add_argument("--runs", type=int, default=3, help="passes over the question set (default 3)")
    p.add_argument("--reader-model", help="QA model folder (default: bundled, else random-init)")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--questions", default=str(SEED_QUESTIONS))
    p.add_argument("--read-k", type=int, help="passages per question (default: the bot's read_k)")
    return p


def reader_workload(args):
    """After reader_parser: (requests, settings, model_dir, model_info) with --quick and --threads applied."""
    if args.quick:
        args.runs = 1
    apply_threads(args)
    questions = seed_questions(Path(args.questions))[: 4 if args.quick else None]
    model_dir, model_info = reader_model(args.reader_model)
    requests, settings = retrieved_requests(questions, Path(args.corpus), args.read_k)
    return requests, settings, model_dir, model_info


def retrieved_requests(questions: list[str], corpus: Path, read_k: int | None = None):
    """(question, [ReadItem]) per question: the passages the bot's own retrieval hands its reader,
    built exactly as Bot.ask builds them. Returns (requests, settings)."""
    from bot.pipeline import Bot
    from bot.types import ReadItem

    settings = bench_settings(corpus_dir=Path(corpus), index_dir=temp_dir("passages") / "index", reader="none")
    read_k = read_k or settings.read_k
    bot = Bot(settings)
    requests = []
    for q in questions:
        passages = bot.ask(q).passages[:read_k]
        requests.append((q, [ReadItem(p.chunk.text, p.chunk.doc_id, p.chunk.start, i, p.chunk.sentences) for i, p in enumerate(passages)]))
    return requests, settings
