"""Many clients at once against the running chat page, with a document uploaded in the middle.

16 clients × 25 questions through gradio_client's /ask (override with LOAD_TEST_CLIENTS and
LOAD_TEST_QUESTIONS for a quick run). Questions come from the corpus itself (its headings and
sentences) plus questions it cannot answer. Latency figures are printed and written to
tests/artifacts/load.json; they depend on how busy the machine is, so only errors are asserted.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time

import pytest

from tests.conftest import load_corpus
from bot.search.index import IndexStore
from bot.evaluation.metrics import percentile
from tests.server_helper import REPO, shared_server, upload_file

CLIENTS = int(os.environ.get("LOAD_TEST_CLIENTS", "16"))
QUESTIONS_PER_CLIENT = int(os.environ.get("LOAD_TEST_QUESTIONS", "25"))
# The page answers one question at a time, so a question may wait behind one from every other client.
QUESTION_TIMEOUT_S = 300
ARTIFACT = REPO / "tests" / "artifacts" / "load.json"
RESPONSE_KEYS = {"question", "answer", "abstained", "score", "citations", "passages", "timings_ms"}

UNANSWERABLE = [
    "What is the boiling point of liquid nitrogen?",
    "Who painted the ceiling of the Sistine Chapel?",
    "How many moons does Neptune have?",
    "What is the best recipe for sourdough bread?",
    "Which team won the 1966 football World Cup?",
    "What is the airspeed velocity of an unladen swallow?",
]
UPLOAD_NAME = "load-test-observatory.txt"
UPLOAD_TEXT = ("Kestrel Hill Observatory\n\n"
               "The Kestrel Hill Observatory was founded in 1931 by Ilse Brandt. "
               "Its main telescope has a mirror sixty centimetres wide.\n")
UPLOAD_QUESTION = "Who founded the Kestrel Hill Observatory?"

pytestmark = [pytest.mark.load, pytest.mark.models]


def corpus_questions(corpus) -> list[str]:
    """Questions about whatever the corpus holds: one per heading, one per sentence of some length."""
    questions = []
    for doc in load_corpus(corpus).documents:
        questions += [f"What does the document say about {heading}?" for _, heading in doc.headings if heading]
        for sentence in re.split(r"(?<=[.!?])\s+", doc.text):
            words = re.findall(r"[\w'’-]+", sentence)
            if 8 <= len(words) <= 60:
                questions.append(f"What do the documents say about {' '.join(words[:9])}?")
    return list(dict.fromkeys(questions))


def plan(questions: list[str], seed: int) -> list[tuple[str, list[str] | None, int | None]]:
    """One client's (question, history, top_k) list: mostly corpus questions, about one in five
    unanswerable, some follow-ups with a history and some with their own top_k."""
    rng = random.Random(seed)
    asked: list[str] = []
    out = []
    for _ in range(QUESTIONS_PER_CLIENT):
        question = rng.choice(UNANSWERABLE) if rng.random() < 0.2 else rng.choice(questions)
        history = asked[-2:] if asked and rng.random() < 0.2 else None
        top_k = rng.choice([None, None, 1, 3, 10])
        out.append((question, history, top_k))
        asked.append(question)
    return out


@pytest.fixture(scope="module")
def server(request):
    return shared_server(request.config)


def test_concurrent_clients_and_an_upload_get_no_errors(server):
    from gradio_client import Client

    pool = corpus_questions(server.corpus)
    assert len(pool) >= 5, "the corpus gives too few questions for a load test"
    total = CLIENTS * QUESTIONS_PER_CLIENT
    lock = threading.Lock()
    results: list[dict] = []  # one per question: latency, response or error
    upload: dict = {}
    blocked_before = len(server.blocked_attempts())

    def client_run(n: int) -> None:
        try:
            client = Client(server.url, verbose=False)
        except Exception as exc:  # counted as errors for every question this client would ask
            with lock:
                results.extend({"error": f"client {n}: {type(exc).__name__}: {exc}"} for _ in range(QUESTIONS_PER_CLIENT))
            return
        for i, (question, history, top_k) in enumerate(plan(pool, seed=n)):
            t0 = time.perf_counter()
            try:
                response = client.submit(question, history, top_k, api_name="/ask").result(timeout=QUESTION_TIMEOUT_S)
                missing = RESPONSE_KEYS - set(response)
                record = {"response": response} if not missing else {"error": f"keys missing: {missing}"}
            except Exception as exc:  # an AppError, a timeout or a dropped connection: all errors here
                record = {"error": f"client {n} question {i} ({question[:60]!r}): {type(exc).__name__}: {exc}"}
            record.update(latency=time.perf_counter() - t0, finished=time.perf_counter())
            with lock:
                results.append(record)

    def upload_run() -> None:
        deadline = time.monotonic() + QUESTION_TIMEOUT_S * QUESTIONS_PER_CLIENT
        while len(results) < total // 4 and time.monotonic() < deadline:  # a quarter of the way in
            time.sleep(0.2)
        upload["started"] = time.perf_counter()
        try:
            upload.update(upload_file(server.url, UPLOAD_NAME, UPLOAD_TEXT.encode(), timeout=QUESTION_TIMEOUT_S))
        except Exception as exc:
            upload["error"] = f"{type(exc).__name__}: {exc}"
        upload["finished"] = time.perf_counter()

    threads = [threading.Thread(target=client_run, args=(n,), daemon=True) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=upload_run, daemon=True))
    load_start = time.perf_counter()
    for t in threads:
        t.start()
    # Each client stops by itself after its questions; the overall deadline only guards a hang.
    deadline = time.monotonic() + QUESTION_TIMEOUT_S * (QUESTIONS_PER_CLIENT + 1)
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "the load did not finish in time"
    load_end = max(r["finished"] for r in results)
    wall = load_end - load_start

    errors = [r["error"] for r in results if "error" in r]
    responses = [r["response"] for r in results if "response" in r]
    latencies = [r["latency"] for r in results if "response" in r]
    server_ms = [r["timings_ms"]["total"] for r in responses]
    figures = {
        "clients": CLIENTS, "questions_per_client": QUESTIONS_PER_CLIENT, "questions": len(results),
        "errors": len(errors), "answered": sum(not r["abstained"] for r in responses),
        "refused": sum(r["abstained"] for r in responses),
        "latency_s": {"p50": _round(percentile(latencies, 50)), "p95": _round(percentile(latencies, 95)),
                      "max": _round(max(latencies, default=None))},
        "server_ms_per_question": {"p50": _round(percentile(server_ms, 50), 1), "p95": _round(percentile(server_ms, 95), 1)},
        "wall_s": round(wall, 1), "questions_per_s": round(len(results) / wall, 2),
        "upload_s": _round(upload["finished"] - upload["started"]) if "started" in upload else None,
        "reader": "sentence mode (no bundled reader)" if "bundled reader is missing" in server.startup_log
                  else "the bundled reader",
        "cpu_count": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": "client-side latency includes the wait in the page's queue (one question at a time); "
                "timings depend on other work running on the machine",
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"\nload: {figures['questions']} questions from {CLIENTS} clients in {figures['wall_s']}s, "
          f"latency p50 {figures['latency_s']['p50']}s p95 {figures['latency_s']['p95']}s, "
          f"{len(errors)} errors, upload {figures['upload_s']}s")

    assert not errors, f"{len(errors)} errors, first ones:\n" + "\n".join(errors[:5])
    assert len(responses) == total
    assert figures["answered"] > 0, "every question was refused: the corpus questions found nothing"

    # The upload went through while questions were still being answered...
    assert "error" not in upload and upload["outputs"] and 'class="qa-ok"' in upload["outputs"][0], upload
    assert load_start < upload["started"] and upload["finished"] < load_end, "the upload did not overlap the load"
    # ...and left a consistent index: every file checks out and the new document is answerable.
    store = IndexStore(server.index)
    manifest = store.read_manifest()
    store.verify_files(manifest)
    assert UPLOAD_NAME in manifest["documents"]
    answer = Client(server.url, verbose=False).predict(UPLOAD_QUESTION, api_name="/ask")
    assert not answer["abstained"] and answer["citations"][0]["doc"] == UPLOAD_NAME, answer
    assert "Ilse Brandt" in answer["answer"] + answer["citations"][0]["quote"]

    # Every answer given during the swap quotes its document exactly where it says.
    documents = {d.doc_id: d for d in load_corpus(server.corpus).documents}
    for response in responses:
        for c in response["citations"]:
            text = documents[c["doc"]].text
            assert text[c["start"]:c["end"]].lower().strip() == response["answer"].lower().strip()
            assert text[c["quote_start"]:c["quote_end"]] == c["quote"]
    assert server.blocked_attempts()[blocked_before:] == [], "the server tried to reach the network"


def _round(value, digits: int = 2):
    return None if value is None else round(value, digits)
