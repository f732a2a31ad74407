"""The ONNX Runtime backends: the same tokens, the same scores (fp32) as torch, checked copies in
the cache, a measured choice, an index that knows which backend made its vectors, and a
`bot ask` that never imports torch when both models run on ONNX Runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_settings
from bot.model_paths import BUNDLED_READER_DIR
from bot.types import ReadItem

REPO = Path(__file__).resolve().parents[1]

PASSAGES = [
    "The lighthouse on Skerry Point was built in 1872 by the harbour board. It stands 31 metres tall "
    "and its lamp, first fuelled by paraffin, was electrified in 1951.",
    "Ferries leave the north quay every forty minutes in summer (hourly in winter); tickets cost "
    "€4.50 for adults, and children under twelve travel free. " * 12,  # longer than one window
    "Naïve café owners — and their “résumé” — appear here with odd spacing:\n\n  tabs\tand  gaps.",
]
QUESTIONS = [
    "When was the lighthouse built?",
    "How much does a ferry ticket cost for an adult traveller on the north quay route in summer, "
    "and how often do the boats leave when the weather is fine and the sea is calm? " * 3,  # > 64 pieces
    "Who owns the café?",
]


def _items(texts):
    return [ReadItem(text=t, doc_id=f"d{i}", offset=0, passage_index=i) for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def torch_reader():
    from bot.read.transformer import TransformerReader

    reader = TransformerReader(str(BUNDLED_READER_DIR))
    reader.warm_up()
    reader._bf16 = False  # compare against exact fp32 arithmetic
    return reader


@pytest.mark.models
def test_onnx_reader_cuts_the_same_windows_as_the_transformers_tokenizer(torch_reader):
    from bot.read.onnx_reader import OnnxReader

    onnx = OnnxReader(str(BUNDLED_READER_DIR), precision="fp32")
    onnx.warm_up()
    for question in QUESTIONS:
        assert onnx.truncate_question(question) == torch_reader.truncate_question(question)
        q = torch_reader.truncate_question(question)
        ours, theirs = onnx.tokenize([q] * 3, PASSAGES), torch_reader.tokenize([q] * 3, PASSAGES)
        assert ours.pair_of_window == theirs.pair_of_window
        assert len(ours) > 3  # the long passage overflowed into more windows
        assert set(ours.inputs) == set(theirs.inputs)
        for name in ours.inputs:
            assert np.array_equal(ours.inputs[name], theirs.inputs[name]), name
        assert np.array_equal(ours.context_mask, theirs.context_mask)
        assert ours.offsets == theirs.offsets


@pytest.mark.models
def test_onnx_fp32_reader_scores_as_torch_fp32_does(torch_reader):
    from bot.read.onnx_reader import OnnxReader

    onnx = OnnxReader(str(BUNDLED_READER_DIR), precision="fp32")
    for question in QUESTIONS:
        a, b = torch_reader.read(question, _items(PASSAGES)), onnx.read(question, _items(PASSAGES))
        assert [(s.doc_id, s.start, s.end) for s in a.spans] == [(s.doc_id, s.start, s.end) for s in b.spans]
        assert np.allclose([s.score for s in a.spans], [s.score for s in b.spans], atol=1e-3)
        for field in ("best_null", "min_null", "group_null", "log_norm"):
            assert getattr(a, field) == pytest.approx(getattr(b, field), abs=1e-3)


@pytest.mark.models
def test_onnx_int8_reader_holds_int8_weights_and_still_reads(torch_reader):
    from bot.accel.cache import onnx_copy
    from bot.read.onnx_reader import OnnxReader

    onnx = OnnxReader(str(BUNDLED_READER_DIR), precision="int8")
    result = onnx.read(QUESTIONS[0], _items(PASSAGES))
    assert result.spans and "1872" in result.spans[0].text
    # The transformer's weight matrices are int8; the word embeddings stay fp32.
    assert onnx.onnx_model.size_bytes < 0.7 * onnx_copy(BUNDLED_READER_DIR, "reader", "fp32").size_bytes


@pytest.mark.models
def test_onnx_embedder_gives_sentence_transformers_vectors(real_embedder):
    from bot.search.onnx_embedding import OnnxEmbedder

    texts = PASSAGES + QUESTIONS + ["", "x"]
    expected = real_embedder.encode(texts)
    fp32 = OnnxEmbedder(real_embedder.model_name, precision="fp32")
    assert fp32.dimension == real_embedder.dimension
    assert np.abs(fp32.encode(texts) - expected).max() < 1e-5
    int8 = OnnxEmbedder(real_embedder.model_name, precision="int8")
    vectors = int8.encode(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * expected).sum(axis=1).min() > 0.95
    # Batching and order do not change a text's vector: alone, reversed, or among others.
    assert np.allclose(int8.encode(texts[::-1])[::-1], vectors, atol=1e-6)
    alone = np.stack([int8.encode([text])[0] for text in texts])
    assert np.abs(alone - vectors).max() < 1e-6


def test_the_onnx_embedder_refuses_a_model_it_cannot_pool(tmp_path):
    from bot.errors import ModelError
    from bot.search.onnx_embedding import OnnxEmbedder

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Dense", "type": "sentence_transformers.models.Dense"}]))
    with pytest.raises(ModelError, match="--embedding-backend torch"):
        OnnxEmbedder(str(tmp_path)).warm_up()


@pytest.mark.models
def test_a_copy_that_fails_its_checksum_is_rebuilt_and_a_changed_model_gets_a_new_copy(tiny_qa_model, tmp_path,
                                                                                     monkeypatch):
    import shutil

    from bot.accel.cache import onnx_copy

    monkeypatch.setenv("BOT_ONNX_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    shutil.copytree(tiny_qa_model, model)
    first = onnx_copy(model, "reader", "int8", notify=None)
    assert onnx_copy(model, "reader", "int8", build=False).sha256 == first.sha256
    with first.path.open("r+b") as f:  # flip bytes in the middle of the file
        f.seek(first.size_bytes // 2)
        f.write(b"\x00\x01\x02\x03")
    messages = []
    again = onnx_copy(model, "reader", "int8", notify=messages.append)
    assert any("checksum" in m for m in messages) and any("building" in m for m in messages)
    assert again.sha256 == first.sha256  # the export is reproducible
    # Nothing half-built is left beside the copies.
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    os.utime(model / "config.json", ns=(1, 1))
    assert onnx_copy(model, "reader", "int8", notify=None).path.parent != first.path.parent


def test_a_missing_copy_is_built_only_when_allowed(tiny_qa_model, tmp_path, monkeypatch):
    from bot.accel.cache import onnx_copy
    from bot.errors import ModelError

    monkeypatch.setenv("BOT_ONNX_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError, match="bot export-onnx"):
        onnx_copy(tiny_qa_model, "reader", "fp32", build=False)


def test_a_cache_that_cannot_be_written_is_one_line_naming_the_way_out(tiny_qa_model, tmp_path, monkeypatch):
    from bot.accel.cache import onnx_copy
    from bot.errors import ModelError

    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.setenv("BOT_ONNX_CACHE", str(tmp_path / "afile"))
    with pytest.raises(ModelError, match="cannot build the ONNX reader in .*afile.*BOT_ONNX_CACHE.*BOT_READER_BACKEND=torch"):
        onnx_copy(tiny_qa_model, "reader", "fp32", notify=None)


@pytest.mark.models
def test_auto_measures_once_then_remembers(tiny_qa_model, monkeypatch):
    from bot.accel import choice

    # A quiet machine, whatever else runs beside the tests: a busy one's choice is not kept (below).
    monkeypatch.setattr(choice, "_busy_cpu_seconds", lambda cpus: 0.0)
    record = choice.measure_reader_backends(tiny_qa_model, ("torch", "onnx-fp32", "onnx-int8"), rounds=2,
                                            notify=lambda m: None)
    assert set(record["median_ms"]) == {"torch", "onnx-fp32", "onnx-int8"}
    assert record["backend"] in choice.AUTO_CANDIDATES
    # the fastest (the times are stored rounded: two may tie there, where the unrounded ones did not)
    assert record["median_ms"][record["backend"]] == min(record["median_ms"][b] for b in choice.AUTO_CANDIDATES)
    monkeypatch.setattr(choice, "measure_reader_backends", lambda *a, **k: pytest.fail("measured again"))
    assert choice.reader_backend_for(tiny_qa_model) == record["backend"]


@pytest.mark.models
def test_a_choice_measured_on_a_busy_machine_is_not_remembered(tiny_qa_model, monkeypatch):
    from bot.accel import choice

    choice._choice_file(tiny_qa_model).unlink(missing_ok=True)  # the cache is shared by the session
    # Other processes kept every core busy while the backends were timed.
    readings = iter([0.0, 1e6])
    monkeypatch.setattr(choice, "_busy_cpu_seconds", lambda cpus: next(readings))
    notes = []
    record = choice.measure_reader_backends(tiny_qa_model, ("torch", "onnx-int8"), rounds=1, notify=notes.append)
    assert record["other_load"] > choice.BUSY_SHARE and record["backend"] in ("torch", "onnx-int8")
    assert choice.remembered_choice(tiny_qa_model) is None
    assert "measured again next time" in notes[0]
    # A quiet machine's choice is kept.
    monkeypatch.setattr(choice, "_busy_cpu_seconds", lambda cpus: 0.0)
    record = choice.measure_reader_backends(tiny_qa_model, ("torch", "onnx-int8"), rounds=1, notify=notes.append)
    assert record["other_load"] == 0.0 and choice.remembered_choice(tiny_qa_model)["backend"] == record["backend"]


def test_busy_cpu_time_counts_this_process_too(monkeypatch):
    import time

    from bot.accel import choice

    cpus = choice._usable_cpus()
    before, own = choice._busy_cpu_seconds(cpus), time.process_time()
    if before is None:
        pytest.skip("no /proc/stat here")
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        pass
    # All cores' busy time includes ours (to a clock tick), so ours can be taken out of it.
    assert choice._busy_cpu_seconds(cpus) - before >= time.process_time() - own - 0.05
    # With nothing but this process busy, other processes' share is nil.
    monkeypatch.setattr(choice, "_busy_cpu_seconds", lambda cpus: time.process_time() + 100.0)
    with choice._OtherLoad() as load:
        deadline = time.perf_counter() + 0.1
        while time.perf_counter() < deadline:
            pass
    assert load.share < 0.01


def test_changing_the_embedding_backend_rebuilds_the_index(tmp_path, fake_embedder):
    from bot.search.index import sync_index
    from tests.conftest import SAMPLE_DOCS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    fake_embedder.backend = "torch"
    sync_index(settings, fake_embedder)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["embedding_backend"] == "torch"
    assert not sync_index(settings, fake_embedder).report.rebuilt_reason
    fake_embedder.backend = "onnx-int8"
    report = sync_index(settings, fake_embedder).report
    assert "embedding_backend" in report.rebuilt_reason
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["embedding_backend"] == "onnx-int8"


@pytest.mark.models
def test_the_index_records_which_onnx_copy_made_its_vectors(tmp_path):
    from bot.search.index import sync_index
    from bot.search.onnx_embedding import OnnxEmbedder
    from tests.conftest import SAMPLE_DOCS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    embedder = OnnxEmbedder(settings.embedding_model, precision="int8")
    sync_index(settings, embedder)
    recorded = json.loads((tmp_path / "index" / "manifest.json").read_text())["embedding_backend"]
    assert recorded == f"onnx-int8 {embedder.onnx_model.sha256[:16]} pad32"


def test_an_index_from_before_backends_were_recorded_counts_as_torch(tmp_path, fake_embedder):
    from bot.search.index import sync_index
    from tests.conftest import SAMPLE_DOCS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    sync_index(settings, fake_embedder)
    path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["embedding_backend"]
    path.write_text(json.dumps(manifest))
    assert not sync_index(settings, fake_embedder).report.rebuilt_reason


@pytest.mark.parametrize("flag", ["--reader-backend", "--embedding-backend"])
def test_an_unknown_backend_is_a_one_line_usage_error(flag):
    out = subprocess.run([sys.executable, "-m", "bot", "ask", flag, "cuda-fp8", "hello"], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.models
def test_bot_ask_on_onnx_backends_never_imports_torch(tmp_path, seed_corpus):
    """The one-shot path: both models on ONNX Runtime, so neither torch nor transformers nor
    sentence-transformers is imported (they cost seconds at start-up)."""
    from bot.accel.cache import onnx_copy
    from bot.model_paths import packaged_model_dir

    # Building a copy needs torch; that happens once, here, before the measured process.
    onnx_copy(BUNDLED_READER_DIR, "reader", "int8", notify=None)
    onnx_copy(packaged_model_dir("all-MiniLM-L6-v2"), "embedder", "int8", notify=None)
    env = {**os.environ, "BOT_READER_BACKEND": "onnx-int8", "BOT_EMBEDDING_BACKEND": "onnx-int8",
           "BOT_CORPUS_DIR": str(seed_corpus), "BOT_INDEX_DIR": str(tmp_path / "index")}
    probe = ("import sys, json; from bot.cli.main import main; code = main(['ask', '--json', "
             "'What is this document about?']); heavy = [m for m in ('torch', 'transformers', "
             "'sentence_transformers') if m in sys.modules]; print(json.dumps(heavy), file=sys.stderr); "
             "sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
    assert "question" in json.loads(out.stdout)
