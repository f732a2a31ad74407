"""Ratings from the chat page: what each rating implies, storing them safely under concurrent
writers, `bot feedback`, and learning from them with `bot eval --feedback` and
`bot calibrate --feedback`. The fake embedder and sentence reader stand in for the real models."""

from __future__ import annotations

import html
import json
import subprocess
import sys
import threading

import pytest

from bot.cli import main
from bot.evaluation import run as evaluation_run
from bot.feedback import (
    DOWN, FEEDBACK_FILE, UP, WITHDRAWN, FeedbackStore, RatedCitation, RatedReply, find_in_texts, rate,
)
from bot.pipeline import Bot
from bot.read.answerability import CALIBRATION_FILE, Calibration
from bot.read.sentence import SentenceReader
from bot.training.feedback_threshold import MIN_RATINGS, best_threshold, refit_threshold, usable_outcomes
from bot.ui.feedback import ASK_LOCATION, NOT_RATABLE, FeedbackPanel, calibration_note
from bot.ui.page import ChatPage, build_app
from tests.conftest import REPO, fake_sentence_bot

ANSWERED = "When was the Tower Bridge in London completed?"
REFUSED = "Zebra quantum marmalade?"


@pytest.fixture
def bot(small_settings, fake_embedder):
    return fake_sentence_bot(small_settings, fake_embedder)


@pytest.fixture
def panel(bot):
    return FeedbackPanel(ChatPage(bot))


def reply_to(bot, question: str) -> RatedReply:
    return RatedReply.from_response(bot.ask(question), bot.reader.identity, bot.settings.embedding_model)


def chunk_texts(bot) -> list[str]:
    return [c.text for c in bot.index.chunks]


def synthetic(n: int, rating: str, refused: bool, span_scores: list[float], prefix: str) -> list:
    """Ratings of made-up replies with the sentence reader's `span_score` feature."""
    out = []
    for i in range(n):
        reply = RatedReply(id=f"{prefix}{i}", question=f"{prefix} question {i}?", answer="" if refused else f"a{i}",
                           refused=refused, score=0.5, reader="sentence",
                           embedding_model="sentence-transformers/all-MiniLM-L6-v2",
                           features={"span_score": span_scores[i % len(span_scores)]})
        out.append(rate(reply, rating))
    return out


def write_ratings(index_dir, ratings) -> FeedbackStore:
    store = FeedbackStore(index_dir)
    for r in ratings:
        store.append(r)
    return store


# ----- what a rating implies -----

def test_thumbs_up_on_an_answer_makes_it_gold(bot):
    reply = reply_to(bot, ANSWERED)
    assert not reply.refused and "1894" in reply.answer and reply.citation.doc == "bridges.txt"
    rating = rate(reply, UP)
    assert rating.gold and rating.answerable is True and rating.answers == (reply.answer,)
    record = rating.to_record()
    assert record["answers"] == [reply.answer] and record["answerable"] is True and record["evidence"]
    assert record["rating"] == "up" and record["bot_answer"] == reply.answer and record["score"] == reply.score
    assert record["citation"] == {"doc": "bridges.txt", "line": reply.citation.line, "quote": reply.citation.quote}
    assert record["time"].endswith("+00:00")


def test_a_correction_is_gold_only_when_the_documents_hold_it(bot):
    reply = reply_to(bot, ANSWERED)
    texts = chunk_texts(bot)
    found = rate(reply, DOWN, "COMPLETED   in\n1894", texts)  # case and whitespace do not matter
    assert found.gold and found.correction_found and found.answers == ("COMPLETED in 1894",)
    missing = rate(reply, DOWN, "in 1066, by the Normans", texts)
    assert not missing.gold and not missing.correction_found and missing.correction == "in 1066, by the Normans"
    record = missing.to_record()
    assert "answers" not in record and "answerable" not in record and record["gold"] is False
    bare = rate(reply, DOWN)
    assert not bare.gold and bare.answerable is None
    # a letter or a stop word is found in any document and says nothing; a year does
    for empty in ("x", "the", "in the", "?"):
        assert not rate(reply, DOWN, empty, texts).gold, empty
    assert rate(reply, DOWN, "1894", texts).gold
    # a lone surrogate (a browser may send one) cannot be stored as UTF-8: it is dropped
    odd = rate(reply, DOWN, "in 1894 \udc80", texts)
    assert odd.correction == "in 1894" and odd.gold
    odd.to_record() and json.dumps(odd.to_record(), ensure_ascii=False).encode("utf-8")


def test_refusals_right_or_wrong(bot):
    reply = reply_to(bot, REFUSED)
    assert reply.refused and reply.answer == "" and reply.citation is None
    not_there = rate(reply, UP)
    assert not_there.gold and not_there.answerable is False and not_there.answers == ()
    assert not_there.to_record()["answerable"] is False
    in_docs = rate(reply, DOWN)
    assert in_docs.judged_refusal_wrong and not in_docs.gold
    with_answer = rate(reply, DOWN, "70 stations", chunk_texts(bot))
    assert with_answer.gold and with_answer.answerable is True and with_answer.answers == ("70 stations",)
    assert not rate(reply, DOWN, "the Moon", chunk_texts(bot)).gold


def test_follow_ups_and_taken_back_ratings_are_not_gold():
    follow_up = RatedReply("f", "What is it for?", "x", False, 0.9, follow_up=True)
    assert not rate(follow_up, UP).gold
    assert not rate(RatedReply("w", "q?", "x", False, 0.9), WITHDRAWN).gold


def test_find_in_texts_matches_whole_words_only():
    texts = ["The Golden Gate Bridge opened in 1937.\nIts main span is 1,280 metres long."]
    assert find_in_texts("opened  IN 1937", texts) and find_in_texts("1937. Its main", texts)
    assert not find_in_texts("193", texts) and not find_in_texts("pened in", texts) and not find_in_texts("  ", texts)


def test_stored_lines_round_trip_and_the_latest_rating_of_a_reply_wins(tmp_path, bot):
    store = FeedbackStore(tmp_path / "index")
    answer, refusal = reply_to(bot, ANSWERED), reply_to(bot, REFUSED)
    store.append(rate(answer, DOWN))
    store.append(rate(answer, DOWN, "completed in 1894", chunk_texts(bot)))  # the box's Send
    store.append(rate(refusal, UP))
    store.append(rate(refusal, WITHDRAWN))
    lines = (tmp_path / "index" / FEEDBACK_FILE).read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["id"] for line in lines)
    ratings = store.read()
    assert [r.id for r in ratings] == [answer.id]
    assert ratings[0].correction == "completed in 1894" and ratings[0].gold
    assert ratings[0].reply == answer  # everything about the reply survives the file


def test_an_unreadable_line_is_skipped_and_counted(tmp_path, bot):
    store = write_ratings(tmp_path, [rate(reply_to(bot, ANSWERED), UP)])
    with open(store.path, "a", encoding="utf-8") as f:
        f.write('{"id": "cut", "question": "half a li\n[1, 2]\n')
    assert len(store.read()) == 1 and store.unreadable_lines == 2


def test_a_rating_whose_text_holds_a_line_separator_is_read_back(tmp_path, bot):
    reply = reply_to(bot, ANSWERED)
    odd = RatedReply(**{**reply.__dict__, "question": "Completed\u2028when?", "answer": "in\u20291894"})
    store = write_ratings(tmp_path, [rate(odd, UP), rate(reply_to(bot, REFUSED), UP)])
    assert [r.reply.question for r in store.read()] == ["Completed\u2028when?", REFUSED]
    assert store.unreadable_lines == 0


def test_a_hand_edited_rating_with_an_empty_question_is_skipped(tmp_path, bot):
    store = write_ratings(tmp_path, [rate(reply_to(bot, ANSWERED), UP)])
    record = json.loads(store.path.read_text())
    with open(store.path, "a", encoding="utf-8") as f:
        f.write(json.dumps({**record, "id": "blank", "question": "  "}) + "\n")
    assert [r.id for r in store.read()] == [record["id"]] and store.unreadable_lines == 1


def test_a_line_nested_too_deeply_is_skipped_and_a_single_answer_is_read_whole(tmp_path, bot):
    store = write_ratings(tmp_path, [rate(reply_to(bot, ANSWERED), UP)])
    record = json.loads(store.path.read_text())
    with open(store.path, "a", encoding="utf-8") as f:
        f.write("[" * 100_000 + "\n")
        f.write(json.dumps({**record, "id": "one-answer", "answers": "5521"}) + "\n")
        f.write(json.dumps({**record, "id": "a-number", "answers": 5521}) + "\n")
    ratings = {r.id: r for r in store.read()}
    assert store.unreadable_lines == 1 and set(ratings) == {record["id"], "one-answer", "a-number"}
    assert ratings["one-answer"].answers == ("5521",) and ratings["one-answer"].gold
    assert ratings["a-number"].answers == () and not ratings["a-number"].gold


# ----- many writers -----

def test_concurrent_appends_from_threads_keep_every_line(tmp_path):
    store = FeedbackStore(tmp_path)
    quote = "word " * 2000  # lines of ~10 kB: an unguarded writer would interleave them

    def work(t: int) -> None:
        for i in range(50):
            reply = RatedReply(f"t{t}-{i}", f"question {t} {i}?", "x", False, 0.5,
                               citation=RatedCitation("doc.txt", 1, quote))
            store.append(rate(reply, UP))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = store.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400
    assert {json.loads(line)["id"] for line in lines} == {f"t{t}-{i}" for t in range(8) for i in range(50)}


WRITER = """
import sys
from bot.feedback import FeedbackStore, RatedCitation, RatedReply, rate
store, p = FeedbackStore(sys.argv[1]), sys.argv[2]
for i in range(50):
    reply = RatedReply(f"p{p}-{i}", f"question {p} {i}?", "x", False, 0.5,
                       citation=RatedCitation("doc.txt", 1, "word " * 2000))
    store.append(rate(reply, "down", "not in any document"))
"""


def test_concurrent_appends_from_processes_keep_every_line(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(p)], cwd=REPO) for p in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    lines = (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400
    records = [json.loads(line) for line in lines]  # each line whole, valid JSON
    assert {r["id"] for r in records} == {f"p{p}-{i}" for p in range(8) for i in range(50)}
    assert all(r["rating"] == "down" and r["gold"] is False for r in records)


# ----- the page -----

def test_the_page_stores_thumbs_and_a_correction(panel, bot):
    page = panel.page
    history, turns = [], {}
    for question in (ANSWERED, REFUSED, ""):  # the empty question gets a notice, not a reply
        history, _, pending = page.submit(question, history)
        history, _, turns = panel.answer(pending, history, None, False, turns)
    answer_at, refusal_at, notice_at = (i for i, m in enumerate(history) if m["role"] == "assistant")

    view = panel.like(turns, answer_at, True)
    assert "right" in view.status and not view.box_open
    view = panel.like(turns, refusal_at, False)
    assert view.box_open and view.box_label == ASK_LOCATION and view.target == turns[str(refusal_at)].id
    view = panel.send(turns, view.target, "with 70 stations")
    assert "found in the documents" in view.status and not view.box_open
    assert NOT_RATABLE in html.unescape(panel.like(turns, notice_at, True).status)

    ratings = FeedbackStore(bot.settings.index_dir).read()
    assert [(r.rating, r.reply.refused, r.gold) for r in ratings] == [("up", False, True), ("down", True, True)]
    assert ratings[1].answers == ("with 70 stations",)
    assert "Rating removed" in panel.like(turns, answer_at, "").status
    assert len(FeedbackStore(bot.settings.index_dir).read()) == 1


def test_a_correction_of_a_follow_up_promises_no_test_and_keeps_what_was_read(panel, bot):
    page = panel.page
    history, turns = [], {}
    for question in (ANSWERED, "And when was it completed?"):
        history, _, pending = page.submit(question, history)
        history, _, turns = panel.answer(pending, history, None, False, turns)
    follow_up_at = max(i for i, m in enumerate(history) if m["role"] == "assistant")
    view = panel.like(turns, follow_up_at, False)
    view = panel.send(turns, view.target, "with 70 stations")  # found in the documents, but a follow-up's
    assert "kept as a note and not used to test" in view.status
    stored = FeedbackStore(bot.settings.index_dir).read()[-1]
    assert not stored.gold and stored.reply.follow_up and stored.reply.asked_as not in ("", stored.question)


def test_sending_without_a_thumbs_down_or_text_is_a_friendly_message(panel):
    assert "first" in panel.send({}, "", "1894").status
    history, _, pending = panel.page.submit(ANSWERED, [])
    history, _, turns = panel.answer(pending, history, None, False, {})
    view = panel.like(turns, 1, False)
    again = panel.send(turns, view.target, "   ")
    assert again.box_open and "already saved" in again.status


def test_the_page_has_thumbs_and_the_correction_box(panel):
    app = build_app(panel.page)
    config = app.get_config_file()
    chat = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "chat")
    assert chat["props"]["feedback_options"] == ["Like", "Dislike"]
    assert any((chat["id"], "like") in map(tuple, d["targets"]) for d in config["dependencies"])
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"correction", "send-correction", "feedback-status", "calibration-status"} <= ids
    public = [d.api_name for d in app.fns.values() if d.api_visibility == "public"]
    assert public == ["ask"]


# ----- bot feedback -----

def test_bot_feedback_lists_and_summarises(tmp_path, bot, capsys):
    index = tmp_path / "index"
    assert main(["feedback", "--index", str(tmp_path / "no-such-index")]) == 2
    assert "no index folder at" in capsys.readouterr().err
    index.mkdir(exist_ok=True)
    assert main(["feedback", "--index", str(index)]) == 0
    assert "no ratings yet" in capsys.readouterr().out
    answer, refusal = reply_to(bot, ANSWERED), reply_to(bot, REFUSED)
    other = RatedReply("o1", "Who built it?", "Thomas", False, 0.6)
    write_ratings(index, [rate(answer, UP), rate(refusal, DOWN), rate(other, DOWN, "Ward", [])])
    assert main(["feedback", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "3 rated replies" in out and "1 up, 2 down (66.7% thumbs-down)" in out
    assert "refusals judged wrong (the answer is in the documents): 1" in out and "answers rated wrong: 1" in out
    assert "usable as gold by bot eval --feedback: 1 (1 answerable, 0 unanswerable)" in out
    assert ANSWERED[:30] in out and "[not in the documents]" in out
    assert main(["feedback", "--index", str(index), "--last", "0"]) == 2


# ----- bot eval --feedback -----

@pytest.fixture
def fake_cli(monkeypatch, small_settings, fake_embedder):
    """The CLI with the fake models, over the small sample corpus."""
    monkeypatch.setattr(evaluation_run, "default_bot_factory", lambda s: fake_sentence_bot(s, fake_embedder))
    monkeypatch.setenv("BOT_CORPUS_DIR", str(small_settings.corpus_dir))
    monkeypatch.setenv("BOT_INDEX_DIR", str(small_settings.index_dir))
    monkeypatch.setenv("BOT_READER", "none")


def test_eval_feedback_reads_the_rated_questions(tmp_path, fake_cli, bot, capsys):
    assert main(["eval", "--feedback"]) == 2
    assert "no ratings yet" in capsys.readouterr().err
    answer, refusal = reply_to(bot, ANSWERED), reply_to(bot, REFUSED)
    write_ratings(bot.settings.index_dir, [rate(answer, DOWN)])
    assert main(["eval", "--feedback"]) == 2
    assert "none of the 1 ratings is usable" in capsys.readouterr().err
    write_ratings(bot.settings.index_dir, [rate(answer, UP), rate(refusal, UP),
                                           rate(RatedReply("x", "Who won?", "Bob", False, 0.7), DOWN, "Alice", [])])
    out = tmp_path / "out"
    assert main(["eval", "--feedback", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 2 and metrics["has_answer"]["n"] == 1 and metrics["no_answer"]["n"] == 1
    assert metrics["f1"] == 100.0  # the same bot gives the same answer and refusal again
    assert main(["eval", "q.jsonl", "--feedback"]) == 2
    assert "not both" in capsys.readouterr().err


# ----- bot calibrate --feedback -----

def test_thumbs_down_on_low_confidence_answers_raise_the_threshold(fake_cli, small_settings, fake_embedder, capsys):
    # The default sentence rule: probability 0.5 at span_score 0.40, 0.73 at 0.50, 0.95 at 0.70.
    ratings = (synthetic(16, UP, False, [0.6, 0.65, 0.7, 0.8], "right")
               + synthetic(16, DOWN, False, [0.42, 0.45, 0.48, 0.5], "wrong")
               + synthetic(6, UP, True, [0.25, 0.3, 0.35], "absent"))
    write_ratings(small_settings.index_dir, ratings)
    assert main(["calibrate", "--feedback"]) == 0
    out = capsys.readouterr().out
    assert "threshold in use 0.500" in out and "saved to" in out
    saved = Calibration.load(small_settings.index_dir / CALIBRATION_FILE)
    assert saved.threshold > 0.75 and saved.n_examples == 38 and "threshold refitted on 38 ratings" in saved.fitted_on
    # A bot without a calibration given to it now uses the refitted one, and the page says so.
    fresh = Bot(small_settings, embedder=fake_embedder, reader=SentenceReader(fake_embedder))
    assert fresh.threshold == pytest.approx(saved.threshold)
    assert fresh.ask("When was the Tower Bridge in London completed?").abstained is False
    assert "Your calibration is active" in calibration_note(fresh) and "38 examples" in calibration_note(fresh)


def test_refusals_judged_wrong_lower_the_threshold(small_settings):
    current = Calibration("sentence", ["span_score"], [0.4], [0.1], [1.0], 0.0, 0.5, "default rule")
    ratings = (synthetic(16, DOWN, True, [0.3, 0.33, 0.36, 0.38], "missed")  # "it is in the documents"
               + synthetic(8, UP, True, [0.1, 0.15], "absent")
               + synthetic(8, UP, False, [0.6, 0.7], "right"))
    refit = refit_threshold(ratings, current, "sentence", "test")
    assert refit.new_threshold < 0.45 and refit.accepted and refit.held_out_new > refit.held_out_current


def test_ratings_that_agree_with_the_threshold_leave_it_alone():
    current = Calibration("sentence", ["span_score"], [0.4], [0.1], [1.0], 0.0, 0.5, "default rule")
    ratings = synthetic(20, UP, False, [0.6, 0.7], "right") + synthetic(20, UP, True, [0.1, 0.2], "absent")
    outcomes = usable_outcomes(ratings, current, "sentence")
    assert best_threshold(outcomes, 0.5) == 0.5
    assert usable_outcomes(ratings, current, "neural:another-reader") == []


def test_calibrate_feedback_needs_enough_ratings_and_saves_nothing(fake_cli, small_settings, capsys):
    assert main(["calibrate", "--feedback"]) == 2
    assert "no ratings yet" in capsys.readouterr().err
    write_ratings(small_settings.index_dir, synthetic(8, UP, False, [0.7], "right") + synthetic(2, DOWN, False, [0.45], "w"))
    assert main(["calibrate", "--feedback"]) == 2
    err = capsys.readouterr().err
    assert f"needs {MIN_RATINGS - 10} more ratings" in err and "3 more where a refusal was right" in err
    assert "\n" not in err.strip()
    assert not (small_settings.index_dir / CALIBRATION_FILE).exists()


def test_settings_say_when_no_user_calibration_is_active(bot):
    note = calibration_note(bot)
    assert "reader's calibration is in use" in note and "bot calibrate --feedback" in note


def test_a_first_question_without_a_question_mark_is_no_follow_up(bot):
    """A rated first question is gold however it was typed ("?" or not); one read with the chat
    before it is not."""
    for typed in ("when was the Tower Bridge in London completed", "When was the Tower Bridge in London completed??"):
        assert not RatedReply.from_response(bot.ask(typed)).follow_up
    follow_up = bot.ask("When was it completed?", history=["Tell me about the Tower Bridge in London"])
    assert RatedReply.from_response(follow_up).follow_up


def test_a_rating_after_a_line_cut_short_is_kept(tmp_path, bot):
    """A full disk left half a line: the next rating starts a line of its own and is read back."""
    store = write_ratings(tmp_path, [rate(reply_to(bot, ANSWERED), UP)])
    with open(store.path, "a", encoding="utf-8") as f:
        f.write('{"id": "cut", "question": "half a li')
    later = rate(reply_to(bot, REFUSED), UP)
    store.append(later)
    assert [r.id for r in store.read()][-1] == later.id and store.unreadable_lines == 1
