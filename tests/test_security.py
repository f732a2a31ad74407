"""The running chat page's web surface: it serves no file outside what the page needs, whatever the
route or encoding, refuses uploads that are too big or of the wrong type, makes no outbound
connection whatever an event's input says, and caps how many passages a client may ask for. (That
document text is shown inert is checked in a real browser by test_browser.py and in the markup by
test_ui.py; sign-in and read-only pages by test_auth.py.)"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from bot.config import Settings
from bot.ui.render import LINK_REFUSED
from tests.server_helper import REPO, call_ask, page_config, run_event, shared_server, upload_file

pytestmark = pytest.mark.models  # loads the real embedding model or starts the page

# Every route of Gradio 6 that maps part of the URL to a file on disk.
FILE_ROUTES = ["/gradio_api/file=", "/file=", "/gradio_api/file/", "/static/", "/assets/", "/svelte/",
               "/gradio_api/custom_component/0/client/js/"]
UP = "../" * 12  # deeper than any temp folder


@pytest.fixture(scope="module")
def server(request):
    return shared_server(request.config)


def get(server, path: str, method: str = "GET", headers: dict | None = None) -> tuple[int, bytes]:
    """Send the path exactly as written (no client-side normalisation of ../ or %2e)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        if headers is not None:
            headers.update({k.lower(): v for k, v in response.getheaders()})
        return response.status, response.read()
    finally:
        conn.close()


def spellings(target: Path, cwd: Path) -> list[str]:
    """Ways of naming target in a URL: absolute, relative to the server's folder, climbing with
    ../ in plain, percent-encoded, double-encoded and backslash forms."""
    absolute = str(target)
    climb = UP + absolute.lstrip("/")
    forms = [absolute, quote(absolute, safe=""), os.path.relpath(target, cwd), climb,
             climb.replace("../", "%2e%2e/"), climb.replace("../", "..%2f"), climb.replace("../", "%2e%2e%2f"),
             climb.replace("../", "%252e%252e%252f"), climb.replace("../", "..\\"), climb.replace("../", "..%5c"),
             climb.replace("../", "....//"), "/" + climb]
    return list(dict.fromkeys(forms))


def targets(server) -> dict[str, tuple[Path, bytes]]:
    """Files the page must never serve, with a piece of each one's content to look for."""
    def sample(path: Path) -> bytes:  # the longest line: text an error message would not contain
        return max(path.read_bytes().splitlines(), key=len)[:60].strip()

    doc = sorted(p for p in server.corpus.iterdir() if p.is_file())[0]
    found = {
        "/etc/passwd": Path("/etc/passwd"),
        "a corpus document": doc,
        "the index manifest": server.index / "manifest.json",
        "the repository's pyproject.toml": REPO / "pyproject.toml",
        "the repository's app.py": REPO / "app.py",
        "the server log": server.log,
    }
    default_index = REPO / "index" / "manifest.json"
    if default_index.exists():
        found["the default index manifest"] = default_index
    return {name: (path, sample(path)) for name, path in found.items() if path.exists()}


def post_to_upload_route(server, filename: str, data: bytes) -> str:
    """Post a file to Gradio's upload route alone (no upload event): the path of its cached copy."""
    sent = httpx.post(f"{server.url}/gradio_api/upload", files=[("files", (filename, data, "text/plain"))],
                      timeout=60)
    assert sent.status_code == 200, sent.text
    return sent.json()[0]


def test_the_probe_reaches_the_file_route(server):
    """A file posted to the upload route is served back: a refusal below is the route saying no, not
    a bad URL."""
    data = b"Probe file for the file route.\n"
    path = post_to_upload_route(server, "probe.txt", data)
    status, body = get(server, f"/gradio_api/file={path}")
    assert status == 200 and body == data
    # ...and climbing out of that upload's folder is refused.
    status, body = get(server, f"/gradio_api/file={path}/../../../server.log")
    assert status != 200 and b"Chat page" not in body


def test_a_document_s_uploaded_copy_is_not_kept_once_added(server):
    """The corpus holds an added document; Gradio's copy would stay served after its removal."""
    data = b"Probe document for the upload cache: the canal opened in 1820.\n"
    result = upload_file(server.url, f"probe-{uuid.uuid4().hex[:8]}.txt", data)
    assert "Added" in result["outputs"][0]
    status, body = get(server, f"/gradio_api/file={result['path']}")
    assert status != 200 and data not in body


@pytest.mark.parametrize("name", ["/etc/passwd", "a corpus document", "the index manifest",
                                  "the repository's pyproject.toml", "the repository's app.py",
                                  "the server log", "the default index manifest"])
def test_no_route_serves_files_outside_the_page(server, name):
    found = targets(server)
    if name not in found:
        pytest.skip(f"{name} does not exist here")
    path, content = found[name]
    served = []
    for route in FILE_ROUTES:
        for spelling in spellings(path, server.cwd):
            for method in ("GET", "HEAD"):
                status, body = get(server, route + spelling, method)
                if status == 200 or content in body:
                    served.append(f"{method} {route}{spelling} -> {status}")
    assert not served, f"{name} was served:\n" + "\n".join(served[:10])


def test_an_uploaded_html_file_is_served_as_a_download_not_a_page(server):
    """Anyone can post a file to Gradio's upload route; served back, it must not run in the page's origin."""
    path = post_to_upload_route(server, "trap.html", b"<script>alert(document.domain)</script>")
    headers: dict = {}
    status, _ = get(server, f"/gradio_api/file={path}", headers=headers)
    assert status != 200 or ("text/html" not in headers.get("content-type", "")
                             and headers.get("content-disposition", "").startswith("attachment"))


def test_upload_over_the_size_limit_is_refused(server):
    limit = int(Settings().max_file_mb * 1024 * 1024)
    result = upload_file(server.url, "huge.txt", b"a" * (limit + 1))
    assert result["status"] == 413 and result["outputs"] is None
    assert not (server.corpus / "huge.txt").exists()


@pytest.mark.parametrize("name,data", [
    ("tool.exe", b"MZ\x90\x00 not a document"),
    ("page.js", b"alert(document.cookie)"),
    ("picture.png", b"\x89PNG\r\n\x1a\n"),
    ("notes.txt", bytes(range(256)) * 4),  # right name, binary content
])
def test_upload_of_the_wrong_type_is_refused(server, name, data):
    result = upload_file(server.url, name, data)
    if result["outputs"] is None:  # Gradio refuses the type before the page sees the file
        assert "Invalid file type" in result["detail"], result
    else:  # the page refuses what Gradio let through
        status_html = result["outputs"][0]
        assert 'class="qa-error"' in status_html and "Traceback" not in status_html, status_html
    assert not (server.corpus / name).exists()


def test_upload_name_cannot_leave_the_corpus_folder(server):
    result = upload_file(server.url, "../../../../escape-attempt.txt", b"A harmless note about escape attempts.\n")
    assert 'class="qa-ok"' in result["outputs"][0]
    assert (server.corpus / "escape-attempt.txt").is_file()
    for folder in (server.root, server.cwd, Path("/tmp")):
        assert not (folder / "escape-attempt.txt").exists()


@pytest.mark.parametrize("route", ["/gradio_api/file=", "/file="])
@pytest.mark.parametrize("url", ["http://example.com/", "https%3A//example.com/", "HTTPS://example.com/x.png"])
def test_file_route_makes_no_outbound_request(server, route, url):
    """Gradio's file route fetches a URL it is given on the server's behalf; the page refuses that."""
    before = len(server.blocked_attempts())
    status, _ = get(server, route + url)
    assert status == 403
    assert server.blocked_attempts()[before:] == []  # the guard saw no attempt to reach example.com


class Listener:
    """A TCP server on this machine that only records who connects: the place every link below
    points to, so any fetch the page attempted would show up here."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.close()


def link_payloads(url: str) -> dict[str, object]:
    """A link in every shape Gradio reads as a file (or an older client might send)."""
    data = {"path": url, "meta": {"_type": "gradio.FileData"}}
    return {
        "FileData": data,
        "FileData with url and name": {**data, "url": url, "orig_name": "notes.txt", "size": 12},
        "FileData, upper-case scheme": {**data, "path": url.replace("http://", "HTTP://")},
        "FileData as a stream": {**data, "is_stream": True},
        "path without the FileData marker": {"path": url},
        "list of FileData": [data],
        "chat message with a file": [{"role": "user", "content": [{"type": "file", "file": data}]}],
        "chat message that is a file": [{"role": "user", "content": data}],
        "plain URL string": url,
    }


def test_no_input_of_any_event_makes_the_server_fetch_a_url(server, listener):
    """Gradio downloads a FileData whose path is a URL before the event's function runs. Every
    event of the page (public or private, queued or not), every input slot, every shape of link,
    through both the queue and the direct route: nothing connects to the link's host, and a file
    link is refused with the page's message."""
    config = page_config(server.url)
    defaults = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    events = [d for d in config["dependencies"] if d["inputs"]]
    assert {d["id"] for d in config["dependencies"]} == set(range(len(config["dependencies"])))
    assert len(events) >= 5 and any(d.get("api_name") == "ask" for d in events)
    documents_before = sorted(p.name for p in server.corpus.iterdir())
    blocked_before = len(server.blocked_attempts())
    link = f"http://127.0.0.1:{listener.port}/notes.txt"
    problems = []
    for event in events:
        for slot, component in enumerate(event["inputs"]):
            for shape, payload in link_payloads(link).items():
                data = [defaults.get(c) for c in event["inputs"]]
                data[slot] = payload
                where = f"event {event['id']} ({event['targets']}) input {slot} ({component}), {shape}"
                results = {"queue": run_event(server.url, event["id"], data, timeout=60)}
                direct = httpx.post(f"{server.url}/gradio_api/run/predict", timeout=60,
                                    json={"data": data, "fn_index": event["id"], "session_hash": uuid.uuid4().hex})
                if direct.status_code != 404:  # queued events are not run directly
                    results["direct"] = {"status": direct.status_code, "detail": direct.json().get("error")}
                for route, result in results.items():
                    if shape != "plain URL string" and LINK_REFUSED not in str(result["detail"]):
                        problems.append(f"{where} via {route}: not refused: {result}")
                if listener.connections:
                    problems.append(f"{where}: connected to the link's host")
                    listener.connections.clear()
    attempts = server.blocked_attempts()[blocked_before:]
    assert not problems, "\n".join(problems[:10]) + f"\n... {len(problems)} in all"
    assert attempts == [], attempts  # not even a name lookup for a host beyond this machine
    assert sorted(p.name for p in server.corpus.iterdir()) == documents_before


def test_downloads_are_refused_below_the_page(listener, monkeypatch, tmp_path):
    """The second line: should a link reach Gradio's download hook, it connects nowhere."""
    import anyio
    from gradio import processing_utils

    from bot.ui.server import refuse_downloads

    monkeypatch.setattr(processing_utils, "async_transport", processing_utils.async_transport)
    refuse_downloads()
    link = f"http://127.0.0.1:{listener.port}/notes.txt"
    with pytest.raises(httpx.ConnectError, match="does not fetch"):
        anyio.run(processing_utils.async_ssrf_protected_download, link, str(tmp_path))
    assert listener.connections == []


def test_ask_refuses_a_top_k_over_the_limit(server):
    """top_k=10**9 once returned every passage of the corpus; now it is a one-line refusal."""
    ok, value = call_ask(server.url, "What is the BCIJ?", None, 10**9)
    assert not ok and f"from 1 to {Settings().max_top_k}" in str(value), value  # an error: no passages
    assert "Traceback" not in str(value)
    ok, value = call_ask(server.url, "What is the BCIJ?", None, 3)
    assert ok and 1 <= len(value["passages"]) <= 3, value


def test_the_settings_slider_stays_under_the_limit(server):
    """The chat's own top k comes from the slider; a client sending more is refused by its bounds."""
    config = page_config(server.url)
    slider = next(c for c in config["components"] if c["type"] == "slider")
    assert slider["props"]["maximum"] <= Settings().max_top_k
    answer = next(d for d in config["dependencies"] if slider["id"] in d["inputs"])
    data = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    inputs = [data.get(c) for c in answer["inputs"]]
    inputs[answer["inputs"].index(slider["id"])] = 10**9
    result = run_event(server.url, answer["id"], inputs)
    assert result["outputs"] is None and "greater than maximum" in str(result["detail"]), result


def test_an_upload_cannot_destroy_or_silently_replace_a_document_of_the_same_name(server):
    """Any visitor sees the document names; a refused or unconfirmed upload must change nothing."""
    target = sorted(p for p in server.corpus.iterdir() if p.is_file())[0]
    original = target.read_bytes()
    before = sorted(p.name for p in server.corpus.iterdir())
    binary = upload_file(server.url, target.name, bytes(range(256)) * 64, replace=True)
    assert "could not be read" in binary["outputs"][0] and target.name in binary["outputs"][1]
    plain = upload_file(server.url, target.name, b"Replacement text that nobody confirmed.\n")
    assert "replace it explicitly" in plain["outputs"][0]
    assert target.read_bytes() == original and sorted(p.name for p in server.corpus.iterdir()) == before


@pytest.mark.parametrize("host, allowed", [("rebind.attacker.example", False), ("127.0.0.1.nip.io", False),
                                           ("localhost", True), ("LOCALHOST.", True), ("docs.localhost", True),
                                           ("127.0.0.1", True), ("[::1]", True)])
def test_a_page_on_this_computer_answers_only_requests_addressed_to_it_by_a_loopback_name(server, host, allowed):
    # A web page elsewhere can point a name of its own at 127.0.0.1 (DNS rebinding); the browser then
    # sends that name as the Host and treats the page as the attacker's own origin.
    parts = urlsplit(server.url)
    for path in ("/", "/gradio_api/info"):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Host": f"{host}:{parts.port}"})
            status = conn.getresponse().status
        finally:
            conn.close()
        assert (status == 200) is allowed and (status == 403) is not allowed, (host, path, status)
