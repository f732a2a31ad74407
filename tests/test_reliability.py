"""The bot keeps working offline and never loses its index, whatever happens mid-build."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.index import IndexStore
from tests.conftest import REPO, SHARED, write_corpus

# Any attempt to open a non-loopback connection (or resolve a name) raises inside the child.
NETWORK_GUARD = textwrap.dedent("""
    import socket
    _real_connect = socket.socket.connect
    def _guarded(self, address, *a, **k):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            raise OSError("network disabled by test: " + repr(address))
        return _real_connect(self, address, *a, **k)
    socket.socket.connect = _guarded
    def _no_dns(*a, **k):
        raise OSError("DNS disabled by test")
    socket.getaddrinfo = _no_dns
    socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network disabled by test"))
""")


def _run_guarded(code: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "HF_"))} | env
    return subprocess.run([sys.executable, "-c", NETWORK_GUARD + textwrap.dedent(code)], cwd=REPO,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def test_indexing_and_answering_work_with_the_network_cut_off(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"facts.md": "# Facts\n\nThe lighthouse was built in 1874.\n"})
    env = {"BOT_CORPUS_DIR": str(corpus), "BOT_INDEX_DIR": str(tmp_path / "index")}
    result = _run_guarded("""
        import json, os, urllib.request
        try:
            urllib.request.urlopen("http://example.org", timeout=5)
            raise SystemExit("guard did not block the network")
        except OSError:
            pass
        from bot.pipeline import Bot
        r = Bot().ask("When was the lighthouse built?")
        print(json.dumps({"offline": os.environ.get("HF_HUB_OFFLINE"),
                          "analytics": os.environ.get("GRADIO_ANALYTICS_ENABLED"),
                          "answer": r.answer, "quote": r.citations[0].quote if r.citations else ""}))
    """, env)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["offline"] == "1" and out["analytics"] == "False"
    assert "1874" in out["answer"] + out["quote"]


def _squad_corpus(folder: Path, n_docs: int) -> Path:
    data = json.loads((SHARED / "data/squad/squad-v1.1-dev-part-a.json").read_text())
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]][:n_docs]
    return write_corpus(folder, {f"p{i:04d}.txt": text for i, text in enumerate(paragraphs)})


@pytest.mark.skipif(not (SHARED / "data/squad").exists(), reason="needs ../shared SQuAD data")
def test_sigkill_during_index_build_leaves_previous_index_intact(tmp_path):
    corpus = _squad_corpus(tmp_path / "corpus", 10)
    env = dict(os.environ, BOT_CORPUS_DIR=str(corpus), BOT_INDEX_DIR=str(tmp_path / "index"), BOT_READER="none")
    bot_cmd = [sys.executable, "-m", "bot"]
    subprocess.run(bot_cmd + ["index"], env=env, check=True, capture_output=True, timeout=300)
    store = IndexStore(tmp_path / "index")
    before = store.read_manifest()

    originals = {p.name for p in corpus.iterdir()}
    _squad_corpus(corpus, 400)  # many new documents: the next build takes a while
    proc = subprocess.Popen(bot_cmd + ["index"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=6)  # the model loads, then embedding starts; kill it in the middle
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    after = store.read_manifest()
    assert after["files"] == before["files"], "the manifest changed although the build was killed"
    store.verify_files(after)
    # Back to the original documents: the old index is used as it is, nothing re-embedded.
    for path in corpus.iterdir():
        if path.name not in originals:
            path.unlink()
    result = subprocess.run(bot_cmd + ["index"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "embedded 0 chunks" in result.stdout and "unchanged 10" in result.stdout
