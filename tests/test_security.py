"""The running chat page's web surface: it serves no file outside what the page needs, whatever the
route or encoding, and refuses uploads that are too big or of the wrong type. (That document text
is shown inert is checked in a real browser by test_browser.py and in the markup by test_ui.py.)"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from bot.config import Settings
from tests.server_helper import REPO, shared_server, upload_file

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


def test_the_probe_reaches_the_file_route(server):
    """A file this session uploaded is served: a refusal below is the route saying no, not a bad URL."""
    data = b"Probe file for the file route.\n"
    result = upload_file(server.url, "probe.txt", data)
    status, body = get(server, f"/gradio_api/file={result['path']}")
    assert status == 200 and body == data
    # ...and climbing out of that upload's folder is refused.
    status, body = get(server, f"/gradio_api/file={result['path']}/../../../server.log")
    assert status != 200 and b"Chat page" not in body


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
    result = upload_file(server.url, "trap.html", b"<script>alert(document.domain)</script>")
    headers: dict = {}
    status, _ = get(server, f"/gradio_api/file={result['path']}", headers=headers)
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
