"""Serving the chat page: safe launch options, the request guard, no outbound downloads, who may
add documents (`uploads_allowed`), sign-in (bot/ui/auth.py), and `serve`, which loads the bot and
listens."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import gradio as gr
import httpx
from gradio import processing_utils
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from bot.config import Settings
from bot.errors import CorpusError, UsageError, first_line
from bot.ui.page import CSS, ChatPage, build_app
from bot.ui.render import UPLOADS_OFF


class PageGuard:
    """ASGI middleware. Gradio's `/file=` route, given an http(s) URL instead of a path, fetches it
    on the server's behalf; this page only ever serves local files, so such requests end here. On a
    read-only page, Gradio's generic upload route is closed too: nothing on the page uses it.

    A page listening on this computer only (`local_only`) answers only requests addressed to it by
    a loopback name (Host: localhost, 127.0.0.1, [::1]). A web page elsewhere could otherwise point
    a name of its own at 127.0.0.1 ("DNS rebinding") and, counting as that page's own origin in the
    browser, read the documents and add or remove them."""

    def __init__(self, app, uploads: bool = True, local_only: bool = False) -> None:
        self.app = app
        self.uploads = uploads
        self.local_only = local_only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and self.local_only and not _loopback_name(_host_name(scope)):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await PlainTextResponse("This page answers only at localhost.", status_code=403)(scope, receive, send)
            return
        if scope["type"] == "http":
            path = scope.get("path", "")
            _, found, target = path.partition("/file=")
            if found and target.lstrip().lower().startswith(("http:", "https:")):
                await PlainTextResponse("Remote files are not served.", status_code=403)(scope, receive, send)
                return
            if not self.uploads and path.rstrip("/").endswith("/upload"):
                await PlainTextResponse(UPLOADS_OFF, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _loopback_name(host: str) -> bool:
    """A name that can only mean this computer: a loopback address, "localhost" (with its root dot),
    or a name under .localhost, which browsers resolve to loopback themselves (RFC 6761)."""
    host = host.lower().rstrip(".")
    return is_loopback(host) or host.endswith(".localhost")


def _host_name(scope) -> str:
    """The name a request was addressed to (its Host header without the port); '' without one."""
    host = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"), "")
    host = host.strip()
    if host.startswith("["):  # "[::1]:7860"
        return host[1:host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class _NoDownloads(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"this page does not fetch URLs ({request.url.host})", request=request)


def refuse_downloads() -> None:
    """Gradio fetches a URL given as a file (and components fetch theirs) through one transport
    hook; this one refuses before any name lookup or connection, so a link that slipped past
    `PageBlocks` could not connect out either. (The file route fetches on its own: `PageGuard`.)"""
    processing_utils.async_transport = _NoDownloads()


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uploads_allowed(host: str, signed_in: bool, no_uploads: bool = False,
                    allow_uploads: bool = False) -> tuple[bool, str | None]:
    """Whether the page may add documents, and the notice to print when they are off by default:
    a page others can reach, where nobody signs in, does not let them change the corpus unless
    asked to."""
    if no_uploads and allow_uploads:
        raise UsageError("--no-uploads and --allow-uploads contradict each other; choose one")
    if no_uploads:
        return False, None
    if allow_uploads or signed_in or is_loopback(host):
        return True, None
    return False, (f"adding documents is off: the page listens on {host} without sign-in "
                   "(require it with --auth FILE, or pass --allow-uploads to let anyone add documents)")


def launch_options(settings: Settings, uploads: bool = True,
                   auth: Callable[[str, str], Awaitable[bool]] | None = None) -> dict:
    """Safe defaults: local only, no share link, no monitoring or MCP endpoints, no run history
    kept in the browser, and the corpus and index folders never served. auth: Gradio's sign-in
    check (username, password) -> bool, or None for an open page."""
    folders = [str(settings.corpus_dir.resolve()), str(settings.index_dir.resolve())]
    options = dict(
        server_name=settings.host, server_port=settings.port, share=False, inbrowser=False,
        show_error=False, quiet=True, enable_monitoring=False, mcp_server=False, pwa=False,
        ssr_mode=False, run_history=False, footer_links=["api"], blocked_paths=folders,
        max_file_size=int(settings.max_file_mb * 1024 * 1024), css=CSS,
        app_kwargs={"middleware": [Middleware(PageGuard, uploads=uploads, local_only=is_loopback(settings.host))]},
        # System fonts: nothing to download, and they read well on every platform.
        theme=gr.themes.Default(primary_hue="blue", font=["ui-sans-serif", "system-ui", "sans-serif"],
                                font_mono=["ui-monospace", "monospace"]),
    )
    if auth is not None:
        options.update(auth=auth, auth_message="Sign in to ask the documents.")
    return options


def page_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def _address_error(settings: Settings, exc: OSError) -> UsageError:
    reason = exc.strerror or first_line(exc)
    return UsageError(f"cannot listen on {settings.host}:{settings.port} ({reason}); "
                      "choose another address with --host/--port")


def _check_address(settings: Settings) -> None:
    """Fail fast when the address cannot be bound (port taken, unknown host)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(settings.host, settings.port,
                                                             type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself does
            probe.bind(address)
    except OSError as exc:
        raise _address_error(settings, exc) from None


def serve(settings: Settings, examples: list[str] | None = None, *, auth_file: Path | None = None,
          no_uploads: bool = False, allow_uploads: bool = False, replicas: int = 0) -> None:
    """Load the documents and models, then serve the chat page until interrupted. auth_file: the
    users who may sign in (bot/ui/auth.py); without one the page is open to whoever reaches it.
    replicas: answer in that many processes (bot/replicas.py); 0 answers in this one."""
    from bot.ui.auth import Authenticator
    from bot.pipeline import Bot

    if not settings.corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {settings.corpus_dir} (create it, or pass --corpus DIR)")
    _check_address(settings)  # before the slow model loads, like the sign-in file
    authenticator = Authenticator.from_file(auth_file) if auth_file is not None else None
    uploads, notice = uploads_allowed(settings.host, authenticator is not None, no_uploads, allow_uploads)
    if notice:
        print(f"note: {notice}", file=sys.stderr, flush=True)
    print("Loading the documents and models…", file=sys.stderr, flush=True)
    bot = Bot(settings)
    pool = None
    try:
        bot.load_index()
        if replicas:
            from bot.replicas import ReplicaPool

            print(f"Starting {replicas} answering replicas…", file=sys.stderr, flush=True)
            pool = ReplicaPool(settings, replicas).start()
        else:
            bot.ask("What are these documents about?")  # loads every model now, not on the first question
    except CorpusError as exc:  # an empty folder: the page still opens so documents can be uploaded
        if replicas:
            raise CorpusError(f"{exc}; replicas need an index to answer from") from None
        print(f"warning: {exc}", file=sys.stderr)
    for message in bot.messages:
        print(f"note: {message}", file=sys.stderr)
    page = ChatPage(bot, examples, uploads=uploads, replicas=pool)
    app = build_app(page)
    app.queue(default_concurrency_limit=1, max_size=64 * page.concurrency)
    refuse_downloads()
    try:
        app.launch(prevent_thread_lock=True,
                   **launch_options(settings, uploads, authenticator.check if authenticator else None))
    except OSError as exc:  # taken in the meantime
        raise _address_error(settings, exc) from None
    print(f"Chat page: {page_url(settings)}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        app.block_thread()
    finally:
        if not bot.wait_for_sync(timeout=0):
            print("Waiting for the document being indexed to finish…", file=sys.stderr, flush=True)
            bot.wait_for_sync()
        if pool is not None:
            pool.close()
