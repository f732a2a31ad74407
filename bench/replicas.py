"""Questions per second through the chat page's /ask API with 0 (answers in the page's process),
1 and 2 answering replicas, in one run.

    .venv/bin/python bench/replicas.py [--replicas 0 1 2] [--clients 4] [--requests 80] [--save]

Each configuration starts `python app.py --replicas N` on a free port over the default corpus
(indexed once beforehand), waits for the page, sends a few warm-up questions, then has `--clients`
threads send `--requests` questions (seed_dev, cycled) through gradio_client and times them all.
Replicas share the machine's cores (OMP_NUM_THREADS = cores / replicas each), so on one machine
more replicas can only win what one process leaves idle; the figures say how much.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from _common import REPO, SEED_QUESTIONS, bench_settings, emit, log, parser, percentiles, target, temp_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_page(replicas: int, corpus, index, port: int, timeout_s: float = 900):
    """The page process and its start-up seconds, once it prints its address."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    command = [sys.executable, str(REPO / "app.py"), "--corpus", str(corpus), "--index", str(index),
               "--port", str(port), "--no-uploads", "--replicas", str(replicas)]
    t0 = time.perf_counter()
    page = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in page.stderr:
            lines.append(line.rstrip())
            if line.startswith("Chat page:"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout_s):
        page.kill()
        raise SystemExit(f"the page did not start: {lines[-5:]}")
    return page, time.perf_counter() - t0


def measure(url: str, questions: list[str], clients: int, requests: int) -> dict:
    from gradio_client import Client

    local = threading.local()

    def ask(question: str) -> float:
        if not hasattr(local, "client"):
            local.client = Client(url, verbose=False)
        t0 = time.perf_counter()
        answer = local.client.predict(question, None, 0, api_name="/ask")
        assert answer["question"] == question
        return (time.perf_counter() - t0) * 1000

    work = [questions[i % len(questions)] for i in range(requests)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(ask, questions[: clients * 2]))  # warm-up: every client connected, every replica used
        t0 = time.perf_counter()
        latencies = list(pool.map(ask, work))
        wall = time.perf_counter() - t0
    return {"questions_per_s": round(requests / wall, 2), "wall_s": round(wall, 2),
            "latency_ms": percentiles(latencies, 1)}


def main() -> int:
    started = time.perf_counter()
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, nargs="+", default=[0, 1, 2], help="configurations (default 0 1 2)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    p.add_argument("--requests", type=int, default=80, help="timed questions per configuration (default 80)")
    args = p.parse_args()
    if args.quick:
        args.replicas, args.requests, args.clients = [1], 8, 2

    from bot.pipeline import Bot

    questions = [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    work = temp_dir("replicas")
    settings = bench_settings(corpus_dir=REPO / "corpus", index_dir=work / "index")
    Bot(settings).load_index()  # indexed once: every page below starts from the same generation
    rows = {}
    for replicas in args.replicas:
        port = free_port()
        page, startup = start_page(replicas, settings.corpus_dir, settings.index_dir, port)
        try:
            row = measure(f"http://127.0.0.1:{port}/", questions, args.clients, args.requests)
        finally:
            page.terminate()
            try:
                page.wait(timeout=30)
            except subprocess.TimeoutExpired:
                page.kill()
        row["page_start_s"] = round(startup, 1)
        rows[str(replicas)] = row
        log(f"{replicas} replicas: {row}")
    figures = {"by_replicas": rows}
    targets = {}
    if "1" in rows and "2" in rows:
        ratio = round(rows["2"]["questions_per_s"] / rows["1"]["questions_per_s"], 2)
        figures["two_vs_one_replica"] = ratio
        targets["two_replicas_vs_one"] = target(ratio, ">=", 1.0, "x the questions per second")
    result = {
        "figures": figures,
        "targets": targets,
        "runs": 1,
        "settings": {"clients": args.clients, "requests": args.requests, "replicas": args.replicas,
                     "reader_backend": settings.reader_backend, "embedding_backend": settings.embedding_backend,
                     "threads_per_replica": {str(n): max(1, (os.cpu_count() or 1) // n) for n in args.replicas if n}},
        "data": {"corpus": str(settings.corpus_dir), "questions": f"{SEED_QUESTIONS} ({len(questions)}, cycled)"},
        "notes": ["0 replicas: the page answers in its own process, one question at a time",
                  "latency is per request as a client sees it, queueing included"],
    }
    emit("replicas", result, args.save, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
