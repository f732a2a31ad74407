"""Who may use the chat page and whether it may change the corpus: the sign-in file and its
command, read-only mode, and the default for a page that listens beyond this computer. Two running
pages are checked over HTTP: one with --auth and --no-uploads, one on 0.0.0.0 without sign-in."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from bot.ui.auth import Authenticator, add_user, hash_password, read_users, verify_password
from bot.errors import UsageError
from bot.ui.render import UPLOADS_OFF
from bot.ui.server import uploads_allowed
from tests.server_helper import REPO, ServerStartError, call_ask, free_port, launch, page_config, sign_in

pytestmark = pytest.mark.models  # loads the real embedding model or starts the page

USER, PASSWORD = "alice", "correct horse battery"


def _app(*args: str, stdin: str = "", env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")} | (env_extra or {})
    return subprocess.run([sys.executable, str(REPO / "app.py"), *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env=env, cwd=REPO)


# ----- the sign-in file -----

def test_passwords_are_stored_salted_and_slow():
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert hash_password(PASSWORD) != stored  # a fresh salt each time
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "!", stored)
    assert not verify_password(PASSWORD, "scrypt$1$1$1$AA==$AA==") and not verify_password(PASSWORD, "plain")


def test_add_user_writes_a_private_file_and_changes_a_password(tmp_path):
    path = tmp_path / "users"
    assert add_user(path, USER, PASSWORD) is False
    assert add_user(path, "bob", "another password") is False
    assert add_user(path, USER, "a new password") is True
    users = read_users(path)
    assert sorted(users) == [USER, "bob"] and verify_password("a new password", users[USER])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users"]  # no temporary file left behind


def test_add_user_refuses_a_damaged_file_and_leaves_it_alone(tmp_path):
    path = tmp_path / "users"
    path.write_text("# users\ncarol:password123\n")
    with pytest.raises(UsageError, match="line 2: expected NAME:scrypt"):
        add_user(path, USER, PASSWORD)
    assert path.read_text() == "# users\ncarol:password123\n"
    # the damaged line of the user being changed is put right
    assert add_user(path, "carol", PASSWORD) is True and list(read_users(path)) == ["carol"]


@pytest.mark.parametrize("name,password,message", [
    ("al ice", PASSWORD, "user name"), ("a:b", PASSWORD, "user name"), ("", PASSWORD, "user name"),
    (USER, "short", "at least 8 characters"),
])
def test_add_user_refuses_bad_names_and_short_passwords(tmp_path, name, password, message):
    with pytest.raises(UsageError, match=message):
        add_user(tmp_path / "users", name, password)


@pytest.mark.parametrize("text,message", [
    ("", "has no users"), ("# only a comment\n\n", "has no users"),
    ("alice\n", "line 1: expected"), ("alice:password123\n", "line 1: expected"),
    ("# users\nalice:scrypt$16384$8$1$!!$!!\n", "line 2: expected"),
])
def test_a_malformed_sign_in_file_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "users"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_users(path)
    with pytest.raises(UsageError, match="not found"):
        read_users(tmp_path / "missing")


def test_the_check_accepts_only_the_right_password():
    check = Authenticator({USER: hash_password(PASSWORD)}).check
    assert asyncio.run(check(USER, PASSWORD))
    assert not asyncio.run(check(USER, "wrong password"))
    assert not asyncio.run(check("mallory", PASSWORD))  # an unknown name, checked as long as a known one


def test_add_user_command_reads_the_password_without_echoing_it(tmp_path):
    path = tmp_path / "users"
    result = _app("--add-user", USER, "--auth", str(path), stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr and f"added {USER}" in result.stderr
    assert verify_password(PASSWORD, read_users(path)[USER]) and PASSWORD not in path.read_text()
    result = _app("--add-user", USER, stdin="new password\n", env_extra={"BOT_AUTH_FILE": str(path)})
    assert result.returncode == 0 and "changed the password" in result.stderr
    assert verify_password("new password", read_users(path)[USER])


@pytest.mark.parametrize("args,stdin,env_extra,message", [
    (["--add-user", USER], PASSWORD, {}, "--add-user needs the file to write"),
    (["--add-user", USER, "--auth", "{tmp}/users"], "short\n", {}, "at least 8 characters"),
    (["--add-user", "no:colons", "--auth", "{tmp}/users"], PASSWORD, {}, "user name"),
    (["--auth", "{tmp}/missing", "--corpus", str(REPO / "corpus"), "--port", "{port}"], "", {},
     "sign-in file not found"),
    (["--no-uploads", "--allow-uploads"], "", {}, "not allowed with argument"),
    (["--corpus", str(REPO / "corpus"), "--port", "{port}"], "", {"BOT_NO_UPLOADS": "maybe"},
     "BOT_NO_UPLOADS='maybe' is not 1 or 0"),
    (["--corpus", str(REPO / "corpus"), "--port", "{port}"], "", {"BOT_NO_UPLOADS": "1", "BOT_ALLOW_UPLOADS": "1"},
     "contradict each other"),
])
def test_access_options_fail_with_one_line(tmp_path, args, stdin, env_extra, message):
    port = str(free_port())
    args = [a.replace("{tmp}", str(tmp_path)).replace("{port}", port) for a in args]
    result = _app(*args, stdin=stdin, env_extra=env_extra)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


# ----- when the page may add documents -----

@pytest.mark.parametrize("host,signed_in,no_uploads,allow_uploads,expected", [
    ("127.0.0.1", False, False, False, True),
    ("localhost", False, False, False, True),
    ("::1", False, False, False, True),
    ("127.0.0.1", False, True, False, False),   # read-only on request
    ("127.0.0.1", True, True, False, False),    # even for signed-in users
    ("0.0.0.0", False, False, False, False),    # reachable by others, nobody signs in: off
    ("::", False, False, False, False),
    ("192.168.1.20", False, False, False, False),
    ("my-laptop.lan", False, False, False, False),
    ("0.0.0.0", True, False, False, True),      # sign-in required: on
    ("0.0.0.0", False, False, True, True),      # asked for explicitly: on
])
def test_uploads_are_off_when_strangers_could_change_the_corpus(host, signed_in, no_uploads, allow_uploads,
                                                                expected):
    allowed, notice = uploads_allowed(host, signed_in, no_uploads, allow_uploads)
    assert allowed is expected
    defaulted_off = not expected and not no_uploads
    assert (notice is not None) is defaulted_off
    if notice:
        assert host in notice and "--auth" in notice and "--allow-uploads" in notice and "\n" not in notice


# ----- running pages -----

def _start(request, name: str, extra_args: list[str]):
    root = Path(tempfile.mkdtemp(prefix=f"bot-{name}-"))
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    try:
        # Sentence mode: these pages check who gets in, not how well they answer.
        server = launch(root, guard_network=True, extra_args=extra_args, env_extra={"BOT_READER": "none"})
    except ServerStartError as exc:
        pytest.fail(str(exc))
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="module")
def locked_server(request, tmp_path_factory):
    users = tmp_path_factory.mktemp("auth") / "users"
    add_user(users, USER, PASSWORD)
    return _start(request, "locked", ["--auth", str(users), "--no-uploads"])


@pytest.fixture(scope="module")
def open_server(request):
    return _start(request, "open", ["--host", "0.0.0.0"])


def test_signed_out_clients_get_nothing(locked_server):
    url = locked_server.url
    assert httpx.get(f"{url}/config", timeout=30).status_code == 401
    assert call_ask(url, "What is the BCIJ?") == (False, "HTTP 401")
    joined = httpx.post(f"{url}/gradio_api/queue/join", timeout=30,
                        json={"data": ["What is the BCIJ?", None, None], "fn_index": 0, "session_hash": "x"})
    assert joined.status_code == 401
    direct = httpx.post(f"{url}/gradio_api/run/predict", json={"data": [], "fn_index": 0}, timeout=30)
    assert direct.status_code == 401
    assert sign_in(url, USER, "wrong password")[0] == 400
    assert sign_in(url, "mallory", PASSWORD)[0] == 400
    status, cookies = sign_in(url, USER, PASSWORD + " ")
    assert status == 400 and not cookies


def test_a_signed_in_user_can_ask(locked_server):
    status, cookies = sign_in(locked_server.url, USER, PASSWORD)
    assert status == 200 and cookies
    ok, value = call_ask(locked_server.url, "What is the BCIJ?", cookies=cookies)
    assert ok and value["passages"], value
    assert page_config(locked_server.url, cookies)["components"]


def _upload_surface(config: dict) -> list[str]:
    """Everything in a page config through which a document could be added."""
    files = {c["id"] for c in config["components"] if c["type"] in ("file", "uploadbutton", "multimodaltextbox")}
    found = [f"component {c}" for c in files]
    for dep in config["dependencies"]:
        if any(trigger[1] == "upload" for trigger in dep["targets"]) or files & set(dep["inputs"]):
            found.append(f"event {dep['id']} {dep['targets']}")
    return found


def _refuses_uploads(server, cookies: dict | None = None) -> None:
    config = page_config(server.url, cookies)
    assert _upload_surface(config) == []
    shown = " ".join(str(c.get("props", {}).get("value")) for c in config["components"])
    assert "morocco-counterterrorism.md" in shown and UPLOADS_OFF in shown  # the list is still there
    before = sorted(p.name for p in server.corpus.iterdir())
    sent = httpx.post(f"{server.url}/gradio_api/upload", cookies=cookies, timeout=30,
                      files=[("files", ("new.txt", b"A new document.\n", "text/plain"))])
    assert sent.status_code == 403 and UPLOADS_OFF in sent.text
    assert "new.txt" not in [p.name for p in (server.root / "gradio").rglob("*")]
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_read_only_page_refuses_uploads_over_http(locked_server):
    """--no-uploads: no control, no event, and Gradio's upload route closed, even when signed in."""
    _, cookies = sign_in(locked_server.url, USER, PASSWORD)
    _refuses_uploads(locked_server, cookies)


def test_a_page_open_to_the_network_starts_read_only_and_says_so(open_server):
    notices = [line for line in open_server.startup_log.splitlines() if "adding documents is off" in line]
    assert notices == ["note: adding documents is off: the page listens on 0.0.0.0 without sign-in "
                       "(require it with --auth FILE, or pass --allow-uploads to let anyone add documents)"]
    _refuses_uploads(open_server)
    ok, value = call_ask(open_server.url, "What is the BCIJ?")  # still open for questions
    assert ok and value["passages"], value
