import pytest

from bot.errors import UsageError
from bot.questions import as_question, clean_question


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x01", None])
def test_empty_questions_are_refused(raw):
    with pytest.raises(UsageError, match="empty"):
        clean_question(raw, 100)


def test_control_characters_and_lone_surrogates_are_dropped():
    text, notice = clean_question("What\x00 is\u0007 this\ud800?", 100)
    assert text == "What is this?" and notice == ""


def test_long_question_is_cut_with_a_notice():
    text, notice = clean_question("word " * 50_000, 1000)
    assert len(text) <= 1000 and "longer than 1,000" in notice


def test_non_english_and_emoji_survive():
    assert clean_question("  ¿Dónde está? 🚀 مرحبا ", 100)[0] == "¿Dónde está? 🚀 مرحبا"


@pytest.mark.parametrize("raw,expected", [
    ("warranty length", "warranty length?"),
    ("warranty length.", "warranty length?"),
    ("warranty length??", "warranty length?"),
    ("How long is it ?", "How long is it?"),
    ("What is it?!", "What is it?"),
    ("Where in the U.S.", "Where in the U.S.?"),  # an abbreviation keeps its full stop
    ("?", "?"),
])
def test_models_read_a_question_ending_in_one_question_mark(raw, expected):
    assert as_question(raw) == expected


def test_the_ending_does_not_change_what_the_models_read(small_settings, fake_embedder):
    from tests.conftest import fake_sentence_bot

    bot = fake_sentence_bot(small_settings, fake_embedder)
    prepared = [bot._prepare(q, None) for q in ("When did Hekla erupt", "When did Hekla erupt.",
                                                 "When did Hekla erupt??")]
    assert {(p.reader_question, p.retrieval_query) for p in prepared} == {("When did Hekla erupt?",) * 2}
    assert prepared[0].question == "When did Hekla erupt"  # the user's own words are shown back
