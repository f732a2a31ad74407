"""Managing the documents through `Bot`, the `bot docs` command and the chat page: listing them with
size and time added, and removing one from the folder and the index together."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from datetime import datetime

import pytest

import bot.pipeline
import bot.search.index
from bot.cli import main
from bot.errors import UsageError
from bot.formatting import added_text, size_text
from bot.ui.page import ChatPage, build_app
from tests.conftest import SAMPLE_DOCS, fake_sentence_bot, write_corpus

BRIDGE_QUESTION = "When did the Golden Gate Bridge open?"


@pytest.fixture
def docs_bot(small_settings, fake_embedder):
    return fake_sentence_bot(small_settings, fake_embedder)


def assert_not_cited(response, name: str) -> None:
    """The answer neither cites the document nor shows a passage of it."""
    assert all(c.doc != name for c in response.citations)
    assert all(p.chunk.doc_id != name for p in response.passages)


# ----- Bot -----

def test_documents_list_name_title_chunks_size_and_time_added(docs_bot, small_settings):
    before = datetime.now().astimezone().replace(microsecond=0)
    listed = {d["doc"]: d for d in docs_bot.documents()}
    assert sorted(listed) == sorted(SAMPLE_DOCS)
    bridges = listed["bridges.txt"]
    assert bridges["title"] == "Famous Bridges" and bridges["kind"] == "txt" and bridges["chunks"] >= 1
    assert bridges["bytes"] == (small_settings.corpus_dir / "bridges.txt").stat().st_size
    added = datetime.fromisoformat(bridges["added_at"])
    assert added.tzinfo is not None and before <= added <= datetime.now().astimezone()


def test_the_time_added_survives_reuse_and_rebuilds_and_is_new_for_new_content(docs_bot, small_settings,
                                                                               fake_embedder, monkeypatch):
    first = {d["doc"]: d["added_at"] for d in docs_bot.documents()}
    monkeypatch.setattr(bot.search.index, "iso_time", lambda timestamp=None: "2031-05-06T07:08:09+00:00")
    docs_bot.sync(force=True)  # every document re-embedded: still added when it was
    assert {d["doc"]: d["added_at"] for d in docs_bot.documents()} == first
    again = fake_sentence_bot(small_settings, fake_embedder)  # a new process reuses the stored index
    assert {d["doc"]: d["added_at"] for d in again.documents()} == first
    docs_bot.add_document("bridges.txt", b"Famous Bridges\n\nThe Golden Gate Bridge was repainted in 1995.\n",
                          replace=True)
    now = {d["doc"]: d["added_at"] for d in docs_bot.documents()}
    assert now == {**first, "bridges.txt": "2031-05-06T07:08:09+00:00"}


def test_an_index_from_before_times_were_recorded_shows_the_file_time(docs_bot, small_settings, fake_embedder):
    docs_bot.documents()
    manifest_path = small_settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for info in manifest["documents"].values():
        del info["added_at"], info["bytes"]
    manifest_path.write_text(json.dumps(manifest))
    stamp = datetime(2020, 3, 4, 5, 6, 7).timestamp()
    os.utime(small_settings.corpus_dir / "bridges.txt", (stamp, stamp))
    old = fake_sentence_bot(small_settings, fake_embedder)
    bridges = next(d for d in old.documents() if d["doc"] == "bridges.txt")
    assert datetime.fromisoformat(bridges["added_at"]).timestamp() == stamp
    assert bridges["bytes"] == (small_settings.corpus_dir / "bridges.txt").stat().st_size
    old.sync(force=True)  # re-embedding records the file's time rather than today's
    assert next(d for d in old.documents() if d["doc"] == "bridges.txt")["added_at"] == bridges["added_at"]


def test_a_removed_document_is_never_cited_again(docs_bot, small_settings, fake_embedder):
    other = fake_sentence_bot(small_settings, fake_embedder)  # another process on the same folders
    assert docs_bot.ask(BRIDGE_QUESTION).citations[0].doc == "bridges.txt"
    assert other.ask(BRIDGE_QUESTION).citations[0].doc == "bridges.txt"
    report = docs_bot.remove_document("bridges.txt")
    assert report.removed == ["bridges.txt"]
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == ["volcanoes.md"]  # nothing left aside
    assert [d["doc"] for d in docs_bot.documents()] == ["volcanoes.md"]
    for asker in (docs_bot, other):
        response = asker.ask(BRIDGE_QUESTION)
        assert response.abstained and response.answer == ""
        assert_not_cited(response, "bridges.txt")
    assert docs_bot.ask("Which volcano erupted in 2000?").citations[0].doc == "volcanoes.md"


@pytest.mark.parametrize("name", ["nope.txt", "", "../bridges.txt", "corpus/bridges.txt", "BRIDGES.TXT", "a\nb"])
def test_removing_an_unknown_document_is_a_clear_error(docs_bot, small_settings, name):
    with pytest.raises(UsageError, match=r"is not among the documents \(they are: bridges\.txt, volcanoes\.md\)") as error:
        docs_bot.remove_document(name)
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == sorted(SAMPLE_DOCS)


def test_a_name_typed_composed_removes_a_file_named_decomposed(docs_bot, small_settings):
    (small_settings.corpus_dir / "e\u0301cole.txt").write_text("The village school opened in 1882.")
    assert docs_bot.remove_document("\u00e9cole.txt").removed == ["e\u0301cole.txt"]
    assert not (small_settings.corpus_dir / "e\u0301cole.txt").exists()


def test_the_last_document_cannot_be_removed(docs_bot, small_settings):
    docs_bot.remove_document("bridges.txt")
    with pytest.raises(UsageError, match="volcanoes.md is the only document: add another one before removing it"):
        docs_bot.remove_document("volcanoes.md")
    assert (small_settings.corpus_dir / "volcanoes.md").exists()


def test_a_failed_removal_leaves_folder_and_index_as_they_were(docs_bot, small_settings, monkeypatch):
    docs_bot.ask(BRIDGE_QUESTION)

    def failing_sync(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bot.pipeline, "sync_index", failing_sync)
    with pytest.raises(OSError, match="No space left"):
        docs_bot.remove_document("bridges.txt")
    monkeypatch.undo()
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == sorted(SAMPLE_DOCS)
    assert "bridges.txt" in {d["doc"] for d in docs_bot.documents()}
    assert docs_bot.ask(BRIDGE_QUESTION).citations[0].doc == "bridges.txt"
    assert not docs_bot.refresh()  # the folder is as the index last saw it


def test_a_removal_stopped_after_the_index_left_the_document_out_loses_nothing(docs_bot, small_settings,
                                                                               monkeypatch, fake_embedder):
    docs_bot.ask(BRIDGE_QUESTION)
    target = small_settings.corpus_dir / "bridges.txt"
    real_unlink = Path.unlink

    def killed(path, *args, **kwargs):  # the process dies between publishing the index and deleting
        if path == target:
            raise SystemExit("killed")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", killed)
    with pytest.raises(SystemExit):
        docs_bot.remove_document("bridges.txt")
    monkeypatch.undo()
    assert target.exists()  # the document itself is untouched, under its own name
    restarted = fake_sentence_bot(small_settings, fake_embedder)
    assert restarted.ask(BRIDGE_QUESTION).citations[0].doc == "bridges.txt"  # and indexed again


def test_a_file_that_cannot_be_deleted_stays_a_document(docs_bot, small_settings, monkeypatch):
    docs_bot.ask(BRIDGE_QUESTION)
    target = small_settings.corpus_dir / "bridges.txt"
    real_unlink = Path.unlink

    def refused(path, *args, **kwargs):
        if path == target:
            raise PermissionError(13, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", refused)
    with pytest.raises(UsageError, match="cannot remove bridges.txt: Permission denied"):
        docs_bot.remove_document("bridges.txt")
    monkeypatch.undo()
    assert target.exists() and docs_bot.ask(BRIDGE_QUESTION).citations[0].doc == "bridges.txt"


def test_a_document_deleted_on_disk_can_still_be_removed_from_the_list(docs_bot, small_settings):
    docs_bot.documents()
    (small_settings.corpus_dir / "bridges.txt").unlink()
    assert docs_bot.remove_document("bridges.txt").removed == ["bridges.txt"]
    assert [d["doc"] for d in docs_bot.documents()] == ["volcanoes.md"]


def test_size_and_time_are_shown_plainly():
    assert [size_text(n) for n in (None, 0, 999, 1000, 14_234, 3_100_000, 5 * 10**12)] == \
        ["?", "0 B", "999 B", "1.0 KB", "14.2 KB", "3.1 MB", "5000.0 GB"]
    moment = datetime(2024, 2, 3, 4, 5, 6).astimezone()
    assert added_text(moment.isoformat()) == "2024-02-03 04:05"
    assert added_text("") == "?" and added_text("garbled") == "garbled"


def test_a_failed_upload_leaves_the_folder_as_it_was(docs_bot, small_settings, monkeypatch):
    docs_bot.ask(BRIDGE_QUESTION)

    def failing_sync(*args, **kwargs):
        raise RuntimeError("indexing stopped")

    monkeypatch.setattr(bot.pipeline, "sync_index", failing_sync)
    with pytest.raises(RuntimeError, match="indexing stopped"):
        docs_bot.add_document("narwhals.txt", b"Narwhals live in Arctic waters around Greenland.")
    monkeypatch.undo()
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == sorted(SAMPLE_DOCS)


def test_a_failed_upload_over_a_link_leaves_the_link(docs_bot, small_settings, monkeypatch, tmp_path):
    """A link to a file outside the folder is skipped, not indexed; an upload in its place that
    fails must not leave a copy of the outside file in the folder."""
    outside = tmp_path / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("The launch code is 7741-ALPHA.")
    link, dangling = small_settings.corpus_dir / "notes.txt", small_settings.corpus_dir / "gone.txt"
    link.symlink_to(outside)
    dangling.symlink_to(tmp_path / "outside" / "missing.txt")
    docs_bot.ask(BRIDGE_QUESTION)

    def failing_sync(*args, **kwargs):
        raise RuntimeError("indexing stopped")

    monkeypatch.setattr(bot.pipeline, "sync_index", failing_sync)
    for path in (link, dangling):
        with pytest.raises(RuntimeError, match="indexing stopped"):
            docs_bot.add_document(path.name, b"Narwhals live in Arctic waters around Greenland.", replace=True)
    monkeypatch.undo()
    assert link.is_symlink() and link.resolve() == outside.resolve()
    assert dangling.is_symlink() and not dangling.exists()
    # a link to nothing holds its name too: an upload replaces it only when asked
    with pytest.raises(UsageError, match="gone.txt is in the corpus folder but was not indexed"):
        docs_bot.add_document("gone.txt", b"Narwhals live in Arctic waters around Greenland.")


def test_the_list_and_uploads_see_files_changed_on_disk(docs_bot, small_settings):
    docs_bot.documents()
    (small_settings.corpus_dir / "notes.txt").write_text("Narwhals live in Arctic waters around Greenland.")
    assert "notes.txt" in {d["doc"] for d in docs_bot.documents()}
    (small_settings.corpus_dir / "notes.txt").unlink()
    # The same content uploaded under another name is no copy of a file that is gone.
    report = docs_bot.add_document("narwhals.txt", b"Narwhals live in Arctic waters around Greenland.")
    assert report.added == ["narwhals.txt"] and report.removed == []


def test_uploading_over_a_skipped_file_names_why_it_was_skipped(docs_bot, small_settings):
    (small_settings.corpus_dir / "notes.txt").write_bytes(b"")
    docs_bot.documents()
    with pytest.raises(UsageError, match="notes.txt is in the corpus folder but was not indexed \\(empty file\\)"):
        docs_bot.add_document("notes.txt", b"Narwhals live in Arctic waters around Greenland.")
    assert docs_bot.add_document("notes.txt", b"Narwhals live in Arctic waters.", replace=True).added == ["notes.txt"]


# ----- chat page -----

@pytest.fixture
def page(docs_bot):
    return ChatPage(docs_bot)


def test_the_documents_tab_shows_passages_size_and_time_added(page, small_settings):
    listed = page.documents_html()
    size = (small_settings.corpus_dir / "bridges.txt").stat().st_size
    added = next(d for d in page.bot.documents() if d["doc"] == "bridges.txt")["added_at"]
    assert "<th>Size</th><th>Added</th>" in listed
    assert f"<td class='qa-n'>{size} B</td><td>{added_text(added)}</td>" in html.unescape(listed)


def test_removing_in_the_page_leaves_no_stale_citation(page, small_settings):
    assert "bridges.txt" in page.reply(BRIDGE_QUESTION)[0]
    assert page.document_names() == ["bridges.txt", "volcanoes.md"]
    status, listed = page.remove("bridges.txt")
    assert 'class="qa-ok"' in status and "Removed bridges.txt" in status
    assert "bridges.txt" not in listed and "volcanoes.md" in listed
    assert page.document_names() == ["volcanoes.md"]
    assert page.remove_choices().choices == [("volcanoes.md", "volcanoes.md")]
    message, sources = page.reply(BRIDGE_QUESTION)
    assert "Not found in the documents" in message
    assert "bridges.txt" not in message and "bridges.txt" not in sources
    assert not (small_settings.corpus_dir / "bridges.txt").exists()


@pytest.mark.parametrize("name,expected", [
    ("nope.txt", "Not removed: nope.txt is not among the documents"),
    (None, "Choose a document to remove first."),
    ("", "Choose a document to remove first."),
])
def test_a_bad_removal_in_the_page_is_a_friendly_message(page, small_settings, name, expected):
    status, listed = page.remove(name)
    assert 'class="qa-error"' in status and expected in html.unescape(status) and "Traceback" not in status
    assert "bridges.txt" in listed
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == sorted(SAMPLE_DOCS)


def test_the_remove_control_is_wired_to_the_list(page):
    import gradio as gr

    app = build_app(page)
    dropdown = next(b for b in app.blocks.values() if isinstance(b, gr.Dropdown) and b.elem_id == "remove-name")
    assert [value for _, value in dropdown.choices] == ["bridges.txt", "volcanoes.md"] and dropdown.value is None
    removals = [d for d in app.fns.values() if d.name == "remove"]
    assert len(removals) == 1 and removals[0].inputs == [dropdown] and removals[0].api_visibility == "private"
    refreshes = [d for d in app.fns.values() if d.name == "remove_choices"]
    assert len(refreshes) == 3  # on load, after an upload, after a removal


def test_a_read_only_page_has_no_way_to_remove_documents(small_settings, fake_embedder):
    import gradio as gr

    page = ChatPage(fake_sentence_bot(small_settings, fake_embedder), uploads=False)
    app = build_app(page)
    assert not any(isinstance(b, (gr.Dropdown, gr.Button)) and b.elem_id in ("remove-name", "remove")
                   for b in app.blocks.values())
    assert all(d.name not in ("remove", "remove_choices") for d in app.fns.values())
    status, listed = page.remove("bridges.txt")
    assert "turned off" in status and "bridges.txt" in listed
    assert (small_settings.corpus_dir / "bridges.txt").exists()


# ----- command line -----

@pytest.fixture
def cli_dirs(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", SAMPLE_DOCS)
    monkeypatch.setenv("BOT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("BOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BOT_READER", "none")
    return corpus


@pytest.mark.models
def test_docs_list_and_remove_on_the_command_line(cli_dirs, capsys):
    assert main(["docs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "chunks", "size", "added"] and len(lines) == 3
    size = (cli_dirs / "bridges.txt").stat().st_size
    row = lines[1].split()
    assert row[0] == "bridges.txt" and int(row[1]) >= 1 and row[2:4] == [str(size), "B"]
    assert datetime.strptime(" ".join(row[4:]), "%Y-%m-%d %H:%M")
    assert lines[2].startswith("volcanoes.md ")

    assert main(["docs", "remove", "bridges.txt"]) == 0
    assert capsys.readouterr().out.startswith("removed bridges.txt; 1 documents remain")
    assert not (cli_dirs / "bridges.txt").exists()
    assert main(["docs", "list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["name", "volcanoes.md"]
    assert main(["ask", "--json", BRIDGE_QUESTION]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert all(c["doc"] != "bridges.txt" for c in answer["citations"])
    assert all(p["doc"] != "bridges.txt" for p in answer["passages"])


@pytest.mark.models
@pytest.mark.parametrize("argv,message", [
    (["docs", "remove", "nope.txt"], "error: nope.txt is not among the documents (they are: bridges.txt, volcanoes.md)"),
    (["docs"], "error: say what to do: bot docs list | bot docs remove NAME"),
])
def test_docs_errors_are_one_line_with_exit_2(cli_dirs, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
    assert sorted(p.name for p in cli_dirs.iterdir()) == sorted(SAMPLE_DOCS)


def test_an_upload_is_reported_under_the_name_it_was_stored_as(page, small_settings):
    page.bot.load_index()
    (small_settings.corpus_dir / "aaa.txt").write_text("Kiwis cannot fly and live in New Zealand.")  # on disk
    upload = small_settings.corpus_dir.parent / "odd: name (1).txt"
    upload.write_text("Narwhals live in Arctic waters around Greenland.")
    ok, message = page._add(upload)
    assert ok and message.startswith("Added odd_ name (1).txt (1 passage)")


def test_a_name_with_a_newline_stays_on_one_line_of_the_listing():
    from bot.cli.docs import documents_table

    table = documents_table([{"doc": "tower\nnotes.txt", "chunks": 2, "bytes": 10, "added_at": ""},
                             {"doc": "plain.txt", "chunks": 1, "bytes": 5, "added_at": ""}])
    assert len(table.splitlines()) == 3 and "tower\\nnotes.txt" in table


def test_wide_and_accented_names_keep_the_listing_columns_aligned():
    from bot.cli.docs import documents_table
    from bot.formatting import display_width

    table = documents_table([{"doc": "報告書.txt", "chunks": 2, "bytes": 10, "added_at": ""},
                             {"doc": "Cafe\u0301.txt", "chunks": 1, "bytes": 5, "added_at": ""},
                             {"doc": "plain.txt", "chunks": 1, "bytes": 5, "added_at": ""}])
    lines = table.splitlines()
    # The chunks column ends at the same terminal column on every line.
    ends = {display_width(line[: line.index(count) + len(count)]) for line, count in zip(lines, ["chunks", "2", "1", "1"], strict=True)}
    assert len(ends) == 1


def test_replacing_a_decomposed_name_replaces_that_file_and_leaves_no_twin(docs_bot, small_settings):
    (small_settings.corpus_dir / "Cafe\u0301.txt").write_text("The cafe opens at nine.")
    docs_bot.sync()
    docs_bot.add_document("Caf\u00e9.txt", b"The cafe opens at eight since May.", replace=True)
    names = [d["doc"] for d in docs_bot.documents()]
    assert [n for n in names if n.startswith("Caf")] == ["Cafe\u0301.txt"]
    assert (small_settings.corpus_dir / "Cafe\u0301.txt").read_text() == "The cafe opens at eight since May."


def test_a_document_with_a_long_name_can_be_removed_and_a_too_long_upload_is_refused(docs_bot, small_settings):
    long_name = "minutes of the harbour committee " * 7 + ".txt"  # 235 bytes: a legal name
    (small_settings.corpus_dir / long_name).write_text("The committee met on Tuesday.")
    docs_bot.sync()
    assert docs_bot.remove_document(long_name).removed == [long_name]
    with pytest.raises(UsageError, match="the file name is too long"):
        docs_bot.add_document("x" * 260 + ".txt", b"Some text.")


def test_a_name_shown_with_an_escaped_newline_removes_that_document(docs_bot, small_settings):
    (small_settings.corpus_dir / "tower\nnotes.txt").write_text("The tower is 40 metres tall.")
    docs_bot.sync()
    assert docs_bot.remove_document("tower\\nnotes.txt").removed == ["tower\nnotes.txt"]
    with pytest.raises(UsageError) as error:
        docs_bot.remove_document("missing.txt")
    assert "\n" not in str(error.value)


def test_a_file_dropped_into_the_folder_is_indexed_beside_the_questions(docs_bot, small_settings, monkeypatch):
    import threading

    import bot.pipeline

    docs_bot.ask(BRIDGE_QUESTION)
    embedding_may_finish = threading.Event()
    encode = docs_bot.embedder.encode

    def slow_encode(texts, *args, **kwargs):  # a large document: minutes of embedding
        if any("Narwhals" in t for t in texts):
            embedding_may_finish.wait(30)
        return encode(texts, *args, **kwargs)

    monkeypatch.setattr(docs_bot.embedder, "encode", slow_encode)
    monkeypatch.setattr(bot.pipeline, "REFRESH_WAIT_S", 0.2)
    (small_settings.corpus_dir / "whales.txt").write_text("Narwhals live in Arctic waters around Greenland.\n")
    meanwhile = docs_bot.ask(BRIDGE_QUESTION)  # answered at once, from the index as it was
    assert meanwhile.citations[0].doc == "bridges.txt" and "being indexed" in meanwhile.reason
    assert docs_bot.indexing
    embedding_may_finish.set()
    assert docs_bot.wait_for_sync(30) and not docs_bot.indexing
    after = docs_bot.ask("Where do narwhals live?")
    assert after.citations[0].doc == "whales.txt" and "being indexed" not in after.reason
