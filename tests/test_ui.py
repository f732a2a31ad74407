"""The chat page's behaviour without a server: rendering, escaping, refusals, uploads, options."""

from __future__ import annotations

import html
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from pathlib import Path

from bot.types import Chunk, Citation, Passage, Response
from bot.ui.page import ChatPage, build_app
from bot.ui.render import SOURCES_EMPTY, esc, render_answer, render_sources, suggest_questions
from bot.ui.server import launch_options
from tests.conftest import REPO, fake_sentence_bot, write_corpus

HOSTILE = (
    "Harbour Lighthouse\n\n"
    "The Harbour Lighthouse was built in 1872 by Thomas Ward.\n"
    "Its keeper wrote <script>alert(1)</script> and <img src=x onerror=alert(2)> on the wall.\n"
)
ALLOWED_TAGS = {"div", "p", "mark", "sup", "span", "blockquote", "ul", "li", "details", "summary",
                "table", "thead", "tbody", "tr", "th", "td", "code"}


class TagAudit(HTMLParser):
    """Collects every tag and attribute name, to prove document text created none."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}


def assert_safe(markup: str) -> None:
    audit = TagAudit(markup)
    assert audit.tags <= ALLOWED_TAGS, audit.tags - ALLOWED_TAGS
    assert audit.attributes <= {"class"}, audit.attributes


@pytest.fixture
def page(small_settings, fake_embedder):
    write_corpus(small_settings.corpus_dir, {"lighthouse.txt": HOSTILE})
    bot = fake_sentence_bot(small_settings, fake_embedder)
    return ChatPage(bot)


def test_esc_shows_text_literally_in_html_and_markdown():
    text = "<script>x</script> **bold** [link](http://a) `code` $x$ & é"
    out = esc(text)
    assert "<" not in out and ">" not in out and "*" not in out and "[" not in out and "`" not in out
    assert html.unescape(out) == text


def test_answer_highlights_the_span_in_its_sentence_and_cites_it(page):
    message, sources = page.reply("When did the Tower Bridge in London get completed?")
    assert "<mark>" in message and "1894" in message
    assert "[1]" in message and "bridges.txt" in message and "line 4" in message and "Famous Bridges" in message
    assert '<div class="qa-source">' in sources and "bridges.txt" in sources and "<mark>" in sources
    assert_safe(message)
    assert_safe(sources)


def test_a_short_span_is_shown_then_marked_inside_its_sentence():
    text = "Intro line.\nIn May 2015, <b>Morocco</b> set up the bureau. It grew."
    start = text.index("May 2015")
    quote_start, quote_end = text.index("In May"), text.index(" It grew")
    chunk = Chunk(0, "a.md", text, 0, len(text), "History", 1, None, line_map=((12, 2),))
    cite = Citation("a.md", "History", start, start + 8, text[quote_start:quote_end], quote_start, quote_end, line=2)
    response = Response("When?", "May 2015", False, 0.9, [cite], [Passage(chunk, 1.0, 1)])
    message, sources = render_answer(response), render_sources(response)
    assert '<p class="qa-lead">May 2015 <sup class="qa-ref">[1]</sup></p>' in message
    assert "In <mark>May 2015</mark>, &#60;b&#62;Morocco&#60;/b&#62; set up the bureau." in message
    assert "a.md</span> · History · line 2" in message
    assert "Intro line.\nIn <mark>May 2015</mark>," in sources  # the whole passage, answer marked
    assert_safe(message)
    assert_safe(sources)


def test_a_list_answer_is_shown_an_item_a_line():
    text = "Bring these:\na towel\na <padlock>"
    chunk = Chunk(0, "a.md", text, 0, len(text), "Gym", 1, None)
    answer = text[text.index("a towel"):]
    cite = Citation("a.md", "Gym", text.index("a towel"), len(text), answer, text.index("a towel"), len(text), line=2)
    response = Response("What should I bring?", answer, False, 0.9, [cite], [Passage(chunk, 1.0, 1)],
                        answer_items=["a towel", "a <padlock>"])
    message = render_answer(response)
    assert ('<div class="qa-lead"><ul class="qa-items"><li>a towel</li><li>a &#60;padlock&#62;</li></ul>'
            '<sup class="qa-ref">[1]</sup></div>') in message
    assert_safe(message)


def test_document_html_is_escaped_everywhere(page):
    message, sources = page.reply("Who built the Harbour Lighthouse?")
    assert "Thomas Ward" in message
    for markup in (message, sources, page.documents_html()):
        assert "<script" not in markup and "<img" not in markup
        assert_safe(markup)
    assert "<script>alert(1)</script>" in html.unescape(sources)  # still shown, as text
    assert "onerror=alert(2)" in html.unescape(sources)


def test_user_text_is_escaped_in_the_chat(page):
    history, box, pending = page.submit("<img src=x onerror=alert(1)> bridge?", [])
    assert box == "" and pending.startswith("<img")
    assert "<img" not in history[0]["content"]
    history, _ = page.answer(pending, history)
    assert all("<img" not in m["content"] for m in history)


def test_not_found_says_so_and_lists_the_closest_passages(page):
    message, sources = page.reply("Zebra quantum marmalade?")
    assert "Not found in the documents" in message
    assert "<li>" in message
    assert "Not found in the documents" in sources and sources.count('class="qa-source"') >= 1
    assert_safe(message)


def test_not_found_says_what_the_documents_lack_and_that_the_index_is_catching_up():
    from bot.ui.render import render_not_found

    refused = Response("Where is the Lima office?", "", True, 0.0, reason="…: no document mentions Lima",
                       not_held="no document mentions Lima",
                       notice="answered from the index as it was: documents changed in the folder are being indexed")
    message = render_not_found(refused)  # scores not shown
    assert "No document mentions Lima." in message and "being indexed" in message
    assert "No document mentions" not in render_not_found(replace(refused, not_held=""))


def test_the_sources_say_what_a_follow_up_was_read_as():
    from bot.ui.render import render_sources

    follow_up = Response("When was it built?", "", True, 0.0, follow_up=True, asked_as="When was the <b>pier</b> built?")
    sources = render_sources(follow_up)
    assert "read as “When was the &#60;b&#62;pier&#60;/b&#62; built?”" in sources
    assert "read as" not in render_sources(replace(follow_up, follow_up=False, asked_as=""))


@pytest.mark.parametrize("question", ["", "   ", None, "\x00\x07\x1b"])
def test_empty_question_gets_a_friendly_message(page, question):
    history, _, pending = page.submit(question, [])
    assert history == []
    history, sources = page.answer(pending, history)
    assert len(history) == 1 and history[0]["role"] == "assistant"
    assert "The question is empty" in history[0]["content"] and "Traceback" not in history[0]["content"]
    assert sources == SOURCES_EMPTY


def test_huge_and_odd_questions_are_answered_or_refused_politely(page):
    huge = "When did the Tower Bridge open? " * 4000
    history, _, pending = page.submit(huge, [])
    assert len(history[0]["content"]) < 2 * page.settings.max_question_chars  # shown shortened
    history, _ = page.answer(pending, history)
    assert "longer than" in history[-1]["content"]
    message, _ = page.reply("bridge\u202e\x01\x1f 🌉")
    assert "qa-msg" in message


def test_follow_up_uses_the_chat_history(page):
    history, _, pending = page.submit("When did the Golden Gate Bridge open?", [])
    history, _ = page.answer(pending, history)
    assert "1937" in history[-1]["content"]
    history, _, pending = page.submit("How long is its main span?", history)
    history, sources = page.answer(pending, history)
    assert "1,280" in html.unescape(sources)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]


def test_errors_from_the_bot_become_messages(page, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(page.bot, "ask", broken)
    message, sources = page.reply("When did the Golden Gate Bridge open?")
    assert "Something went wrong" in message and "disk on fire" not in message
    assert sources == SOURCES_EMPTY


def test_top_k_and_scores(page):
    message, sources = page.reply("When did the Golden Gate Bridge open?", top_k=1, show_scores=True)
    assert "confidence" in message and "similarity" in sources
    assert "Other passages" not in sources  # only one passage was searched
    message, _ = page.reply("When did the Golden Gate Bridge open?", top_k=0)  # 0 from a client means the default
    assert "qa-found" in message


def test_upload_is_answerable_at_once(page, tmp_path):
    upload = tmp_path / "rivers.md"
    upload.write_bytes(b"# Rivers\n\nThe Danube flows through ten countries.\n")
    status, documents = page.upload([str(upload)])
    assert "Added rivers.md" in status and "rivers.md" in documents
    message, _ = page.reply("Which river flows through ten countries?")
    assert "Danube" in message and "rivers.md" in message
    status, _ = page.upload([str(upload)])
    assert "already in the documents; replace it explicitly" in status
    status, _ = page.upload([str(upload)], replace=True)
    assert "unchanged" in status
    upload.write_bytes(b"# Rivers\n\nThe Rhine flows through six countries.\n")
    status, _ = page.upload([str(upload)])
    assert "Not added" in status and "Danube" in page.reply("Which river flows through ten countries?")[0]
    status, _ = page.upload([str(upload)], replace=True)
    assert "Updated rivers.md" in status and "Rhine" in page.reply("Which river flows through six countries?")[0]


def test_gradio_s_copy_of_an_upload_is_deleted_added_or_refused(page, tmp_path, monkeypatch):
    # Gradio keeps each upload in its folder and serves it at a /file= address: a copy left there
    # would outlive the document's removal.
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    from gradio.utils import get_upload_folder

    copies = []
    for name, data in (("canals.md", b"# Canals\n\nThe canal opened in 1820.\n"), ("empty.md", b"  \n")):
        copy = Path(get_upload_folder()) / f"upload-{name}" / name
        copy.parent.mkdir(parents=True)
        copy.write_bytes(data)
        copies.append(copy)
    status, _ = page.upload([str(c) for c in copies])
    assert "Added canals.md" in status and "empty.md" in status
    assert not any(c.exists() or c.parent.exists() for c in copies)
    # The same file sent twice while the first was being added shares its copy: the second is told so.
    assert "Added canals.md" in page.upload([str(copies[0])])[0]
    own = tmp_path / "mine" / "locks.md"  # a file of the caller's own (the Python API) stays
    own.parent.mkdir()
    own.write_bytes(b"# Locks\n\nThe lock was rebuilt in 1901.\n")
    assert "Added locks.md" in page.upload([str(own)])[0] and own.exists()


def test_first_upload_into_an_empty_corpus(tmp_path, fake_embedder):
    from bot.config import load_settings

    (tmp_path / "docs").mkdir()
    settings = load_settings({"corpus_dir": tmp_path / "docs", "index_dir": tmp_path / "index", "reader": "none"})
    page = ChatPage(fake_sentence_bot(settings, fake_embedder))
    assert "No usable documents" in page.documents_html() and page.examples() == []
    assert "No usable documents" in page.reply("Anything?")[0]
    upload = tmp_path / "first.txt"
    upload.write_text("The first document says the sky is blue.")
    status, documents = page.upload([str(upload)])
    assert "Added first.txt" in status and "first.txt" in documents
    assert "sky is blue" in page.reply("What colour is the sky?")[0]


@pytest.mark.parametrize("name,data,expected", [
    ("virus.exe", b"MZ", "only .docx, .htm"),
    ("empty.txt", b"", "Not added: empty.txt: the file is empty."),
    ("binary.txt", bytes(range(256)) * 8, "binary"),
    ("<img src=x onerror=alert(1)>.txt", b"", "empty"),
])
def test_refused_uploads_get_a_friendly_message(page, tmp_path, name, data, expected):
    path = tmp_path / name.replace("/", "_")
    path.write_bytes(data)
    status, documents = page.upload([str(path)])
    assert 'class="qa-error"' in status and expected in html.unescape(status) and "Traceback" not in status
    assert_safe(status)
    assert not (page.settings.corpus_dir / path.name).exists()


def test_an_upload_into_a_folder_that_cannot_be_written_says_so(page, tmp_path, monkeypatch):
    def read_only(name, data, replace=False, progress=False):
        raise PermissionError(13, "Permission denied", str(page.settings.corpus_dir / f".{name}.tmp"))

    monkeypatch.setattr(page.bot, "add_document", read_only)
    path = tmp_path / "rivers.txt"
    path.write_bytes(b"The Danube flows through ten countries.\n")
    status, _ = page.upload([str(path)])
    assert "the documents folder could not be written to (Permission denied)" in html.unescape(status)


def test_upload_over_the_size_limit_is_refused_before_reading(small_settings, fake_embedder, tmp_path):
    settings = replace(small_settings, max_file_mb=0.001)
    page = ChatPage(fake_sentence_bot(settings, fake_embedder))
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    status, _ = page.upload([str(big)])
    assert "over the 0.001 MB limit" in status


def test_api_endpoint_returns_the_full_response(page):
    import gradio as gr

    data = page.ask_api("When did the Tower Bridge in London get completed?")
    assert not data["abstained"] and "1894" in data["answer"]
    assert data["citations"][0]["doc"] == "bridges.txt"
    follow = page.ask_api("How long is its main span?", ["When did the Golden Gate Bridge open?"], 3)
    assert "1,280" in follow["passages"][0]["text"] and len(follow["passages"]) <= 3
    with pytest.raises(gr.Error, match="empty"):
        page.ask_api("  ")


def test_api_endpoint_refuses_a_top_k_over_the_limit(page):
    import gradio as gr

    limit = page.settings.max_top_k
    with pytest.raises(gr.Error, match=f"from 1 to {limit}"):
        page.ask_api("When did the Golden Gate Bridge open?", None, limit + 1)
    assert len(page.ask_api("When did the Golden Gate Bridge open?", None, limit)["passages"]) >= 1


def test_the_slider_never_offers_more_than_the_limit(small_settings, fake_embedder):
    import gradio as gr

    settings = replace(small_settings, top_k=2, max_top_k=3)
    app = build_app(ChatPage(fake_sentence_bot(settings, fake_embedder)))
    slider = next(b for b in app.blocks.values() if isinstance(b, gr.Slider))
    assert slider.maximum == 3 and slider.value == 2


def test_a_read_only_page_has_no_way_to_add_documents(small_settings, fake_embedder, tmp_path):
    import gradio as gr

    page = ChatPage(fake_sentence_bot(small_settings, fake_embedder), uploads=False)
    app = build_app(page)
    assert not any(isinstance(b, gr.File) for b in app.blocks.values())
    assert all(d.name != "upload" for d in app.fns.values())
    assert "bridges.txt" in page.documents_html()
    note = tmp_path / "note.txt"
    note.write_text("A note.")
    status, _ = page.upload([str(note)])
    assert "turned off" in status and not (small_settings.corpus_dir / "note.txt").exists()


def test_examples_come_from_the_corpus_and_are_answered(page, monkeypatch):
    chunks = page.bot.index.chunks
    text = "The Central Bureau of Judicial Investigation (BCIJ) was set up."
    assert suggest_questions([replace(chunks[0], text=text)], set())[0] == "What is the BCIJ?"
    # a heading that asks a question is one; a topic ("Late fees") makes none a span answers
    faq = replace(chunks[0], text="No acronyms here.", section="FAQ › 2.1. How do I pay a late fee?")
    assert suggest_questions([faq], set()) == ["How do I pay a late fee?"]
    assert suggest_questions([replace(faq, section="Fees › Late fees")], set()) == []
    assert ChatPage(page.bot, examples=["Custom?"]).examples() == ["Custom?"]
    # only the suggestions the bot answers with some confidence are shown
    import bot.ui.page

    suggested = ["When was the Tower Bridge in London completed?", "Zebra quantum marmalade?"]
    monkeypatch.setattr(bot.ui.page, "suggest_questions", lambda *args, **kwargs: suggested)
    assert ChatPage(page.bot).examples() == suggested[:1]


def test_the_page_builds_with_one_public_endpoint(page):
    app = build_app(page)
    public = [d.api_name for d in app.fns.values() if d.api_visibility == "public"]
    assert public == ["ask"]


def test_launch_is_local_and_serves_no_extra_files(small_settings):
    options = launch_options(small_settings)
    assert options["server_name"] == "127.0.0.1" and options["server_port"] == 7860
    assert options["share"] is False and options["enable_monitoring"] is False and options["mcp_server"] is False
    assert "allowed_paths" not in options
    assert str(small_settings.corpus_dir.resolve()) in options["blocked_paths"]
    assert options["max_file_size"] == int(small_settings.max_file_mb * 1024 * 1024)
    assert "auth" not in options

    async def check(username: str, password: str) -> bool:
        return False

    assert launch_options(small_settings, auth=check)["auth"] is check


def _app(*args, env=None):
    return subprocess.run([sys.executable, str(REPO / "app.py"), *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=REPO)


def test_app_help_is_fast_and_loads_nothing_heavy():
    code = ("import runpy, sys; sys.argv = ['app.py', '--help']\n"
            "try:\n    runpy.run_path('app.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('gradio', 'torch', 'transformers', 'faiss') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO).stdout
    assert "--host" in out and "--port" in out and "--corpus" in out and "--reader" in out
    assert "HEAVY []" in out


@pytest.mark.parametrize("args,env_extra,message", [
    (["--port", "abc"], {}, "invalid int value"),
    (["--port", "70000"], {}, "port must be in 1..65535"),
    ([], {"BOT_PORT": "web"}, "BOT_PORT='web' is not a valid int"),
    (["--bogus"], {}, "unrecognized arguments"),
])
def test_bad_options_are_one_line_errors(args, env_extra, message):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")} | env_extra
    result = _app(*args, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_missing_corpus_folder_is_a_one_line_error(tmp_path):
    result = _app("--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "index"))
    assert result.returncode == 2 and "corpus folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_busy_port_or_unknown_host_is_a_one_line_error(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _app("--port", str(port), "--corpus", str(REPO / "corpus"), "--index", str(tmp_path / "index"))
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    result = _app("--host", "no-such-host.invalid", "--corpus", str(REPO / "corpus"))
    assert result.returncode == 2 and "cannot listen on no-such-host.invalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_word_citation_names_the_paragraph_not_a_line():
    from bot.cli.answering import _where
    from bot.ui.render import where

    assert _where("contract.docx", "Terms", 3, None) == "contract.docx, \u00a7 Terms, paragraph 3"
    assert where("notes.txt", "", 12, None).endswith("line 12")
    assert where("report.pdf", "", 4, 2).endswith("page 2 · line 4")


def test_a_refusal_still_says_the_question_was_cut(page):
    """The notice that only the start of a long question was read shows with or without scores."""
    message, _ = page.reply("please " * 400 + "what is the colour of the moon rock?")
    assert "Not found" in message or "qa-notfound" in message
    assert "longer than" in message


def test_uploads_whose_names_differ_only_in_brackets_are_two_documents(page, tmp_path):
    first, second = tmp_path / "report (final).txt", tmp_path / "report [final].txt"
    first.write_bytes(b"The Danube flows through ten countries.\n")
    second.write_bytes(b"The Rhine flows through six countries.\n")
    page.upload([str(first)])
    status, _ = page.upload([str(second)], replace=True)
    assert "Added report [final].txt" in html.unescape(status)
    names = {d["doc"] for d in page.bot.documents()}
    assert {"report (final).txt", "report [final].txt"} <= names
    assert "Danube" in page.reply("Which river flows through ten countries?")[0]


@pytest.mark.parametrize("name, stored", [("invoice\u202etxt.pdf", "invoice_txt.pdf"), ("report\u200b.txt", "report_.txt"),
                                          ("a\x85b\u2028c.txt", "a_b_c.txt"), ("e\u0301te.md", "\u00e9te.md")])
def test_an_upload_name_shows_what_it_is(name, stored):
    """Characters that do not print (direction marks, zero-width spaces, line separators) could make
    one name look like another."""
    from bot.pipeline import upload_file_name

    assert upload_file_name(name) == stored


def test_files_left_out_of_the_index_and_an_index_that_could_not_follow_are_shown(page, small_settings,
                                                                                   monkeypatch):
    from tests.conftest import deny_writes

    (small_settings.corpus_dir / "scan.pdf").write_bytes(b"%PDF-1.4 not really a PDF")
    page.bot.sync()
    listed = page.documents_html()
    assert "scan.pdf" in listed and "Notes from the last indexing" in listed
    assert_safe(listed)
    message, _ = page.reply("When was the Harbour Lighthouse built?")
    assert "could not be indexed again" not in message and "as it was" not in message
    # The index folder cannot be written: answers come from the index as it was, and say so.
    deny_writes(monkeypatch, small_settings.index_dir)
    (small_settings.corpus_dir / "new.txt").write_text("The new pier opened in 1990.\n")
    message, _ = page.reply("When was the Harbour Lighthouse built?")
    assert "1872" in message and "answered from the index as it was" in message
    assert "answering from the index as it was" in page.documents_html()
