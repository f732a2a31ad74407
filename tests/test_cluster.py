"""Index and evaluate on a real local Ray cluster, started here and stopped afterwards: the
results must equal the local ones."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def cluster(onnx_cache):
    import ray

    # A short folder: Ray's socket paths must stay under the operating system's length limit.
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp,
             runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "BOT_ONNX_CACHE": str(onnx_cache)}})
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _mixed_corpus(folder: Path, n: int = 200) -> list[tuple[str, str]]:
    """n documents from SQuAD train paragraphs as .txt, .md, .html and .docx; returns
    (question, answer) pairs about them."""
    from docx import Document as WordDocument

    data = json.loads((SHARED / "data" / "squad" / "train" / "part-00.json").read_text())
    paragraphs = [(a["title"], p) for a in data["data"] for p in a["paragraphs"]][:n]
    folder.mkdir(parents=True)
    questions = []
    for i, (title, p) in enumerate(paragraphs):
        text, kind = p["context"], ("txt", "md", "html", "docx")[i % 4]
        name = folder / f"doc{i:03d}.{kind}"
        if kind == "txt":
            name.write_text(f"{title}\n\n{text}\n")
        elif kind == "md":
            name.write_text(f"# {title}\n\n{text}\n")
        elif kind == "html":
            name.write_text(f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>")
        else:
            doc = WordDocument()
            doc.add_heading(title, level=1)
            doc.add_paragraph(text)
            doc.save(name)
        if i % 10 == 0:
            qa = p["qas"][0]
            questions.append((qa["question"], qa["answers"][0]["text"]))
    return questions


def _index(settings, embedder, processor=None):
    from bot.search.index import sync_index

    return sync_index(settings, embedder, processor=processor)


@pytest.fixture(scope="module")
def built(cluster, tmp_path_factory):
    """The same 200-document corpus indexed locally and on the cluster."""
    from bot.cluster.indexing import RayProcessor
    from bot.search.embedding import make_embedder

    root = tmp_path_factory.mktemp("cluster")
    questions = _mixed_corpus(root / "corpus")
    local_settings = load_settings({"corpus_dir": root / "corpus", "index_dir": root / "local-index"}, environ={})
    ray_settings = load_settings({"corpus_dir": root / "corpus", "index_dir": root / "ray-index"}, environ={})
    embedder = make_embedder(local_settings.embedding_model, local_settings.embedding_backend)
    local = _index(local_settings, embedder)
    # Half a CPU per actor: the cluster keeps room for the parsing tasks and the evaluation actors.
    processor = RayProcessor(ray_settings.embedding_model, ray_settings.embedding_backend, workers=2,
                             cpus_per_worker=0.5)
    distributed = _index(ray_settings, embedder, processor)
    return {"root": root, "questions": questions, "local": local, "ray": distributed, "processor": processor,
            "embedder": embedder, "local_settings": local_settings, "ray_settings": ray_settings}


def test_a_ray_build_equals_the_local_build(built):
    local, distributed = built["local"], built["ray"]
    assert len(local.manifest["documents"]) == 200 == len(distributed.manifest["documents"])
    assert [(c.doc_id, c.start, c.end, c.text) for c in local.chunks] == \
           [(c.doc_id, c.start, c.end, c.text) for c in distributed.chunks]
    assert np.abs(local.vectors - distributed.vectors).max() < 1e-5
    assert local.manifest["embedding_backend"] == distributed.manifest["embedding_backend"]
    assert distributed.report.embedded_chunks == len(distributed.chunks)
    assert built["processor"].last_run["workers"] == 2


def test_answers_and_citations_from_a_ray_index_equal_the_local_ones(built):
    from bot.pipeline import Bot

    local_bot, ray_bot = Bot(built["local_settings"]), Bot(built["ray_settings"])
    questions = [q for q, _ in built["questions"]][:20]
    assert len(questions) == 20
    for a, b in zip(local_bot.ask_many(questions), ray_bot.ask_many(questions)):
        assert (a.answer, a.abstained) == (b.answer, b.abstained)
        assert [(c.doc, c.start, c.end) for c in a.citations] == [(c.doc, c.start, c.end) for c in b.citations]
        assert [(p.chunk.doc_id, p.chunk.start) for p in a.passages] == \
               [(p.chunk.doc_id, p.chunk.start) for p in b.passages]


def test_editing_one_document_re_embeds_only_its_chunks_on_ray(built):
    settings = built["ray_settings"]
    doc = settings.corpus_dir / "doc001.md"
    doc.write_text(doc.read_text() + "\nA sentence added later, about the lighthouse keeper's dog.\n")
    index = _index(settings, built["embedder"], built["processor"])
    assert index.report.changed == ["doc001.md"]
    assert index.report.embedded_chunks == sum(1 for c in index.chunks if c.doc_id == "doc001.md")
    assert len(index.report.reused) == 199


def test_a_killed_embedding_actor_leaves_the_same_index_a_local_build_makes_or_none(built):
    root = built["root"]
    settings = load_settings({"corpus_dir": root / "corpus", "index_dir": root / "kill-index"}, environ={})
    outcome: dict = {}

    def build():
        try:
            outcome["index"] = _index(settings, built["embedder"], built["processor"])
        except Exception as exc:  # a clean failure is allowed; a half-written index is not
            outcome["error"] = exc

    worker = threading.Thread(target=build)
    worker.start()
    killed = _kill_one_embedding_actor(timeout=120)
    worker.join(timeout=300)
    assert killed and not worker.is_alive()
    if "index" in outcome:  # recovered: the same index a local build makes of the same folder
        from bot.search.embedding import make_embedder

        local_settings = built["local_settings"]
        reference = _index(local_settings, make_embedder(local_settings.embedding_model,
                                                         local_settings.embedding_backend))
        # An incremental sync may order chunks differently from a fresh build: compare by place.
        ours, theirs = _vectors_by_place(outcome["index"]), _vectors_by_place(reference)
        assert ours.keys() == theirs.keys()
        assert max(np.abs(ours[k] - theirs[k]).max() for k in ours) < 1e-5
    else:  # failed cleanly: nothing published
        assert not (settings.index_dir / "manifest.json").exists()


def _kill_one_embedding_actor(timeout: float) -> bool:
    """SIGKILL the process of one embedding actor once it is embedding (Ray names the process
    after the actor's method: "ray::MapWorker(MapBatches(_EmbedRows)).submit")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"_EmbedRows)).submit" in title:
                os.kill(int(pid), signal.SIGKILL)
                return True
        time.sleep(0.05)
    return False


def _vectors_by_place(index) -> dict:
    return {(c.doc_id, c.start, c.end, c.text): index.vectors[row] for row, c in enumerate(index.chunks)}


def test_bot_eval_on_ray_gives_the_local_metrics(cluster, tmp_path, seed_corpus):
    from bot.cluster.evaluation import ray_spreader
    from bot.evaluation import load_dataset, run_evaluation

    settings = load_settings({"corpus_dir": seed_corpus, "index_dir": tmp_path / "index"}, environ={})
    dataset = load_dataset(SHARED / "eval" / "seed_dev.jsonl")
    local = run_evaluation(dataset, settings, "corpus").metrics
    distributed = run_evaluation(dataset, settings, "corpus", batch_size=8,
                                 spread=ray_spreader(workers=2, cpus_per_worker=0.5)).metrics
    for key in ("exact_match", "f1", "answered", "retrieval", "has_answer", "no_answer", "failures"):
        assert local[key] == distributed[key], key


@pytest.mark.parametrize("command", [["index"], ["eval", str(SHARED / "eval" / "seed_dev.jsonl")]])
def test_a_bad_worker_count_is_refused_before_any_cluster_starts(command):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bot", *command, "--ray", "--ray-workers", "0"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --ray-workers must be >= 1 (got 0)"


@pytest.mark.parametrize("address,reason", [("garbage", "Invalid address format"),
                                            ("ray://127.0.0.1:1", "ray[client]")])
def test_an_unusable_cluster_address_is_a_one_line_error(tmp_path, address, reason):
    import subprocess
    import sys

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Some text.")
    out = subprocess.run([sys.executable, "-m", "bot", "index", "--ray", address, "--corpus", str(tmp_path / "corpus"),
                          "--index", str(tmp_path / "index")], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 2 and not (tmp_path / "index" / "manifest.json").exists()
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot use the Ray cluster address {address!r}") and reason in last


def test_a_cluster_that_does_not_answer_is_a_one_line_error_at_once(tmp_path):
    """Ray retries an unreachable address for minutes in silence; the bot says so in seconds."""
    import subprocess
    import sys
    import time

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Some text.")
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "bot", "index", "--ray", "127.0.0.1:1", "--corpus",
                          str(tmp_path / "corpus"), "--index", str(tmp_path / "index")], cwd=REPO,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 2 and time.monotonic() - began < 60
    assert out.stderr.strip().splitlines()[-1] == "error: cannot reach the Ray cluster at '127.0.0.1:1': Connection refused"
