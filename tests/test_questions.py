import pytest

from bot.errors import UsageError
from bot.questions import clean_question


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
