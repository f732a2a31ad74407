"""The cheapest benchmarks run end to end at toy sizes and print the JSON they promise.
(Timings are not checked: a test cannot know how busy the machine is.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SQUAD_TRAIN = REPO.parent / "shared" / "data" / "squad" / "train"

pytestmark = [pytest.mark.models,
              pytest.mark.skipif(not any(SQUAD_TRAIN.glob("part-*.json")), reason=f"no SQuAD train shards in {SQUAD_TRAIN}")]


def run_bench(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)  # stdout holds exactly one JSON object
    assert {"benchmark", "figures", "targets", "machine", "runs", "settings", "data"} <= result.keys()
    assert {"cpu_model", "logical_cores", "torch_threads"} <= result["machine"].keys()
    for check in result["targets"].values():
        assert {"value", "target", "met"} <= check.keys()
    return result


def test_scale_smoke():
    result = run_bench("scale.py", "--passages", "2000", "--base", "100", "--queries", "20", "--quick", "--cache", "")
    figures = result["figures"]
    assert figures["index_type"] == "IndexFlatIP"  # below the HNSW threshold the bot searches exactly
    assert figures["recall_at_10"] == 1.0
    assert figures["search_ms"]["n"] == 20
    assert figures["memory"]["index_file_bytes"] >= 2000 * 384 * 4
    assert "DERIVED" in result["data"]["vectors"]


def test_indexing_smoke():
    result = run_bench("indexing.py", "--docs", "5", "--quick")
    figures = result["figures"]
    assert figures["full_build"]["documents"] == 5
    assert figures["full_build"]["chunks"] == figures["full_build"]["embedded_chunks"] > 0
    assert figures["unchanged_resync_embedded_chunks"] == 0
    incremental = figures["incremental"]
    assert incremental["re_embedded_chunks"] == incremental["edited_document_chunks"]
    assert result["targets"]["incremental_re_embeds_only_the_edited_document"]["met"] is True


def test_replicas_smoke():
    result = run_bench("replicas.py", "--quick")
    row = result["figures"]["by_replicas"]["1"]
    assert row["latency_ms"]["n"] == 8 and row["questions_per_s"] > 0


def test_bm25_load_smoke():
    result = run_bench("bm25_load.py", "--quick")
    row = result["figures"]["by_chunks"]["2000"]
    assert row["identical_results"] is True and result["targets"]["identical_results"]["met"] is True
    assert row["stored_bytes"] > 0 and row["stored_load_s"]["n"] == row["rebuilt_s"]["n"] == 1
