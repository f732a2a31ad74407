"""The answer's extent (bot/read/extent.py): lists, named rows and sentences under a matching question."""

from dataclasses import replace

import pytest

from bot.ingest.chunking import sentence_spans
from bot.read.extent import asks_for_description, asks_for_several, list_around, widen
from bot.types import Chunk, Passage, Span


def answer_of(question: str, spans: list[Span], passages: list[Passage]) -> list[Span]:
    return widen(question, spans, passages).spans


def passage(text: str, section: str = "", offset: int = 100, heading_end: int | None = None) -> Passage:
    """A passage whose chunk starts at document offset `offset`, with the chunker's sentences."""
    sentences = tuple((offset + s, offset + e) for s, e in sentence_spans(text))
    chunk = Chunk(chunk_id=0, doc_id="doc.md", text=text, start=offset, end=offset + len(text), section=section,
                  line=1, page=None, sentences=sentences, heading_end=heading_end)
    return Passage(chunk=chunk, score=1.0, rank=1)


def span_of(p: Passage, words: str, score: float = 5.0) -> Span:
    at = p.chunk.text.index(words)
    return Span(text=words, doc_id=p.chunk.doc_id, start=p.chunk.start + at, end=p.chunk.start + at + len(words),
                score=score, passage_index=0)


@pytest.mark.parametrize("question, several", [
    ("What are the steps to request annual leave?", True),
    ("Which documents must be attached to the claim?", True),
    ("What do I need to bring on my first day?", True),
    ("List the risks of the project.", True),
    ("What is the notice period?", False),
    ("Which team does Ana lead?", False),
    ("What does the policy say about taxis?", False),
    ("How many days of leave do I get?", False),
    ("What format are thumbnails saved in since 2.4.0?", False),  # "are" of the subject, not of what is asked
    ("What kinds of documents are accepted?", True),
    ("What safety documents must be signed?", True),
    ("What command checks the installation?", False),  # a verb in -s
    ("Which office handles complaints?", False),
])
def test_which_questions_ask_for_several_things(question, several):
    assert asks_for_several(question) is several


@pytest.mark.parametrize("question, description", [
    ("Why was the VPN client replaced?", True),
    ("How does Auto mode work?", True),
    ("What is OpenTherm?", True),
    ("What does a flashing red light mean?", True),
    ("What is the price of the filter?", False),
    ("What is the name of the project?", False),
    ("When was the VPN client replaced?", False),
])
def test_which_questions_ask_for_a_description(question, description):
    assert asks_for_description(question) is description


def test_a_question_for_several_things_gets_the_whole_list():
    text = ("Attachments\nAttach these documents to the claim:\nthe original receipts\nthe approved travel request\n"
            "a copy of your boarding pass\nClaims are paid with the next salary.")
    p = passage(text, section="Attachments")
    best = span_of(p, "the original receipts")
    extent = widen("Which documents must be attached to the claim?", [best], [p])
    assert extent.rule == "list"
    answer = extent.spans[0]
    assert answer.text == "the original receipts\nthe approved travel request\na copy of your boarding pass"
    assert p.chunk.text[answer.start - p.chunk.start: answer.end - p.chunk.start] == answer.text  # still a quote
    # a question for one thing keeps the reader's span
    assert answer_of("What must be attached first?", [best], [p])[0] == best


def test_a_numbered_list_is_taken_whole_and_prose_is_not_a_list():
    steps = "Steps\n1. Check the team calendar.\n2. Submit the request in PeopleHub.\n3. Wait for approval.\n"
    p = passage(steps, section="Steps")
    best = span_of(p, "Submit the request in PeopleHub")
    assert answer_of("What are the steps to request leave?", [best], [p])[0].text == (
        "1. Check the team calendar.\n2. Submit the request in PeopleHub.\n3. Wait for approval")
    prose = "The office opened in 2019. It moved twice since then.\nThe current lease runs to 2030."
    assert list_around(prose, prose.index("moved"), prose.index("moved") + 5) is None


def test_a_list_keeps_an_item_wrapped_without_indent():
    claims = ("The following documents must be attached to every claim:\n\n1. The original invoice.\n"
              "2. Photos of the damage, with a ruler\nor coin next to it for scale.\n3. The serial number.\n")
    p = passage(claims)
    assert answer_of("Which documents must be attached to a claim?", [span_of(p, "The original invoice")],
                     [p])[0].text == ("1. The original invoice.\n2. Photos of the damage, with a ruler\n"
                                      "or coin next to it for scale.\n3. The serial number")


def test_lines_of_prose_whose_sentence_runs_on_below_are_no_list():
    text = ("Preparing a room\nPick up cables and toys before starting.\nClose doors to other rooms, or draw a\n"
            "no-go zone in the app. Open the curtains.")
    p = passage(text, section="Preparing a room", heading_end=len("Preparing a room"))
    best = span_of(p, "cables and toys")
    assert answer_of("What items should be picked up?", [best], [p])[0] == best


def test_the_named_row_of_a_table_answers_in_the_same_column():
    table = ("Leave types\nBereavement — Days: 5; Approved by: Line manager.\n"
             "Jury service — Days: as summoned; Approved by: HR Business Partner.\n"
             "Moving house — Days: 1; Approved by: Line manager.")
    p = passage(table, section="Leave types")
    wrong_row = span_of(p, "Line manager")  # the bereavement row's
    answer = answer_of("Who approves jury service leave?", [wrong_row], [p])[0]
    assert answer.text == "HR Business Partner"
    # a row the question does not name keeps the reader's span
    assert answer_of("Who approves special leave?", [wrong_row], [p])[0] == wrong_row


def test_a_span_whose_clause_names_the_asked_version_is_not_moved_to_the_named_cell():
    options = ("Options\njob_timeout — Type: duration; Default: 1h; Description: Longest run. In 1.x the default was 5m.\n"
               "max_workers — Type: integer; Default: 8; Description: Jobs run at once.")
    p = passage(options, section="Options")
    old = span_of(p, "5m")
    assert answer_of("What was the default job_timeout in 1.x?", [old], [p])[0] == old
    # no version asked: the cell the question names answers
    assert answer_of("What is the default job_timeout?", [old], [p])[0].text == "1h"


def test_a_line_of_code_or_data_is_no_labelled_line():
    from bot.read.rows import LABELLED

    assert LABELLED.match("Phone: 01632 960 123") and LABELLED.match("Deposit – £500")
    assert not LABELLED.match('  "status": 403,') and not LABELLED.match("{'code': 1}")


def test_a_yes_no_question_takes_the_clause_its_span_lies_in():
    rules = passage("4.5 Not to sublet the Property.\n4.6 Not to keep any pet at the Property without the "
                    "Landlord's prior written consent; a further deposit applies.\nNo interest is payable on the Deposit.")
    consent = span_of(rules, "prior written consent")
    assert answer_of("can i keep a cat", [consent], [rules])[0].text == \
        "Not to keep any pet at the Property without the Landlord's prior written consent"
    interest = span_of(rules, "No interest")
    assert answer_of("Do I get interest on my deposit?", [interest], [rules])[0].text == \
        "No interest is payable on the Deposit"
    # a question for a thing, even asked inside a yes/no one, keeps the span
    assert answer_of("What is payable?", [interest], [rules])[0] == interest
    assert answer_of("Can you tell me what is payable?", [interest], [rules])[0] == interest
    # who says it is not what is said
    quoted = passage('As the Department of State affirms, "Morocco was among the first states to condemn the attacks."')
    first = span_of(quoted, "among the first states")
    assert answer_of("Was Morocco quick to condemn the attacks?", [first], [quoted])[0].text == \
        "Morocco was among the first states to condemn the attacks"


def test_the_column_the_question_names_is_taken_in_the_named_row():
    fares = ("Fares\nSingle — Adult: £2.50; Student: £1.80; Child (5–15): £1.20.\n"
             "Day return — Adult: £4.20; Student: £3.00; Child (5–15): £2.00.")
    p = passage(fares, section="Fares")
    # the right row, the wrong column: moved to the named one
    assert answer_of("How much is a student day return?", [span_of(p, "£2.00")], [p])[0].text == "£3.00"
    # the wrong row and column
    assert answer_of("How much is a student day return?", [span_of(p, "£1.20")], [p])[0].text == "£3.00"
    # no column named: the reader's column in the named row
    assert answer_of("How much is a day return?", [span_of(p, "£2.50")], [p])[0].text == "£4.20"
    times = ("Monday to Friday\nHanover Street — First bus: 06:16; Last bus: 22:46.\n"
             "Central Station — First bus: 06:24; Last bus: 22:54.")
    p = passage(times, section="Monday to Friday")
    asked = "When does the last bus leave Central Station?"
    assert answer_of(asked, [span_of(p, "06:24")], [p])[0].text == "22:54"


def test_a_row_or_column_is_named_without_its_aside_in_brackets():
    fares = ("Ferry fares\nFoot passenger — Adult: £4.10; Child (5–15): £2.05; Island resident: £2.90.\n"
             "Car (up to 6 m) — Adult: £18.20; Child (5–15): £18.20; Island resident: £10.45.")
    p = passage(fares, section="Ferry fares")
    assert answer_of("What is the island resident fare for a car?", [span_of(p, "£2.90")], [p])[0].text == "£10.45"
    assert answer_of("What does a child foot passenger pay?", [span_of(p, "£4.10")], [p])[0].text == "£2.05"


@pytest.mark.parametrize("question, text, answer, widened", [
    ("Which systems require MFA?", "MFA is mandatory for email, the HR portal, Expensa and every system that can be "
     "reached from outside the network. SMS codes are a fallback.", "HR portal, Expensa",
     "email, the HR portal, Expensa and every system that can be reached from outside the network"),
    ("Which colours are on the flag?", "The flag is red, white and blue.", "red", "red, white and blue"),
    ("Which sports does the club offer?", "The club offers cycling, running and swimming.", "running",
     "cycling, running and swimming"),
    ("Which towns did he take?", "He took Otrar, relying on superior strategy and tactics.", "Otrar", "Otrar"),
    # a number asked for, clauses rather than items, or the whole series already: as read
    ("Which two colours are on the flag?", "The flag is red, white and blue.", "red", "red"),
    ("What are the benefits?", "Members get discounts, and they also get free parking and a newsletter.",
     "discounts", "discounts"),
    ("Which cities did he visit?", "In 1850, he visited Paris, London and Rome.", "Paris", "Paris"),
    ("What are the peptides?", "It uses phagocytosis, peptides called defensins, and the complement system.",
     "defensins", "defensins"),  # a word inside an item, not items
    ("Which sports does the club offer?", "The club offers cycling, running, and swimming.", "running",
     "cycling, running, and swimming"),
    ("What is the flag's main colour?", "The flag is red, white and blue.", "red", "red"),
])
def test_a_question_for_several_things_takes_the_whole_series_of_a_sentence(question, text, answer, widened):
    p = passage(text)
    assert answer_of(question, [span_of(p, answer)], [p])[0].text == widened


def test_a_question_asking_only_for_an_address_or_number_is_not_answered_with_something_else():
    from bot.read.extent import not_of_the_asked_type

    p = passage("Jane Roe — Role: Office Manager; Phone: 01632 960 102.\nThe office uses Outlook for e-mail.")
    assert not_of_the_asked_type("What is Jane Roe's email address?", span_of(p, "01632 960 102"), p) == \
        "the passage found gives no e-mail address there"
    assert not_of_the_asked_type("What is Jane Roe's phone number?", span_of(p, "Jane Roe"), p) == ""  # beside it
    assert not_of_the_asked_type("Which email system does the office use?", span_of(p, "Outlook"), p) == ""
    assert not_of_the_asked_type("What should I do with a suspicious email?", span_of(p, "Outlook"), p) == ""
    assert not_of_the_asked_type("Can I use my phone for work email?", span_of(p, "Outlook"), p) == ""
    train = passage("Porto train — Departs: 08:39; Journey time: 2 hours 56 minutes. Sundays: closed.")
    assert not_of_the_asked_type("what time does the train leave", span_of(train, "2 hours 56 minutes"), train) == \
        "the passage found gives no time of day there"
    assert not_of_the_asked_type("what time does the train leave", span_of(train, "08:39"), train) == ""
    assert not_of_the_asked_type("What time is it open on Sundays?", span_of(train, "closed"), train) == ""
    assert not_of_the_asked_type("What time zone is Porto in?", span_of(train, "2 hours 56 minutes"), train) == ""


PRICES = ("Hot drinks\nAmericano — Size: Regular; Price ex VAT: £2.25; VAT: £0.45; Price inc VAT: £2.70.\n"
          "Americano — Size: Large; Price ex VAT: £2.58; VAT: £0.52; Price inc VAT: £3.10.\n"
          "Flat white — Size: Regular; Price ex VAT: £2.63; VAT: £0.52; Price inc VAT: £3.15.")


def test_rows_of_one_label_are_told_apart_by_another_cell_and_columns_named_in_other_words():
    p = passage(PRICES, section="Hot drinks")
    wrong = span_of(p, "£0.45")
    assert answer_of("How much is a large Americano including VAT?", [wrong], [p])[0].text == "£3.10"
    assert answer_of("What is the price of a large Americano before VAT?", [wrong], [p])[0].text == "£2.58"


def test_a_row_with_another_cell_than_the_question_says_is_not_the_row_asked_about():
    from bot.read.rows import row_contradicts

    p = passage(PRICES, section="Hot drinks")
    assert row_contradicts("How much is a large flat white?", span_of(p, "£3.15"), p) == \
        "the row found has Size: Regular, not Large"
    assert row_contradicts("How much is a regular flat white?", span_of(p, "£3.15"), p) == ""
    assert row_contradicts("How much is a large Americano?", span_of(p, "£3.10"), p) == ""


def test_a_column_of_days_holds_the_asked_day_and_a_numbered_series_is_counted():
    ferries = ("Departures\nFirst — Monday to Friday: 08:50; Saturday: 08:50; Sunday: 10:00.\n"
               "Last — Monday to Friday: 19:05; Saturday: 18:15; Sunday: 17:50.")
    p = passage(ferries, section="Departures")
    assert answer_of("When does the last ferry leave on a Tuesday?", [span_of(p, "18:15")], [p])[0].text == "19:05"
    assert answer_of("When does the last ferry leave on weekdays?", [span_of(p, "18:15")], [p])[0].text == "19:05"
    zones = passage("Zones\nA — Days: Monday to Saturday; Hours: 08:00 to 18:30.\nB — Days: Every day; Hours: 09:00 to 17:00.")
    assert answer_of("What are the permit hours in Zone B?", [span_of(zones, "Monday to Saturday")], [zones])[0].text \
        == "09:00 to 17:00"
    buses = ("Weekday departures\nTown Centre — Bus 1: 06:40; Bus 2: 08:15; Bus 3: 11:30.\n"
             "Hillside Hospital — Bus 1: 07:10; Bus 2: 08:55; Bus 3: 12:00.")
    q = passage(buses, section="Weekday departures")
    assert answer_of("When does the first bus leave Town Centre?", [span_of(q, "11:30")], [q])[0].text == "06:40"
    assert answer_of("When does the first Route 7 bus leave Town Centre?", [span_of(q, "11:30")], [q])[0].text == "06:40"
    assert answer_of("When does the last bus reach Hillside Hospital?", [span_of(q, "07:10")], [q])[0].text == "12:00"


def test_a_row_counted_or_a_year_column_the_table_does_not_have_is_no_answer():
    from bot.read.rows import row_contradicts

    sailings = passage("Sailings\nFirst — Saturday: 07:45.\nSecond — Saturday: 09:55.\nLast — Saturday: 17:10.")
    assert row_contradicts("What time is the sixth sailing on Saturday?", span_of(sailings, "17:10"), sailings) == \
        "no row of the table is the sixth"
    assert row_contradicts("What time is the second sailing on Saturday?", span_of(sailings, "09:55"), sailings) == ""
    fees = passage("Permit fees\nFirst permit — 2024/25: £72; 2025/26: £80.\nSecond permit — 2024/25: £125; 2025/26: £140.")
    assert row_contradicts("What will a first permit cost in 2026/27?", span_of(fees, "£80"), fees) == \
        "the answer's column is 2025/26, not 2026/27"
    assert row_contradicts("What does a first permit cost in 2025/26?", span_of(fees, "£80"), fees) == ""
    assert row_contradicts("What does a first permit cost in 2025?", span_of(fees, "£80"), fees) == ""
    # rows not all counted: "Additional children" counts on past the first
    children = passage("Fees\nFirst child — Fee: £40.\nAdditional children — Fee: £30.")
    assert row_contradicts("What is the fee for a second child?", span_of(children, "£30"), children) == ""
    permits = passage("Fees\nFirst permit — Fee: £80.\nSecond permit — Fee: £140.\nVisitor permit — Fee: £15.")
    assert row_contradicts("How much is a fourth permit?", span_of(permits, "£80"), permits) == \
        "no row of the table is the fourth"


def test_a_doer_s_column_is_named_by_its_verb_and_a_tie_keeps_the_reader_s_column():
    risks = ("Risks\nR-04 — Risk: Storage migration delays the beta; Owner: Daniel Kim.\n"
             "R-09 — Risk: Security finding blocks the beta; Owner: Tom Okafor.")
    p = passage(risks, section="Risks")
    owner = span_of(p, "Tom Okafor")
    # "risk" names the Risk column and "owns" the Owner column: the reader's choice stands
    assert answer_of("Who owns risk R-09?", [owner], [p])[0] == owner
    assert answer_of("Who owns R-09?", [span_of(p, "Security finding blocks the beta")], [p])[0].text == "Tom Okafor"


def test_a_row_named_by_one_of_its_cells_answers_from_the_column_the_question_names():
    objects = ("Highlights\nTT-38 — Object: Customs seal of Memel; Date: 1851; Lender: Klaipeda History Museum.\n"
               "TT-41 — Object: Ship's bell of the Brightwater; Date: 1902; Lender: Portwick Town Council.")
    p = passage(objects, section="Highlights")
    code = span_of(p, "TT-38")
    # "lent" names the Lender column, "customs seal of Memel" the row
    assert answer_of("Who lent the customs seal of Memel?", [code], [p])[0].text == "Klaipeda History Museum"
    # the row named by only some words of its cell: the reader's choice stands
    assert answer_of("Who lent the customs seal?", [code], [p])[0] == code
    # no column named: the reader's choice stands
    assert answer_of("What is the number of the customs seal of Memel?", [code], [p])[0] == code


def test_a_span_filling_the_cell_the_question_names_is_told_apart_from_one_of_another_row():
    from bot.read.rows import fills_a_named_cell

    specs = passage("Specifications\nBattery — Value: 3,200 mAh lithium-ion.\nNoise level — Value: 62 dB.",
                    section="Specifications")
    asked = "What is the battery capacity of the RX-200?"
    assert fills_a_named_cell(asked, span_of(specs, "3,200 mAh lithium-ion"), specs)
    assert not fills_a_named_cell(asked, span_of(specs, "62 dB"), specs)  # another row
    assert not fills_a_named_cell(asked, span_of(specs, "lithium-ion"), specs)  # a word of the cell
    assert not fills_a_named_cell("How loud is it?", span_of(specs, "62 dB"), specs)  # no row named
    labelled = passage("Error codes\nE4 - Battery temperature too high\nE6 - LiDAR blocked")
    assert fills_a_named_cell("What does error E6 mean?", span_of(labelled, "LiDAR blocked"), labelled)
    heading = passage("2.3.1 — 2026-01-19\nFixed\nA path traversal issue.")
    assert not fills_a_named_cell("Which CVE was fixed in 2.3.1?", span_of(heading, "2026-01-19"), heading)


def test_a_labelled_line_the_question_names_answers_it():
    text = "LED colours\nBlue - heating\nGreen - idle\nFlashing red - the thermostat has lost its connection"
    p = passage(text, section="LED colours")
    answer = answer_of("What does a flashing red LED mean?", [span_of(p, "heating")], [p])[0]
    assert answer.text == "the thermostat has lost its connection"


def test_a_line_labelled_with_a_colon_answers_as_one_with_a_dash_does():
    text = ("Special leave\nOwn wedding or civil partnership: 3 days\nMoving house: 2 days\n"
            "Jury service: as required by the court")
    p = passage(text, section="Special leave")
    answer = answer_of("How many days of special leave are given for moving house?", [span_of(p, "3 days")], [p])
    assert answer[0].text == "2 days"
    # a time is no label, and prose after a colon is no labelled line
    times = passage("Timetable\n10:30 coffee in the hall\n11:00 talks begin")
    best = span_of(times, "coffee in the hall")
    assert answer_of("When do the talks begin?", [best], [times])[0] == best


def test_a_lower_span_in_the_named_line_is_preferred():
    text = "Contacts\nReception - ext. 100\nStores - ext. 214\nThe building opens at 7:30."
    p = passage(text, section="Contacts")
    first, second = span_of(p, "7:30", 6.0), span_of(p, "ext. 214", 4.0)
    assert answer_of("What is the Stores extension?", [first, second], [p])[0] == second


def test_a_why_question_under_the_same_question_takes_the_sentence_to_its_end():
    faq = ("Q: Why was AnyLink replaced?\nThe vendor ended security updates, so the client could no longer "
           "be patched against new attacks.")
    p = passage(faq)
    best = span_of(p, "The vendor ended security updates")
    answer = answer_of("Why was AnyLink replaced?", [best], [p])[0]
    assert answer.text == ("The vendor ended security updates, so the client could no longer be patched "
                           "against new attacks")
    # in running prose the short answer stays as the reader gave it
    prose = passage("AnyLink was replaced because the vendor ended security updates, which the board noted in May.")
    short = span_of(prose, "the vendor ended security updates")
    assert answer_of("Why was AnyLink replaced?", [short], [prose])[0] == short


def test_a_kinds_question_takes_the_items_of_a_sentence_s_list_that_name_the_kind():
    p = passage("The course gave the crews training in first aid, rope rescue, water rescue, swift-water rescue, "
                "radio procedure, and fire safety.")
    answer = answer_of("What kinds of rescue training did the crews get?", [span_of(p, "first aid")], [p])
    assert answer[0].text == "rope rescue, water rescue, swift-water rescue"
    # an item naming the kind is what the reader chose: "intense" of "the most rigorous, intense
    # learning experience" for "What kind of learning experience...?"
    named = span_of(p, "water")
    assert answer_of("What kinds of rescue training did the crews get?", [named], [p])[0] == named
    # a kind no item names, items apart from each other, or no list: the reader's span
    for question in ("What kinds of training did the crews get?", "What kinds of medical training were given?"):
        assert answer_of(question, [span_of(p, "first aid")], [p])[0].text == "first aid"
    several = span_of(p, "first aid, rope rescue")
    assert answer_of("What kinds of rescue training did the crews get?", [several], [p])[0] == several
    # the sentence's lead-in is no part of its first item
    leave = passage("Staff can take annual leave, sick leave, parental leave, and unpaid time off.")
    assert answer_of("What types of leave are there?", [span_of(leave, "unpaid time off")],
                     [leave])[0].text == "annual leave, sick leave, parental leave"
    apart = passage("Stock: red apples, pears, green apples, and plums.")
    assert answer_of("What kinds of apples are in stock?", [span_of(apart, "pears")], [apart])[0].text == "pears"


def test_an_answer_naming_only_what_is_asked_takes_what_the_sentence_says_it_is():
    p = passage("The agreement aims to develop mutual expertise in the areas of crisis management, border "
                "security, and investigations to strengthen regional capability.")
    answer = answer_of("What expertise does the agreement aim to develop?", [span_of(p, "mutual expertise")], [p])
    assert answer[0].text == ("mutual expertise in the areas of crisis management, border security, and "
                              "investigations")
    listed = passage("Members bring skills such as welding, wiring and joinery. They meet weekly.")
    assert answer_of("What skills do members bring?", [span_of(listed, "skills")],
                     [listed])[0].text == "skills such as welding, wiring and joinery"
    # an answer that says more than the question, or nothing after it: the reader's span
    named = passage("The agreement covers mutual training exercises including sea drills.")
    best = span_of(named, "mutual training exercises")
    assert answer_of("What does the agreement cover?", [best], [named])[0] == best
    plain = passage("The Onon River runs near the site.")
    assert answer_of("What river is near the site?", [span_of(plain, "Onon River")], [plain])[0].text == "Onon River"


def test_an_answer_only_repeating_the_question_takes_the_noun_it_completes():
    p = passage("In June, Parliament enacted amendments to the criminal code to address foreign fighters.")
    echo = span_of(p, "the criminal code")
    assert answer_of("Which criminal code changes addressed foreign fighters?", [echo],
                     [p])[0].text == "amendments to the criminal code"
    # a verb before "to the ..." completes nothing: the span is the answer
    sent = passage("Complaints are sent to the complaints office within a week.")
    office = span_of(sent, "the complaints office")
    assert answer_of("Which office handles complaints?", [office], [sent])[0] == office
    # a choice the question offers is answered in its own words
    choice = passage("Use of the old code is declining in the south.")
    best = span_of(choice, "declining")
    assert answer_of("Is the old code increasing or declining?", [best], [choice])[0] == best


def test_nothing_to_widen_leaves_the_spans_as_they_are():
    p = passage("The museum opened in 1902 and was extended in 1965.")
    best = span_of(p, "1902")
    assert answer_of("When did the museum open?", [best], [p]) == [best]
    assert answer_of("When did the museum open?", [], [p]) == []


def test_a_hyphenated_label_is_named_by_its_words_as_one_or_two():
    stay = passage("Your stay\nCheck-in: Monday 12 May 2025 from 15:00\nCheck-out: Wednesday 14 May 2025 by 11:00")
    arrival = span_of(stay, "Monday 12 May 2025 from 15:00")
    for asked in ("When do we check out?", "what is the checkout time", "When is check-out?"):
        assert answer_of(asked, [arrival], [stay])[0].text == "Wednesday 14 May 2025 by 11:00"


def test_a_cell_saying_only_what_the_question_says_is_not_its_answer():
    from bot.read.rows import cell_named_in

    sets = passage("Saturday\nAurora Vale — Stage: Main Stage; Start: 21:45.\nThe Kestrels — Stage: Garden; Start: 20:00.")
    act = span_of(sets, "Aurora Vale")
    assert cell_named_in("who is on the main stage at 21:45", [sets], act) is None
    assert answer_of("who is on the main stage at 21:45", [act], [sets])[0] == act


def test_a_cell_of_another_document_must_say_what_the_answer_s_passage_says_of_the_question():
    from bot.read.rows import cell_named_in

    minutes = passage("AGM 2023\nDavid Pemberton was elected chair for 2023, unopposed. The hall opens at 9.")
    officers = passage("Officers elected\nChair: Margaret Okafor\nVice-Chair: David Pemberton", offset=900)
    officers = replace(officers, chunk=replace(officers.chunk, doc_id="agm_2021.txt"))
    best = span_of(minutes, "David Pemberton")
    assert cell_named_in("who was elected chair in 2023", [minutes, officers], best) is None
    # where the answer's passage says no more of the question, the named cell answers
    hall = span_of(minutes, "9")
    cell = cell_named_in("who is the vice-chair", [minutes, officers], hall)
    assert cell is not None and cell.text == "David Pemberton" and cell.passage_index == 1


def test_a_labelled_line_of_another_passage_does_not_replace_a_sentence_saying_more_of_the_question():
    from bot.read.rows import cell_named_in

    front = passage("Sleep and memory\nAuthors: Ann Okafor, Hal Lindqvist\nYear: 2024")
    discussion = passage("We argue that the memory benefit comes from regular bedtimes.", offset=900)
    best = span_of(discussion, "the memory benefit comes from regular bedtimes")
    best = replace(best, passage_index=1)
    assert cell_named_in("What do the authors argue about the memory benefit?", [front, discussion], best) is None
    year = replace(span_of(discussion, "regular bedtimes"), passage_index=1)
    assert cell_named_in("Who are the authors?", [front, discussion], year).text == "Ann Okafor, Hal Lindqvist"


def test_a_name_cell_is_no_answer_to_how_long():
    from bot.read.rows import cell_named_in

    officers = passage("Officers elected\n  Chair: Margaret Okafor (proposed by Keith Adams)\n  Vice-Chair: David Pemberton")
    prose = passage("Margaret Okafor had been Chair for four years.", offset=900)
    years = replace(span_of(prose, "four years"), passage_index=1)
    assert cell_named_in("How long had Margaret Okafor been Chair?", [officers, prose], years) is None
    assert cell_named_in("Who is the vice-chair?", [officers, prose], years).text == "David Pemberton"


def test_a_named_row_in_another_passage_does_not_replace_the_answer():
    prose = passage("The hotel limit in Paris is 250 euros a night from 2024.")
    table = passage("Hotel limits\nParis — Limit: 180 euros.\nLondon — Limit: 200 euros.", section="Hotel limits",
                    offset=500)
    best = span_of(prose, "250 euros", 6.0)
    other = span_of(table, "180 euros", 3.0)
    other = Span(other.text, "other.md", other.start, other.end, other.score, passage_index=1)
    assert answer_of("What is the hotel limit in Paris?", [best, other], [prose, table])[0] == best


def test_a_figure_of_a_heading_gives_way_to_the_named_row_in_another_passage_of_its_document():
    title = "Friends of the Museum — Membership 2025"
    intro = passage(title + "\nThe Friends support the museum.", section=title, heading_end=len(title))
    table = passage("Membership levels\nIndividual — Annual fee: £35.\nJoint — Annual fee: £55.",
                    section="Membership levels", offset=500)
    best = span_of(intro, "2025", 8.0)
    other = span_of(table, "£55", 5.0)
    other = Span(other.text, other.doc_id, other.start, other.end, other.score, passage_index=1)
    assert answer_of("How much does Joint membership cost?", [best, other], [intro, table])[0] == other
    # not to a lower span the checks rule out (another year's row, say)
    kept = widen("How much does Joint membership cost?", [best, other], [intro, table], held=lambda span: False)
    assert kept.spans[0] == best


def test_prose_with_dashes_is_no_labelled_list():
    text = ("The Leeds office – later moved to York – opened in 1990.\n"
            "Staff – about forty engineers in all – work in the Leeds office today.")
    p = passage(text)
    best = span_of(p, "forty")
    assert answer_of("How many engineers work in the Leeds office today?", [best], [p])[0] == best


def test_a_question_for_one_item_of_a_list_keeps_that_item():
    text = "Opening hours:\nMonday to Friday 8:00-20:00\nSaturday 10:00-14:00\nSunday closed"
    p = passage(text)
    best = span_of(p, "10:00-14:00")
    assert answer_of("What are the opening hours on Saturday?", [best], [p])[0] == best
    assert not asks_for_several("Which Windows version is required on your own laptop?")
    # but the steps of a procedure are all its steps, whatever one of them names
    steps = passage("Steps:\n1. Open PeopleHub.\n2. Choose the dates.\n3. Send the request.")
    first = span_of(steps, "Open PeopleHub")
    assert answer_of("What are the steps to request leave in PeopleHub?", [first], [steps])[0].text.endswith(
        "Send the request")
    # a name the passage also gives outside the list says which document, not which item
    safety = passage("Norhaven RX-300 manual\nSafety instructions:\nUse only the dock supplied (model CD-30) "
                     "with the RX-300.\nDo not use the robot outdoors.\nKeep cables off the floor.")
    dock = span_of(safety, "model CD-30")
    assert answer_of("What are the safety instructions for the RX-300?", [dock], [safety])[0].text.endswith(
        "Keep cables off the floor")
    noted = passage(text + "\n\nOn Saturday parking is free.")
    saturday = span_of(noted, "10:00-14:00")
    assert answer_of("What are the opening hours on Saturday?", [saturday], [noted])[0] == saturday
    # a name typed in lower case picks its item all the same
    systems = passage("Supported systems:\n- Ubuntu 22.04 or later\n- macOS 12 (Monterey) or later\n- Windows 11")
    mac = span_of(systems, "macOS 12 (Monterey) or later")
    assert answer_of("which macos versions are supported", [mac], [systems])[0] == mac
    assert answer_of("which systems are supported", [mac], [systems])[0].text.endswith("Windows 11")


def test_a_plural_question_for_the_thing_one_item_is_labelled_with_keeps_that_item():
    text = ("Getting here\nBy train: Portwick station is a 12-minute walk.\nBy bus: the 7 and 7A stop at Quay "
            "Street.\nBy car: the nearest car park is Dockside.")
    p = passage(text, heading_end=len("Getting here"))
    best = span_of(p, "the 7 and 7A")
    assert answer_of("Which buses stop outside the Harbour Gallery?", [best], [p])[0] == best
    # the thing asked for is not an item's label: the whole list answers
    assert answer_of("Which ways of getting here are there?", [best], [p])[0].text.startswith("By train")
    options = passage("Options\nDay course: Monday to Friday.\nEvening course: Tuesdays at 18:00.\n"
                      "Weekend class: Saturdays at 10:00.", heading_end=len("Options"))
    saturday = span_of(options, "Saturdays at 10:00")
    assert answer_of("Which classes are held at weekends?", [saturday], [options])[0] == saturday
    # two items labelled with it: the list
    tuesday = span_of(options, "Tuesdays at 18:00")
    assert answer_of("Which courses are on offer?", [tuesday], [options])[0].text.startswith("Day course")
    # "courses": "course", as "buses" was "bus"
    mixed = passage("Options\nDay course: Monday to Friday.\nEvening class: Tuesdays at 18:00.\n"
                    "Weekend workshop: Saturdays at 10:00.", heading_end=len("Options"))
    weekdays = span_of(mixed, "Monday to Friday")
    assert answer_of("Which courses are on offer?", [weekdays], [mixed])[0] == weekdays


@pytest.mark.parametrize("question, text, span, answer", [
    ("When is the Ropewalk open?", "The Ropewalk is open from 1 May to 30 September only, Thursday to Sunday, "
     "11:00 to 16:30. It is closed in winter.", "1 May to 30 September",
     "1 May to 30 September only, Thursday to Sunday, 11:00 to 16:30"),
    ("When is the curator's talk?", "Curator's talk: Saturday 12 April 2025, 14:00\nTours: daily", "Saturday 12 April 2025",
     "Saturday 12 April 2025, 14:00"),
    ("What time is the meeting?", "The meeting is on 3 May at 2 p.m. in room 4.", "3 May", "3 May at 2 p.m."),
    ("When are the induction sessions?", "Inductions run on the first Monday of each month at 10:00 in the hall.",
     "first Monday of each month", "first Monday of each month at 10:00"),
    # no time follows, or the question asks no "when"
    ("When was the Ropewalk built?", "It was built in 1791, 12 years before the war.", "1791", "1791"),
    ("What is due on 3 May?", "The fee is due on 3 May at 2 pm.", "The fee", "The fee"),
    ("On which days is it open in winter?", "In winter it is open Thursday to Sunday, 10:30 to 16:00.",
     "Thursday to Sunday", "Thursday to Sunday"),  # the days asked for, not the hours
    ("When does it open?", "Open Monday to Friday, 9am to 5pm, Saturday 10am to 1pm.", "Monday to Friday",
     "Monday to Friday, 9am to 5pm, Saturday 10am to 1pm"),
    # no time: a sentence's end, a measure, a count, a day alone
    ("When does the train leave?", "The train leaves on 3 May at 2 pm. Saturdays are busier.", "3 May", "3 May at 2 pm"),
    ("When was it built?", "It was built in 1791, 12.30 metres tall.", "1791", "1791"),
    ("When did it happen?", "In 1945, 6.30 million people moved.", "1945", "1945"),
    ("When is it open?", "It opens in May, Sundays excepted.", "May", "May"),
    # a day the question names inside the range the reader's day opens: that range's hours
    ("When is the shop open on Saturdays?", "The shop is open Monday to Saturday, 9:30 am to 5:30 pm, and on "
     "Sundays from 10:00 am to 4:00 pm.", "Monday", "9:30 am to 5:30 pm"),
    ("When is the shop open on Sundays?", "The shop is open Monday to Saturday, 9:30 am to 5:30 pm.", "Monday",
     "Monday to Saturday, 9:30 am to 5:30 pm"),  # not the asked day's hours: the days stay
])
def test_a_when_question_takes_the_days_and_times_after_its_date(question, text, span, answer):
    p = passage(text)
    assert answer_of(question, [span_of(p, span)], [p])[0].text == answer


@pytest.mark.parametrize("question, text, span, answer", [
    ("What is the Friends' newsletter called?", "three issues a year of the newsletter The Bosun's Call\nprevious",
     "Bosun", "The Bosun's Call"),
    ("What was the lifeboat named?", "The lifeboat was named Duchess of Garrow in 1921.", "Duchess", "Duchess of Garrow"),
    ("What is the name of the director?", "Samuel Achebe became Director in April 2024.", "Samuel", "Samuel Achebe"),
    ("Who is the director?", "Samuel Achebe became Director in April 2024.", "Samuel", "Samuel"),  # no name asked
    ("Who called the meeting?", "Jane Smith in Leeds called it.", "Jane", "Jane"),  # "called", the verb
    ("What is the company called?", "Acme's Chief Executive said so.", "Acme", "Acme"),  # a possessive, no title
    ("What was the boat named?", "The boat was named Duchess of Garrow in May 1921.", "Duchess", "Duchess of Garrow"),
])
def test_a_question_for_what_something_is_called_takes_the_whole_name(question, text, span, answer):
    p = passage(text)
    assert answer_of(question, [span_of(p, span)], [p])[0].text == answer


def test_an_amount_that_runs_on_into_another_clause_ends_with_its_figure():
    p = passage("Total income for 2024 was £1,420,000 and total expenditure was £1,370,000, leaving a surplus.")
    long = span_of(p, "£1,420,000 and total expenditure was £1,370,000")
    assert answer_of("What was the total income in 2024?", [long], [p])[0].text == "£1,420,000"
    # two amounts asked for: both stay
    assert answer_of("What were the income and expenditure figures?", [long], [p])[0] == long
    assert answer_of("How did income compare with expenditure in 2024?", [long], [p])[0] == long


def test_a_part_of_the_short_value_the_question_names_takes_the_whole_value():
    hours = passage("Opening hours\nMonday to Friday: 08:00 to 22:00\nSaturday: 09:00 to 20:00\nSunday: closed",
                    section="Opening hours")
    assert answer_of("When is the library open on Saturday?", [span_of(hours, "20:00")], [hours])[0].text == \
        "09:00 to 20:00"
    fines = passage("Fines\nShort loan — Fine: 50p per hour, up to £10 per item.\nStandard loan — Fine: 20p per day.",
                    section="Fines")
    assert answer_of("What is the fine for a short loan?", [span_of(fines, "50p per hour")], [fines])[0].text == \
        "50p per hour, up to £10 per item"
    # the whole value already, or a line the question does not name: as the reader gave it
    whole = span_of(hours, "09:00 to 20:00")
    assert answer_of("When is the library open on Saturday?", [whole], [hours])[0] == whole
    assert answer_of("When does the library close?", [span_of(hours, "20:00")], [hours])[0].text == "20:00"


@pytest.mark.parametrize("question, span, answer", [
    ("What is the email address of the Programme Administrator?", "Mr Callum Osei", "dsc-admin@northmoor.ac.uk"),
    ("What is the programme's website?", "Mr Callum Osei", "https://www.northmoor.ac.uk/dsc"),
    ("What is the phone number of the programme office?", "Mr Callum Osei", "+44 (0)161 555 0192"),
    ("Who is the Programme Administrator?", "Mr Callum Osei", "Mr Callum Osei"),  # a name asked for
    ("What is the email address of the office?", "dsc-admin@northmoor.ac.uk", "dsc-admin@northmoor.ac.uk"),
])
def test_an_address_or_number_asked_for_is_taken_from_the_span_s_sentence(question, span, answer):
    p = passage("Programme Administrator: Mr Callum Osei, dsc-admin@northmoor.ac.uk, tel. +44 (0)161 555 0192, "
                "https://www.northmoor.ac.uk/dsc.")
    assert answer_of(question, [span_of(p, span)], [p])[0].text == answer


def test_a_sentence_wrapped_after_a_colon_is_no_list():
    text = ("The pump order is late for two causes, as Maria explained:\n"
            "the supplier sent the wrong valves and the replacement ones\n"
            "will only arrive in March, after the plant's shutdown.\nRegards\nTom")
    p = passage(text)
    best = span_of(p, "wrong valves")
    assert answer_of("What are the causes of the delay of the pump order?", [best], [p])[0] == best


def test_a_list_right_under_the_heading_is_a_list_without_a_blank_line_between():
    # HTML and Word headings are followed by their first item on the next line.
    p = passage("Ingredients\n1 whole chicken\n2 unwaxed lemons\n3 sprigs of thyme", section="Roast › Ingredients")
    spans = answer_of("What ingredients do I need for the roast?", [span_of(p, "2 unwaxed lemons")], [p])
    assert spans[0].text == "1 whole chicken\n2 unwaxed lemons\n3 sprigs of thyme"


def test_a_list_under_a_heading_the_question_names_is_the_answer():
    text = "2.3.1 — 2026-01-19\n\nFixed\nUploads over 2 GB timed out.\nDuplicate detection ignored case.\nSearch lost focus."
    p = passage(text, section="2.3.1 — 2026-01-19 › Fixed", heading_end=text.index("\nUploads"))
    spans = answer_of("What was fixed in 2.3.1?", [span_of(p, "Uploads")], [p])
    assert spans[0].text == "Uploads over 2 GB timed out.\nDuplicate detection ignored case.\nSearch lost focus"
    # The heading's line is no item of it, and a question in other words keeps the reader's span.
    assert answer_of("When did uploads time out?", [span_of(p, "Uploads over 2 GB")], [p])[0].text == "Uploads over 2 GB"


def test_a_figure_in_words_takes_its_digits_in_brackets_and_what_it_counts():
    p = passage("3.2 The Landlord shall protect the Deposit within thirty (30) days of receiving it.\n"
                "4.5 Access on at least twenty-four (24)\nhours' written notice. Rent rises by five (5%) a year.")
    assert answer_of("Within how many days?", [span_of(p, "thirty")], [p])[0].text == "thirty (30) days"
    assert answer_of("How much notice?", [span_of(p, "twenty-four")], [p])[0].text == "at least twenty-four (24)\nhours"
    assert answer_of("By how much?", [span_of(p, "five")], [p])[0].text == "five (5%)"
    # digits, or a word that is no figure, stay as the reader gave them
    q = passage("The fee is 30 (thirty) euros. See clause (4) below.")
    assert answer_of("What is the fee?", [span_of(q, "30")], [q])[0].text == "30"
    assert answer_of("Which clause?", [span_of(q, "See clause")], [q])[0].text == "See clause"


@pytest.mark.parametrize("text, answer, widened", [
    ("Passwords must be at least 14 characters long.", "14 characters long", "at least 14 characters long"),
    ("You may work abroad for up to 20 working days a year.", "20", "up to 20"),
    ("No more than fifteen consecutive days may be taken.", "more than fifteen", "No more than fifteen"),
    ("Claims are capped at a maximum of £500 per trip.", "£500", "a maximum of £500"),
    ("Phone your manager before 9:30 on your first day off.", "9:30", "before 9:30"),
    # a year, or a figure after other words, stays as read
    ("The hall was built by 1990 and rebuilt in 2004.", "1990", "1990"),
    ("Revenue rose by 12.75 per cent.", "12.75 per cent", "12.75 per cent"),
    ("The treaty was signed by 12 ambassadors.", "12 ambassadors", "12 ambassadors"),
    ("The office is at No 10 Market Street.", "10 Market Street", "10 Market Street"),
])
def test_a_figure_takes_the_limit_before_it(text, answer, widened):
    p = passage(text)
    assert answer_of("What is the limit?", [span_of(p, answer)], [p])[0].text == widened


def test_a_limit_the_question_says_itself_is_not_repeated():
    p = passage("Hot food is served until 15:00. Groups are limited to a maximum of 32 pupils.")
    assert answer_of("Until what time is hot food served?", [span_of(p, "15:00")], [p])[0].text == "15:00"
    assert answer_of("What is the maximum group size?", [span_of(p, "32")], [p])[0].text == "32"
    assert answer_of("How big may a group be?", [span_of(p, "32")], [p])[0].text == "a maximum of 32"


@pytest.mark.parametrize("question, heading, text, answer", [
    ("What is the deadline?", "Deadline", "Applications close on 30 June.\nLate applications are not accepted.",
     "30 June"),
    ("What is the standard fee?", "Fees", "Standard: £40\nReduced: £20\nStudents: free", "£40"),
])
def test_a_question_for_a_value_under_a_heading_it_names_keeps_the_value(question, heading, text, answer):
    p = passage(f"{heading}\n{text}", section=heading, heading_end=len(heading))
    assert answer_of(question, [span_of(p, answer)], [p])[0].text == answer


def test_a_span_pointing_to_the_list_below_its_lead_in_takes_the_list():
    p = passage("Escalation\nThe following people must be informed of every SEV1 incident:\n"
                "- the on-call engineer\n- the duty manager\n- the head of IT")
    answer = answer_of("Who must be informed of every SEV1 incident?", [span_of(p, "The following people")], [p])
    assert answer[0].text == "- the on-call engineer\n- the duty manager\n- the head of IT"
    # a value inside a lead-in is an answer of its own
    q = passage("Send the form to HR by Friday, together with:\n- your payslip\n- a copy of your ID")
    assert answer_of("Who do I send the form to?", [span_of(q, "HR")], [q])[0].text == "HR"


def test_a_numbered_list_goes_on_past_an_item_s_code_block():
    text = ("Installation\n\n1. Make sure Python 3.11 is installed.\n2. Install the package:\n\n\n"
            "   pip install quillmate\n\n\n3. Run quillmate login.\n4. Check it with quillmate doctor.\n\nUsage\n\nRun it.")
    p = passage(text, section="Installation")
    answer = answer_of("What are the installation steps?", [span_of(p, "Run quillmate login")], [p])[0]
    assert answer.text.startswith("1. Make sure") and answer.text.endswith("quillmate doctor")
    assert "pip install quillmate" in answer.text and "Usage" not in answer.text


def test_two_numbered_lists_a_blank_line_apart_stay_two():
    p = passage("Before you start\n1. Charge the battery.\n2. Find the manual.\n\n1. Open the lid.\n2. Press start.")
    assert answer_of("What are the steps?", [span_of(p, "Open the lid")], [p])[0].text == "1. Open the lid.\n2. Press start"


@pytest.mark.parametrize("label, question", [
    ("2 - 4 years", "What is the dose for a 2 year old?"),
    ("6 - 24 months", "What is the dose for an 8 month old baby?"),
    ("60–80 kg", "What is the dose for a 70kg adult?"),
    ("under 60 kg", "What is the dose for someone of 55 kg?"),
    ("£500 – £999", "What is the dose for a £600 budget?"),
])
def test_a_row_labelled_with_a_range_is_named_by_a_figure_in_it(label, question):
    p = passage(f"Doses\nFirst — Dose: 2.5 ml.\n{label} — Dose: 7.5 ml.\nLast — Dose: 10 ml.", section="Doses")
    assert answer_of(question, [span_of(p, "2.5 ml")], [p])[0].text == "7.5 ml"


def test_a_range_is_named_only_by_a_figure_in_its_own_unit():
    from bot.read.units import range_holds

    assert not range_holds("2 - 4 years", "a baby of 3 months")  # months are no years
    assert not range_holds("18–22", "water of 20 dH")  # no unit written: the figure may count anything
    assert not range_holds("60–80 kg", "a 90 kg rider")
    assert range_holds("65+ years", "a rider aged 70 years")


def test_a_label_of_alternatives_is_named_by_either():
    p = passage("Storing leftovers\nCooked chicken — Fridge: 2 days; Freezer: 3 months.\n"
                "Chicken curry or casserole — Fridge: 3 days; Freezer: 6 months.", section="Storing leftovers")
    assert answer_of("How long can I freeze chicken curry?", [span_of(p, "3 days")], [p])[0].text == "6 months"
    assert answer_of("How long does casserole keep in the fridge?", [span_of(p, "6 months")], [p])[0].text == "3 days"


@pytest.mark.parametrize("question, columns, named", [
    ("How much is the main hall on a Saturday?", ["Monday to Friday", "Saturday and Sunday"], "Saturday and Sunday"),
    ("How much is it at the weekend?", ["Weekdays", "Weekends"], "Weekends"),
    ("How much is it on a Tuesday?", ["Mon–Fri", "Sat–Sun"], "Mon–Fri"),
    ("When is the last bus on Sundays?", ["Tue–Fri", "Sat–Mon"], "Sat–Mon"),  # a range may wrap the week
    ("Is it open on a Wednesday?", ["Tuesday and Thursday", "Mon–Fri"], "Mon–Fri"),  # two days, no range
    ("Which dog won best in show?", ["Owner", "Winner"], "Winner"),
    ("How long does the eco programme take?", ["Temperature", "Duration"], "Duration"),
    ("What should I do about error E7?", ["Cause", "Remedy"], "Remedy"),
    ("How much Calmol for a 2 year old?", ["Weight", "Dose"], "Dose"),
])
def test_a_column_is_named_in_everyday_words(question, columns, named):
    from bot.read.rows import _named_column

    assert _named_column(question, columns) == named


@pytest.mark.parametrize("label, days", [
    ("Monday to Friday", "monday tuesday wednesday thursday friday"),
    ("Thurs. – Sun.", "thursday friday saturday sunday"),
    ("Fri–Mon", "friday saturday sunday monday"),
    ("Saturday and Sunday", "saturday sunday"),
    ("Tuesday & Thursday", "tuesday thursday"),
    ("Monitors and Sunshades", ""),  # words that start as days do are none
    ("Weekends", ""),
])
def test_a_label_for_weekdays_covers_its_range(label, days):
    from bot.read.rows import weekdays_of_range

    assert weekdays_of_range(label) == set(days.split())


def test_a_list_stops_at_the_lead_in_of_the_next():
    text = ("Side effects\nUncommon (up to 1 in 100 people):\nheadache;\nskin rashes.\n"
            "Rare (up to 1 in 1,000 people):\nvomiting.")
    p = passage(text, section="Side effects")
    answer = answer_of("What are the uncommon side effects?", [span_of(p, "headache")], [p])[0]
    assert answer.text == "headache;\nskin rashes"


def test_a_how_to_question_answered_with_a_purpose_takes_what_follows_it():
    p = passage("Reset\nTo restore the factory settings, press and hold Reset for 6 seconds. The LED blinks.")
    purpose = span_of(p, "To restore the factory settings")
    assert answer_of("How do I reset the router?", [purpose], [p])[0].text == "press and hold Reset for 6 seconds"
    assert answer_of("What does the Reset button do?", [purpose], [p])[0] == purpose  # no "how do I"


def test_a_figure_in_a_unit_of_another_quantity_cannot_answer():
    from bot.read.extent import not_of_the_asked_type

    p = passage("Consumption\nEach Eco cycle uses 9.5 litres of water and 0.85 kWh.")
    water = span_of(p, "9.5 litres")
    assert not_of_the_asked_type("What is the energy use per cycle in kWh?", water, p) == \
        "the answer is in litres, not kWh"
    assert not_of_the_asked_type("How many litres does a cycle use?", water, p) == ""
    assert not_of_the_asked_type("What is the energy use per cycle in kWh?", span_of(p, "0.85 kWh"), p) == ""
    trial = passage("Of 148 students randomised (mean age 19.2 years), 131 (88.5%) finished; 2.1 million were invited.")
    asked = "How many students were randomised?"
    assert not_of_the_asked_type(asked, span_of(trial, "19.2 years"), trial) == \
        "the answer gives 19.2 years, not a number of students"
    assert not_of_the_asked_type(asked, span_of(trial, "88.5%"), trial) == "the answer gives 88.5%, not a number of students"
    deposits = passage("Deposits\nSmall Hall: £75.\nCapacity: 40 people.")
    assert not_of_the_asked_type("How many people does the small hall hold?", span_of(deposits, "£75"), deposits) \
        == "the answer gives £75, not a number of people"
    assert not_of_the_asked_type("How many people does the small hall hold?", span_of(deposits, "40"), deposits) == ""
    for count in ("148", "131 (88.5%)", "2.1 million"):
        assert not_of_the_asked_type(asked, span_of(trial, count), trial) == ""
    assert not_of_the_asked_type("How many years did it run?", span_of(trial, "19.2 years"), trial) == ""
    meeting = passage("A special general meeting was held on 18 May 2023; 58 members attended, in March 2023 only 40.")
    asked = "How many people attended the special general meeting?"
    assert not_of_the_asked_type(asked, span_of(meeting, "18 May 2023"), meeting) == \
        "the answer gives a date, 18 May 2023, not a number of people"
    assert not_of_the_asked_type(asked, span_of(meeting, "March 2023"), meeting) != ""
    assert not_of_the_asked_type(asked, span_of(meeting, "58"), meeting) == ""
    assert not_of_the_asked_type(asked, span_of(meeting, "58 members attended, in March 2023"), meeting) == ""
    hall = passage("The small hall holds 40 seated; up to 18 may attend a standing event.")
    assert not_of_the_asked_type("How many people can attend?", span_of(hall, "18 may attend"), hall) == ""


def test_a_question_for_a_version_is_not_answered_without_a_number():
    from bot.read.extent import not_of_the_asked_type

    p = passage("--version: Print the version and exit. Deprecated in 1.4; see the release notes.")
    for asked in ("Which version deprecated the --version flag?", "In which release was it deprecated?",
                  "What Python version do I need?"):
        assert not_of_the_asked_type(asked, span_of(p, "Print the version and exit"), p) == \
            "the passage found gives no version number there"
        assert not_of_the_asked_type(asked, span_of(p, "1.4"), p) == ""
    for asked in ("What is in the release notes?", "What is the release date?", "What does --version do?"):
        assert not_of_the_asked_type(asked, span_of(p, "Print the version and exit"), p) == ""


def test_a_contact_line_gives_the_part_the_question_asks_for():
    p = passage("Contacts\nBookings manager: Lorraine Hughes, 01632 960 418, bookings@hall.example.org\n"
                "Caretaker: Tom Reed, 01632 960 555", section="Contacts")
    other = span_of(p, "Tom Reed")
    assert answer_of("Who is the bookings manager?", [other], [p])[0].text == "Lorraine Hughes"
    assert answer_of("What is the bookings manager's phone number?", [other], [p])[0].text == "01632 960 418"
    assert answer_of("What is the bookings manager's email address?", [other], [p])[0].text == \
        "bookings@hall.example.org"


def test_a_span_in_a_tally_takes_the_count_of_the_item_asked_about():
    p = passage("Fees\nThe motion was carried. Vote: 38 for, 4 against, 2 abstentions.")
    cut = span_of(p, "38 for, 4")
    assert answer_of("How many voted against the fee rise?", [cut], [p])[0].text == "4"
    assert answer_of("How many abstentions were there?", [cut], [p])[0].text == "2"
    assert answer_of("What was the result of the vote?", [cut], [p])[0] == cut


def test_a_figure_after_between_takes_the_word_and_the_other_end():
    p = passage("Deliveries\nParcels arrive between 3:00 and 5:00 pm on weekdays. "
                "Cover costs between £50 and £99 a year.")
    assert answer_of("When do parcels arrive?", [span_of(p, "3:00")], [p])[0].text == "between 3:00 and 5:00 pm"
    assert answer_of("When do parcels arrive?", [span_of(p, "3:00 and 5:00")], [p])[0].text == "between 3:00 and 5:00"
    assert answer_of("How much is cover?", [span_of(p, "£50")], [p])[0].text == "between £50 and £99"


def test_a_figure_takes_the_open_end_after_it():
    p = passage("Requirements\nThe app needs Android 9.0 or later. Riders must be aged 12 or over.")
    assert answer_of("Which Android version does the app need?", [span_of(p, "Android 9.0")], [p])[0].text == \
        "Android 9.0 or later"
    assert answer_of("How old must riders be?", [span_of(p, "12")], [p])[0].text == "12 or over"
    assert answer_of("What is the minimum age for riders?", [span_of(p, "12")], [p])[0].text == "12"


def test_a_column_is_named_by_its_year_or_in_full_where_it_is_shortened():
    from bot.read.rows import _named_column

    assert _named_column("What was leakage in 2023?", ["Actual 2023", "Target 2024"]) == "Actual 2023"
    assert _named_column("What was leakage in 2023?", ["Actual 2023", "Budget 2023"]) is None  # two alike
    assert _named_column("What is the maximum downlink speed?", ["Max. downlink", "Weight"]) == "Max. downlink"
    assert _named_column("How much in 2021?", ["2021/22", "2022/23"]) is None  # a year of two, not 2021's


def test_a_cell_of_another_document_must_be_of_the_names_the_question_says():
    from bot.read.rows import cell_named_in

    coaches = passage("Ashbourne Coaches depot\nThe depot is open on Saturday from 08:00 to 13:00.")
    library = passage("Opening hours\nSaturday: 09:30 to 12:30\nSunday: closed", section="Opening hours")
    library = Passage(chunk=replace(library.chunk, doc_id="library.md"), score=1.0, rank=2)
    best = span_of(coaches, "08:00 to 13:00")
    question = "What are Ashbourne Coaches' depot opening hours on Saturday?"
    assert cell_named_in(question, [coaches, library], best) is None
    assert cell_named_in("What are the opening hours on Saturday?", [coaches, library], best).text == "09:30 to 12:30"


def test_a_span_inside_a_long_labelled_value_stands():
    from bot.read.rows import cell_named_in

    p = passage("Getting here\nBy train: a 12-minute walk along the harbour front.\n"
                "By car: the nearest car park is Dockside Multi-storey; the museum has no car park of its own.")
    best = span_of(p, "Dockside Multi-storey")
    assert cell_named_in("What is the nearest car park for visitors by car?", [p], best) is None
    short = passage("Getting here\nBy train: Portwick station\nBy car: Dockside car park")
    assert cell_named_in("Where do I park if I come by car?", [short], span_of(short, "Portwick station")).text == \
        "Dockside car park"


def test_a_figure_cell_is_no_answer_to_who():
    from bot.read.rows import cell_named_in

    p = passage("Costs\nChristmas lights — Cost: 1,150.\nFete — Cost: 300.", section="Costs")
    best = span_of(p, "300")
    assert cell_named_in("Who paid for the Christmas lights cost?", [p], best) is None
    assert cell_named_in("How much was the Christmas lights cost?", [p], best).text == "1,150"


def test_a_plural_question_naming_a_table_row_keeps_to_that_row():
    p = passage("Fares\nDay Rider — Adult: £4.20; Child: £2.10.\nWeekly Rider — Adult: £18.50; Child: £9.25.\n"
                "Monthly Rider — Adult: £62.00; Child: £31.00.", section="Fares", heading_end=5)
    answer = answer_of("What are the fares for a Weekly Rider?", [span_of(p, "£18.50")], [p])[0].text
    assert answer == "Adult: £18.50; Child: £9.25"


def test_a_question_for_the_opening_or_closing_time_takes_that_end_of_the_hours():
    p = passage("Offices\nLeeds: 7:30 am to 7:00 pm. The Manchester office opens 8am-6.30pm.")
    leeds = span_of(p, "7:30 am to 7:00 pm")
    assert answer_of("What time does the Leeds office open?", [leeds], [p])[0].text == "7:30 am"
    assert answer_of("when does the leeds office close", [leeds], [p])[0].text == "7:00 pm"
    assert answer_of("What time does the Manchester office open?", [span_of(p, "8am-6.30pm")], [p])[0].text == "8am"
    # the hours asked for, or both ends: the whole range
    assert answer_of("When is the Leeds office open?", [leeds], [p])[0] == leeds
    assert answer_of("What time does it open and close?", [leeds], [p])[0] == leeds


def test_a_value_of_several_figures_gives_the_one_of_the_asked_quantity():
    p = passage("Tents\nRidgeback 3: sleeps 3, packed weight 2.6 kg, price £319\nPitching takes 10 minutes, 2 people.\n"
                "Summit 2: weight 1.5 kg, 1.9 kg with the footprint")
    line = span_of(p, "sleeps 3, packed weight 2.6 kg, price £319")
    assert answer_of("How heavy is the Ridgeback 3?", [line], [p])[0].text == "2.6 kg"
    assert answer_of("How much is the Ridgeback 3?", [line], [p])[0].text == "£319"
    assert answer_of("How much does it weigh?", [line], [p])[0].text == "2.6 kg"
    assert answer_of("How long does pitching take?", [span_of(p, "10 minutes, 2 people")], [p])[0].text == "10 minutes"
    # no quantity asked, or several of it given: the value stands
    assert answer_of("What is the Ridgeback 3?", [line], [p])[0] == line
    summit = span_of(p, "weight 1.5 kg, 1.9 kg with the footprint")
    assert answer_of("How heavy is the Summit 2?", [summit], [p])[0] == summit


def test_a_year_the_documents_file_name_gives_is_no_column_year():
    from dataclasses import replace

    from bot.read.rows import row_contradicts

    accounts = passage("Treasurer's report\nTotal income — 2021: £38,450.\nTotal expenditure — 2021: £35,120.")
    minutes = replace(accounts, chunk=replace(accounts.chunk, doc_id="club_agm_2022.md"))
    question = "What total income did the treasurer report at the 2022 AGM?"
    assert row_contradicts(question, span_of(minutes, "£38,450"), minutes) == ""  # the meeting's year
    assert row_contradicts(question, span_of(accounts, "£38,450"), accounts) == "the answer's column is 2021, not 2022"


def test_a_label_that_says_what_is_asked_gives_its_lines_value():
    p = passage("Contacts\nHR Manager: Clare Whitfield\nPhone extension: 214\n")
    assert answer_of("What is Clare Whitfield's extension?", [span_of(p, "Phone extension")], [p])[0].text == "214"
    # a label the question does not say is the answer itself
    assert answer_of("What is Clare Whitfield's role?", [span_of(p, "HR Manager")], [p])[0].text == "HR Manager"


def test_a_label_of_several_words_is_named_in_other_forms_of_them():
    from bot.read.rows import cell_named_in

    p = passage("Term dates\nSpring term starts: Monday 6 January 2025\nSpring term ends: Friday 4 April 2025\n"
                "Summer term ends: Tuesday 22 July 2025")
    cell = cell_named_in("When does the spring term end?", [p], span_of(p, "2025"))
    assert cell is not None and cell.text == "Friday 4 April 2025"


def test_a_weekday_said_in_the_plural_names_its_line_and_that_line_answers_not_the_list():
    p = passage("Opening hours\nMonday: 8:30am to 5:30pm\nTuesday: 8:30am to 7:00pm\nSunday: Closed\n\n"
                "The practice is closed on bank holidays.", section="Opening hours")
    question = "What are the practice's opening hours on Tuesdays?"
    assert answer_of(question, [span_of(p, "5:30pm")], [p])[0].text == "8:30am to 7:00pm"
    assert answer_of(question, [span_of(p, "8:30am to 7:00pm")], [p])[0].text == "8:30am to 7:00pm"
    # no day named: the whole list
    assert answer_of("What are the practice's opening hours?", [span_of(p, "5:30pm")], [p])[0].text.count("\n") == 2


def test_a_name_answering_who_leaves_out_the_aside_in_brackets_after_it():
    p = passage("Contact\nCoordinator: Sian Roberts (07700 900 562)\nSoloist: Anna Price (soprano)\n"
                "Treasurer: Funmi Adeyemi (treasurer@example.org)")
    assert answer_of("Who is the coordinator?", [span_of(p, "Sian Roberts (07700 900 562)")], [p])[0].text == \
        "Sian Roberts"
    assert answer_of("Who was the treasurer?", [span_of(p, "Funmi Adeyemi (treasurer@example.org)")], [p])[0].text \
        == "Funmi Adeyemi"  # the words of an address say nothing asked
    # the aside says what the question asks, or the question is no "who"
    assert answer_of("Who sang soprano?", [span_of(p, "Anna Price (soprano)")], [p])[0].text == "Anna Price (soprano)"
    assert answer_of("What is the soloist's name and voice?", [span_of(p, "Anna Price (soprano)")], [p])[0].text == \
        "Anna Price (soprano)"


def test_of_rows_named_alike_the_one_holding_the_asked_column_answers():
    from bot.read.rows import cell_named_in

    rates = passage("Hourly rates\nMain Hall — Weekday: £22; Saturday: £35; Sunday: £30.\n"
                    "Committee Room — Weekday: £10; Saturday: £15; Sunday: £15.")
    deposits = passage("Deposits\nMain Hall: £150 refundable deposit.\nCommittee Room: no deposit.")
    question = "How much is the Main Hall per hour on a Saturday?"
    cell = cell_named_in(question, [rates, deposits], span_of(rates, "Hourly rates"))
    assert cell is not None and cell.text == "£35"
    # the reader's span in the named row's other column moves to the asked one
    assert answer_of(question, [span_of(rates, "Hourly rates"), span_of(rates, "£22")], [rates])[0].text == "£35"


def test_a_labelled_line_opening_each_block_of_a_team_page_is_named_by_its_label():
    from bot.read.rows import cell_named_in

    p = passage("Our team\n\nPrincipal Dentist: Dr Helen Marsh\nDr Marsh qualified at Cardiff University.\n\n"
                "Associate Dentist: Dr Samir Qureshi\nDr Qureshi does our implant work.\n")
    cell = cell_named_in("Who is the principal dentist?", [p], span_of(p, "Cardiff University"))
    assert cell is not None and cell.text == "Dr Helen Marsh"
    # one labelled line over a paragraph is no list of fields
    alone = passage("Note: bring your own towel\nThe pool is heated to 29 degrees.")
    assert cell_named_in("What should I bring to the pool as a note?", [alone], span_of(alone, "29 degrees")) is None


def test_a_label_is_named_without_its_last_word_where_that_only_says_it_is_priced_and_with_a_possessive():
    from bot.read.rows import cell_named_in

    p = passage("Private fees\nRoutine examination: £55\nChildren's private examination: £30\n"
                "Root canal treatment: from £350\nWhite filling: from £120")
    assert cell_named_in("How much is a root canal?", [p], span_of(p, "Private fees")).text == "from £350"
    assert cell_named_in("How much is a routine private examination for children?", [p],
                         span_of(p, "Private fees")).text == "£30"


def test_a_part_of_a_labelled_value_takes_the_value_up_to_its_closing_aside():
    p = passage("Opening hours\nFriday: 8:30am to 4:00pm\nSaturday: 9:00am to 1:00pm (first and third Saturday "
                "of each month only)\nSunday: Closed")
    assert answer_of("When is it open on Saturday?", [span_of(p, "1:00pm")], [p])[0].text == "9:00am to 1:00pm"
    # the reader's span in the aside: the value stands as the reader gave it
    inside = span_of(p, "first and third Saturday")
    assert answer_of("When is it open on Saturday?", [inside], [p])[0] == inside


def test_a_block_labelled_with_a_price_answers_what_it_costs_not_what_it_includes():
    from bot.read.rows import cell_named_in

    p = passage("Service menu\n\nSafety Check: £35\nBrakes and gears adjusted.\n\nFull Service: £140\n"
                "The bike is stripped down and new cables are fitted.\n")
    best = span_of(p, "new cables are fitted")
    assert cell_named_in("How much is a full service?", [p], best).text == "£140"
    assert cell_named_in("What does a full service include?", [p], best) is None


def test_who_and_a_verb_in_the_past_names_the_line_of_that_role():
    from bot.read.rows import cell_named_in

    p = passage("Season 2024–25\nMusical Director: Naomi Fischer\nChair: Rhys Morgan\nHost: Elmford Town Hall")
    assert cell_named_in("Who chaired the choir?", [p], span_of(p, "Naomi Fischer")).text == "Rhys Morgan"
    assert cell_named_in("Who hosted the concert?", [p], span_of(p, "Naomi Fischer")).text == "Elmford Town Hall"
    # not a question for a person: the word as written only
    assert cell_named_in("When was the hall chaired?", [p], span_of(p, "Naomi Fischer")) is None


def test_where_names_the_venue_or_address_line():
    from bot.read.rows import cell_named_in

    p = passage("AGM 2024\nDate: Monday 11 March 2024, 7:30pm\nVenue: Hollybrook Library community room\n"
                "Present: 53 members")
    assert cell_named_in("Where was the AGM held?", [p], span_of(p, "53 members")).text == \
        "Hollybrook Library community room"
    assert cell_named_in("How many were at the AGM?", [p], span_of(p, "53 members")) is None


def test_a_line_for_a_range_of_weekdays_is_named_by_a_day_in_it():
    p = passage("Opening hours\nMonday to Friday: 9:00am to 6:00pm\nSaturday: 9:00am to 5:00pm\n"
                "Sunday: 10:00am to 2:00pm")
    assert answer_of("When is the shop open on Tuesdays?", [span_of(p, "5:00pm")], [p])[0].text == "9:00am to 6:00pm"
    assert answer_of("When is the shop open on Saturday?", [span_of(p, "6:00pm")], [p])[0].text == "9:00am to 5:00pm"


def test_what_a_priced_block_includes_is_the_sentence_under_its_label_and_its_price_says_no_length():
    from bot.read.rows import block_described, cell_named_in

    p = passage("Service menu\n\nSafety Check: £35\nBrakes and gears adjusted. About 30 minutes.\n\n"
                "Full Service: £140\nThe bike is stripped down and new cables are fitted. Turnaround is 3 days.\n")
    best = span_of(p, "Service menu")
    described = block_described("What does a full service include?", [p], best)
    assert described is not None and described.text == "The bike is stripped down and new cables are fitted."
    # a question for a figure, or one naming no block, is none of this
    assert block_described("How much is a full service?", [p], best) is None
    assert block_described("What does the warranty include?", [p], best) is None
    # a price is no length of time
    assert cell_named_in("How long does a full service take?", [p], best) is None
    assert answer_of("How long does a full service take?", [span_of(p, "3 days"), span_of(p, "£140")], [p])[0].text \
        == "3 days"


def test_a_span_of_the_asked_type_is_not_moved_to_the_named_line_of_another():
    p = passage("Finance Manager: Rajesh Mehta\nEmail: rajesh@example.org\nPhone extension: 231")
    email = span_of(p, "rajesh@example.org")
    assert answer_of("What is the Finance Manager's email?", [email], [p])[0].text == "rajesh@example.org"
    assert answer_of("Who is the Finance Manager?", [email], [p])[0].text == "Rajesh Mehta"
