"""Answering replicas (bot/replicas.py): N processes over the published index, one writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import UsageError
from tests.conftest import FakeEmbedder, SAMPLE_DOCS, write_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (SHARED / "eval" / "seed_dev.jsonl").read_text().splitlines() if line.strip()]
    return [row["question"] for row in rows][:n]


def _shape(response) -> tuple:
    return (response.answer, response.abstained, [(c.doc, c.start, c.end) for c in response.citations],
            [(p.chunk.doc_id, p.chunk.start) for p in response.passages])


@pytest.fixture(scope="module")
def served(tmp_path_factory, onnx_cache):
    """The default corpus, indexed by a writer Bot, answered by a pool of two replicas."""
    import shutil

    from bot.pipeline import Bot
    from bot.replicas import ReplicaPool

    root = tmp_path_factory.mktemp("replicas")
    shutil.copytree(REPO / "corpus", root / "corpus")
    with pytest.MonkeyPatch.context() as env:  # what the replica processes inherit
        for key in [k for k in os.environ if k.startswith("BOT_")]:
            env.delenv(key)
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("BOT_ONNX_CACHE", str(onnx_cache))
        settings = load_settings({"corpus_dir": root / "corpus", "index_dir": root / "index"})
        writer = Bot(settings)
        writer.load_index()
        pool = ReplicaPool(settings, 2, threads_per_replica=1).start()
    yield writer, pool
    pool.close()


@pytest.mark.models
def test_replicas_answer_as_the_bot_itself_does(served):
    writer, pool = served
    questions = _questions(6)
    assert len(questions) == 6
    with ThreadPoolExecutor(4) as clients:  # concurrent questions each get their own answer back
        from_replicas = list(clients.map(pool.ask, questions))
    for question, response in zip(questions, from_replicas):
        assert response.question == question
        assert _shape(response) == _shape(writer.ask(question))
    assert len(set(pool.pids)) == 2 and os.getpid() not in pool.pids


@pytest.mark.models
def test_replicas_follow_a_generation_the_writer_publishes(served):
    writer, pool = served
    question = "Which bird nests on the cliffs of Skomer Island?"
    text = ("# Skomer Island\n\nThe Atlantic puffin nests on the cliffs of Skomer Island every spring, "
            "in burrows dug into the soil of the clifftops.\n")
    writer.add_document("skomer.md", text.encode())
    answers = [pool.ask(question) for _ in range(4)]  # both replicas, whichever takes each
    for response in answers:
        assert "puffin" in response.answer.lower()
        assert response.citations and response.citations[0].doc == "skomer.md"


@pytest.mark.models
def test_a_killed_replica_is_started_again(served):
    writer, pool = served
    dead = pool.pids[0]
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 300
    while pool.pids[0] == dead and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pool.pids[0] != dead
    questions = _questions(3)
    assert [_shape(pool.ask(q)) for q in questions] == [_shape(writer.ask(q)) for q in questions]


def test_a_read_only_bot_refuses_to_change_the_corpus(tmp_path):
    from bot.pipeline import Bot

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    Bot(settings, embedder=FakeEmbedder()).load_index()
    replica = Bot(settings, embedder=FakeEmbedder(), read_only=True)
    before = sorted(p.name for p in corpus.iterdir())
    with pytest.raises(UsageError, match="cannot change it"):
        replica.add_document("new.txt", b"New text about harbours.\n")
    with pytest.raises(UsageError, match="cannot change it"):
        replica.remove_document("bridges.txt")
    assert sorted(p.name for p in corpus.iterdir()) == before
    # documents edited on disk are left to the writer: the replica keeps the published generation
    (corpus / "bridges.txt").write_text("Harbours of the North Sea.\n")
    replica.load_index()
    assert not replica.refresh()
    assert "Golden Gate" in " ".join(c.text for c in replica.index.chunks)


def test_a_read_only_bot_without_an_index_says_to_build_one(tmp_path):
    from bot.errors import IndexStoreError
    from bot.pipeline import Bot

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    with pytest.raises(IndexStoreError, match="build it first"):
        Bot(settings, embedder=FakeEmbedder(), read_only=True).load_index()


def test_a_negative_replica_count_is_refused():
    out = subprocess.run([sys.executable, "app.py", "--replicas", "-1"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and out.stderr.strip() == "error: --replicas must be 0 or more (got -1)"


@pytest.mark.models
def test_replicas_exit_when_the_page_process_is_killed(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    script = f"""
import sys, time
from bot.config import load_settings
from bot.pipeline import Bot
from bot.replicas import ReplicaPool
settings = load_settings({{"corpus_dir": {str(corpus)!r}, "index_dir": {str(tmp_path / "index")!r}, "reader": "none"}})
Bot(settings).load_index()
pool = ReplicaPool(settings, 1, start_timeout_s=120).start()
print(pool.pids[0], flush=True)
time.sleep(600)
"""
    page = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        replica = int(page.stdout.readline())
    finally:
        page.kill()  # SIGKILL: the pool gets no chance to close
    page.wait(timeout=30)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{replica}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{replica}").exists()
