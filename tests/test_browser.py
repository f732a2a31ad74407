"""The real chat page in headless Chromium: `python app.py` on a copy of the default corpus, with
the real models and the default reader. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.server_helper import REPO, ServerStartError, launch

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ANSWER_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.models,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]

LIGHTHOUSE = (
    "The Harbour Lighthouse\n\n"
    "The Harbour Lighthouse was built in 1872 by Thomas Ward. It stands 31 metres tall.\n"
    "Visitors once scratched <script>window.__pwned = 1</script> and "
    "<img src=x onerror=\"window.__pwned = 2\"> into the railing of its gallery.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    (ARTIFACTS / "browser-timings.json").unlink(missing_ok=True)  # timings of this run only
    try:
        running = launch(tmp_path_factory.mktemp("chat-page"))
    except ServerStartError as exc:
        pytest.fail(str(exc))
    try:
        yield {"url": running.url, "corpus": running.corpus, "root": running.root, "index": running.index}
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh session on the chat page; fails the test if the page reaches beyond the server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(ANSWER_MS)
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith((server["url"], "data:", "blob:")) else outside.append(r.url))
    pg.goto(server["url"])
    pg.locator("#question textarea").wait_for()
    yield pg
    context.close()
    assert not outside, f"the page requested outside resources: {outside[:5]}"


def ask(page, question: str) -> tuple[str, float]:
    """Type a question, press Enter, wait for the reply; (reply text, seconds until visible)."""
    replies = page.locator("#chat .qa-msg")
    before = replies.count()
    page.fill("#question textarea", question)
    t0 = time.perf_counter()
    page.press("#question textarea", "Enter")
    replies.nth(before).wait_for(state="visible")
    return replies.nth(before).inner_text(), time.perf_counter() - t0


def record_time(name: str, seconds: float) -> None:
    """Seconds from pressing Enter to the reply being visible, kept in tests/artifacts/browser-timings.json."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "browser-timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[name] = round(seconds, 2)
    path.write_text(json.dumps(timings, indent=1))
    print(f"\n{name}: {seconds:.2f}s")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let the layout settle after the last update
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_answer_with_citation_then_follow_up(page, server):
    docs = [p.name for p in server["corpus"].iterdir()]
    reply, first_s = ask(page, "When was the BCIJ established?")
    assert "Not found" not in reply and "2015" in reply
    answer = page.locator("#chat .qa-msg").last
    assert "2015" in answer.locator("mark").first.inner_text()  # the span is highlighted in its sentence
    assert "[1]" in reply and any(d in reply for d in docs), reply  # numbered citation naming the document
    sources = page.locator("#sources")
    assert "2015" in sources.locator(".qa-source mark").first.inner_text()
    assert "line" in sources.locator(".qa-source-head").first.inner_text()

    # The box has the focus again once the reply is in: a follow-up is typed straight away.
    page.wait_for_function("document.activeElement && document.activeElement.closest('#question') !== null")
    replies = page.locator("#chat .qa-msg")
    before = replies.count()
    t0 = time.perf_counter()
    page.keyboard.type("What is it responsible for?")
    page.keyboard.press("Enter")
    replies.nth(before).wait_for(state="visible")
    # Only the conversation says what "it" is: without it the bot finds nothing to quote.
    reply, follow_s = replies.nth(before).inner_text(), time.perf_counter() - t0
    assert "Not found" not in reply and "BCIJ" in reply, reply
    record_time("first question, warm server", first_s)
    record_time("follow-up question", follow_s)
    shot(page, "desktop-chat.png")


def test_not_found_still_lists_closest_passages(page):
    reply, seconds = ask(page, "What is the capital of Peru?")
    assert "Not found in the documents" in reply
    assert page.locator("#chat .qa-notfound li").count() >= 1
    assert page.locator("#sources .qa-source").count() >= 1
    record_time("not-found reply", seconds)


def test_upload_then_ask_and_nothing_from_the_document_runs(page, server, tmp_path):
    executed = []
    page.on("dialog", lambda d: (executed.append(d.message), d.dismiss()))
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents table")
    assert table.locator("tbody tr").count() == len(list(server["corpus"].iterdir()))
    upload = tmp_path / "lighthouse.txt"
    upload.write_text(LIGHTHOUSE, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#upload-status .qa-ok").wait_for()
    assert "lighthouse.txt" in page.locator("#upload-status").inner_text()
    assert "lighthouse.txt" in table.inner_text()
    shot(page, "desktop-documents.png")

    page.get_by_role("tab", name="Chat").click()
    reply, seconds = ask(page, "Who built the Harbour Lighthouse?")
    assert "Thomas Ward" in reply and "lighthouse.txt" in reply, reply
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__pwned = 1</script>" in sources  # shown as text, not run
    assert 'onerror="window.__pwned = 2"' in sources
    assert page.evaluate("window.__pwned") is None and not executed
    record_time("answer from an uploaded document", seconds)

    page.get_by_role("tab", name="Documents").click()
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ not a document")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.wait_for_timeout(1500)
    shot(page, "desktop-upload-refused.png")
    assert "notes.exe" not in page.locator("#documents").inner_text()
    assert not (server["corpus"] / "notes.exe").exists()


def test_phone_layout(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    pg = context.new_page()
    pg.set_default_timeout(ANSWER_MS)
    try:
        pg.goto(server["url"])
        pg.locator("#question textarea").wait_for()
        shot(pg, "phone-start.png")
        example = pg.locator("#chat .examples button").first
        asked = example.inner_text().strip()
        example.tap()  # asks it at once
        pg.locator("#chat .qa-msg").first.wait_for(state="visible")
        assert asked in pg.locator("#chat").inner_text()
        pg.locator("#clear").tap()
        pg.locator("#chat .examples button").first.wait_for()  # a clear chat offers the examples again
        assert pg.locator("#chat .qa-msg").count() == 0 and "Sources" in pg.locator("#sources").inner_text()
        reply, _ = ask(pg, "When was the BCIJ established?")
        assert "2015" in reply
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"the page scrolls sideways on a phone ({width}px wide)"
        for selector in ["#chat", "#question", "#ask", "#sources"]:
            box = pg.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 392, (selector, box)
        shot(pg, "phone-chat.png")
    finally:
        context.close()


def test_rating_replies_stores_them_with_the_index(page, server):
    from bot.feedback import FeedbackStore

    status = page.locator("#feedback-status")
    ask(page, "When was the BCIJ established?")
    page.locator('#chat button[aria-label="Like"]').last.click()
    status.locator(".qa-ok").wait_for()
    assert "this answer is right" in status.inner_text()

    ask(page, "How many citizens participated in the march through Casablanca?")
    page.locator('#chat button[aria-label="Dislike"]').last.click()
    box = page.locator("#correction textarea")
    box.wait_for(state="visible")
    assert box.input_value() == ""  # empty until the user types
    box.fill("More than one million citizens")
    shot(page, "desktop-feedback-correction.png")
    page.locator("#send-correction").click()
    status.get_by_text("was found in the documents").wait_for()

    reply, _ = ask(page, "What is the capital of Peru?")
    assert "Not found in the documents" in reply
    page.locator('#chat button[aria-label="Dislike"]').last.click()  # "it is in the documents"
    status.get_by_text("Noted that the answer is in the documents").wait_for()
    assert "It is in the documents" in page.locator("#correction").inner_text()  # the box asks where
    page.get_by_text("Settings").click()
    assert "calibration is in use" in page.locator("#calibration-status").inner_text()
    shot(page, "desktop-feedback.png")

    ratings = FeedbackStore(server["index"]).read()
    assert [(r.rating, r.reply.refused) for r in ratings] == [("up", False), ("down", False), ("down", True)]
    up, corrected, refusal = ratings
    assert up.gold and "2015" in up.answers[0] and up.reply.citation is not None
    assert corrected.gold and corrected.correction_found and corrected.answers == ("More than one million citizens",)
    assert refusal.judged_refusal_wrong and not refusal.gold
    lines = (server["index"] / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["id"] for line in lines} == {r.id for r in ratings}  # every line whole JSON
