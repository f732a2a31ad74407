"""Word (.docx) files: headings become sections, table rows become sentences that name their columns, list
items stay lines with Word's own numbers, the paragraph number is the cited line; damaged and encrypted files are skipped
with a one-line reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.errors import UsageError
from bot.ingest import word
from bot.ingest.chunking import chunk_document
from bot.ingest.corpus import load_document
from tests.conftest import SAMPLE_DOCS, fake_sentence_bot, load_corpus, write_corpus

docx = pytest.importorskip("docx")
from docx.oxml.ns import qn  # noqa: E402


def read_back(document, tmp_path, name: str):
    """A python-docx document as the bot reads it once saved under `name`."""
    out = io.BytesIO()
    document.save(out)
    return load_document(tmp_path / name, name, raw=out.getvalue())


def harbour_report() -> bytes:
    """Paragraph numbers: 1 title, 2 intro, 3 'Lighthouse', 4 lighthouse text, 5 empty,
    6 'Ships', 7-9 the table's three rows (the first, in bold, its header), 10 'Duties', 11-12 the
    list items."""
    document = docx.Document()
    document.add_heading("Harbour Report", level=0)
    document.add_paragraph("This report describes the old harbour of Port Elsa.")
    document.add_heading("Lighthouse", level=1)
    document.add_paragraph("The lighthouse was built in 1872 by Thomas Ward.")
    document.add_paragraph("")
    document.add_heading("Ships", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Ship", "Tonnage", "Launched"], ["Aurora", "1200 tons", "1901"],
                             ["Borealis", "900 tons", "1910"]]):
        for c, value in enumerate(row):
            table.cell(r, c).paragraphs[0].add_run(value).bold = r == 0
    document.add_heading("Duties", level=1)
    document.add_paragraph("The harbour master inspects the mooring ropes every Monday.", style="List Bullet")
    document.add_paragraph("The crew paints the pier railings each spring.", style="List Number")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_headings_tables_and_lists_become_lines_with_paragraph_numbers(tmp_path):
    path = tmp_path / "harbour.docx"
    path.write_bytes(harbour_report())
    doc = load_document(path, "harbour.docx")
    assert doc.kind == "docx" and doc.title == "Harbour Report"
    assert doc.text.split("\n") == [
        "Harbour Report", "This report describes the old harbour of Port Elsa.",
        "Lighthouse", "The lighthouse was built in 1872 by Thomas Ward.",
        "Ships", "Aurora — Tonnage: 1200 tons; Launched: 1901.", "Borealis — Tonnage: 900 tons; Launched: 1910.",
        "Duties", "The harbour master inspects the mooring ropes every Monday.",
        "1. The crew paints the pier railings each spring.",  # Word numbers "List Number" paragraphs
    ]
    # "Ships" (Heading 2) sits under "Lighthouse" (Heading 1); the Title names the document only
    assert [h for _, h in doc.headings] == ["Harbour Report", "Lighthouse", "Lighthouse › Ships", "Duties"]
    # The empty paragraph 5 is counted, so the table rows are paragraphs 7 to 9.
    assert [doc.line_at(doc.text.index(w)) for w in ("1872", "Aurora", "Borealis", "Monday", "spring")] == \
        [4, 8, 9, 11, 12]
    assert doc.section_at(doc.text.index("Aurora")) == "Lighthouse › Ships"
    chunks = chunk_document(doc, chunk_size=80, chunk_overlap=20)
    assert chunks and all(doc.text[c.start:c.end] == c.text for c in chunks)
    assert {c.section for c in chunks} == {"Harbour Report", "Lighthouse", "Lighthouse › Ships", "Duties"}


def test_core_title_and_merged_cells(tmp_path):
    document = docx.Document()
    document.core_properties.title = "Fleet  Register"
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Aurora"
    table.cell(0, 2).text = "1901"
    doc = read_back(document, tmp_path, "fleet.docx")
    assert doc.title == "Fleet Register"
    assert doc.text == "Aurora: 1901."  # the merged cell once, not once per column it spans


def test_a_docx_is_answerable_and_cited_by_section(small_settings, fake_embedder):
    write_corpus(small_settings.corpus_dir, {"harbour.docx": harbour_report()})
    bot = fake_sentence_bot(small_settings, fake_embedder)
    response = bot.ask("When was the lighthouse built, and by whom?")
    assert not response.abstained and "1872" in response.answer
    cite = response.citations[0]
    assert (cite.doc, cite.section, cite.line) == ("harbour.docx", "Lighthouse", 4)
    row = bot.ask("How heavy is the Aurora, in tons?")
    assert "1200 tons" in row.answer and row.citations[0].section == "Lighthouse › Ships" and row.citations[0].line == 8
    assert {"doc": "harbour.docx", "kind": "docx"}.items() <= \
        next(d for d in bot.documents() if d["doc"] == "harbour.docx").items()


def test_a_docx_upload_is_indexed_and_a_damaged_one_refused(small_settings, fake_embedder):
    bot = fake_sentence_bot(small_settings, fake_embedder)
    report = bot.add_document("harbour.docx", harbour_report())
    assert report.added == ["harbour.docx"]
    assert bot.ask("When was the lighthouse built?").citations[0].doc == "harbour.docx"
    with pytest.raises(UsageError, match=r"broken\.docx: could not be read: not a readable \.docx"):
        bot.add_document("broken.docx", b"PK\x03\x04 this zip ends here")
    assert not (small_settings.corpus_dir / "broken.docx").exists()


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


# An OLE compound file as Word writes a password-protected .docx: its directory names the
# EncryptionInfo and EncryptedPackage streams (UTF-16), the package itself is ciphertext.
ENCRYPTED = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le")
             + bytes(50) + "EncryptedPackage".encode("utf-16-le") + bytes(range(256)) * 8)
OLD_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le") + bytes(600)


@pytest.mark.parametrize("data,reason", [
    (b"PK\x03\x04 this zip ends here", "not a readable .docx (File is not a zip file)"),
    (b"Just some text saved with the wrong name.", "not a readable .docx (File is not a zip file)"),
    (_zip({"hello.txt": b"not a Word document"}), "not a readable .docx ("),
    (ENCRYPTED, "encrypted .docx (it needs a password; save a copy without one)"),
    (OLD_DOC, "an old Word .doc file, not a .docx (save it as .docx)"),
])
def test_broken_and_encrypted_docx_are_skipped_with_a_one_line_reason(tmp_path, data, reason):
    corpus = write_corpus(tmp_path / "c", {"bad.docx": data, "note.txt": "A note with text."})
    result = load_corpus(corpus)
    assert [d.doc_id for d in result.documents] == ["note.txt"]
    skipped = dict(result.skipped)["bad.docx"]
    assert skipped.startswith(f"could not be read: {reason}") and "\n" not in skipped


def test_a_docx_that_unpacks_to_too_much_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(word, "MAX_UNPACKED_MB", 0.001)
    with pytest.raises(ValueError, match=r"unpacks to over 0.001 MB"):
        load_document(tmp_path / "big.docx", "big.docx", raw=harbour_report())


def test_a_docx_whose_text_is_too_long_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(word, "MAX_TEXT_MB", 0.0001)  # about 100 characters
    with pytest.raises(ValueError, match=r"its text is over 0.0001 MB"):
        load_document(tmp_path / "big.docx", "big.docx", raw=harbour_report())


def test_the_index_reports_a_skipped_docx_and_answers_from_the_rest(small_settings, fake_embedder):
    write_corpus(small_settings.corpus_dir, {"locked.docx": ENCRYPTED})
    bot = fake_sentence_bot(small_settings, fake_embedder)
    assert sorted(d["doc"] for d in bot.documents()) == sorted(SAMPLE_DOCS)
    assert "skipped locked.docx: could not be read: encrypted .docx (it needs a password; " \
           "save a copy without one)" in bot.messages


# Namespaces for the XML injected below: WordprocessingML, markup compatibility, and the drawing
# and VML vocabularies a text box is stored in.
_NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def _docx_with_body(body_xml: str) -> bytes:
    """A .docx whose body is `body_xml`: the markup python-docx cannot write (tracked changes,
    content controls, text boxes) as Word saves it."""
    from docx.oxml import parse_xml

    document = docx.Document()
    body = document.element.body
    for element in list(parse_xml(f"<w:body {_NAMESPACES}>{body_xml}</w:body>")):
        body.sectPr.addprevious(element)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _load(tmp_path, body_xml: str):
    return load_document(tmp_path / "doc.docx", "doc.docx", raw=_docx_with_body(body_xml))


def test_tracked_insertions_count_and_deletions_do_not(tmp_path):
    doc = _load(tmp_path, (
        # an insertion replacing a deletion inside a sentence
        f'<w:p>{_run("The pier opens at ")}'
        '<w:del w:id="1" w:author="A"><w:r><w:delText>six</w:delText></w:r></w:del>'
        f'<w:ins w:id="2" w:author="A">{_run("seven")}</w:ins>{_run(" o&apos;clock.")}</w:p>'
        # a whole paragraph deleted, its mark too: no paragraph left, so none counted
        '<w:p><w:pPr><w:rPr><w:del w:id="3" w:author="A"/></w:rPr></w:pPr>'
        '<w:del w:id="4" w:author="A"><w:r><w:delText>The pier is closed on Sundays.</w:delText></w:r>'
        '</w:del></w:p>'
        # a paragraph moved down: only its new place shows
        '<w:p><w:pPr><w:rPr><w:moveFrom w:id="5" w:author="A"/></w:rPr></w:pPr>'
        f'<w:moveFrom w:id="6" w:author="A">{_run("Boats dock at the east quay.")}</w:moveFrom></w:p>'
        # a deleted paragraph mark joins the paragraph to the next one
        f'<w:p><w:pPr><w:rPr><w:del w:id="7" w:author="A"/></w:rPr></w:pPr>{_run("Tickets cost ")}</w:p>'
        f'<w:p><w:ins w:id="8" w:author="A">{_run("four euros")}</w:ins>{_run(".")}</w:p>'
        # a tab and a line break, as python-docx renders them
        '<w:p><w:r><w:t>Fees</w:t><w:tab/><w:t>monthly</w:t><w:br/><w:t>on the first.</w:t></w:r></w:p>'
        f'<w:p><w:moveTo w:id="9" w:author="A">{_run("Boats dock at the east quay.")}</w:moveTo></w:p>'
        # a deleted table row is gone; an inserted one is a row like any other
        f'<w:tbl><w:tr><w:tc><w:p>{_run("Ship")}</w:p></w:tc><w:tc><w:p>{_run("Berth")}</w:p></w:tc></w:tr>'
        f'<w:tr><w:trPr><w:del w:id="10" w:author="A"/></w:trPr><w:tc><w:p><w:del w:id="11" w:author="A">'
        '<w:r><w:delText>Borealis</w:delText></w:r></w:del></w:p></w:tc><w:tc><w:p/></w:tc></w:tr>'
        f'<w:tr><w:trPr><w:ins w:id="12" w:author="A"/></w:trPr><w:tc><w:p><w:ins w:id="13" w:author="A">'
        f'{_run("Aurora")}</w:ins></w:p></w:tc><w:tc><w:p>{_run("B4")}</w:p></w:tc></w:tr></w:tbl>'
    ))
    assert doc.text == ("The pier opens at seven o'clock.\nTickets cost four euros.\n"
                        "Fees\tmonthly\non the first.\nBoats dock at the east quay.\n"
                        "Ship; Berth.\nAurora: B4.")
    words = ("seven", "Tickets", "euros", "first", "Boats", "Aurora")
    assert [doc.line_at(doc.text.index(w)) for w in words] == [1, 2, 2, 3, 4, 6]


def test_inline_and_block_content_controls_keep_their_text_in_order(tmp_path):
    # The tester's contract.docx, with a heading and a table added inside the block control.
    doc = _load(tmp_path, (
        f'<w:p>{_run("Contract summary.")}</w:p>'
        '<w:sdt><w:sdtPr><w:alias w:val="Parties"/></w:sdtPr><w:sdtContent>'
        f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>{_run("Parties")}</w:p>'
        f'<w:p>{_run("The contract owner is Beatrix Holm.")}</w:p>'
        f'<w:tbl><w:tr><w:tc><w:p>{_run("Seller")}</w:p></w:tc><w:tc><w:p>'
        f'<w:sdt><w:sdtPr/><w:sdtContent>{_run("Nordic Rope AB")}</w:sdtContent></w:sdt>'
        '</w:p></w:tc></w:tr></w:tbl>'
        '</w:sdtContent></w:sdt>'
        f'<w:p>{_run("Signed in ")}<w:sdt><w:sdtPr/><w:sdtContent>{_run("Reykjavik")}</w:sdtContent></w:sdt>'
        f'{_run(" on Monday.")}</w:p>'
    ))
    assert doc.text.split("\n") == ["Contract summary.", "Parties", "The contract owner is Beatrix Holm.",
                                     "Seller; Nordic Rope AB.", "Signed in Reykjavik on Monday."]
    assert [h for _, h in doc.headings] == ["Parties"]
    assert doc.section_at(doc.text.index("Reykjavik")) == "Parties"
    assert [doc.line_at(doc.text.index(w)) for w in ("Beatrix", "Nordic", "Reykjavik")] == [3, 4, 5]


def test_hyperlinks_smart_tags_custom_xml_and_fields_show_their_text(tmp_path):
    doc = _load(tmp_path, (
        f'<w:p>{_run("Read ")}<w:hyperlink w:anchor="rules">{_run("the pier rules")}</w:hyperlink>'
        f'{_run(", ")}'
        # a link whose text is a tracked insertion, and a link inside a smart tag
        f'<w:hyperlink w:anchor="fees"><w:ins w:id="1" w:author="A">{_run("the fee list")}</w:ins>'
        '</w:hyperlink>'
        f'{_run(" and ")}<w:smartTag w:uri="urn:harbour" w:element="place">'
        f'<w:hyperlink w:anchor="map">{_run("the harbour map")}</w:hyperlink></w:smartTag>'
        f'{_run(" before ")}<w:customXml w:element="date">{_run("1 May")}</w:customXml>{_run(", page ")}'
        f'<w:fldSimple w:instr=" PAGE ">{_run("3")}</w:fldSimple>{_run(", or ")}'
        # a field written as codes: its result shows, its instruction does not
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> HYPERLINK "https://example.org" </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{_run("the website")}'
        f'<w:r><w:fldChar w:fldCharType="end"/></w:r>{_run(".")}</w:p>'
    ))
    assert doc.text == ("Read the pier rules, the fee list and the harbour map before 1 May, page 3, "
                        "or the website.")


def _text_box(text: str) -> str:
    """A text box as Word 2010+ saves it: DrawingML for new readers, VML as the fallback."""
    content = f"<w:txbxContent><w:p>{_run(text)}</w:p></w:txbxContent>"
    return (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic>'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f'<wps:wsp><wps:txbx>{content}</wps:txbx></wps:wsp>'
        '</a:graphicData></a:graphic></wp:anchor></w:drawing>'
        f'</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{content}</v:textbox></v:shape></w:pict>'
        '</mc:Fallback></mc:AlternateContent></w:r>'
    )


def test_a_text_box_is_read_once_after_its_anchor_paragraph(tmp_path):
    doc = _load(tmp_path, (
        f'<w:p>{_run("The harbour at dawn.")}{_text_box("The pier closes at dusk.")}</w:p>'
        f'<w:p>{_run("Boats leave at noon.")}</w:p>'
        # an older file's VML text box, with no DrawingML, in a table cell
        f'<w:tbl><w:tr><w:tc><w:p>{_run("Aurora")}</w:p></w:tc><w:tc><w:p><w:r><w:pict><v:shape><v:textbox>'
        f'<w:txbxContent><w:p>{_run("crew of twelve")}</w:p></w:txbxContent>'
        '</v:textbox></v:shape></w:pict></w:r>'
        '</w:p></w:tc></w:tr></w:tbl>'
    ))
    assert doc.text.split("\n") == ["The harbour at dawn.", "The pier closes at dusk.",
                                    "Boats leave at noon.", "Aurora; crew of twelve."]
    assert [doc.line_at(doc.text.index(w)) for w in ("dusk", "noon", "twelve")] == [2, 3, 4]


def _price_table(style: str | None = None, repeat_header: bool = False, header_row_option: bool = True,
                 figures: bool = False) -> bytes:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    if style:
        table.style = document.styles[style]
    fees = ["£25", "£10", "£40"] if figures else ["see below", "on request", "none"]
    for r, row in enumerate([["Plan", "Monthly fee", "Joining fee"], ["Basic", *fees[:2]], ["Plus", fees[2], "none"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    if repeat_header:
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None and not header_row_option:
        look.set(qn("w:val"), "0480")  # Table Design's "Header Row" unticked; first column kept
        look.set(qn("w:firstRow"), "0")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind, header", [
    ("style", True),            # a table style that sets its first row apart, "Header Row" ticked
    ("repeat", True),           # the first row repeats at the top of each page
    ("style, no option", False),  # the same style with "Header Row" unticked
    ("plain", False),           # nothing says the first row is a header
    ("labels", True),           # three column names over rows of figures
])
def test_a_table_row_names_its_columns_when_word_marks_a_header_row(tmp_path, kind, header):
    raw = {"style": lambda: _price_table("Light List Accent 1"), "repeat": lambda: _price_table(repeat_header=True),
           "style, no option": lambda: _price_table("Light List Accent 1", header_row_option=False),
           "plain": lambda: _price_table(), "labels": lambda: _price_table(figures=True)}[kind]()
    doc = load_document(tmp_path / "prices.docx", "prices.docx", raw=raw)
    if header:
        fee, joining, plus = ("£25", "£10", "£40") if kind == "labels" else ("see below", "on request", "none")
        assert doc.text.split("\n") == [f"Basic — Monthly fee: {fee}; Joining fee: {joining}.",
                                        f"Plus — Monthly fee: {plus}; Joining fee: none."]
        assert doc.line_at(doc.text.index("Plus")) == 3  # the header row is still counted
    else:
        assert doc.text.split("\n") == ["Plan; Monthly fee; Joining fee.", "Basic; see below; on request.",
                                        "Plus; none; none."]


def _table_doc(rows: list[list[str]], bold_first: bool = False, merge_last_row: bool = False) -> bytes:
    document = docx.Document()
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                table.cell(r, c).paragraphs[0].add_run(value).bold = bold_first and r == 0
    if merge_last_row:  # the last row's first two cells merged into one
        last = len(rows) - 1
        merged = table.cell(last, 0).merge(table.cell(last, 1))
        merged.text = rows[last][0]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_table_of_names_keeps_its_first_row(tmp_path):
    """No header is guessed from a digit somewhere below: "Room 12" is not a column of figures."""
    rows = [["Ada Lovelace", "Analyst", "London"], ["Alan Turing", "Engineer", "Room 12"],
            ["Grace Hopper", "Admiral", "Arlington"]]
    doc = load_document(tmp_path / "staff.docx", "staff.docx", raw=_table_doc(rows))
    assert doc.text.split("\n") == ["Ada Lovelace; Analyst; London.", "Alan Turing; Engineer; Room 12.",
                                    "Grace Hopper; Admiral; Arlington."]


def test_a_spec_sheet_names_its_columns_though_one_row_says_yes_or_no(tmp_path):
    rows = [["Specification", "Voltra Lite", "Voltra Pro", "Voltra Max"], ["Weight", "1.3 kg", "1.7 kg", "2.2 kg"],
            ["Battery", "12 V 2.0 Ah", "18 V 4.0 Ah", "18 V 5.0 Ah"], ["Hammer function", "No", "No", "Yes"]]
    doc = load_document(tmp_path / "specs.docx", "specs.docx", raw=_table_doc(rows))
    assert "Weight — Voltra Lite: 1.3 kg; Voltra Pro: 1.7 kg; Voltra Max: 2.2 kg." in doc.text.split("\n")
    assert "Hammer function — Voltra Lite: No; Voltra Pro: No; Voltra Max: Yes." in doc.text.split("\n")


@pytest.mark.parametrize("first, header", [
    (["Measure", "2023", "2024"], True),
    (["", "2023", "2024"], True),           # an empty corner over the row names
    (["Site", "1998", "2015"], False),      # years over more years: when each opened and closed
])
def test_a_first_row_of_years_over_figures_names_the_columns(tmp_path, first, header):
    below = [["Harbour visitors", "61,340", "67,905"], ["Ropewalk visitors", "9,870", "11,210"]]
    if not header:
        below = [["Harbour", "1791", "1968"], ["Ropewalk", "1850", "1921"]]
    doc = load_document(tmp_path / "report.docx", "report.docx", raw=_table_doc([first, *below]))
    if header:
        assert doc.text.split("\n") == ["Harbour visitors — 2023: 61,340; 2024: 67,905.",
                                        "Ropewalk visitors — 2023: 9,870; 2024: 11,210."]
    else:
        assert doc.text.split("\n")[0] == "Site; 1998; 2015."
    # years that follow each other head four-digit counts too
    counts = load_document(tmp_path / "staff.docx", "staff.docx",
                           raw=_table_doc([["Measure", "2023", "2024"], ["Staff", "1200", "1350"]]))
    assert counts.text == "Staff — 2023: 1200; 2024: 1350."


def test_bulleted_paragraphs_are_sentences_of_their_own(tmp_path):
    """Word's bullets leave bare lines; each is a paragraph, so a long one in lower case that
    stops without a full stop does not run on into the next."""
    items = ["free entry to the Harbour Gallery and the Ropewalk", "10% off in the museum shop and the Galley Café",
             "three issues a year of the newsletter The Bosun's Call"]
    document = docx.Document()
    document.add_paragraph("All Friends receive:")
    for item in items:
        document.add_paragraph(item, style="List Bullet")
    doc = read_back(document, tmp_path, "friends.docx")
    assert [doc.text[s:e] for chunk in chunk_document(doc) for s, e in chunk.sentences][1:] == items


def test_a_one_row_table_is_text_even_in_bold(tmp_path):
    raw = _table_doc([["Warning", "Never open the valve while the pump runs"]], bold_first=True)
    doc = load_document(tmp_path / "pump.docx", "pump.docx", raw=raw)
    assert doc.text == "Warning; Never open the valve while the pump runs."


def test_a_cell_merged_across_columns_takes_its_first_columns_name(tmp_path):
    rows = [["Item", "Quantity", "Price"], ["Rope", "2", "$30"], ["Total", None, "$40"]]
    doc = load_document(tmp_path / "order.docx", "order.docx", raw=_table_doc(rows, bold_first=True, merge_last_row=True))
    assert doc.text.split("\n") == ["Rope — Quantity: 2; Price: $30.", "Total — Price: $40."]


def test_word_list_numbers_are_read_as_word_shows_them(tmp_path):
    """Clause numbers set by Word's numbering, not typed, are part of the text: "What does clause
    2.1 say?" needs them. Levels nest ("2.1"), restart under a new parent, and bullets add nothing."""
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        '<w:abstractNum xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(parse_xml('<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                               'w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for level, text in [(0, "Scope"), (1, "This policy covers staff."), (2, "full-time staff;"), (2, "contractors."),
                        (0, "Retention"), (1, "Tenancy files are kept for 6 years."), (1, "CCTV is kept for 31 days.")]:
        paragraph = document.add_paragraph(text)
        paragraph.paragraph_format.element.get_or_add_pPr()._add_numPr().get_or_add_numId().val = 90
        paragraph.paragraph_format.element.get_or_add_pPr().numPr.get_or_add_ilvl().val = level
    document.add_paragraph("A note.", style="List Bullet")
    doc = read_back(document, tmp_path, "policy.docx")
    assert doc.text.split("\n") == ["1. Scope", "1.1 This policy covers staff.", "(a) full-time staff;", "(b) contractors.",
                                    "2. Retention", "2.1 Tenancy files are kept for 6 years.",
                                    "2.2 CCTV is kept for 31 days.", "A note."]


def test_a_numbered_cell_merged_down_rows_counts_once_and_a_list_may_redefine_a_level(tmp_path):
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("alpha", style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(1, 0).text = "A", "B"
    merged = table.cell(0, 1).merge(table.cell(1, 1))
    merged.paragraphs[0].text = "do it."
    merged.paragraphs[0].style = document.styles["List Number"]
    document.add_paragraph("omega", style="List Number")
    # a second list of the same definition whose level 0 is redefined as "I)", "II)"
    numbering = document.part.numbering_part.element
    list_number = document.styles["List Number"].element.pPr.numPr.numId.val
    abstract = next(n for n in numbering.iter(qn("w:num")) if n.numId == list_number).abstractNumId.val
    numbering.append(parse_xml(
        f'<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:numId="77">'
        f'<w:abstractNumId w:val="{abstract}"/><w:lvlOverride w:ilvl="0"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        f'<w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1)"/></w:lvl></w:lvlOverride></w:num>'))
    for text in ("first", "second"):
        paragraph = document.add_paragraph(text)
        paragraph.paragraph_format.element.get_or_add_pPr()._add_numPr().get_or_add_numId().val = 77
    doc = read_back(document, tmp_path, "steps.docx")
    lines = doc.text.split("\n")
    assert lines[:4] == ["1. alpha", "A: 2. do it.", "B: 2. do it.", "3. omega"]
    assert lines[4:] == ["I) first", "II) second"]


def test_a_word_value_merged_across_columns_goes_with_both_names(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=2, cols=4)
    for c, name in enumerate(["Ticket", "Adult", "Child", "Bicycle"]):
        table.cell(0, c).paragraphs[0].add_run(name).bold = True
    table.cell(1, 0).text = "Single"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "£12 flat fare"
    table.cell(1, 3).text = "£3"
    doc = read_back(document, tmp_path, "fares.docx")
    assert doc.text == "Single — Adult, Child: £12 flat fare; Bicycle: £3."


def test_a_table_with_two_header_rows_names_each_column_by_both(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(1, 0)).paragraphs[0].add_run("City").bold = True
    table.cell(0, 1).merge(table.cell(0, 2)).paragraphs[0].add_run("Daily allowance (EUR)").bold = True
    for c, name in ((1, "Meals"), (2, "Lodging cap")):
        table.cell(1, c).paragraphs[0].add_run(name).bold = True
    for c, value in enumerate(["Paris", "85", "210"]):
        table.cell(2, c).text = value
    doc = read_back(document, tmp_path, "allowances.docx")
    assert doc.text.split("\n")[-1] == "Paris — Daily allowance (EUR) – Meals: 85; Daily allowance (EUR) – Lodging cap: 210."


_NOTES_TYPES = {"footnotes": "footnotes+xml", "endnotes": "endnotes+xml"}


def _with_notes(raw: bytes, footnotes: dict[int, str], endnotes: dict[int, str]) -> bytes:
    """The .docx with footnote and endnote parts added, as Word writes them (python-docx cannot)."""
    def part(kind: str, notes: dict[int, str]) -> bytes:
        tag = kind[:-1]
        items = [f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>']
        items += [f'<w:{tag} w:id="{n}"><w:p><w:r><w:{tag}Ref/></w:r>{_run(" " + text)}</w:p></w:{tag}>'
                  for n, text in notes.items()]
        return f"<w:{kind} {_NAMESPACES}>{''.join(items)}</w:{kind}>".encode()

    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            for kind, content in _NOTES_TYPES.items():
                if item.filename == "[Content_Types].xml":
                    data = data.replace(b"</Types>", f'<Override PartName="/word/{kind}.xml" ContentType="application/'
                                        f'vnd.openxmlformats-officedocument.wordprocessingml.{content}"/></Types>'.encode())
                if item.filename == "word/_rels/document.xml.rels":
                    data = data.replace(b"</Relationships>", f'<Relationship Id="rId{kind}" Type="http://schemas.'
                                        f'openxmlformats.org/officeDocument/2006/relationships/{kind}" '
                                        f'Target="{kind}.xml"/></Relationships>'.encode())
            archive.writestr(item, data)
        archive.writestr("word/footnotes.xml", part("footnotes", footnotes))
        archive.writestr("word/endnotes.xml", part("endnotes", endnotes))
    return out.getvalue()


def test_notes_follow_the_paragraph_citing_them_and_headers_and_footers_are_read_once(tmp_path):
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Northwind Logistics — Internal"
    section.footer.paragraphs[0].text = "Policy FIN-07, version 3.2, approved 14 February 2024"
    document.add_paragraph("Travel policy")
    from docx.oxml import parse_xml

    cited = document.add_paragraph("The Zurich rates apply.")
    cited.runs[0]._r.addnext(parse_xml(f'<w:r {_NAMESPACES}><w:footnoteReference w:id="7"/></w:r>'))
    later = document.add_paragraph("Claims go to Finance.")
    later.runs[0]._r.addnext(parse_xml(f'<w:r {_NAMESPACES}><w:endnoteReference w:id="2"/></w:r>'))
    document.add_paragraph("Mileage is paid monthly.")
    out = io.BytesIO()
    document.save(out)
    raw = _with_notes(out.getvalue(), {7: "The Zurich rates also apply to Geneva and Basel."},
                      {2: "Finance answers within five days."})
    doc = load_document(tmp_path / "policy.docx", "policy.docx", raw=raw)
    assert doc.text.split("\n") == [
        "Travel policy", "The Zurich rates apply.[1]", "[1] The Zurich rates also apply to Geneva and Basel.",
        "Claims go to Finance.[i]", "[i] Finance answers within five days.", "Mileage is paid monthly.",
        "Northwind Logistics — Internal", "Policy FIN-07, version 3.2, approved 14 February 2024"]
    # a note is cited at the paragraph referring to it; the body's paragraph numbers are unchanged
    assert doc.line_at(doc.text.index("[1] The Zurich")) == 2 and doc.line_at(doc.text.index("Mileage")) == 4


def test_a_table_bold_throughout_has_one_header_row():
    document = docx.Document()
    table = document.add_table(rows=4, cols=3)
    for r, row in enumerate([["Plan", "Monthly fee", "Joining fee"], ["Basic", "£20", "none"], ["Plus", "£40", "£10"],
                             ["Pro", "£60", "£15"]]):
        for c, value in enumerate(row):
            table.cell(r, c).paragraphs[0].add_run(value).bold = True
    out = io.BytesIO()
    document.save(out)
    text = word.parse_docx(out.getvalue()).text
    assert text.split("\n")[-3:] == ["Basic — Monthly fee: £20; Joining fee: none.", "Plus — Monthly fee: £40; Joining fee: £10.",
                                     "Pro — Monthly fee: £60; Joining fee: £15."]


def test_a_page_number_footer_whose_fields_have_no_numbers_yet_is_left_out(tmp_path):
    document = docx.Document()
    document.sections[0].footer.paragraphs[0].text = "Page  of "  # PAGE and NUMPAGES fields not yet updated
    document.add_paragraph("The body.")
    assert read_back(document, tmp_path, "f.docx").text == "The body."


def test_a_paragraph_whose_style_the_file_lacks_is_body_text(tmp_path):
    doc = _load(tmp_path, '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>' + _run("Scope") + "</w:p>"
                          '<w:p><w:pPr><w:pStyle w:val="NoSuchStyle"/></w:pPr>' + _run("Body text.") + "</w:p>")
    assert doc.text == "Scope\nBody text." and [h for _, h in doc.headings] == ["Scope"]
