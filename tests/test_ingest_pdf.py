"""PDF text as a reader needs it: wrapped lines reflowed into paragraphs, hyphens that only mark
a line break removed, headings found by font size or weight, pages and lines kept for citations."""

from __future__ import annotations

import html
import shutil
import subprocess

import pytest

from bot.ingest.chunking import chunk_document
from bot.ingest.corpus import load_document
from tests.conftest import load_corpus
from bot.ingest.pdf import PdfWords, clean_pdf_line, wrapped_line_end
from tests.pdf_helper import TextLine, make_pdf

SURVEY_PAGES = [
    [
        TextLine("Annual Orchid Survey", size=18, bold=True),
        TextLine("The survey recorded many epiphytic orchids whose aerial roots are covered", gap=12),
        TextLine("by a Velamen"),
        TextLine("parallelum layer that takes up water. The informa-"),
        TextLine("tion was gathered by a well-"),
        TextLine("known team of botanists working from the Franco-"),
        TextLine("Prussian archive."),
        TextLine("Field Methods", bold=True, gap=12),
        TextLine("Each site was visited twice. The second visit took place in", gap=6),
    ],
    [
        TextLine("spring, when most of the flowers were open."),
        TextLine("Results", size=18, bold=True, gap=12),
        TextLine("Forty species were found along a 45-", gap=12),
        TextLine("yard transect, a 21–"),
        TextLine("10 split against the count of 2019 – the"),
        TextLine("first since the archive opened."),
    ],
]


@pytest.fixture
def survey(tmp_path):
    path = tmp_path / "survey.pdf"
    make_pdf(path, SURVEY_PAGES)
    return load_document(path, "survey.pdf")


def _sentences(doc, chunks) -> set[str]:
    return {doc.text[s:e] for c in chunks for s, e in c.sentences}


def test_wrapped_lines_are_reflowed_into_whole_sentences(survey):
    chunks = chunk_document(survey, 600, 150)
    sentences = _sentences(survey, chunks)
    assert ("The survey recorded many epiphytic orchids whose aerial roots are covered by a Velamen parallelum "
            "layer that takes up water.") in sentences
    assert not any("\n" in s for s in sentences)
    for c in chunks:
        assert survey.text[c.start:c.end] == c.text


def test_line_break_hyphens_are_joined_and_real_hyphens_kept(survey):
    assert "The information was gathered by a well-known team of botanists working from the Franco-Prussian archive." \
        in survey.text
    # A number before a hyphen, and a dash touching its words, join without a space.
    assert ("Forty species were found along a 45-yard transect, a 21–10 split against the count of 2019 – "
            "the first since the archive opened.") in survey.text


def test_headings_are_found_by_font_size_or_weight(survey):
    assert [h for _, h in survey.headings] == ["Annual Orchid Survey", "Field Methods", "Results"]
    assert survey.title == "Annual Orchid Survey"
    chunks = chunk_document(survey, 600, 150)
    spring = next(c for c in chunks if "spring" in c.text)
    assert spring.section == "Field Methods"
    # A heading is its own line, never glued into the paragraph before or after it.
    assert "\nField Methods\n" in survey.text and "\nResults\n" in survey.text


def test_paragraph_cut_by_a_page_break_is_one_sentence_with_both_pages(survey):
    sentence = "The second visit took place in spring, when most of the flowers were open."
    assert sentence in _sentences(survey, chunk_document(survey, 600, 150))
    assert survey.page_at(survey.text.index("second visit")) == 1
    assert survey.page_at(survey.text.index("spring")) == 2
    assert survey.page_at(survey.text.index("Forty species")) == 2


def test_citations_name_the_page_line_of_the_answer(survey):
    chunk = next(c for c in chunk_document(survey, 600, 150) if "parallelum" in c.text)
    # Page 1: the heading is line 1, the paragraph starts on line 2; "parallelum" begins line 4.
    assert chunk.line_at(survey.text.index("epiphytic")) == 2
    assert chunk.line_at(survey.text.index("parallelum")) == 4
    assert chunk.line_at(survey.text.index("known team")) == 6
    assert chunk.page_at(survey.text.index("parallelum")) == 1


def _report_page(number: int, body: list[TextLine]) -> list[TextLine]:
    """A page with a running header and footer around its body, as word processors print them."""
    return [TextLine("Orchid Survey 2019 · Northern Forest", size=9),
            *[TextLine(line.text, line.size, line.bold, line.gap + (24 if k == 0 else 0))
              for k, line in enumerate(body)],
            TextLine(f"Page {number} of 3", size=9, at=40)]


def test_running_headers_and_footers_are_dropped_and_paragraphs_rejoined(tmp_path):
    path = tmp_path / "report.pdf"
    make_pdf(path, [
        _report_page(1, [TextLine("Methods", size=16, bold=True), TextLine("Every plot was counted by the", gap=8)]),
        _report_page(2, [TextLine("same two people. Plots were marked with"), TextLine("posts.")]),
        _report_page(3, [TextLine("Results", size=16, bold=True), TextLine("Forty species in all.", gap=8)]),
    ])
    doc = load_document(path, "report.pdf")
    assert doc.text.split("\n") == [
        "Methods", "Every plot was counted by the same two people. Plots were marked with posts.",
        "Results", "Forty species in all."]
    assert [doc.page_at(doc.text.index(w)) for w in ("Every", "same", "Results")] == [1, 2, 3]


def test_repeated_titles_that_change_with_the_page_are_content(tmp_path):
    path = tmp_path / "deck.pdf"
    make_pdf(path, [[TextLine(f"Results for {year}", size=16), TextLine(f"Sales in {year} were {units} units.")]
                    for year, units in ((2019, 120), (2020, 95), (2021, 143), (2022, 210))])
    text = load_document(path, "deck.pdf").text
    assert "Results for 2021" in text and "Sales in 2021 were 143 units." in text


def test_a_page_number_footer_is_dropped_from_a_short_document(tmp_path):
    path = tmp_path / "two.pdf"
    make_pdf(path, [[TextLine("The plant was closed until the end of"), TextLine("Page 1 of 2", size=9, at=40)],
                    [TextLine("March, when it reopened."), TextLine("Page 2 of 2", size=9, at=40)]])
    assert load_document(path, "two.pdf").text == "The plant was closed until the end of March, when it reopened."


def test_a_running_footer_of_a_two_page_document_is_dropped(tmp_path):
    footer = TextLine("Kestrel Bay Ferries - Summer timetable 2024", size=9, at=40)
    path = tmp_path / "two.pdf"
    make_pdf(path, [[TextLine("Seats are held until ten"), footer], [TextLine("minutes before departure."), footer]])
    assert load_document(path, "two.pdf").text == "Seats are held until ten minutes before departure."


def test_a_bold_line_inside_a_paragraph_stays_in_it(tmp_path):
    path = tmp_path / "minutes.pdf"
    make_pdf(path, [[TextLine("The committee met on Monday and agreed that the"),
                     TextLine("budget for the new library building", bold=True),
                     TextLine("would be raised by ten percent this year.")]])
    doc = load_document(path, "minutes.pdf")
    assert doc.text == ("The committee met on Monday and agreed that the budget for the new library building "
                        "would be raised by ten percent this year.") and doc.headings == ()


def test_widely_spaced_lines_of_prose_run_on_into_a_capital_but_rows_of_figures_do_not(tmp_path):
    # At wide line spacing the layout analysis puts each line in a box of its own.
    path = tmp_path / "bulletin.pdf"
    make_pdf(path, [[TextLine("To sign up for five-a-side, message Declan"),
                     TextLine("Moorcroft before the end of March.", gap=6),
                     TextLine("Dose by age", gap=20, bold=True),
                     TextLine("3 to 6 months (over 5 kg) 2.5 ml", gap=6),
                     TextLine("6 to 12 months 5 ml", gap=6)]])
    lines = load_document(path, "bulletin.pdf").text.split("\n")
    assert "To sign up for five-a-side, message Declan Moorcroft before the end of March." in lines
    assert "6 to 12 months 5 ml" in lines


def test_a_left_column_running_on_below_the_right_one_s_end_is_read_before_it(tmp_path):
    left = ["The Glasgow team moves into a new", "office at 44 Candleriggs on 2 June,", "after eighteen months of looking.",
            "The lease on Bath Street ends on", "30 June, which leaves four weeks", "for the move, and the new space has",
            "room for sixty desks in all, twice", "the size of the current office.", None,
            "Our longest customer, Harrowgate", "Water, renewed its contract in", "February for another three years."]
    right = ["Twelve teams took part in this", "year's hackathon, held over two", "days in March."]
    lines = []
    for k, text in enumerate(left):
        if text:
            lines.append(TextLine(text, size=10, at=700 - 13 * k, x=72))
        if k < len(right):
            lines.append(TextLine(right[k], size=10, at=700 - 13 * k, x=320))
    path = tmp_path / "bulletin.pdf"
    make_pdf(path, [lines])
    paragraphs = load_document(path, "bulletin.pdf").text.split("\n")
    assert [p[:12] for p in paragraphs] == ["The Glasgow ", "Our longest ", "Twelve teams"]


def test_a_heading_set_in_one_box_between_paragraphs_is_still_a_heading(tmp_path):
    path = tmp_path / "report.pdf"
    make_pdf(path, [[TextLine("The station logs the weather every day."), TextLine("Results", size=14, bold=True),
                     TextLine("Rainfall was higher than in any year before.")]])
    doc = load_document(path, "report.pdf")
    assert doc.text.split("\n") == ["The station logs the weather every day.", "Results",
                                     "Rainfall was higher than in any year before."]
    assert [h for _, h in doc.headings] == ["Results"]


def test_a_title_set_in_one_box_with_its_paragraph_is_still_a_heading(tmp_path):
    path = tmp_path / "abstract.pdf"
    make_pdf(path, [[TextLine("Nitrate and Cycling", size=18), TextLine("Sixteen cyclists took part in the trial.")]])
    doc = load_document(path, "abstract.pdf")
    assert doc.text.split("\n") == ["Nitrate and Cycling", "Sixteen cyclists took part in the trial."]
    assert [h for _, h in doc.headings] == ["Nitrate and Cycling"]


def test_a_heading_wrapped_into_a_box_of_its_own_stays_one_heading(tmp_path):
    path = tmp_path / "handbook.pdf"
    make_pdf(path, [[TextLine("Employee Handbook: Leave, Hours and Expenses", 20, True),
                     TextLine("Policy", 20, True, gap=6),
                     TextLine("Version 4.2, effective from April.", gap=10),
                     TextLine("2. Scope", 14, True, gap=12),
                     TextLine("Annual Leave", 14, True, gap=14),  # a heading of its own, further down
                     TextLine("Staff get 28 days of leave a year.", gap=4)]])
    doc = load_document(path, "handbook.pdf")
    assert doc.title == "Employee Handbook: Leave, Hours and Expenses Policy"
    assert [h.rsplit(" › ", 1)[-1] for _, h in doc.headings] == [
        "Employee Handbook: Leave, Hours and Expenses Policy", "2. Scope", "Annual Leave"]


def test_ligatures_are_spelled_out(tmp_path):
    path = tmp_path / "flowers.pdf"
    make_pdf(path, [[TextLine("The \ufb01eld team counted \ufb02owers.")]])
    assert load_document(path, "flowers.pdf").text == "The field team counted flowers."


def test_footnote_marks_are_not_glued_to_the_word_before_them(tmp_path):
    path = tmp_path / "terms.pdf"
    make_pdf(path, [[TextLine("Charities receive a 25% discount on weekday rates.", mark="1"),
                     TextLine("The hall measures 120 m", mark="2", gap=12),
                     TextLine("Bookings are confirmed by the Venue Manager", mark="12", gap=12),
                     TextLine("Call the office on extension 4410.", mark="3", gap=12)]])
    text = load_document(path, "terms.pdf").text
    assert "weekday rates." in text and "rates.1" not in text
    assert text.endswith("extension 4410.")  # a mark after a figure's full stop
    assert "by the Venue Manager\n" in text  # two figures
    assert "120 m2" in text  # a unit's power after a short word stays


def test_soft_hyphen_at_a_line_end_always_joins():
    words = PdfWords([], frozenset())
    assert wrapped_line_end("well\u00ad", "known", words) == "well"
    assert clean_pdf_line("in\u00advisible  soft\u00adhyphens\u00ad") == "invisible softhyphens\u00ad"
    # a browser's hyphenation: U+2010 after a space the text layer adds, joined where a line-break
    # hyphen would be; not a dash between whole words, or before a capital or a figure
    known = PdfWords([], frozenset({"recreation", "points", "costs", "monday", "friday"}))
    assert wrapped_line_end("at Harrowfield Rec \u2010", "reation Ground", known) == "at Harrowfield Rec"
    for line, following in (("pages 3 \u2010", "7 of the report"), ("Open Monday \u2010", "Friday"),
                            ("Key points \u2010", "costs rise")):
        assert wrapped_line_end(line, following, known).endswith("\u2010 ")


def test_an_address_broken_at_a_hyphen_keeps_it():
    words = PdfWords(["Write to support@aquila-", "instruments.example for help."], frozenset({"instruments"}))
    assert wrapped_line_end("Write to support@aquila-", "instruments.example", words) == "Write to support@aquila-"
    assert wrapped_line_end("see https://docs.aquila-", "instruments.example/setup", words).endswith("aquila-")
    assert wrapped_line_end("The informa-", "tion desk", words) == "The informa"


def test_pdf_without_text_layer_is_skipped_with_the_reason(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    make_pdf(corpus / "scan.pdf", [[], []])
    (corpus / "note.txt").write_text("A note with text.", encoding="utf-8")
    result = load_corpus(corpus)
    assert [d.doc_id for d in result.documents] == ["note.txt"]
    assert dict(result.skipped)["scan.pdf"] == \
        "could not be read: no text layer (a scanned or image-only PDF; run OCR on it first)"


def test_damaged_pdf_gives_a_one_line_reason(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <</Type /Catalog>> truncated")
    (corpus / "note.txt").write_text("A note with text.", encoding="utf-8")
    reason = dict(load_corpus(corpus).skipped)["broken.pdf"]
    assert reason.startswith("could not be read: not a readable PDF") and "\n" not in reason


def test_encrypted_pdf_is_skipped_with_the_reason(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    plain = tmp_path / "plain.pdf"
    make_pdf(plain, ["The vault code is 4711."])
    writer = pypdf.PdfWriter(clone_from=plain)
    writer.encrypt("secret", algorithm="RC4-128")
    corpus = tmp_path / "c"
    corpus.mkdir()
    writer.write(corpus / "locked.pdf")
    (corpus / "note.txt").write_text("A note with text.", encoding="utf-8")
    assert dict(load_corpus(corpus).skipped)["locked.pdf"] == "could not be read: encrypted PDF (it needs a password)"


def test_a_scan_whose_only_text_is_its_page_numbers_has_no_text_layer(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    make_pdf(corpus / "scan.pdf", [[TextLine(str(n), at=30)] for n in range(1, 5)])
    (corpus / "note.txt").write_text("A note with text.", encoding="utf-8")
    assert dict(load_corpus(corpus).skipped)["scan.pdf"] == \
        "could not be read: no text layer (a scanned or image-only PDF; run OCR on it first)"


def test_pdf_uploads_are_read_from_the_upload_itself(small_settings, fake_embedder, tmp_path):
    """A new PDF is parsed before it is written to the corpus, and a scan is refused saying why."""
    from bot.errors import UsageError
    from tests.conftest import fake_sentence_bot

    bot = fake_sentence_bot(small_settings, fake_embedder)
    make_pdf(tmp_path / "vault.pdf", ["The vault code is 4711."])
    assert bot.add_document("vault.pdf", (tmp_path / "vault.pdf").read_bytes()).added == ["vault.pdf"]
    assert bot.ask("What is the vault code?").citations[0].doc == "vault.pdf"
    make_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(UsageError, match=r"scan\.pdf: could not be read: no text layer \(a scanned"):
        bot.add_document("scan.pdf", (tmp_path / "scan.pdf").read_bytes())
    assert not (small_settings.corpus_dir / "scan.pdf").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTICLE = [
    "The Warsaw Uprising Museum opened in 2004, sixty years after the uprising began. It holds weapons, "
    "photographs, films and the testimonies of the insurgents, and it reconstructs the sewers they used to move "
    "between districts of the occupied city, which the visitors can walk through today.",
    "Among the most visited rooms is a replica of a Liberator bomber, of the kind that dropped supplies to the "
    "fighters; a cinema shows City of Ruins, a three-dimensional flight over the destroyed capital in 1945, "
    "made from aerial photographs taken by the allied air forces after the war had ended.",
]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium to print a PDF")
def test_browser_printed_pdf_gives_back_the_source_paragraphs(tmp_path):
    page = tmp_path / "museum.html"
    paragraphs = "".join(f"<p>{html.escape(p)}</p>\n" for p in ARTICLE)
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Museum</title></head><body>"
                    f"<h1>Uprising Museum</h1>\n{paragraphs}<h2>Visiting</h2>\n<p>Open daily.</p></body></html>",
                    encoding="utf-8")
    pdf = tmp_path / "museum.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120)
    doc = load_document(pdf, "museum.pdf")
    assert doc.text.split("\n") == ["Uprising Museum", *ARTICLE, "Visiting", "Open daily."]
    assert [h for _, h in doc.headings] == ["Uprising Museum", "Visiting"]
    assert doc.page_at(len(doc.text) - 1) == 1


def _table(rows: list[tuple[str, ...]], top: float, columns: tuple[float, ...], bold_first: bool) -> list[TextLine]:
    return [TextLine(text, size=11, bold=bold_first and k == 0, at=top - 18 * k, x=x)
            for k, row in enumerate(rows) for x, text in zip(columns, row)]


def test_a_table_is_read_row_by_row_with_its_column_names(tmp_path):
    fares = [("Route", "Departs", "Adult fare"), ("Oban - Craignure", "07:45", "£4.20"),
             ("Oban - Colonsay", "09:15", "£7.95"), ("Mallaig - Armadale", "10:40", "£3.10")]
    fields = [("Policy number:", "A-1234"), ("Renewal date:", "1 March 2025")]
    make_pdf(tmp_path / "fares.pdf", [[
        TextLine("Ferry fares", size=16, bold=True, at=740),
        TextLine("Prices are per person for a single journey on the same day.", size=11, at=715),
        *_table(fares, 680, (72, 230, 320), bold_first=True),
        TextLine("Children under five travel free on every route.", size=11, at=590),
        *_table(fields, 560, (72, 230), bold_first=False),
    ]])
    doc = load_document(tmp_path / "fares.pdf", "fares.pdf")
    assert doc.text.split("\n") == [
        "Ferry fares", "Prices are per person for a single journey on the same day.",
        "Oban - Craignure — Departs: 07:45; Adult fare: £4.20.",
        "Oban - Colonsay — Departs: 09:15; Adult fare: £7.95.",
        "Mallaig - Armadale — Departs: 10:40; Adult fare: £3.10.",
        "Children under five travel free on every route.",
        "Policy number: A-1234.", "Renewal date: 1 March 2025."]
    assert [h for _, h in doc.headings] == ["Ferry fares"]  # the bold column names are no headings


def test_a_header_wrapped_onto_two_lines_names_the_columns_whole(tmp_path):
    rows = [("Room", "Weekday rate", "Evening rate"), ("", "(per hour)", "(per hour)"),
            ("Main Hall", "£30.00", "£39.00"), ("Garden Room", "£17.50", "£22.00")]
    lines = [TextLine(text, size=11, bold=k < 2, at=680 - 14 * k, x=x)
             for k, row in enumerate(rows) for x, text in zip((72, 230, 360), row) if text]
    make_pdf(tmp_path / "rates.pdf", [[TextLine("Hire rates", size=16, bold=True, at=740), *lines]])
    assert load_document(tmp_path / "rates.pdf", "rates.pdf").text.split("\n")[1:] == [
        "Main Hall — Weekday rate (per hour): £30.00; Evening rate (per hour): £39.00.",
        "Garden Room — Weekday rate (per hour): £17.50; Evening rate (per hour): £22.00."]


def test_lines_side_by_side_in_prose_columns_are_no_table(tmp_path):
    left = ["The first crossing was made in 1851 by a paddle", "steamer that carried mail and passengers."]
    right = ["Motor vessels replaced the steamers in 1935 and", "the first car ferry arrived in 1964."]
    make_pdf(tmp_path / "history.pdf", [[
        *[TextLine(text, size=10, at=700 - 13 * k, x=72) for k, text in enumerate(left)],
        *[TextLine(text, size=10, at=700 - 13 * k, x=320) for k, text in enumerate(right)],
    ]])
    text = load_document(tmp_path / "history.pdf", "history.pdf").text
    assert "paddle steamer" in text and "1935 and the first" in text and "—" not in text


def test_two_columns_are_read_left_then_right_and_a_heading_below_them_comes_last(tmp_path):
    left = ["The first crossing was made in 1851 by a paddle", "steamer that carried the mail.", None,
            "By 1900 three steamers served the route, and", "the company built a new pier with money"]
    right = ["raised from the island's farmers.", None, "Motor vessels replaced the steamers in 1935",
             "and the first car ferry arrived in 1964."]

    def column(texts: list[str | None], x: float) -> list[TextLine]:
        return [TextLine(text, size=10, at=660 - 13 * k, x=x) for k, text in enumerate(texts) if text]

    make_pdf(tmp_path / "ferries.pdf", [[
        TextLine("History", size=14, bold=True, at=690), *column(left, 72), *column(right, 320),
        TextLine("Notes", size=14, bold=True, at=570), TextLine("Dogs are welcome on deck.", size=10, at=550),
    ]])
    doc = load_document(tmp_path / "ferries.pdf", "ferries.pdf")
    assert doc.text.split("\n") == [
        "History", "The first crossing was made in 1851 by a paddle steamer that carried the mail.",
        "By 1900 three steamers served the route, and the company built a new pier with money raised from "
        "the island's farmers.",
        "Motor vessels replaced the steamers in 1935 and the first car ferry arrived in 1964.",
        "Notes", "Dogs are welcome on deck."]


def test_table_cells_the_layout_joins_into_one_line_are_cut_apart(tmp_path):
    from tests.pdf_helper import text_width

    rows = [("Part", "Check", "Interval"), ("Rain gauge funnel", "Clean with soft brush", "3 months"),
            ("Anemometer cups", "Check they spin freely", "6 months")]
    # Each column 0.85 em after the widest cell of the one before: the layout analysis makes one
    # line of a row's cells.
    starts = [72.0]
    for column in list(zip(*rows))[:-1]:
        starts.append(starts[-1] + max(text_width(text, 11, bold=True) for text in column) + 0.85 * 11)
    lines = [TextLine(text, size=11, bold=k == 0, at=680 - 18 * k, x=x)
             for k, row in enumerate(rows) for x, text in zip(starts, row)]
    make_pdf(tmp_path / "care.pdf", [[TextLine("Care of the station", size=16, bold=True, at=720), *lines]])
    doc = load_document(tmp_path / "care.pdf", "care.pdf")
    assert doc.text.split("\n")[1:] == [
        "Rain gauge funnel — Check: Clean with soft brush; Interval: 3 months.",
        "Anemometer cups — Check: Check they spin freely; Interval: 6 months."]


def test_short_lines_in_a_prose_column_make_no_rows_with_a_table_beside_it(tmp_path):
    letter = ["As many of you know, Mrs Pike retires at Easter after", "28 years of teaching. Please join us for her",
              "farewell assembly in the main hall.", "Warm wishes,", "Mr Samuel Adeyemi, Headteacher"]
    dates = [("Date", "Event"), ("Thu 21 March", "Farewell assembly"), ("Fri 22 March", "Easter parade"),
             ("Mon 8 April", "Summer term begins")]
    make_pdf(tmp_path / "news.pdf", [[
        *[TextLine(text, size=10, at=700 - 13 * k - (8 if k > 2 else 0), x=56) for k, text in enumerate(letter)],
        *[TextLine(text, size=10, bold=k == 0, at=700 - 13 * k, x=x)
          for k, row in enumerate(dates) for x, text in zip((330, 430), row)],
    ]])
    lines = load_document(tmp_path / "news.pdf", "news.pdf").text.split("\n")
    assert lines[:2] == ["As many of you know, Mrs Pike retires at Easter after 28 years of teaching. Please join us "
                         "for her farewell assembly in the main hall.", "Warm wishes, Mr Samuel Adeyemi, Headteacher"]
    assert lines[2:] == ["Thu 21 March — Event: Farewell assembly.", "Fri 22 March — Event: Easter parade.",
                         "Mon 8 April — Event: Summer term begins."]


def _unpacking_pdf(kb: int, in_form: bool, draws: int = 1) -> bytes:
    """A small PDF whose page (or a form the page draws `draws` times) unpacks to `kb` KB: a line of
    text, then blanks."""
    import zlib

    stream = zlib.compress(b"BT /F1 12 Tf 72 700 Td (Hello.) Tj ET\n%" + b" " * (kb * 1024) + b"\n", 9)
    packed = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
    form = b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> " + packed[3:]
    calls = b"q /X1 Do Q\n" * draws
    drawing = b"<< /Length %d >>\nstream\n" % len(calls) + calls + b"\nendstream"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> "
               b"/XObject << /X1 6 0 R >> >> /Contents 4 0 R >>",
               drawing if in_form else packed, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               form if in_form else b"<< >>"]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


@pytest.mark.parametrize("kb,in_form,draws", [(3000, False, 1), (3000, True, 1), (1500, True, 2)])
def test_a_small_pdf_that_unpacks_to_a_huge_page_is_refused_at_once(tmp_path, kb, in_form, draws):
    pdf = _unpacking_pdf(kb, in_form, draws)  # a form drawn twice is laid out twice
    (tmp_path / "bomb.pdf").write_bytes(pdf)
    assert len(pdf) < 100_000
    with pytest.raises(ValueError, match="a page unpacks to over 2 MB"):
        load_document(tmp_path / "bomb.pdf", "bomb.pdf")
    (tmp_path / "fine.pdf").write_bytes(_unpacking_pdf(kb // 4, in_form, draws))
    assert load_document(tmp_path / "fine.pdf", "fine.pdf").text == "\n".join(["Hello."] * draws)


def test_a_numbered_list_set_in_one_box_is_one_line_per_item_and_wrapped_items_stay_whole(tmp_path):
    make_pdf(tmp_path / "steps.pdf", [[
        TextLine("Setting up", size=16, bold=True),
        TextLine("Do these in order:", gap=8),
        TextLine("1. Open the battery door at the bottom of the sensor array and insert the"),
        TextLine("batteries, observing the polarity marks.", x=86),
        TextLine("2. Wait until the red LED flashes. 3. Attach the bracket with the two bolts."),
        TextLine("Spare parts are listed in chapter", gap=8),
        TextLine("3. The index lists every part."),
    ]])
    lines = load_document(tmp_path / "steps.pdf", "steps.pdf").text.split("\n")
    assert lines[1:] == [
        "Do these in order:",
        "1. Open the battery door at the bottom of the sensor array and insert the batteries, observing the polarity marks.",
        "2. Wait until the red LED flashes. 3. Attach the bracket with the two bolts.",
        "Spare parts are listed in chapter 3. The index lists every part."]  # a number, not an item


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium to print a PDF")
def test_justified_text_in_a_narrow_column_is_no_table(tmp_path):
    # Justified in a column this narrow, lines hold two or three long words far apart, and the layout
    # analysis cuts them at the stretched gaps: the pieces must not be read as a table's cells.
    text = ("The committee approved the proposal on Monday. Representatives of incomprehensibilities and "
            "internationalization concerns met at the headquarters to discuss counterrevolutionaries and the "
            "procedure. It was agreed unanimously that thereafter everything would go on.")
    page = tmp_path / "minutes.html"
    page.write_text("<!doctype html><html><body style='font-family: serif; font-size: 12pt'>"
                    f"<div style='width: 180px; text-align: justify'>{text}</div></body></html>", encoding="utf-8")
    pdf = tmp_path / "minutes.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert load_document(pdf, "minutes.pdf").text == text


@pytest.mark.parametrize("rows,expected", [
    ([("Plan", "Monthly fee", "Joining fee"), ("Basic", "£20", "none"), ("Plus", "£40", "waived"), ("Pro", "£60", "none")],
     ["Basic — Monthly fee: £20; Joining fee: none.", "Plus — Monthly fee: £40; Joining fee: waived.",
      "Pro — Monthly fee: £60; Joining fee: none."]),
    ([("Year", "Sales", "Costs"), ("2021", "1,204", "3,511"), ("2022", "1,310", "3,602"), ("2023", "1,422", "3,750")],
     ["2021 — Sales: 1,204; Costs: 3,511.", "2022 — Sales: 1,310; Costs: 3,602.", "2023 — Sales: 1,422; Costs: 3,750."]),
])
def test_tables_of_words_in_lower_case_or_of_figures_are_tables(tmp_path, rows, expected):
    from tests.pdf_helper import text_width

    starts = [72.0]
    for column in list(zip(*rows))[:-1]:
        starts.append(starts[-1] + max(text_width(text, 11, bold=True) for text in column) + 0.85 * 11)
    make_pdf(tmp_path / "t.pdf", [[TextLine("Prices", size=16, bold=True, at=720),
                                   *[TextLine(text, size=11, bold=k == 0, at=680 - 18 * k, x=x)
                                     for k, row in enumerate(rows) for x, text in zip(starts, row)]]])
    assert load_document(tmp_path / "t.pdf", "t.pdf").text.split("\n")[1:] == expected


def test_lines_share_a_baseline_when_their_middles_are_within_half_a_height():
    from bot.ingest.pdf_layout import Rect, same_baseline

    line, level = Rect(0, 100, 50, 110), Rect(60, 101, 90, 111)
    half_up, higher = Rect(60, 105, 90, 115), Rect(0, 112, 50, 122)
    assert same_baseline(line, level, 10) and not same_baseline(line, higher, 10)
    assert same_baseline(line, half_up, 10) and not same_baseline(line, half_up, 10, inclusive=False)
