import pytest

from bot.config import load_settings
from tests.conftest import load_corpus
from bot.pipeline import Bot
from bot.read.transformer import ReadItem, TransformerReader, align_to_words
from bot.read.windows import answerable_span, crosses_break, is_item_mark, section_number_end


@pytest.mark.parametrize("text,start,end,expected", [
    ("In May 2015, Morocco", 4, 9, "May 2015"),
    ("In May 2015, Morocco", 3, 12, "May 2015"),
    ("the U.S. Army", 4, 8, "U.S."),
    ("ends here.", 5, 10, "here"),
    ('he said "hello there" ok', 8, 14, "hello"),
    ("a (parenthetical remark) b", 2, 10, "parenthetical"),
    # addresses, times and numbers are one token; sentences run together are not
    ("mail support@brightwater.example.com today.", 5, 24, "support@brightwater.example.com"),
    ("write to help.desk@example.co.uk.", 14, 32, "help.desk@example.co.uk"),
    ("see https://example.org/refunds now", 4, 9, "https://example.org/refunds"),
    ("weighs 2.5 kg at 10:30", 7, 8, "2.5"),
    ("weighs 2.5 kg at 10:30", 17, 19, "10:30"),
    ("cost 1,000 dollars", 5, 6, "1,000"),
    ("Paris,London", 0, 5, "Paris"),
    ("a two-year warranty", 2, 5, "two"),
    ("end of it.Next one", 7, 9, "it"),
    # an abbreviation keeps its last full stop at the end of a sentence too
    ("The polls closed at 7:02 p.m. Counting began.", 20, 28, "7:02 p.m."),
    ("It was made in the U.S.", 19, 22, "U.S."),
    # a quote mark whose partner stands right next to the span is taken in
    ("the card “Welcome Aboard” has it", 4, 24, "card “Welcome Aboard”"),
])
def test_align_to_words(text, start, end, expected):
    s, e = align_to_words(text, start, end)
    assert text[s:e] == expected


def test_any_hf_qa_model_runs_end_to_end_and_keeps_offsets(tiny_qa_model):
    reader = TransformerReader(str(tiny_qa_model), max_length=64, stride=16, max_answer_tokens=8, top_k=3)
    long_text = " ".join(f"Fact {i}: the value of item {i} is {i * 7}." for i in range(40))
    items = [ReadItem(long_text, "a.txt", 100, 0), ReadItem("Short passage here.", "b.txt", 5, 1),
             ReadItem("   ", "c.txt", 0, 2)]
    result = reader.read("What is the value of item 3?", items)
    # the best 3, and the best of each passage not among them
    assert 1 <= len(result.spans) <= 3 + 1 and {s.passage_index for s in result.spans} == {0, 1}
    texts = {"a.txt": " " * 100 + long_text, "b.txt": " " * 5 + "Short passage here."}
    for span in result.spans:
        assert texts[span.doc_id][span.start:span.end] == span.text
        assert len(span.text.split()) <= 8
    # overlapping windows never produce duplicate or overlapping answers
    for i, a in enumerate(result.spans):
        for b in result.spans[i + 1:]:
            assert a.doc_id != b.doc_id or a.end <= b.start or b.end <= a.start
    assert reader.read("", items).spans == []


def test_bot_with_a_custom_reader_model_cites_exact_offsets(tiny_qa_model, small_settings, fake_embedder):
    settings = load_settings({"corpus_dir": small_settings.corpus_dir, "index_dir": small_settings.index_dir,
                              "reader": str(tiny_qa_model), "abstain_threshold": 0.0})
    bot = Bot(settings, embedder=fake_embedder)
    response = bot.ask("When did Hekla erupt?")
    assert not response.abstained
    docs = {d.doc_id: d for d in load_corpus(settings.corpus_dir).documents}
    c = response.citations[0]
    assert docs[c.doc].text[c.start:c.end] == response.answer
    assert docs[c.doc].text[c.quote_start:c.quote_end] == c.quote


def test_reader_errors_are_clear():
    from bot.errors import ModelError

    with pytest.raises(ModelError, match="could not load reader model"):
        TransformerReader("no-such-org/no-such-model").warm_up()
    with pytest.raises(ValueError, match="got 0"):
        TransformerReader("x", top_k=0)


@pytest.mark.parametrize("text,expected", [
    ("if all of the following are true:\n\nthey have completed probation", True),
    ("How much luggage can I bring?\nTwo bags of 23 kg.", True),
    ("a towel\na padlock", False),  # list items of one answer
    ("The Central\nBureau", False),  # a hard-wrapped line
])
def test_answers_do_not_cross_paragraphs_or_questions(text, expected):
    assert crosses_break(text, 0, len(text)) is expected


@pytest.mark.parametrize("text,span,crosses", [
    # a table row's value, and the next row's start: the reader cannot see the line break
    ("Basic — Storage: 50 GB.\nPro — Monthly fee: $12; Storage: 1 TB.", "50 GB.\nPro", True),
    ("Power: 900 W\nVoltage: 230 V", "900 W\nVoltage", True),
    # whole list items are one answer
    ("You need:\n- a towel\n- a padlock\n", "a towel\n- a padlock", False),
    ("Steps:\n1. Fill the tank.\n2. Press BREW.", "Fill the tank.\n2. Press BREW", False),
    # a sentence hard-wrapped over lines is crossed anywhere; lines of a block are not
    ("In 2015 Morocco created a body known as the central\nbureau of judicial investigation, under the DGST.",
     "the central\nbureau of judicial investigation", False),
    ("Department of Soil Science, University of Aarhus, Denmark\nJournal of Soil Ecology, Volume 58",
     "University of Aarhus, Denmark\nJournal of Soil Ecology", True),
])
def test_answers_do_not_run_from_one_list_line_into_part_of_the_next(text, span, crosses):
    start = text.index(span)
    assert crosses_break(text, start, start + len(span)) is crosses


def test_the_chunkers_sentences_decide_which_line_breaks_an_answer_may_cross():
    """A short passage shows no wrap width of its own: the sentences found over the whole document say
    where a sentence runs over a line break and where one list item ends."""
    text = "Its first captain was John\nHale, who sailed it to Lisbon.\nSeat 14C\n08:55 boarding"
    sentence = (0, text.index("Lisbon.") + len("Lisbon."))
    items = [sentence, (sentence[1] + 1, text.index("14C") + 3), (text.index("08:55"), len(text))]
    name = text.index("John")
    assert not crosses_break(text, name, name + len("John\nHale"), items)
    seat = text.index("14C")
    assert crosses_break(text, seat, seat + len("14C\n08:55"), items)


def test_answers_do_not_run_across_the_cells_of_a_table_row():
    row = "Junior — Annual fee: £180; Boat storage: £75; Joining fee: none."
    fee = row.index("£180")
    assert crosses_break(row, fee, row.index("£75") + 3)  # "£180; Boat storage: £75"
    assert not crosses_break(row, fee, fee + 4)
    prose = "The rent (including water; see clause 4) is £900."
    assert not crosses_break(prose, 0, len(prose))
    # nor out of a column's name, which is the bot's wording: "USD" is no price
    priced = "Dyson V15 — Price (USD): 749; Weight (kg): 3.1."
    for label in ("USD", "Price (USD): 749", "Weight (kg)"):
        assert crosses_break(priced, priced.index(label), priced.index(label) + len(label)), label
    assert not crosses_break(priced, priced.index("749"), priced.index("749") + 3)
    # a line with one such joint may be prose: a definition list's "Term — Definition: …"
    defined = "Grace period — The days allowed after the due date: late fees start after it."
    assert not crosses_break(defined, defined.index("The days"), defined.index(":"))
    two_columns = "Dyson V15 — Price (USD): 749."  # one joint, a short name: still a row
    assert crosses_break(two_columns, two_columns.index("USD"), two_columns.index("USD") + 3)


def test_nothing_within_the_heading_a_passage_starts_with_is_an_answer():
    from bot.types import Chunk, ReadItem

    text = "4 Root cause\nThe disk of the database server filled up."
    chunk = Chunk(0, "incident.txt", text, 100, 100 + len(text), "Outage › 4 Root cause", 1, None)
    assert chunk.heading_length == len("4 Root cause")
    assert Chunk(0, "p.txt", "The rate is 4 EUR.", 0, 18, "4 Mileage", 1, None).heading_length == 0
    item = ReadItem(text, "incident.txt", 100, heading=chunk.heading_length)
    assert not answerable_span(item, 0, 1) and not answerable_span(item, 2, 6)  # "4", "Root"
    disk = text.index("The disk")
    assert answerable_span(item, disk, disk + len("The disk of the database server"))
    assert answerable_span(ReadItem(text, "incident.txt", 100), 2, 6)  # no heading known: any span
    assert section_number_end("2.3.  Results\nForty species.", 13) == 4
    # a heading's date answers "When was the board meeting?"
    dated = "Board meeting, 12 March 2024\nPresent: all members."
    date = dated.index("12")
    assert answerable_span(ReadItem(dated, "minutes.txt", 0, heading=dated.index("\n")), date, date + 13)


@pytest.mark.parametrize("given,expected", [
    ("https://api.", "https://api.parcelpoint.example/v3"),  # an edge on a joiner inside an address
    ("@parcelpoint", "support@parcelpoint.example"),
    ("10:", "10:30"),
    ("U.", "U.S."),
    ("it.", "it"),  # "it.Next": a missing space between sentences is no joiner
])
def test_an_edge_on_a_joiner_inside_a_token_takes_the_whole_token(given, expected):
    text = "See https://api.parcelpoint.example/v3 or support@parcelpoint.example at 10:30 in the U.S. as it.Next time."
    start = text.index(given)
    s, e = align_to_words(text, start, start + len(given))
    assert text[s:e] == expected


@pytest.mark.parametrize("text,span,mark", [
    ("5.4 Work outside the scope is charged at £950 a day.", "5.4", True),
    ("Intro\n(b) The tenant pays the rent.", "b", True),
    ("5.4 million people live there.", "5.4", False),  # a figure, not a clause's number
    ("3 million people.", "3", False),
    ("Storage:\n2.5 GB per user.", "2.5", False),
    ("Storage:\n2.5 Mb per user.", "2.5", False),
    ("4. USB ports are fitted.", "4", True),
    ("5.4 Work outside the scope is charged at £950 a day.", "£950", False),
])
def test_a_clauses_number_is_no_answer(text, span, mark):
    start = text.index(span)
    assert is_item_mark(text, start, start + len(span)) is mark


@pytest.mark.parametrize("text, span, shown", [
    ("The Tenant agrees:\n4.1 to keep it clean;\n4.2 not to keep any pet;", "4.2 not to keep any pet", "not to keep any pet"),
    ("Steps\n2. Enter the portal address.", "2. Enter the portal", "Enter the portal"),
    ("(a) the first\n(b) the second", "(b) the second", "the second"),
    # an initial, or a figure beside no clause of its number in its block, is no mark
    ("J. Smith will chair the meeting.", "J. Smith will chair", "J. Smith will chair"),
    ("5.1 Method\nWe counted.\n\n5.4 million people live there.", "5.4 million people", "5.4 million people"),
    # a span over several items keeps their marks
    ("1. Open the client.\n2. Enter the portal.", "1. Open the client.\n2. Enter the portal", None),
])
def test_an_answer_leaves_out_the_mark_of_the_item_it_starts(text, span, shown):
    from bot.read.windows import after_item_mark

    start = text.index(span)
    assert text[after_item_mark(text, start, start + len(span)):start + len(span)] == (shown or span)


@pytest.mark.parametrize("name", ["/no/such/reader", "./reader", "~/models/reader", "models/qa/reader"])
def test_a_model_path_that_does_not_exist_is_named_as_a_missing_folder(name):
    from bot.errors import ModelError
    from bot.model_paths import resolve_model

    with pytest.raises(ModelError, match=f"reader model folder {name} does not exist"):
        resolve_model(name, "reader")
    assert resolve_model("someone/qa-model", "reader") == "someone/qa-model"  # a hub name goes to the hub loader


def test_every_passage_read_gives_its_best_span_past_the_best_five():
    from bot.read.windows import WindowReader, WindowScores

    items = [ReadItem("Ann Lee stood down. Hamid Qureshi, Tom Brennan, Sunita Rao, Jo Bell.", "agm_2024.md", 0, 0),
             ReadItem("Treasurer: Ann Lee", "agm_2022.md", 0, 1)]
    names = ["Ann Lee", "Hamid Qureshi", "Tom Brennan", "Sunita Rao", "Jo Bell"]
    candidates = [(9.0 - n, 0.0, items[0], items[0].text.index(name), items[0].text.index(name) + len(name))
                  for n, name in enumerate(names)]
    candidates += [(2.0, 0.0, items[1], 11, 18), (1.0, 0.0, items[1], 0, 9)]
    scores = WindowScores()
    scores.add(0.0, 0.0, 0.0, 0.0, 0.0)
    spans = WindowReader(top_k=5)._collect(candidates, scores).spans
    # the five best, then the other passage's best (not its second): the ranking with retrieval
    # and the question's details may choose it
    assert [s.text for s in spans] == [*names, "Ann Lee"] and spans[-1].passage_index == 1
