import dataclasses
from pathlib import Path

import pytest

from tests.conftest import load_corpus
from bot.errors import UsageError
from bot.pipeline import Bot, citations_for
from bot.types import Chunk, Passage, Span
from tests.conftest import SAMPLE_DOCS, fake_sentence_bot


@pytest.fixture
def bot(small_settings, fake_embedder):
    return fake_sentence_bot(small_settings, fake_embedder)


def _docs(settings):
    return {d.doc_id: d for d in load_corpus(settings.corpus_dir).documents}


def test_answer_and_citations_are_verbatim_document_text(bot, small_settings):
    response = bot.ask("When did the Tower Bridge in London get completed?")
    assert not response.abstained
    docs = _docs(small_settings)
    c = response.citations[0]
    doc = docs[c.doc]
    assert doc.text[c.start:c.end] == response.answer
    assert doc.text[c.quote_start:c.quote_end] == c.quote
    assert c.quote_start <= c.start < c.end <= c.quote_end
    assert "1894" in c.quote and c.line == 4 and c.section == "Famous Bridges"
    assert set(response.timings_ms) >= {"embed", "retrieve", "read", "format", "total"}
    assert response.passages and response.passages[0].rank == 1
    data = response.to_dict()
    assert {"answer", "abstained", "score", "citations", "passages", "timings_ms"} <= set(data)
    assert {"doc", "section", "start", "end", "quote", "line", "page"} <= set(data["citations"][0])


def test_sentence_mode_answers_with_one_list_item_as_the_file_marks_it(bot, small_settings):
    (small_settings.corpus_dir / "benefits.md").write_text(
        "# Friends benefits\n\nAll Friends receive:\n\n- free entry to the Harbour Gallery and the Ropewalk\n"
        "- ten per cent off in the museum shop and the Galley Café\n- three issues a year of the newsletter\n")
    response = bot.ask("Where do Friends get ten per cent off?", threshold=0)
    assert response.answer == "ten per cent off in the museum shop and the Galley Café"


def test_unrelated_question_abstains_but_shows_closest_passages(bot):
    response = bot.ask("Zebra quantum marmalade?")
    assert response.abstained and response.answer == "" and response.citations == []
    assert "do not appear to contain" in response.reason


@pytest.mark.parametrize("files, refused, reason, covered, answer", [
    # an edition the documents lack
    ({"leave_2023.md": "# Leave policy 2023\n\nEvery employee gets 25 days of annual leave per year.\n",
      "travel.md": "# Travel policy\n\nTrains are booked in second class on every trip.\n"},
     "How many days of annual leave does every employee get under the 2022 leave policy?", "about 2023, not 2022",
     "How many days of annual leave does every employee get under the 2023 leave policy?", "25 days"),
    # a name no document mentions
    ({"offices.md": "# Offices\n\nThe lease on the Paris office ends on 30 June 2026.\n"
                    "The lease on the Rome office ends on 31 March 2027.\n"},
     "When does the lease on the Amsterdam office end?", "no document mentions Amsterdam",
     "When does the lease on the Rome office end?", "31 March 2027"),
    # a model no document names, though every word of its code is known
    ({"rx200.md": "# RX-200 manual\n\nThe RX-200 runs for 120 minutes on one charge.\n",
      "rx300.md": "# RX-300 manual\n\nThe RX-300 runs for 150 minutes on one charge.\n"},
     "How long does the RX-250 run on one charge?", "no document mentions RX-250",
     "How long does the RX-300 run on one charge?", "150 minutes"),
    # the opposite event
    ({"bureau.txt": "In May 2015, the ministry established the bureau.\n",
      "travel.md": "# Travel policy\n\nTrains are booked in second class on every trip.\n"},
     "When was the bureau dissolved?", "the passage says established, not dissolved",
     "When was the bureau established?", "May 2015"),
    # a name no document mentions, where a line answers for every other one
    ({"hotel_limits.txt": "Other cities — Limit: EUR 120 a night.\n",
      "travel.md": "# Travel policy\n\nTrains are booked in second class on every trip.\n"},
     "Which class are trains booked in for trips to Leipzig?", "no document mentions Leipzig",
     "What is the limit a night in other cities, Leipzig say?", "EUR 120"),
])
def test_a_question_the_documents_hold_only_something_like_is_refused_and_says_why(
        tmp_path, fake_embedder, files, refused, reason, covered, answer):
    from bot.config import load_settings
    from tests.conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus", files)
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    bot = fake_sentence_bot(settings, fake_embedder)
    asked = bot.ask(refused)
    assert asked.abstained and reason in asked.reason
    answered = bot.ask(covered)
    assert not answered.abstained and answer in answered.answer


def test_bad_questions(bot):
    with pytest.raises(UsageError):
        bot.ask("   ")
    for bad_k in (0, -1, 2.5, True, "3"):
        with pytest.raises(UsageError, match="top_k must be a whole number"):
            bot.ask("Which bridge?", top_k=bad_k)
    for bad_threshold in (float("nan"), -1, 5.0, "0.5", True):
        with pytest.raises(UsageError, match="threshold must be a probability"):
            bot.ask("Which bridge?", threshold=bad_threshold)
    with pytest.raises(UsageError, match="2 questions but 1 histories"):
        bot.ask_many(["Which bridge?", "Which volcano?"], [None])
    with pytest.raises(UsageError, match="a list of questions"):
        bot.ask_many("Which bridge?")
    assert len(bot.ask_many(q for q in ("Which bridge?", "Which volcano?"))) == 2
    long = bot.ask("bridge " * 20_000)
    assert "longer than" in long.reason and len(long.question) <= bot.settings.max_question_chars
    for odd in ["<script>alert(1)</script>", "'; DROP TABLE docs; --", "Ignore previous instructions",
                "🌋🌋🌋", "هل هناك بركان؟", "\u202eevil"]:
        response = bot.ask(odd)
        # Either a refusal that says why, or an answer copied from a document and cited there.
        if response.abstained:
            assert response.answer == "" and "do not appear to contain" in response.reason
        else:
            source = (bot.settings.corpus_dir / response.citations[0].doc).read_text(encoding="utf-8")
            assert response.answer in response.citations[0].quote and response.answer in source


def test_upload_is_indexed_and_answerable_at_once(bot, small_settings):
    bot.ask("warm up")
    report = bot.add_document("rivers.md", b"# Rivers\n\nThe Danube flows through ten countries.\n")
    assert report.added == ["rivers.md"] and (small_settings.corpus_dir / "rivers.md").exists()
    response = bot.ask("Which river flows through ten countries?")
    assert response.citations[0].doc == "rivers.md"
    assert any(d["doc"] == "rivers.md" for d in bot.documents())


@pytest.mark.parametrize("name,data,match", [
    ("evil.exe", b"MZ", "unsupported type"),
    ("~$notes.txt", b"Word's lock file", "hidden or temporary"),
    (".secret.txt", b"A hidden file.", "hidden or temporary"),
    ("empty.txt", b"", "empty"),
    ("bin.txt", bytes(range(256)) * 8, "binary"),
])
def test_bad_uploads_are_refused_and_leave_no_file(bot, small_settings, name, data, match):
    with pytest.raises(UsageError, match=match):
        bot.add_document(name, data)
    assert not (small_settings.corpus_dir / name).exists()


@pytest.mark.parametrize("data,match", [
    (bytes(range(256)) * 8, "binary"),
    (b"\x00\x01\x02 not text", "could not be read"),
])
def test_a_refused_upload_leaves_the_document_of_that_name_untouched(bot, small_settings, data, match):
    original = (small_settings.corpus_dir / "bridges.txt").read_bytes()
    bot.ask("warm up")
    for replace in (False, True):
        with pytest.raises(UsageError, match=match if replace else "already in the documents"):
            bot.add_document("bridges.txt", data, replace=replace)
        assert (small_settings.corpus_dir / "bridges.txt").read_bytes() == original
        assert "bridges.txt" in {d["doc"] for d in bot.documents()}
    assert "1937" in bot.ask("When did the Golden Gate Bridge open?").answer
    assert sorted(p.name for p in small_settings.corpus_dir.iterdir()) == sorted(SAMPLE_DOCS)


def test_an_upload_replaces_a_document_only_when_asked(bot, small_settings):
    new = b"Famous Bridges\n\nThe Golden Gate Bridge was repainted in 1995.\n"
    with pytest.raises(UsageError, match="already in the documents; replace it explicitly"):
        bot.add_document("bridges.txt", new)
    assert b"opened in 1937" in (small_settings.corpus_dir / "bridges.txt").read_bytes()
    report = bot.add_document("bridges.txt", new, replace=True)
    assert report.changed == ["bridges.txt"]
    assert (small_settings.corpus_dir / "bridges.txt").read_bytes() == new
    assert "1995" in bot.ask("When was the Golden Gate Bridge repainted?").answer


def test_a_file_saved_while_an_upload_is_read_is_kept(bot, small_settings, monkeypatch):
    import bot.pipeline as pipeline

    bot.ask("warm up")
    target = small_settings.corpus_dir / "report.txt"
    real_load = pipeline.load_document

    def load_while_the_user_saves(path, doc_id, raw=None):
        target.write_text("The user's own report, saved a moment ago.")  # the name was free when checked
        return real_load(path, doc_id, raw=raw)

    monkeypatch.setattr(pipeline, "load_document", load_while_the_user_saves)
    with pytest.raises(UsageError, match="already in the documents"):
        bot.add_document("report.txt", b"The upload's text about rivers.\n")
    assert target.read_text() == "The user's own report, saved a moment ago."


def test_an_upload_repeating_a_document_is_refused_and_the_original_stays_indexed(bot, small_settings):
    # "a_copy.md" sorts before "volcanoes.md": the scan would keep the copy and drop the original.
    data = (small_settings.corpus_dir / "volcanoes.md").read_bytes()
    with pytest.raises(UsageError, match="same content as volcanoes.md"):
        bot.add_document("a_copy.md", data)
    assert not (small_settings.corpus_dir / "a_copy.md").exists()
    assert "volcanoes.md" in {d["doc"] for d in bot.documents()}
    assert bot.ask("Which volcano erupted in 2000?").citations[0].doc == "volcanoes.md"


def test_upload_cannot_escape_the_corpus_folder(bot, small_settings, tmp_path):
    bot.add_document("../../escape.txt", b"Escaped text about bridges.")
    assert not (tmp_path / "escape.txt").exists()
    assert (small_settings.corpus_dir / "escape.txt").exists()


def test_follow_up_uses_the_conversation(bot):
    first = bot.ask("When did the Golden Gate Bridge open?")
    assert "1937" in first.answer
    follow = bot.ask("How long is its main span?", history=["When did the Golden Gate Bridge open?"])
    assert "Golden Gate Bridge" in follow.retrieval_query
    assert "1,280" in follow.passages[0].chunk.text


def test_a_pronoun_that_stands_for_nobody_is_asked_back(bot):
    history = [{"question": "Who designed the Golden Gate Bridge?", "answer": "Joseph Strauss"},
               {"question": "When did he die?", "answer": "1938"}]
    asked = bot.ask("What is her email?", history=history)
    assert asked.abstained and asked.reason == "it is not clear who “her” is: please ask again with the name"
    assert not bot.ask("When did he retire?", history=history).reason.startswith("it is not clear")


def test_edits_made_on_disk_are_answered_from_at_once(bot, small_settings):
    corpus = small_settings.corpus_dir
    assert "1937" in bot.ask("When did the Golden Gate Bridge open?").answer
    (corpus / "bridges.txt").write_text("Famous Bridges\n\nThe Golden Gate Bridge was repainted in 1995.\n")
    assert "1995" in bot.ask("When was the Golden Gate Bridge repainted?").answer
    (corpus / "rivers.txt").write_text("The Danube flows through ten countries.\n")
    assert bot.ask("Which river flows through ten countries?").citations[0].doc == "rivers.txt"
    (corpus / "volcanoes.md").unlink()
    response = bot.ask("Which volcano erupted in 2000?")
    assert all(c.doc != "volcanoes.md" for c in response.citations)
    assert all(p.chunk.doc_id != "volcanoes.md" for p in response.passages)


def test_an_unchanged_folder_is_not_synced_again(bot, monkeypatch):
    bot.ask("When did the Golden Gate Bridge open?")
    calls = []
    monkeypatch.setattr(bot, "sync", lambda *a, **k: calls.append(1))
    bot.ask("When was the Tower Bridge completed?")
    assert calls == []


ROUNDS = 40


def test_one_bot_answers_from_many_threads_at_once(small_settings, fake_embedder, tiny_qa_model, monkeypatch):
    import sys
    import threading

    from bot.read.transformer import TransformerReader

    shared = Bot(small_settings, embedder=fake_embedder, reader=TransformerReader(str(tiny_qa_model)))
    questions = ["When did the Golden Gate Bridge open?", "Which volcano erupted in 2000?",
                 "How many stations monitor seismic activity in Iceland, and who runs them?",
                 "Tower Bridge?"] * 2
    expected = {q: shared.ask(q).to_dict() for q in set(questions)}
    start = threading.Barrier(len(questions))
    errors, answers = [], []
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so any shared state shows

    def ask(question: str) -> None:
        start.wait()
        try:
            for _ in range(ROUNDS):
                answers.append((question, shared.ask(question).to_dict()))
        except Exception as exc:  # what a caller's thread would see
            errors.append(repr(exc))

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join(timeout=120)
    finally:
        sys.setswitchinterval(0.005)
    assert errors == [] and len(answers) == ROUNDS * len(questions)
    for question, got in answers:  # every thread got the answer a lone caller gets
        assert (got["answer"], got["citations"]) == (expected[question]["answer"], expected[question]["citations"])


def test_a_new_bot_answers_from_the_published_index_while_another_process_updates_it(small_settings, fake_embedder):
    import threading
    import time

    from bot.pipeline import REFRESH_WAIT_S
    from bot.search.index import index_lock

    fake_sentence_bot(small_settings, fake_embedder).ask("warm up")  # an index is published
    (small_settings.corpus_dir / "rivers.txt").write_text("The Danube flows through ten countries.\n")
    answers = []
    with index_lock(small_settings.index_dir):  # another writer holds the folder (a long `bot index`)
        fresh = fake_sentence_bot(small_settings, fake_embedder)
        asking = threading.Thread(target=lambda: answers.append(fresh.ask("When did the Golden Gate Bridge open?")))
        asking.start()
        asking.join(60)
        assert not asking.is_alive(), "the question waited for the other writer"
        # the next question, the folder still busy, neither waits nor says more
        started = time.monotonic()
        again = fresh.ask("When did the Golden Gate Bridge open?")
        assert time.monotonic() - started < REFRESH_WAIT_S and "being indexed" not in again.reason
        assert fresh.wait_for_sync(1)  # no sync is left waiting for the other process
    assert "1937" in answers[0].answer and "another process is updating the index" in answers[0].reason
    assert fresh.messages == [f"another process is updating the index in {small_settings.index_dir}; "
                              "answering from the index as it was"]
    # once the folder is free again, the next question brings the index up to date
    later = fresh.ask("Which river flows through ten countries?")
    assert later.citations[0].doc == "rivers.txt" and "as it was" not in later.reason


def test_questions_are_answered_from_the_current_index_while_an_upload_is_indexed(small_settings):
    import threading

    from tests.conftest import FakeEmbedder

    class SlowOnNewText(FakeEmbedder):
        """Blocks while embedding the uploaded document, until the test lets it go."""

        def __init__(self):
            super().__init__()
            self.inside, self.release = threading.Event(), threading.Event()

        def encode(self, texts, show_progress=False):
            if any("Danube" in t for t in texts) and not self.release.is_set():
                self.inside.set()
                self.release.wait(30)
            return super().encode(texts, show_progress)

    embedder = SlowOnNewText()
    bot = fake_sentence_bot(small_settings, embedder)
    bot.ask("warm up")
    upload = threading.Thread(target=bot.add_document, args=("rivers.txt", b"The Danube flows through ten countries.\n"))
    upload.start()
    try:
        assert embedder.inside.wait(30), "the upload never reached embedding"
        response = bot.ask("When did the Golden Gate Bridge open?")  # answered while the upload waits
        assert "1937" in response.answer and upload.is_alive()
    finally:
        embedder.release.set()
        upload.join(30)
    assert bot.ask("Which river flows through ten countries?").citations[0].doc == "rivers.txt"


def test_a_huge_or_odd_history_costs_no_more_than_a_question(bot):
    limit = bot.settings.max_question_chars
    huge = bot.ask("When was it completed?", history=["Tell me about the Tower Bridge " + "and more " * 200_000])
    assert len(huge.retrieval_query) <= 2 * limit + 50 and "Tower Bridge" in huge.retrieval_query
    for odd in ("When was the Tower Bridge completed?", 42, ["\x00\x01"], [{"question": None}]):
        assert bot.ask("When was it completed?", history=odd).retrieval_query == "When was it completed?"
    # an earlier answer is used when it names someone, and costs no more than a question either
    asked = "Who designed the Tower Bridge?"
    named = bot.ask("Where was he born?", history=[{"question": asked, "answer": "Horace Jones"}])
    assert named.retrieval_query.startswith("Where was Horace Jones born?")
    huge_answer = bot.ask("Where was he born?", history=[{"question": asked, "answer": "Jones " * 200_000}])
    assert len(huge_answer.retrieval_query) <= 2 * limit + 50


def test_waiting_for_a_sync_returns_once_it_is_done(bot):
    bot.load_index()
    assert bot.wait_for_sync(timeout=0)
    with bot._sync_lock:  # as an upload being indexed holds it
        assert not bot.wait_for_sync(timeout=0.05)
    assert bot.wait_for_sync(timeout=1)


def _passage(doc: str, text: str, index: int) -> Passage:
    chunk = Chunk(chunk_id=index, doc_id=doc, text=text, start=0, end=len(text), section="", line=1, page=None,
                  sentences=((0, len(text)),))
    return Passage(chunk=chunk, score=1.0, rank=index + 1)


def test_other_documents_are_cited_only_while_the_reader_gives_the_same_answer_next():
    shop = "Customers may return items within three months."
    hr = "New employees complete a probation period of three months."
    passages = [_passage("shop.md", shop, 0), _passage("hr.md", hr, 1)]

    def span(doc, text, score, index):
        source = (shop, hr)[index]
        start = source.index(text)
        return Span(text=text, doc_id=doc, start=start, end=start + len(text), score=score, passage_index=index)

    best = span("shop.md", "three months", 12.0, 0)
    coincidence = [best, span("shop.md", "Customers", 9.6, 0), span("hr.md", "three months", 2.0, 1)]
    assert [c.doc for c in citations_for(coincidence, passages)] == ["shop.md"]
    agreement = [best, span("hr.md", "three months", 11.5, 1), span("shop.md", "Customers", 9.6, 0)]
    assert [c.doc for c in citations_for(agreement, passages)] == ["shop.md", "hr.md"]
    # a document the details check rules out (another edition) gives no support
    assert [c.doc for c in citations_for(agreement, passages, supports=lambda s: s.doc_id != "hr.md")] == ["shop.md"]


def test_the_other_edition_of_a_policy_is_not_cited_as_support(tmp_path, fake_embedder):
    from bot.config import load_settings
    from tests.conftest import write_corpus

    rule = "Unpaid leave requests are approved by the HR Business Partner.\n"
    corpus = write_corpus(tmp_path / "corpus", {"leave_policy_2023.txt": rule, "leave_policy_2024.txt": rule + "\n"})
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    response = fake_sentence_bot(settings, fake_embedder).ask("Who approves unpaid leave requests under the 2023 "
                                                             "leave policy?")
    assert [c.doc for c in response.citations] == ["leave_policy_2023.txt"]


def test_settings_built_in_code_are_checked_when_the_bot_is_made(small_settings, fake_embedder):
    from bot.config import Settings

    settings = Settings(corpus_dir=str(small_settings.corpus_dir), index_dir=str(small_settings.index_dir))
    assert isinstance(settings.corpus_dir, Path)  # folders given as text are paths
    with pytest.raises(UsageError, match="read_k must be >= 1"):
        Bot(dataclasses.replace(settings, read_k=0), embedder=fake_embedder)
    with pytest.raises(UsageError, match="shard_size"):
        Bot(dataclasses.replace(settings, shard_size=0), embedder=fake_embedder)


def test_a_folder_that_cannot_take_a_new_index_still_answers_from_the_old_one(bot, small_settings, monkeypatch):
    assert not bot.ask("When did Hekla erupt?", threshold=0).abstained
    (small_settings.corpus_dir / "new.txt").write_text("The Eiffel Tower was finished in 1889.", encoding="utf-8")
    import faiss

    def disk_full(index, path):
        raise RuntimeError("No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    response = bot.ask("When did Hekla erupt?", threshold=0)
    assert not response.abstained and "Hekla" in response.citations[0].quote
    assert any("the disk is full; answering from the index as it was" in m for m in bot.messages)


def test_a_new_bot_answers_from_the_published_index_when_it_cannot_update_it(small_settings, fake_embedder,
                                                                             monkeypatch):
    from tests.conftest import fake_sentence_bot

    fake_sentence_bot(small_settings, fake_embedder).load_index()
    (small_settings.corpus_dir / "new.txt").write_text("The Eiffel Tower was finished in 1889.", encoding="utf-8")
    import faiss

    def read_only(index, path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(faiss, "write_index", read_only)
    later = fake_sentence_bot(small_settings, fake_embedder)  # as the next `bot ask` would
    response = later.ask("When did Hekla erupt?", threshold=0)
    assert not response.abstained and "Hekla" in response.citations[0].quote
    assert later.messages == [f"cannot write the index in {small_settings.index_dir}: permission denied; "
                              "answering from the index as it was"]


def test_the_reader_reads_a_passage_after_the_headings_it_does_not_show_and_never_answers_from_them():
    from bot.pipeline import read_item
    from bot.read.windows import answerable_span

    text = "Removed\nThe legacy /api/v1 endpoints have been removed."
    chunk = Chunk(chunk_id=0, doc_id="CHANGELOG.md", text=text, start=500, end=500 + len(text),
                  section="2.3.0 — 2025-12-08 › Removed", line=40, page=None, heading_end=len("Removed"))
    item = read_item(chunk, 2)
    assert item.text == "2.3.0 — 2025-12-08\n" + text and item.context == len("2.3.0 — 2025-12-08\n")
    # offsets past the context are the document's: the chunk's text starts at its start
    assert item.offset + item.context == chunk.start and item.passage_index == 2
    assert not answerable_span(item, 0, len("2.3.0"))  # the context, though it holds a figure
    at = item.text.index("The legacy")
    assert answerable_span(item, at, at + len("The legacy /api/v1 endpoints"))
    assert not answerable_span(item, item.context, item.context + len("Removed"))  # the shown heading
    # a chunk showing its whole section, or with none, is read as it is
    plain = Chunk(chunk_id=1, doc_id="a.txt", text="Some text.", start=0, end=10, section="", line=1, page=None)
    assert read_item(plain, 0).text == "Some text." and read_item(plain, 0).context == 0


def test_gold_context_reading_refuses_an_answer_about_the_opposite_event(bot):
    text = "In May 2015, the ministry established the bureau. Its budget was doubled in 2017."
    dissolved, established = bot.read_texts([("When was the bureau dissolved?", text, "t"),
                                             ("When was the bureau established?", text, "t")], threshold=0.01)
    assert dissolved.abstained and "says established, not dissolved" in dissolved.reason
    assert not established.abstained and "May 2015" in established.answer


def test_an_empty_question_is_refused_before_an_index_is_built(small_settings, fake_embedder):
    bot = fake_sentence_bot(small_settings, fake_embedder)
    with pytest.raises(UsageError, match="empty"):
        bot.ask("   ")
    assert not (small_settings.index_dir / "manifest.json").exists()


def test_a_low_scored_span_filling_the_named_cell_of_a_table_is_answered(tmp_path, fake_embedder, monkeypatch):
    import bot.pipeline
    from bot.config import load_settings
    from bot.read.answerability import Decision
    from bot.types import ReaderResult
    from tests.conftest import write_corpus

    table = "| Specification | Value |\n|---|---|\n| Battery | 3,200 mAh lithium-ion |\n| Noise level | 62 dB |\n"
    corpus = write_corpus(tmp_path / "corpus", {"rx200.md": f"# RX-200 manual\n\n{table}"})
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    asked = fake_sentence_bot(settings, fake_embedder)
    chunk = asked.index.chunks[0]

    def reader_scores_it_low(cell):
        at = chunk.start + chunk.text.index(cell)
        span = Span(cell, chunk.doc_id, at, at + len(cell), 1.0, passage_index=0)
        monkeypatch.setattr(asked, "read", lambda requests: [ReaderResult([span]) for _ in requests])
        return lambda result, passages, calibration, threshold: Decision(span, 0.01, {}, 0.01 < threshold)

    monkeypatch.setattr(bot.pipeline, "decide", reader_scores_it_low("3,200 mAh lithium-ion"))
    answered = asked.ask("What is the battery capacity of the RX-200?")
    assert not answered.abstained and answered.answer == "3,200 mAh lithium-ion" and answered.score == asked.threshold
    monkeypatch.setattr(bot.pipeline, "decide", reader_scores_it_low("62 dB"))  # a row the question does not name
    assert asked.ask("What is the battery capacity of the RX-200?").abstained


def test_who_came_after_someone_is_answered_from_the_next_years_list(tmp_path, fake_embedder, monkeypatch):
    import bot.pipeline
    from bot.config import load_settings
    from bot.read.answerability import Decision
    from bot.types import ReaderResult
    from tests.conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus", {
        "club_agm_2022.md": "# Club AGM 2022\n\nOfficers elected:\n\nChair: Ann Lee\nSecretary: Ravi Shah\n",
        "club_agm_2023.md": "# Club AGM 2023\n\nOfficers elected:\n\nChair: Ann Lee\nSecretary: Priya Nair\n"})
    settings = load_settings({"corpus_dir": corpus, "index_dir": tmp_path / "index", "reader": "none"})
    asked = fake_sentence_bot(settings, fake_embedder)
    chunk = next(c for c in asked.index.chunks if "Ravi Shah" in c.text)
    at = chunk.start + chunk.text.index("Ann Lee")
    wrong = Span("Ann Lee", chunk.doc_id, at, at + len("Ann Lee"), 1.0, passage_index=0)
    monkeypatch.setattr(asked, "read", lambda requests: [ReaderResult([wrong]) for _ in requests])
    monkeypatch.setattr(bot.pipeline, "decide", lambda result, passages, calibration, threshold: Decision(
        result.spans[0], 0.01, {}, 0.01 < threshold))  # the reader's own choice scored low
    answered = asked.ask("Who took over from Ravi Shah?")
    assert not answered.abstained and answered.answer == "Priya Nair"
    assert answered.citations[0].doc == "club_agm_2023.md"
    assert asked.ask("Who took over from Priya Nair?").abstained  # nobody yet
