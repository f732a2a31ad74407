"""Start the real chat page (`python app.py`) in a subprocess for tests that talk to it over HTTP,
optionally with the network cut off inside the server process.

`launch` starts one module's own server (the browser test's). `shared_server` starts one
network-guarded server per test session and shares it between the load, security and no-network
tests, so the slow start (index build, model loads) is paid once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STARTUP_S = 300  # index build and model loads on a busy 2-core machine
BLOCKED_MARK = "NETWORK-BLOCKED"

# Installed first in a child process: any connection, name lookup or datagram to a host other
# than this machine raises OSError, and is also written to stderr with BLOCKED_MARK so a test can
# see attempts that the code under test caught and ignored.
NETWORK_GUARD = textwrap.dedent("""
    import socket as _socket
    import sys as _sys

    def _local(host):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is None or host in ("", "localhost", "::1", "0.0.0.0", "::"):
            return True
        return isinstance(host, str) and (host.startswith("127.") or host.startswith("::ffff:127."))

    def _refuse(what):
        _sys.stderr.write("NETWORK-BLOCKED " + what + "\\n")
        _sys.stderr.flush()
        raise OSError("network disabled by test: " + what)

    def _check(sock, address, what):
        if getattr(_socket, "AF_UNIX", None) is not None and sock.family == _socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _local(host):
            _refuse(what + " " + repr(address))

    _real = {name: getattr(_socket.socket, name) for name in ("connect", "connect_ex", "sendto")}

    def _connect(self, address, *a, **k):
        _check(self, address, "connect")
        return _real["connect"](self, address, *a, **k)

    def _connect_ex(self, address, *a, **k):
        _check(self, address, "connect")
        return _real["connect_ex"](self, address, *a, **k)

    def _sendto(self, data, *args):
        _check(self, args[-1], "sendto")
        return _real["sendto"](self, data, *args)

    _socket.socket.connect, _socket.socket.connect_ex, _socket.socket.sendto = _connect, _connect_ex, _sendto

    def _lookup(real):
        def lookup(host, *a, **k):
            if not _local(host):
                _refuse("lookup " + repr(host))
            return real(host, *a, **k)
        return lookup

    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        setattr(_socket, _name, _lookup(getattr(_socket, _name)))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    root: Path
    corpus: Path
    index: Path
    log: Path
    cwd: Path
    proc: subprocess.Popen
    startup_log: str = ""  # the log when the page first answered

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def blocked_attempts(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if line.startswith(BLOCKED_MARK)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ServerStartError(RuntimeError):
    pass


def launch(root: Path, *, guard_network: bool = False, cwd: Path | None = None,
           env_extra: dict | None = None, startup_s: float = STARTUP_S, extra_args: list[str] | None = None) -> Server:
    """`python app.py` on a copy of corpus/ with its own index and Gradio temp folder under root;
    returns once the page answers with 200. Raises ServerStartError (with the log) otherwise.
    extra_args: more app.py options (the page is still reached on 127.0.0.1)."""
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(REPO / "corpus", corpus)
    port = free_port()
    args = ["--port", str(port), "--corpus", str(corpus), "--index", str(index), *(extra_args or [])]
    # The bot's own defaults apply (offline, no analytics), not the developer's shell settings.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOT_", "GRADIO_")) and k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(GRADIO_TEMP_DIR=str(root / "gradio"), **(env_extra or {}))
    if guard_network:
        launcher = (f"import runpy, sys\nsys.path.insert(0, {str(REPO)!r})\n"
                    f"sys.argv = ['app.py', *{args!r}]\n"
                    f"runpy.run_path({str(REPO / 'app.py')!r}, run_name='__main__')\n")
        command = [sys.executable, "-c", NETWORK_GUARD + launcher]
    else:
        command = [sys.executable, str(REPO / "app.py"), *args]
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=cwd or root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", root, corpus, index, log_path, cwd or root, proc)
    deadline = time.monotonic() + startup_s
    while True:
        if proc.poll() is not None:
            raise ServerStartError(f"app.py exited with {proc.returncode}:\n{server.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as r:
                if r.status == 200:
                    server.startup_log = server.log_text()
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise ServerStartError(f"the chat page did not start in {startup_s:.0f}s:\n{server.log_text()[-3000:]}")
        time.sleep(1)


_shared: dict = {}


def shared_server(config) -> Server:
    """One network-guarded server for the whole session, started from the repository folder as a
    user would start it; stopped when pytest finishes. A failed start is remembered, so every
    module that needs the server fails at once instead of waiting again."""
    import pytest

    if "error" in _shared:
        pytest.fail(_shared["error"])
    if "server" not in _shared:
        root = Path(tempfile.mkdtemp(prefix="bot-shared-server-"))
        config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
        try:
            server = launch(root, guard_network=True, cwd=REPO)
        except ServerStartError as exc:
            _shared["error"] = str(exc)
            pytest.fail(str(exc))
        config.add_cleanup(server.stop)
        _shared["server"] = server
    return _shared["server"]


# ----- what the page does over HTTP -----

def page_config(url: str, cookies: dict | None = None) -> dict:
    import httpx

    response = httpx.get(f"{url}/config", cookies=cookies, timeout=30)
    response.raise_for_status()
    return response.json()


def upload_event_index(config: dict) -> tuple[int, int]:
    """(fn_index, component id) of the Documents tab's upload event, found by the element id."""
    component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    for dep in config["dependencies"]:
        if [component, "upload"] in dep["targets"]:
            return dep["id"], component
    raise LookupError("no upload event in the page config")


def run_event(url: str, fn_index: int, data: list, trigger_id: int | None = None, cookies: dict | None = None,
              timeout: float = 120) -> dict:
    """Run one event of the page through Gradio's queue, as the page's own script does.
    Returns {"status": HTTP status of the join, "outputs": the output data or None, "detail": the
    error message or the join's refusal}."""
    import httpx

    api = f"{url}/gradio_api"
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": fn_index, "trigger_id": trigger_id, "session_hash": session,
            "event_data": None}
    with httpx.Client(timeout=timeout, cookies=cookies) as http:
        joined = http.post(f"{api}/queue/join", json=body)
        if joined.status_code != 200:
            return {"status": joined.status_code, "outputs": None, "detail": joined.text}
        with http.stream("GET", f"{api}/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    return {"status": 200, "outputs": output.get("data"), "detail": output.get("error")}
    raise RuntimeError(f"event {fn_index} never completed")


def upload_file(url: str, filename: str, data: bytes, timeout: float = 120, cookies: dict | None = None,
                replace: bool = False) -> dict:
    """Upload a document the way the page does: POST the file to Gradio's upload route, then run
    the upload event through the queue (`replace`: the page's "replace documents of the same name"
    box). Returns {"status": HTTP status of the file upload,
    "outputs": [status HTML, documents HTML] or None, "detail": error text}."""
    import httpx

    fn_index, component = upload_event_index(page_config(url, cookies))
    with httpx.Client(timeout=timeout, cookies=cookies) as http:
        sent = http.post(f"{url}/gradio_api/upload", files=[("files", (filename, data, "application/octet-stream"))])
    if sent.status_code != 200:
        return {"status": sent.status_code, "outputs": None, "detail": sent.text}
    path = sent.json()[0]
    result = run_event(url, fn_index, [[{"path": path, "orig_name": filename, "meta": {"_type": "gradio.FileData"}}],
                                       replace], component, cookies, timeout)
    if result["status"] != 200:
        raise RuntimeError(f"the upload event was refused: {result}")
    return {**result, "path": path}


def sign_in(url: str, username: str, password: str) -> tuple[int, dict]:
    """POST Gradio's login form: (HTTP status, the session cookies it set)."""
    import httpx

    response = httpx.post(f"{url}/login", data={"username": username, "password": password}, timeout=30)
    return response.status_code, dict(response.cookies)


def call_ask(url: str, question, history=None, top_k=None, timeout: float = 60,
             cookies: dict | None = None) -> tuple[bool, object]:
    """The /ask endpoint through Gradio's plain HTTP API, as curl would call it: ASCII JSON with
    \\u escapes, so even lone surrogates get through. Returns (True, the response dict) or
    (False, the error message, None when the server gave none)."""
    import httpx

    body = json.dumps({"data": [question, history, top_k]}).encode("ascii")
    with httpx.Client(timeout=timeout, cookies=cookies) as http:
        started = http.post(f"{url}/gradio_api/call/ask", content=body, headers={"Content-Type": "application/json"})
        if started.status_code in (401, 403):
            return False, f"HTTP {started.status_code}"
        started.raise_for_status()
        event_id = started.json()["event_id"]
        event = None
        with http.stream("GET", f"{url}/gradio_api/call/ask/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line[5:])
                    if event == "complete":
                        return True, data[0]
                    return False, (data or {}).get("error")
    raise RuntimeError("the /ask call ended without a result")
