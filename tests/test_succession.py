from bot.read.qualifiers import DocumentFacts
from bot.read.succession import successor
from bot.types import Chunk, Passage, Span


def _passage(n: int, text: str, doc: str, section: str = "") -> Passage:
    return Passage(Chunk(n, doc, text, 0, len(text), section, 1, None, ((0, len(text)),)), score=0.0, rank=n + 1)


_LIKE = Span("the reader's choice", "x", 0, 5, 7.5, 0, -2.0)


def _one_file_of_years() -> tuple[list[Passage], DocumentFacts]:
    doc = "minutes.md"
    sections = ["AGM 2022 › Officers elected", "AGM 2023 › Officers elected", "AGM 2024 › Officers elected"]
    passages = [
        _passage(0, "Officers elected\n\nChair: Ann Lee\nSecretary: Ravi Shah\nTreasurer: Tom Bell", doc, sections[0]),
        _passage(1, "Officers elected\n\nChair: Ann Lee\nSecretary: Priya Nair (sec@example.org)\nTreasurer: Tom Bell",
                 doc, sections[1]),
        _passage(2, "Officers elected\n\nChair: Dev Hughes\nSecretary: Priya Nair\nTreasurer: Funmi Ade", doc, sections[2]),
    ]
    return passages, DocumentFacts({doc: "Minutes"}, sections_of=lambda d: sections)


def test_the_next_years_line_of_the_same_office_names_who_came_after():
    passages, facts = _one_file_of_years()
    after = successor("Who took over from Ravi Shah?", passages, facts, _LIKE)
    assert after is not None and after.text == "Priya Nair" and after.passage_index == 1  # the aside left out
    assert (after.score, after.no_answer_score) == (7.5, -2.0)  # the reader's scores, as a named cell's
    # held for two years: the year after the last
    assert successor("who replaced Ann Lee as chair?", passages, facts, _LIKE).text == "Dev Hughes"
    assert successor("Who succeeded Tom Bell?", passages, facts, _LIKE).text == "Funmi Ade"


def test_no_successor_where_nobody_came_after_or_the_question_asks_otherwise():
    passages, facts = _one_file_of_years()
    assert successor("Who took over from Funmi Ade?", passages, facts, _LIKE) is None  # still in office
    assert successor("Who took over from Jo Bloggs?", passages, facts, _LIKE) is None  # holds no office
    assert successor("Who was secretary in 2022?", passages, facts, _LIKE) is None
    # lists of no year say nothing of who came next
    undated = [_passage(0, "Chair: Ann Lee", "a.md"), _passage(1, "Chair: Dev Hughes", "b.md")]
    assert successor("Who replaced Ann Lee?", undated, DocumentFacts({"a.md": "Team", "b.md": "Team"}), _LIKE) is None


def test_files_of_one_year_each_are_a_series_and_other_series_do_not_count():
    passages = [
        _passage(0, "Secretary: Priya Nair\nSigned: Priya Nair, Secretary", "rowing_agm_2022.md"),
        _passage(1, "Secretary: Hamid Q\nSigned: Hamid Q, Secretary", "rowing_agm_2023.txt"),
        _passage(2, "Secretary: Joan White", "food_share_report_2024.md"),
    ]
    facts = DocumentFacts({p.chunk.doc_id: "" for p in passages})
    after = successor("Who took over from Priya Nair?", passages, facts, _LIKE)
    assert after is not None and after.text == "Hamid Q" and after.doc_id == "rowing_agm_2023.txt"
    assert successor("Who took over from Hamid Q?", passages, facts, _LIKE) is None
