import pytest

from bot.read.qualifiers import Qualifier, context_terms, mismatch, question_qualifiers, rerank
from bot.types import Chunk, Passage, ReaderResult, Span


def _passage(n: int, text: str, doc: str, section: str = "", score: float = 0.0) -> Passage:
    sentences = ((0, len(text)),)
    return Passage(Chunk(n, doc, text, 0, len(text), section, 1, None, sentences), score=score, rank=n + 1)


def _span(passages: list[Passage], n: int, answer: str, score: float) -> Span:
    chunk = passages[n].chunk
    start = chunk.text.index(answer)
    return Span(answer, chunk.doc_id, start, start + len(answer), score, n)


@pytest.mark.parametrize("question, expected", [
    ("Under the 2024 leave policy, by when must I report sick?", [("year", "2024")]),
    ("When was Tern v3.0 released?", [("version", "3.0"), ("name", "tern")]),
    ("What is the first response time for a P4 ticket?", [("code", "p4")]),
    ("Who chaired the April 2024 meeting?", [("year", "2024"), ("month", "april")]),
    ("May I bring a dog to the march?", []),  # a request and a walk, not months
    ("What happened in the 1950's?", []),  # a decade
])
def test_the_details_a_question_names(question, expected):
    assert question_qualifiers(question) == [Qualifier(kind, text) for kind, text in expected]


def test_a_passage_names_the_years_of_a_range_and_the_month_of_a_numeric_date():
    terms = context_terms("Skylab flew three missions in 1973–74; the programme ran from 1961 to 1972. Filed 2024-02-12.")
    assert {"1973", "1974", "1965", "february"} <= terms and "1975" not in terms


def test_the_passage_naming_the_asked_year_wins_a_close_call_between_editions():
    passages = [_passage(0, "Report sick before 10:00 on the first day.", "leave_2023.md", "Leave policy 2023"),
                _passage(1, "Report sick before 09:30 on the first day.", "leave_2024.md", "Leave policy 2024")]
    result = ReaderResult([_span(passages, 0, "10:00", 13.2), _span(passages, 1, "09:30", 12.6)])
    question = "Under the 2024 leave policy, by what time must I report sick?"
    assert [s.text for s in rerank(question, result, passages, {}).spans] == ["09:30", "10:00"]
    # without a year in the question, the reader's preference stands
    assert [s.text for s in rerank("By what time must I report sick?", result, passages, {}).spans] == ["10:00", "09:30"]


def test_in_a_table_the_row_naming_the_asked_code_or_person_wins():
    text = ("Support levels — Priority: P1; First response: 1 hour.\n"
            "Support levels — Priority: P2; First response: 4 hours.\n")
    passages = [_passage(0, text, "support.md")]
    result = ReaderResult([_span(passages, 0, "1 hour", 9.0), _span(passages, 0, "4 hours", 8.0)])
    assert rerank("What is the first response time for P2?", result, passages, {}).spans[0].text == "4 hours"
    people = ("Directory — Name: Aisha Bello; Extension: 4010.\n"
              "Directory — Name: Sven Lindqvist; Extension: 4400.\n")
    passages = [_passage(0, people, "staff.md")]
    result = ReaderResult([_span(passages, 0, "4010", 9.0), _span(passages, 0, "4400", 8.0)])
    assert rerank("What is Sven Lindqvist's extension?", result, passages, {}).spans[0].text == "4400"


def test_a_passage_about_another_edition_or_version_cannot_answer():
    passages = [_passage(0, "Staff get 25 days of annual leave.", "leave.md", score=1.0)]
    span = _span(passages, 0, "25 days", 9.0)
    titles = {"leave.md": "Leave policy 2023"}
    assert "2023, not 2022" in mismatch("How many days of leave under the 2022 policy?", span, passages, titles)
    assert mismatch("How many days of leave under the 2023 policy?", span, passages, titles) == ""
    # a passage that names no year at all says nothing against the question's year
    assert mismatch("How many days of leave under the 2022 policy?", span, passages, {}) == ""
    notes = [_passage(0, "Tern 3.1 was released on 14 November 2023.", "notes.md")]
    released = _span(notes, 0, "14 November 2023", 9.0)
    assert "3.1, not 3.0" in mismatch("When was Tern 3.0 released?", released, notes, {})
    assert mismatch("When was Tern 3.1 released?", released, notes, {}) == ""
