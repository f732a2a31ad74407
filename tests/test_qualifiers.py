import pytest

from bot.ingest.chunking import sentence_spans
from bot.read.passage_prior import rank_with_retrieval
from bot.read.qualifiers import DocumentFacts, context_terms, detail_penalty, mismatch, question_qualifiers
from bot.types import Chunk, Passage, ReaderResult, Span


def _passage(n: int, text: str, doc: str, section: str = "", score: float = 0.0) -> Passage:
    return Passage(Chunk(n, doc, text, 0, len(text), section, 1, None, ((0, len(text)),)), score=score, rank=n + 1)


def _span(passages: list[Passage], n: int, answer: str, score: float) -> Span:
    chunk = passages[n].chunk
    start = chunk.text.index(answer)
    return Span(answer, chunk.doc_id, start, start + len(answer), score, n)


def _details(question: str) -> list[tuple[str, str]]:
    return [(q.kind, q.text) for q in question_qualifiers(question)]


@pytest.mark.parametrize("question, expected", [
    ("Under the 2024 leave policy, by when must I report sick?", [("year", "2024")]),
    ("When was Tern v3.0 released?", [("version", "3"), ("name", "tern")]),
    ("What changed in Python 3.11?", [("version", "3.11"), ("name", "python")]),
    ("What is the first response time for a P4 ticket?", [("code", "p4")]),
    ("Who chaired the April 2024 meeting?", [("year", "2024"), ("month", "april")]),
    ("May I bring a dog to the march?", []),  # a request and a walk, not months
    ("What happened in the 1950's?", []),  # a decade
    # parts of a document, amounts, times and dates are no versions; an amount is no year
    ("What is the meal allowance under section 4.2?", []),
    ("Who pays claims above 1500 EUR or $2000?", []),
    ("Is the 2.5 GB plan open at 10.30 on 12.03.2024?", []),
    ("What was FY2024 revenue in room B-12?", [("year", "2024"), ("code", "b12")]),
    ("What did the 2024 staff survey find?", [("year", "2024")]),
    ("What is new in version 4?", [("version", "4")]),
    ("What was fixed in 2.3.1?", [("version", "2.3.1")]),  # two dots: a version wherever it stands
    ("What is at 10.0.0.1 since 15.03.2024?", []),  # an address and a date
    ("Which release removed the /api/v1 endpoints?", []),  # a path's part
    ("When is the first bus on Route 22?", [("version", "22"), ("name", "rout")]),  # a name's number
    ("What is on in Hall 3 on March 3?", [("version", "3"), ("name", "hall"), ("month", "march")]),
    # in lower case, a word that numbers a series, or a product's version; a code written with a space
    ("What was the status in week 13?", [("version", "13")]),
    ("What did firmware 2.2 fix?", [("version", "2.2")]),
    ("How loud is the RX 250?", [("code", "rx250")]),
    ("What did the UK 2024 report say?", [("year", "2024")]),
    ("Can I take up to 3 days at 2.5 pay?", []),
])
def test_the_details_a_question_names(question, expected):
    assert _details(question) == expected


def test_a_passage_names_the_years_of_a_range_the_month_of_a_numeric_date_and_a_version_as_written():
    terms = context_terms("Skylab flew in 1973–74; the programme ran from 1961 to 1972. Filed 2024-02-12. Tern 3 ships.")
    assert {"1973", "1974", "1965", "february", "3"} <= terms and "1975" not in terms
    # "1 January 2024 to 31 December" and an invoice number are no ranges
    assert "2025" not in context_terms("Valid from 1 January 2024 to 31 December. Invoice 2019-45.")


def _ranked(question, result, passages):
    penalty = detail_penalty(question, passages, DocumentFacts())
    return [s.text for s in rank_with_retrieval(result, passages, penalty=penalty).spans]


def test_the_passage_naming_the_asked_year_wins_a_close_call_between_editions():
    passages = [_passage(0, "Report sick before 10:00 on the first day.", "leave_2023.md", "Leave policy 2023"),
                _passage(1, "Report sick before 09:30 on the first day.", "leave_2024.md", "Leave policy 2024")]
    result = ReaderResult([_span(passages, 0, "10:00", 13.2), _span(passages, 1, "09:30", 12.6)])
    question = "Under the 2024 leave policy, by what time must I report sick?"
    assert _ranked(question, result, passages) == ["09:30", "10:00"]
    # without a year in the question, the reader's preference stands
    assert _ranked("By what time must I report sick?", result, passages) == ["10:00", "09:30"]


def test_in_a_table_the_row_naming_the_asked_code_or_person_wins():
    text = ("Support levels — Priority: P1; First response: 1 hour.\n"
            "Support levels — Priority: P2; First response: 4 hours.\n")
    passages = [_passage(0, text, "support.md")]
    result = ReaderResult([_span(passages, 0, "1 hour", 9.0), _span(passages, 0, "4 hours", 8.0)])
    assert _ranked("What is the first response time for P2?", result, passages)[0] == "4 hours"
    people = ("Directory — Name: Aisha Bello; Extension: 4010.\n"
              "Directory — Name: Sven Lindqvist; Extension: 4400.\n")
    passages = [_passage(0, people, "staff.md")]
    result = ReaderResult([_span(passages, 0, "4010", 9.0), _span(passages, 0, "4400", 8.0)])
    assert _ranked("What is Sven Lindqvist's extension?", result, passages)[0] == "4400"


def test_a_table_without_the_row_asked_about_loses_to_another_passage_s_row_naming_it():
    weekdays = ("Kingsmead Park — First bus: 06:10; Last bus: 22:40.\n"
                "Royal Infirmary — First bus: 06:31; Last bus: 23:01.\n")
    saturday = ("Kingsmead Park — First bus: 07:30; Last bus: 21:30.\n"
                "University Campus — First bus: 08:05; Last bus: 22:05.\n")
    passages = [_passage(0, saturday, "timetable.md", "Saturday"), _passage(1, weekdays, "timetable.md", "Weekdays")]
    result = ReaderResult([_span(passages, 0, "22:05", 11.0), _span(passages, 1, "23:01", 8.0)])
    assert _ranked("When is the last bus at the Royal Infirmary?", result, passages)[0] == "23:01"


def test_a_passage_from_another_edition_or_version_cannot_answer():
    passages = [_passage(0, "Staff get 25 days of annual leave.", "leave.md", score=1.0)]
    span = _span(passages, 0, "25 days", 9.0)
    facts = DocumentFacts({"leave.md": "Leave policy 2023"})
    assert "about 2023, not 2022" in mismatch("How many days of leave under the 2022 policy?", span, passages, facts)
    assert mismatch("How many days of leave under the 2023 policy?", span, passages, facts) == ""
    # a label that names no year says nothing against the question's year
    assert mismatch("How many days of leave under the 2022 policy?", span, passages, DocumentFacts()) == ""
    # the passage naming the asked year lets it answer; its document naming it elsewhere does not
    # ("Next meeting: 18 April" in the March minutes)
    stated = [_passage(0, "As under the 2022 policy, staff get 25 days of annual leave.", "leave.md")]
    assert mismatch("How many days of leave under the 2022 policy?", _span(stated, 0, "25 days", 9.0), stated,
                    facts) == ""
    elsewhere = DocumentFacts({"leave.md": "Leave policy 2023"}, lambda doc: "It replaces the 2022 policy.")
    assert "not 2022" in mismatch("How many days of leave under the 2022 policy?", span, passages, elsewhere)
    notes = [_passage(0, "Tern 3.1 was released on 14 November 2023.", "notes.md")]
    released = _span(notes, 0, "14 November 2023", 9.0)
    assert "about 3.1, not 3.0" in mismatch("When was Tern 3.0 released?", released, notes, DocumentFacts())
    assert mismatch("When was Tern 3.1 released?", released, notes, DocumentFacts()) == ""
    # a numbered name in the document's title: "Route 17" is not "Route 22"
    route = [_passage(0, "Saturday — First bus: 07:30.", "timetable.md", "Saturday")]
    first = _span(route, 0, "07:30", 9.0)
    facts = DocumentFacts({"timetable.md": "Route 17 timetable"})
    assert "about Route 17, not 22" in mismatch("When is the first bus on Route 22?", first, route, facts)
    assert mismatch("When is the first bus on Route 17?", first, route, facts) == ""
    # a number of another series is no other route: the timetable's Bus 2 column
    buses = [_passage(0, "Route 17 buses leave Market Square from 07:30 on weekdays.", "route-17-bus-timetable.md")]
    bus_facts = DocumentFacts({"route-17-bus-timetable.md": "Route 17"})
    assert mismatch("When does Bus 2 leave Market Square?", _span(buses, 0, "07:30", 9.0), buses, bus_facts) == ""


def test_in_a_changelog_the_version_heading_a_section_decides_what_it_is_about():
    passages = [_passage(0, "Deprecated\nThe --legacy-thumbs flag will be removed.", "CHANGELOG.md",
                         "2.2.0 — 2025-09-30 › Deprecated"),
                _passage(1, "Fixed\nUploads over 2 GB timed out.", "CHANGELOG.md", "2.3.1 — 2026-01-19 › Fixed"),
                _passage(2, "Fixed\nThe map view froze.", "CHANGELOG.md", "[2.4.0] - 2026-03-02 › Fixed")]
    # every version is named somewhere in the document: only the section tells them apart
    facts = DocumentFacts({"CHANGELOG.md": "Changelog"}, lambda doc: "2.2.0 2.3.1 2.4.0")
    flag = _span(passages, 0, "The --legacy-thumbs flag", 9.0)
    assert "about 2.2.0, not 2.3.0" in mismatch("What was deprecated in version 2.3.0?", flag, passages, facts)
    assert mismatch("What was deprecated in 2.2.0?", flag, passages, facts) == ""
    # a numbered section is no version heading: its label does not decide
    python = [_passage(0, "Python 3.12 is supported on every platform.", "notes.md", "2.1 Requirements")]
    supported = _span(python, 0, "every platform", 9.0)
    assert mismatch("Is Python 3.12 supported?", supported, python,
                    DocumentFacts({"notes.md": "Tern 3.1 release notes"})) == ""
    gates = [_passage(0, "Gate 22 is past security, on the left.", "guide.md", "3.2 Gates")]
    assert mismatch("Where is Gate 22?", _span(gates, 0, "past security", 9.0), gates,
                    DocumentFacts({"guide.md": "Terminal 2 guide"})) == ""
    # a line under one version naming another is about its own version's change
    removal = [_passage(0, "Deprecated\nThe --legacy-thumbs flag will be removed in 2.4.0.", "CHANGELOG.md",
                        "2.2.0 — 2025-09-30 › Deprecated")]
    assert "not 2.4.0" in mismatch("What changed in 2.4.0?", _span(removal, 0, "The --legacy-thumbs flag", 9.0),
                                   removal, facts)
    penalty = detail_penalty("What was fixed in 2.3.1?", passages, facts)
    assert penalty(_span(passages, 1, "Uploads over 2 GB timed out", 5.0)) == 0
    assert penalty(_span(passages, 2, "The map view froze", 5.0)) > 0


@pytest.mark.parametrize("question, text, answer", [
    # the years of a passage's story are not what it is about
    ("Who founded the company that went public in 1999?", "The firm, listed in 1999, was founded in 1985 by Jane Doe.",
     "Jane Doe"),
    # two years asked, one of them named
    ("How did sales change from 2022 to 2023?", "In 2023 sales rose by 4% over the year before.", "rose by 4%"),
    # a section number and an amount are no versions
    ("What is the meal allowance under section 4.2?", "4.2 Meals: the allowance is EUR 42.50 a day.", "EUR 42.50"),
    ("When was Tern 3.0 released?", "Tern 3 was released in May.", "May"),
    # the answer itself may be another code; a version named in the label is the one asked about
    ("What replaced SHA-1 in 2023?", "In 2023 the signing moved to SHA-256.", "SHA-256"),
    ("What is the default port in Tern 3.1?", "Since Tern 3.0, the default port is 8443.", "8443"),
])
def test_ordinary_questions_are_not_refused(question, text, answer):
    passages = [_passage(0, text, "notes_2023.md", "Tern 3.1 release notes, 2023")]
    assert mismatch(question, _span(passages, 0, answer, 5.0), passages, DocumentFacts()) == ""


def test_a_sentence_comparing_with_another_quarter_or_version_still_answers():
    text = "Sales in the first quarter of 2024 reached 14,300 bicycles, up from 12,100 in Q4 2023."
    passages = [_passage(0, text, "sales.md", "Northwind sales")]
    span = _span(passages, 0, "14,300", 5.0)
    assert mismatch("How many bicycles did Northwind sell in Q1 2024?", span, passages, DocumentFacts()) == ""
    # a row about another priority, in a document that never names the asked one
    row = [_passage(0, "Support levels — Priority: P1; First response: 1 hour.", "support.md")]
    assert "about P1, not P4" in mismatch("What is the response time for P4?", _span(row, 0, "1 hour", 5.0), row,
                                          DocumentFacts())


def test_an_answer_from_a_sentence_dated_another_month_does_not_answer():
    notes = [_passage(0, "Fixed the outage of 12 February, caused by a full disk.", "release_notes.txt", "Bug fixes")]
    span = _span(notes, 0, "a full disk", 5.0)
    assert "about February, not March" in mismatch("What caused the outage on 3 March 2024?", span, notes,
                                                   DocumentFacts())
    assert mismatch("What caused the outage on 12 February?", span, notes, DocumentFacts()) == ""
    # the notes' own date (their section) names March: the outage is still dated February
    dated = [_passage(0, "Fixed the outage of 12 February, caused by a full disk.", "notes.txt",
                      "Release date: 5 March 2024")]
    assert "about February, not March" in mismatch("What caused the outage on 3 March 2024?",
                                                   _span(dated, 0, "a full disk", 5.0), dated, DocumentFacts())
    assert mismatch("What shipped on 5 March 2024?", _span(dated, 0, "a full disk", 5.0), dated,
                    DocumentFacts()) == ""
    # a sentence naming the asked month beside another still answers
    both = [_passage(0, "The plan drafted on 4 January was approved on 9 March.", "minutes.md")]
    assert mismatch("What was approved in March?", _span(both, 0, "The plan", 5.0), both, DocumentFacts()) == ""


def test_an_answer_from_a_sentence_dating_the_asked_thing_another_year_does_not_answer():
    minutes = [_passage(0, "The club's AGM in 2025 was held on 11 March at the clubhouse.", "fees_2025.md",
                        "Membership fees")]
    span = _span(minutes, 0, "11 March", 5.0)
    assert "about 2025, not 2023" in mismatch("When was the AGM in 2023?", span, minutes, DocumentFacts())
    assert mismatch("When was the AGM in 2025?", span, minutes, DocumentFacts()) == ""
    # the label names the asked year: the sentence's other year is of its story
    final = [_passage(0, "Spain won the final, avenging the final in 1982.", "world_cup_2010.md")]
    assert mismatch("Who won the final in 2010?", _span(final, 0, "Spain", 5.0), final, DocumentFacts()) == ""
    # a year of another thing in the sentence is no reason: the museum's, not the exhibition's
    story = [_passage(0, "The museum, opened in 1990, hosted the exhibition in March.", "history.md")]
    assert mismatch("When did the exhibition of 2024 open?", _span(story, 0, "March", 5.0), story,
                    DocumentFacts()) == ""


def test_among_editions_of_a_document_a_year_asked_picks_the_edition_whatever_words_are_beside_it():
    text_2025 = "Full-time employees receive 25 days of paid annual leave per holiday year."
    text_2026 = "Full-time employees receive 26 days of paid annual leave. It replaces the Holiday Policy 2025."
    passages = [_passage(0, text_2026, "holiday_policy_2026.md"), _passage(1, text_2025, "holiday_policy_2025.md")]
    titles = {"holiday_policy_2025.md": "Holiday Policy", "holiday_policy_2026.md": "Holiday Policy",
              "handbook.md": "Employee handbook"}
    facts = DocumentFacts(titles)
    asked = "How many days of leave did full-time employees get in 2024?"
    assert "about 2026, not 2024" in mismatch(asked, _span(passages, 0, "26 days", 5.0), passages, facts)
    # the 2026 edition naming the 2025 one it replaces is no 2025 edition
    penalty = detail_penalty("How many days of leave do employees get in 2025?", passages, facts)
    assert penalty(_span(passages, 0, "26 days", 5.0)) > penalty(_span(passages, 1, "25 days", 5.0))
    # one document alone is no edition: the year may be one of what it tells
    alone = [_passage(0, text_2026, "holiday_policy_2026.md")]
    assert mismatch(asked, _span(alone, 0, "26 days", 5.0), alone,
                    DocumentFacts({"holiday_policy_2026.md": "Holiday Policy"})) == ""


@pytest.mark.parametrize("text, doc, title, answer, refused, reason, answered", [
    # a code in the document's name decides for a question about another of its family itself
    ("Water tank capacity — Value: 0.25 litres.", "vacuum_rx300_manual.md", "Norhaven RX-300 Robot Vacuum — User Manual",
     "0.25 litres", "What is the water tank capacity of the RX-200?", "about RX-300, not RX-200",
     "What is the water tank capacity of the RX-300?"),
    # minutes dated to the day are not another meeting's for naming its date; a month alone is
    # still found in the passage's own text
    ("Action: book the venue. Owner: Priya Raman. Due: 3 June 2024.", "minutes_may.md",
     "Steering meeting minutes — 6 May 2024", "Priya Raman", "What was decided at the 3 June 2024 steering meeting?",
     "about May, not June", "Who books the venue due in June for the steering meeting?"),
])
def test_the_document_s_own_name_decides(text, doc, title, answer, refused, reason, answered):
    passages = [_passage(0, text, doc, "Specifications")]
    facts = DocumentFacts({doc: title})
    span = _span(passages, 0, answer, 5.0)
    assert reason in mismatch(refused, span, passages, facts)
    assert mismatch(answered, span, passages, facts) == ""


def test_the_label_decides_which_edition_a_passage_is_from_whatever_dates_its_text_gives():
    passages = [_passage(0, "Report sick before 10:00. This edition applies until 31 January 2024.", "leave_2023.md",
                         "Leave policy 2023"),
                _passage(1, "Report sick before 09:30.", "leave_2024.md", "Leave policy 2024/25")]
    result = ReaderResult([_span(passages, 0, "10:00", 13.2), _span(passages, 1, "09:30", 12.6)])
    assert _ranked("Under the 2024 leave policy, by what time must I report sick?", result, passages)[0] == "09:30"
    assert _ranked("Under the 2025 leave policy, by what time must I report sick?", result, passages)[0] == "09:30"


@pytest.mark.parametrize("question, title, text, answer", [
    # a year of something else than what the title names: the staff's, the car's
    ("How many days of leave do staff hired in 2019 get?", "Leave policy 2024", "Staff hired before 2020 get 28 days.",
     "28 days"),
    ("What is the mileage rate for a car bought in 2015?", "Expense policy 2024", "Any car is paid EUR 0.30 a km.",
     "EUR 0.30"),
    # "May" in a title is no month; a model is not the guide's model
    ("When are visa fees paid back in December?", "Costs You May Claim Abroad", "Visa fees are paid back at once.",
     "at once"),
    ("Which port charges a PS4 controller?", "PS5 guide", "Any controller charges from the rear USB port.",
     "rear USB port"),
    # codes of other letters are not compared
    ("How much CO2 does the plant emit?", "Bristol plant", "It emits 40 tonnes of carbon dioxide and 2 tonnes of SO2.",
     "40 tonnes"),
    # a section's name does not make its topic the document's edition
    ("Does Tern run on Python 3.12?", "Tern 3.1 release notes", "Python 3.9 or later is required.", "3.9 or later"),
])
def test_a_detail_that_does_not_qualify_what_the_title_names_is_no_reason_to_refuse(question, title, text, answer):
    passages = [_passage(0, text, "doc.md", "Python support")]
    facts = DocumentFacts({"doc.md": title})
    assert mismatch(question, _span(passages, 0, answer, 5.0), passages, facts) == ""


def test_a_lower_choice_naming_the_asked_code_answers_where_the_best_names_another():
    from bot.read.doubts import check

    text = ("Project P34 was approved on 5 March 2003 by the board.\n"
            "Project P35 was approved on 6 March 2003 by the board.")
    sentences = ((0, text.index("\n")), (text.index("\n") + 1, len(text)))
    passages = [Passage(Chunk(0, "projects.md", text, 0, len(text), "", 1, None, sentences), score=1.0, rank=1)]
    result = ReaderResult([_span(passages, 0, "5 March 2003", 9.0), _span(passages, 0, "6 March 2003", 8.0)])
    question = "When was project P35 approved?"
    assert mismatch(question, result.spans[0], passages, DocumentFacts())
    checked = check(question, result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "6 March 2003" and "about P34" in checked.why
    # nothing below names P37: nothing instead, and the question is refused
    assert not check("When was project P37 approved?", result, passages, DocumentFacts(), None).replaced
    # a lower choice whose sentence names the asked version but says something else of it
    notes = ("Support for Tern 3.1 ends on 31 December 2025.\nPublish the Tern 3.2 release notes by 5 March.")
    sentences = ((0, notes.index("\n")), (notes.index("\n") + 1, len(notes)))
    passages = [Passage(Chunk(0, "notes.md", notes, 0, len(notes), "", 1, None, sentences), score=1.0, rank=1)]
    result = ReaderResult([_span(passages, 0, "31 December 2025", 9.0), _span(passages, 0, "5 March", 8.0)])
    assert not check("When does support for Tern 3.2 end?", result, passages, DocumentFacts(), None).replaced


def test_an_academic_year_is_one_detail_and_another_one_is_refused():
    assert _details("What is the dissertation deadline in 2026/27?") == [("year", "2026/27")]
    assert _details("Who convened it in 2024-25?") == [("year", "2024/25")]
    for written in ("MSc Handbook 2025–26", "MSc Handbook FY2025/26", "MSc Handbook 2025/2026", "MSc Handbook 2025 - 26"):
        assert {"2025", "2026", "2025/26"} <= context_terms(written)
    passages = [_passage(0, "The dissertation is due on 4 September 2026.", "handbook-2025-26.md",
                         "MSc Handbook 2025/26")]
    span = _span(passages, 0, "4 September 2026", 9.0)
    facts = DocumentFacts()
    assert "about 2025/26, not 2026/27" in mismatch(
        "What is the dissertation deadline in the 2026/27 handbook?", span, passages, facts)
    for question in ("What is the dissertation deadline in the 2025/26 handbook?",
                     "What is the dissertation deadline in the 2026 handbook?"):  # a year of the two
        assert mismatch(question, span, passages, facts) == ""
    # a document of an academic year is its edition, however the question words it
    assert "about 2025/26, not 2026/27" in mismatch("When is the dissertation due in 2026/27?", span, passages, facts)
    # ... but where its own text names the asked year, the passage is not ranked down for its label
    cohort = [_passage(0, "Students who enrolled in 2024/25 submit by 1 May.", "handbook-2025-26.md",
                       "MSc Handbook 2025/26")]
    penalty = detail_penalty("When do students who enrolled in 2024/25 submit?", cohort, facts)
    assert penalty(_span(cohort, 0, "1 May", 9.0)) == 0
    # a section of an academic year is that year's, in a document named for none
    terms = [_passage(0, "Autumn term — Starts: 3 September 2025; Ends: 12 December 2025.", "term-dates.md",
                      "Term dates 2025/26")]
    assert "about 2025/26, not 2026/27" in mismatch("When does the autumn term 2026/27 start?",
                                                    _span(terms, 0, "3 September 2025", 9.0), terms, facts)


def test_the_cell_the_question_names_in_any_passage_answers_for_a_best_span_of_prose():
    from bot.read.doubts import check

    prose = "This timetable is valid from 28 March to 19 October 2025. The crossing takes 46 minutes."
    table = ("Departures from Oban\nFirst — Saturday: 07:45; Sunday: 09:00.\nLast — Saturday: 17:10; Sunday: 16:45.\n"
             "Departures from Craignure\nFirst — Saturday: 08:50; Sunday: 10:00.\nLast — Saturday: 18:15; Sunday: 17:50.")
    passages = [_passage(0, prose, "ferry.html"), _passage(1, table, "ferry.html")]
    result = ReaderResult([_span(passages, 0, "28 March to 19 October 2025", 9.0), _span(passages, 1, "09:00", 3.0)])
    checked = check("When does the last ferry leave Oban on Sundays?", result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "16:45" and checked.result.spans[0].passage_index == 1
    other_doc = [_passage(0, prose, "intro.md"), _passage(1, table, "ferry.html")]
    moved = check("When does the last ferry leave Oban on Sundays?", result, other_doc, DocumentFacts(), None)
    assert moved.result.spans[0].doc_id == "ferry.html"  # cited where it is
    # two tables' rows named alike, and nothing in the question to tell them apart: the reader's span stands
    assert not check("When does the last ferry leave on Sundays?", result, passages, DocumentFacts(), None).replaced
    # a row named without its column, where the row has several: no cell is named
    assert not check("When does the last ferry leave Oban?", result, passages, DocumentFacts(), None).replaced


def test_a_row_named_by_another_of_its_cells_in_another_passage_answers():
    from bot.read.doubts import check

    intro = "Contact the school office for anything else. The office is open from 08:15."
    staff = ("Staff\nMargaret Ellison — Role: Headteacher; Email: m.ellison@school.uk.\n"
             "Gareth Lewis — Role: Site Manager; Email: g.lewis@school.uk.")
    passages = [_passage(0, intro, "contacts.docx"), _passage(1, staff, "contacts.docx")]
    result = ReaderResult([_span(passages, 0, "the school office", 9.0)])
    checked = check("What is the email address of the Site Manager?", result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "g.lewis@school.uk"


def test_the_line_a_question_names_beside_a_span_of_prose_answers_where_it_says_more_of_the_question():
    from bot.ingest.chunking import sentence_spans
    from bot.read.doubts import check

    text = ("Election of officers\n\nAnn Lee stood down as Treasurer after four years. The following were "
            "elected:\n\nChair: Margaret Okafor\nTreasurer: Gareth Hughes\nCaptain: Elena Ferreira")
    earlier = "Officers last year\n\nChair: Margaret Okafor\nTreasurer: Ann Lee"  # a second list names the line too
    passages = [Passage(Chunk(n, "agm.md", body, at, at + len(body), "", 1, None,
                              tuple((at + s, at + e) for s, e in sentence_spans(body))), score=1.0, rank=n + 1)
                for n, (at, body) in enumerate(((0, text), (len(text) + 2, earlier)))]
    result = ReaderResult([_span(passages, 0, "Ann Lee", 9.0)])
    checked = check("Who was elected treasurer?", result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "Gareth Hughes"
    # the span's own sentence says what is asked: it stands
    assert not check("Who stood down as treasurer?", result, passages, DocumentFacts(), None).replaced


def test_a_named_row_with_another_size_than_asked_refuses_whichever_row_the_reader_chose():
    from bot.read.doubts import check

    text = ("Americano — Size: Large; Price: £3.10.\nFlat white — Size: Regular; Price: £3.15.\n"
            "Cappuccino — Size: Regular; Price: £3.25.")
    passages = [_passage(0, text, "prices.md", "Hot drinks")]
    for chosen in ("£3.10", "£3.15"):
        checked = check("How much is a large flat white?", ReaderResult([_span(passages, 0, chosen, 9.0)]), passages,
                        DocumentFacts(), None)
        assert checked.why == "the row found has Size: Regular, not Large" and not checked.replaced


def test_the_row_the_question_names_answers_for_the_best_span_of_another_row():
    from bot.read.doubts import check

    text = ("Modules\nDSC7003 — Module: Data Management; Convenor: Prof. Anika Bauer.\n"
            "DSC7004 — Module: Machine Learning in Practice; Convenor: Dr Samuel Adeyemi.")
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    lines = tuple((s, s + len(line)) for s, line in zip(starts, text.split("\n")))  # a sentence per row
    passages = [Passage(Chunk(0, "modules.md", text, 0, len(text), "Modules", 1, None, lines), score=1.0, rank=1)]
    result = ReaderResult([_span(passages, 0, "Prof. Anika Bauer", 9.0), _span(passages, 0, "DSC7004", 4.0)])
    checked = check("Who convenes DSC7004?", result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "Dr Samuel Adeyemi" and "about DSC7003" in checked.why
    # named by another of its cells and a column: that cell, though nothing stood against the code
    code = ReaderResult([_span(passages, 0, "DSC7004", 9.0)])
    checked = check("Who convenes Machine Learning in Practice?", code, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "Dr Samuel Adeyemi" and checked.why == ""
    # a name of the question no row gives: the row is not named by a cell it happens to share
    autumn = ReaderResult([_span(passages, 0, "DSC7003", 9.0)])
    assert not check("Who convenes Robotics in Data Management?", autumn, passages, DocumentFacts(), None).replaced


def test_a_word_naming_one_document_rules_out_answers_from_documents_that_never_say_it():
    from bot.read.document_names import document_penalty, unnamed_word

    texts = {"calmol_leaflet.txt": "Calmol. Rare side effects: low blood pressure.",
             "fevrolen_leaflet.docx": "Fevrolen. Rare side effects: vomiting. Store the leaflet.",
             "router_guide.md": "Press Reset for 6 seconds, as the leaflet in the box shows."}
    facts = DocumentFacts({doc: "" for doc in texts}, texts.get)
    question = "What are the rare side effects of calmol?"
    assert unnamed_word(question, "fevrolen_leaflet.docx", facts) == "calmol"
    assert unnamed_word(question, "calmol_leaflet.txt", facts) == ""
    # a word of names that another document says too names no document
    assert unnamed_word("What do the leaflets say about storing?", "router_guide.md", facts) == ""
    passages = [_passage(0, texts["fevrolen_leaflet.docx"], "fevrolen_leaflet.docx", score=1.0),
                _passage(1, texts["calmol_leaflet.txt"], "calmol_leaflet.txt", score=0.5)]
    result = ReaderResult([_span(passages, 0, "vomiting", 9.0), _span(passages, 1, "low blood pressure", 8.0)])
    penalty = document_penalty(question, passages, facts)
    assert rank_with_retrieval(result, passages, penalty=penalty).spans[0].text == "low blood pressure"
    assert document_penalty("What are the rare side effects?", passages, facts) is None
    # one document alone: nothing to tell apart
    assert unnamed_word(question, "x.md", DocumentFacts({"x.md": ""}, lambda doc: "")) == ""
    # a word of two letters names a document too ("gp" of gp_leaflet.md)
    two = {"gp_leaflet.md": "Opening hours: 7:00am to 8:00pm.", "school_letter.txt": "Office hours: 8:15am to 4pm."}
    two_facts = DocumentFacts({doc: "" for doc in two}, two.get)
    assert unnamed_word("what time does the gp open", "school_letter.txt", two_facts) == "gp"


def test_a_date_of_another_year_cannot_answer_when_something_happened_in_a_year():
    passages = [_passage(0, "The lights were switched on on Friday 3 December 2021 at 6pm.", "news.md")]
    span = _span(passages, 0, "Friday 3 December 2021", 9.0)
    assert "not 2022" in mismatch("When was the lights switch-on in 2022?", span, passages, DocumentFacts())
    assert mismatch("When was the lights switch-on in 2021?", span, passages, DocumentFacts()) == ""
    # a year before the asked thing is the thing's, not the date's
    report = [_passage(0, "The 2022 report was published on 4 March 2023.", "news.md")]
    assert mismatch("When was the 2022 report published?", _span(report, 0, "4 March 2023", 9.0), report,
                    DocumentFacts()) == ""


def test_a_clause_for_another_year_cannot_answer_where_another_clause_names_the_asked_one():
    text = "The 2021 fete on the green raised £2,780; the 2022 fete raised £3,412."
    passages = [_passage(0, text, "newsletter.md")]
    first = _span(passages, 0, "£2,780", 9.0)
    assert "not 2022" in mismatch("How much did the fete raise in 2022?", first, passages, DocumentFacts())
    assert mismatch("How much did the fete raise in 2022?", _span(passages, 0, "£3,412", 8.0), passages,
                    DocumentFacts()) == ""
    assert mismatch("How much did the fete raise in 2021?", first, passages, DocumentFacts()) == ""


def test_the_named_line_of_the_asked_years_minutes_answers_where_the_best_span_is_of_another_year():
    from bot.read.doubts import check

    def minutes(n: int, year: int, text: str) -> Passage:
        return Passage(Chunk(n, f"club_agm_{year}.md", text, 0, len(text), "Election of officers", 1, None,
                             ((0, len(text)),)), score=1.0 - n, rank=n + 1)

    passages = [minutes(0, 2023, "Ann Lee stood down as Treasurer after four years. The following were elected:\n"
                                 "Chair: Margaret Okafor\nTreasurer: Gareth Hughes"),
                minutes(1, 2022, "The following officers were elected unopposed.\n"
                                 "Chair: Margaret Okafor\nSecretary: Priya Natarajan\nTreasurer: Ann Lee")]
    facts = DocumentFacts({"club_agm_2023.md": "Minutes of the AGM 2023", "club_agm_2022.md": "Minutes of the AGM 2022"})
    result = ReaderResult([_span(passages, 0, "Ann Lee", 9.0), _span(passages, 1, "Priya Natarajan", 5.0)])
    checked = check("Who was elected treasurer at the 2022 AGM?", result, passages, facts, None)
    best = checked.result.spans[0]
    assert checked.replaced and best.text == "Ann Lee" and best.passage_index == 1
    # no minutes of the asked year read: nothing answers instead
    assert not check("Who was elected treasurer at the 2021 AGM?", result, passages, facts, None).replaced


def test_in_one_document_of_parts_headed_by_years_the_heading_over_the_answer_decides_its_year():
    from bot.read.doubts import check

    doc = "minutes_2022-2024.md"
    sections = ["Minutes 2022 to 2024", "AGM 2022 › Officers", "AGM 2023 › Officers", "AGM 2023 › Treasurer's report",
                "Contacts (from March 2024)"]

    def part(n: int, section: str, text: str) -> Passage:
        return Passage(Chunk(n, doc, text, 0, len(text), section, 1, None, tuple(sentence_spans(text))),
                       score=1.0 - n / 10, rank=n + 1)

    passages = [part(0, "Contacts (from March 2024)", "Contacts\nChair: Declan Hughes\nSecretary: Priya Nandakumar"),
                part(1, "AGM 2022 › Officers", "Officers\nChair: Margaret Okafor\nSecretary: Ravi Shah"),
                part(2, "AGM 2023 › Treasurer's report",
                     "The balance at the end of 2022 was £2,315. Membership stood at 238 households.")]
    facts = DocumentFacts({doc: "Minutes 2022 to 2024"}, sections_of=lambda d: sections)
    result = ReaderResult([_span(passages, 0, "Priya Nandakumar", 9.0), _span(passages, 1, "Margaret Okafor", 5.0)])
    question = "Who was secretary in 2022?"
    assert "about 2024, not 2022" in mismatch(question, result.spans[0], passages, facts)
    checked = check(question, result, passages, facts, None)
    assert checked.replaced and checked.result.spans[0].text == "Ravi Shah"
    # the answer's own sentence names the asked year: the heading does not rule it out
    assert mismatch("What was the balance at the end of 2022?", _span(passages, 2, "£2,315", 5.0), passages,
                    facts) == ""
    assert "not 2022" in mismatch("How many households were members in 2022?", _span(passages, 2, "238", 5.0),
                                  passages, facts)
    # a document whose parts give one year between them, or facts that know no sections: no part decides
    one_year = DocumentFacts({doc: "Minutes"}, sections_of=lambda d: ["AGM 2024 › Officers", "Contacts (from 2024)"])
    assert mismatch(question, result.spans[0], passages, one_year) == ""
    assert mismatch(question, result.spans[0], passages, DocumentFacts({doc: "Minutes 2022 to 2024"})) == ""


def test_an_academic_year_heading_holds_both_its_years_and_not_the_next_season():
    doc = "programme.md"
    sections = ["Season 2023–24", "Season 2023–24 › Spring Concert 2024", "Season 2024–25"]
    facts = DocumentFacts({doc: "Programme 2023–24 and 2024–25"}, sections_of=lambda d: sections)

    def part(section: str, text: str) -> list[Passage]:
        return [Passage(Chunk(0, doc, text, 0, len(text), section, 1, None, ((0, len(text)),)), score=1.0, rank=1)]

    spring = part("Season 2023–24 › Spring Concert 2024", "Spring Concert 2024\nSoloist: David Oyelaran")
    later = part("Season 2024–25", "Season 2024–25\nMusical Director: Naomi Fischer")
    assert mismatch("Who was the soloist in 2023–24?", _span(spring, 0, "David Oyelaran", 5.0), spring, facts) == ""
    assert "not 2023" in mismatch("Who was the soloist in 2023?", _span(spring, 0, "David Oyelaran", 5.0), spring,
                                  facts)
    assert "not 2023–24" in mismatch("Who was musical director in 2023–24?", _span(later, 0, "Naomi Fischer", 5.0),
                                     later, facts)


def test_the_named_line_beside_the_best_span_of_another_years_part_gives_way_to_the_asked_years():
    from bot.read.doubts import check

    doc = "programme.md"
    facts = DocumentFacts({doc: "Programme"}, sections_of=lambda d: ["Season 2023–24", "Season 2024–25"])

    def part(n: int, section: str, text: str) -> Passage:
        return Passage(Chunk(n, doc, text, 0, len(text), section, 1, None, tuple(sentence_spans(text))),
                       score=1.0 - n / 10, rank=n + 1)

    passages = [part(0, "Season 2024–25", "Season 2024–25\n\nMusical Director: Naomi Fischer\nChair: Rhys Morgan\n\n"
                                          "Susan Pike stood down as Chair after the 2023–24 season."),
                part(1, "Season 2023–24", "Season 2023–24\n\nMusical Director: Gareth Lloyd\nChair: Susan Pike")]
    result = ReaderResult([_span(passages, 0, "Susan Pike", 9.0)])
    checked = check("Who was the musical director in 2023–24?", result, passages, facts, None)
    assert checked.replaced and checked.result.spans[0].text == "Gareth Lloyd"
    # no part of the asked year read: nothing answers
    checked = check("Who was the musical director in 2023–24?", result, passages[:1], facts, None)
    assert not checked.replaced and "not 2023–24" in checked.why


_WARRANTIES = ("Warranty terms\n\nE-Trek 2.1 warranty\nFrame: 5 years\nMotor: 2 years\n\n"
               "E-Trek 3.0 warranty\nFrame: lifetime for the original owner\nMotor: 3 years")
_CONTACTS = ("Who to contact\n\nHR Manager: Clare Whitfield\nEmail: clare@example.org\nPhone extension: 214\n\n"
             "Finance Manager: Rajesh Mehta\nEmail: rajesh@example.org\nPhone extension: 231")


@pytest.mark.parametrize("text, best, question, answer", [
    # the list whose lead names the asked version
    (_WARRANTIES, "2 years", "How long is the frame warranty on the E-Trek 3.0?", "lifetime for the original owner"),
    (_WARRANTIES, "2 years", "How long is the frame warranty on the E-Trek 2.1?", "5 years"),
    # the contact block opened by the person the question names
    (_CONTACTS, "214", "What is Rajesh Mehta's phone extension?", "231"),
    (_CONTACTS, "214", "What is Clare Whitfield's phone extension?", "214"),
])
def test_of_two_lists_in_one_passage_the_one_whose_lead_names_what_is_asked_answers(text, best, question, answer):
    from bot.read.doubts import check

    passages = [_passage(0, text, "doc.txt", text.split("\n", 1)[0])]
    result = ReaderResult([_span(passages, 0, best, 9.0)])
    assert check(question, result, passages, DocumentFacts(), None).result.spans[0].text == answer


def test_a_documents_title_answers_nothing_but_a_lower_choice_on_the_named_line_may():
    from bot.read.doubts import check

    title = "Residents' Association: AGM Minutes 2022 to 2024"
    intro = _passage(0, f"{title}\n\nThese are the approved minutes.", "minutes.md", title)
    agm = _passage(1, "AGM 2024\n\nDate: Monday 11 March 2024\nVenue: Hollybrook Library", "minutes.md", "AGM 2024")
    passages = [intro, agm]
    facts = DocumentFacts({"minutes.md": title})
    asked = "Where was the AGM held in 2024?"
    in_title = _span(passages, 0, "Residents' Association: AGM Minutes 2022 to 2024", 6.0)
    checked = check(asked, ReaderResult([in_title]), [intro], facts, None)
    assert not checked.replaced and checked.why == "the span found is the title of its document"
    # the named line's cell answers, and so does a lower choice on it
    assert check(asked, ReaderResult([in_title]), passages, facts, None).result.spans[0].text == "Hollybrook Library"
    # two lines named alike ("Venue", "Address") name no one cell: the reader's lower choice on one answers
    contacts = _passage(2, "AGM 2024 contacts\n\nSecretary: Priya Nair\nAddress: 1 Mill Lane", "minutes.md",
                        "AGM 2024 contacts")
    passages = [intro, agm, contacts]
    venue = _span(passages, 1, "Hollybrook Library", 1.0)
    checked = check(asked, ReaderResult([in_title, venue]), passages, facts, None)
    assert checked.replaced and checked.result.spans[0].text == "Hollybrook Library"
    assert checked.result.spans[0].score == 6.0  # the title's score, as a named cell takes it
    assert len(checked.result.spans) == 2
    # what the document is called, its title says
    assert not check("What are the minutes called?", ReaderResult([in_title]), passages, facts, None).why


def test_a_proper_name_one_document_says_rules_out_answers_from_the_others():
    from bot.read.document_names import unnamed_word

    texts = {"bike_shop.txt": "Owner: Jim Harland. Workshop Manager: Kasia Nowak. Open on Saturday.",
             "food_bank.txt": "Email: info@example.org. Coordinator: Sian Roberts. Open on Saturday.",
             "hall.md": "Bookings: Janet Pryce. Closed on Sundays."}
    facts = DocumentFacts({doc: "" for doc in texts}, texts.get)
    assert unnamed_word("What's Jim Harland's email?", "food_bank.txt", facts) in ("Jim", "Harland")
    assert unnamed_word("What's Jim Harland's email?", "bike_shop.txt", facts) == ""
    # a weekday, a question's first word or an acronym names no one
    assert unnamed_word("When is it open on Sunday?", "food_bank.txt", facts) == ""
    assert unnamed_word("Closed when?", "bike_shop.txt", facts) == ""


def test_a_lower_choice_under_a_section_naming_what_is_asked_answers_for_another_years_group():
    from bot.read.doubts import check

    text = ("Trips\n\nYear 6 will go on their residential trip to Arthog Outdoor Centre in June. "
            "Year 5 will visit the Roman city of Wroxeter on 13 March. Year 3 will travel on the railway.")
    passages = [Passage(Chunk(0, "newsletter.md", text, 0, len(text), "TRIPS", 1, None, tuple(sentence_spans(text))),
                        score=1.0, rank=1)]
    result = ReaderResult([_span(passages, 0, "Arthog Outdoor Centre", 9.0),
                           _span(passages, 0, "the Roman city of Wroxeter", 8.0)])
    checked = check("Where are Year 5 going on their trip?", result, passages, DocumentFacts(), None)
    assert checked.replaced and checked.result.spans[0].text == "the Roman city of Wroxeter"
