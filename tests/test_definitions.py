"""A definition's sentence answers for the term it defines (bot/read/definitions.py)."""

import pytest

from bot.ingest.chunking import sentence_spans
from bot.read.definitions import defines_asked_term
from bot.types import Chunk, Passage, Span


def _passage(text: str) -> Passage:
    sentences = tuple(sentence_spans(text))
    return Passage(Chunk(0, "handbook.md", text, 0, len(text), "Leave", 1, None, sentences), score=1.0, rank=1)


def _span(p: Passage, words: str) -> Span:
    start = p.chunk.text.index(words)
    return Span(words, p.chunk.doc_id, start, start + len(words), 1.0, 0)


TEXT = ("Compassionate leave is paid. A close family member means a spouse or partner, child, parent or sibling. "
        "A security incident is any event that puts company data at risk. The joining fee is £25. "
        "The leave of a close family member of a manager is decided by HR.")


@pytest.mark.parametrize("question, answer, defines", [
    ("Who counts as a close family member?", "a spouse or partner, child, parent or sibling", True),
    ("What does 'close family member' mean?", "a spouse or partner, child, parent or sibling", True),
    ("What is a security incident?", "any event that puts company data at risk", True),
    ("What is the joining fee?", "£25", True),
    # another term, a span elsewhere in the sentence, or a question for something else
    ("Who counts as a dependant?", "a spouse or partner, child, parent or sibling", False),
    ("Who counts as a close family member?", "child, parent or sibling", False),
    ("Who decides the leave of a close family member?", "HR", False),
    ("What is the fee?", "£25", False),  # "joining fee" is more than the term asked about
])
def test_a_span_after_the_asked_term_and_its_defining_verb_is_its_definition(question, answer, defines):
    p = _passage(TEXT)
    assert defines_asked_term(question, _span(p, answer), p) is defines


@pytest.mark.parametrize("question, text, answer", [
    ("What is the policy?", "The policy covers all staff.", "all staff"),  # what it covers is not what it is
    ("What is a loan?", "A student loan means money lent to students.", "money lent to students"),
])
def test_what_is_x_needs_x_and_a_verb_that_says_what_it_is(question, text, answer):
    p = _passage(text)
    assert not defines_asked_term(question, _span(p, answer), p)
