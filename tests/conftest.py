"""Shared fixtures: an isolated environment, a deterministic fake embedder for unit tests,
the real embedding model loaded once per session, and a tiny random QA model built from a config."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    """ONNX copies and backend measurements of this test session (built once, then shared)."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path, onnx_cache):
    """No BOT_* setting from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("BOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("BOT_ONNX_CACHE", str(onnx_cache))
    yield


class FakeEmbedder:
    """Bag of hashed words, L2-normalised: texts sharing words are close. Deterministic."""

    model_name = "fake-hash-embedder"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.encoded = 0

    def warm_up(self) -> None:
        pass

    @property
    def dimension(self) -> int:
        return self.dim

    def encode(self, texts, show_progress=False):
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

    def encode_query(self, text):
        return self.encode([text])[0]


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


def fake_sentence_bot(settings, embedder):
    """Sentence-mode bot over the fake embedder. It is judged by the default similarity rule: the
    calibration shipped with the project was fitted on the real embedder's scores, not these."""
    from bot.read.answerability import default_calibration
    from bot.pipeline import Bot
    from bot.read.sentence import SentenceReader

    return Bot(settings, embedder=embedder, reader=SentenceReader(embedder),
               calibration=default_calibration("sentence", "sentence"))


@dataclass
class CorpusLoad:
    documents: list = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)


def load_corpus(root: Path, max_file_mb: float = 20.0) -> CorpusLoad:
    """Every document of a folder as the index would read it, and the files it would skip."""
    from bot.ingest.corpus import empty_corpus_error, scan_corpus, try_load

    result = CorpusLoad()
    for file in scan_corpus(root, max_file_mb):
        doc, reason = try_load(file)
        if doc is None:
            result.skipped.append((file.rel, reason))
        else:
            result.documents.append(doc)
    if not result.documents:
        raise empty_corpus_error(Path(root), result.skipped)
    return result


def write_corpus(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


SAMPLE_DOCS = {
    "volcanoes.md": (
        "# Volcanoes of Iceland\n\n"
        "- Hekla is one of the most active volcanoes in Iceland. It erupted in 2000.\n"
        "- The [Eyjafjallajokull](https://example.org) eruption of 2010 closed European airspace for six days.\n\n"
        "Monitoring\n\n"
        "The Icelandic Meteorological Office monitors seismic activity with 70 stations.\n"
    ),
    "bridges.txt": (
        "Famous Bridges\n\n"
        "The Golden Gate Bridge opened in 1937. Its main span is 1,280 metres long.\n"
        "The Tower Bridge in London was completed in 1894 after eight years of work.\n"
    ),
}


@pytest.fixture
def small_settings(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    return load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})


@pytest.fixture(scope="session")
def real_embedder():
    from bot.search.embedding import Embedder

    embedder = Embedder("sentence-transformers/all-MiniLM-L6-v2")
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def tiny_qa_model(tmp_path_factory):
    """A randomly initialised 2-layer BERT QA model with the real tokenizer: no download."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering
    import torch

    from bot.model_paths import packaged_model_dir

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir("all-MiniLM-L6-v2")))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    model = BertForQuestionAnswering(config)
    folder = tmp_path_factory.mktemp("tiny-qa")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def seed_corpus(tmp_path):
    """A copy of the project's default corpus folder (whatever documents it holds)."""
    target = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", target)
    return target


def deny_writes(monkeypatch, folder: Path, code: int = errno.EACCES) -> None:
    """Every open() for writing inside `folder` fails, as for a user without write rights there
    (or, `code` errno.EROFS, on a read-only file system such as a container's read-only volume)."""
    import builtins

    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if str(file).startswith(str(folder)) and any(m in mode for m in "wax+"):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_open)
