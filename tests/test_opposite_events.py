"""Questions about one event answered from a sentence about its opposite (bot/read/opposite_events.py)."""

import pytest

from bot.read.doubts import check_in_text
from bot.read.opposite_events import names_asked_event, opposite_event
from bot.types import ReaderResult, Span


@pytest.mark.parametrize("question, sentence, reason", [
    ("When was the BCIJ dissolved?", "In May 2015, Morocco established the BCIJ.", "says established, not dissolved"),
    ("When was the bureau abolished?", "The bureau was founded in 1908.", "says founded, not abolished"),
    ("When did she die?", "She was born in 1901 in Paris.", "says born, not die"),
    ("When did he resign?", "He joined the board in 2010.", "says joined, not resign"),
    ("By how much did sales fall?", "Sales rose by 4% in 2023.", "says rose, not fall"),
    ("When was the yard founded?", "The yard closed in 1914.", "says closed, not founded"),
    ("When did the gallery reopen?", "The gallery stayed closed during May 2024.", "says closed, not reopen"),
    ("What is the notice period after probation?", "During probation, the notice period is one week.",
     "says during probation, not after probation"),
])
def test_an_answer_about_the_opposite_event_is_refused(question, sentence, reason):
    assert reason in opposite_event(question, sentence)


@pytest.mark.parametrize("question, sentence", [
    ("When was the BCIJ established?", "In May 2015, Morocco established the BCIJ."),
    ("When was the BCIJ created?", "In May 2015, Morocco established the BCIJ."),   # no opposite said
    ("When was the club dissolved?", "Founded in 1890, the club was dissolved in 1931."),  # both said
    ("What was found in the cave?", "The cave was abolished as a site in 1990."),  # "found": of "find"
    ("When does the shop close?", "The shop opens at 9:00 and is open until 17:30."),  # hours, not events
    ("Who won the cup in 1990?", "Leeds defeated Arsenal in the 1990 final."),  # sides swap with the subject
    ("When was the station founded?", "The station, close to the harbour, opened in 1870."),  # "close": near
    ("What did he do after the war?", "During the war he was a medic; after the war he taught."),  # both said
])
def test_a_sentence_that_may_answer_is_not_refused(question, sentence):
    assert opposite_event(question, sentence) == ""


@pytest.mark.parametrize("question, sentence, answer, refused", [
    # the answer's clause names the asked event, or no event at all: the other clause is another event's
    ("When does the lease start?", "The lease commences on 1 June 2024 and terminates on 31 May 2025.",
     "1 June 2024", False),
    ("When did she join?", "She worked there from 2010 until she retired in 2019.", "2010", False),
    # a phrase set apart by a comma is still the clause's: "In May 2015, Morocco established..."
    ("When was the BCIJ dissolved?", "In May 2015, Morocco established the BCIJ.", "May 2015", True),
    ("When was the club founded?", "The club, founded in 1890, was dissolved in 1931.", "1931", True),
    ("When was the club dissolved?", "The club, founded in 1890, was dissolved in 1931.", "1931", False),
])
def test_the_answer_s_own_clause_decides(question, sentence, answer, refused):
    at = sentence.index(answer)
    assert bool(opposite_event(question, sentence, (at, at + len(answer)))) is refused


def test_a_lower_choice_about_the_asked_event_answers_instead():
    text = ("The site stayed closed during May 2024 while the roof was repaired. "
            "The Ropewalk reopened to visitors on 6 June 2024.")

    def span(words: str, score: float) -> Span:
        at = text.index(words)
        return Span(words, "doc", at, at + len(words), score, 0, no_answer_score=-1.0)

    assert names_asked_event("When did the Ropewalk reopen?", text, (text.index("6 June"), len(text) - 1))
    result = ReaderResult([span("May 2024", 9.0), span("6 June 2024", 7.0)])
    checked = check_in_text("When did the Ropewalk reopen?", result, text)
    assert checked.replaced and [s.text for s in checked.result.spans] == ["6 June 2024", "May 2024"]
    assert checked.result.best_null == -1.0 and "says closed, not reopen" in checked.why
    # no lower choice names the asked event: nothing instead, the question is refused
    only_may = ReaderResult([span("May 2024", 9.0), span("the roof", 5.0)])
    checked = check_in_text("When did the Ropewalk reopen?", only_may, text)
    assert not checked.replaced and checked.result is only_may and "says closed" in checked.why
