"""Word (.docx) files: headings become sections, tables become rows of " | "-joined cells, list
items stay lines, the paragraph number is the cited line; damaged and encrypted files are skipped
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


def harbour_report() -> bytes:
    """Paragraph numbers: 1 title, 2 intro, 3 'Lighthouse', 4 lighthouse text, 5 empty,
    6 'Ships', 7-9 the table's three rows, 10 'Duties', 11-12 the list items."""
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
            table.cell(r, c).text = value
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
        "Ships", "Ship | Tonnage | Launched", "Aurora | 1200 tons | 1901", "Borealis | 900 tons | 1910",
        "Duties", "The harbour master inspects the mooring ropes every Monday.",
        "The crew paints the pier railings each spring.",
    ]
    assert [h for _, h in doc.headings] == ["Harbour Report", "Lighthouse", "Ships", "Duties"]
    # The empty paragraph 5 is counted, so the table rows are paragraphs 7 to 9.
    assert [doc.line_at(doc.text.index(w)) for w in ("1872", "Aurora", "Borealis", "Monday", "spring")] == \
        [4, 8, 9, 11, 12]
    assert doc.section_at(doc.text.index("Aurora")) == "Ships"
    chunks = chunk_document(doc, chunk_size=80, chunk_overlap=20)
    assert chunks and all(doc.text[c.start:c.end] == c.text for c in chunks)
    assert {c.section for c in chunks} == {"Harbour Report", "Lighthouse", "Ships", "Duties"}


def test_core_title_and_merged_cells(tmp_path):
    document = docx.Document()
    document.core_properties.title = "Fleet  Register"
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Aurora"
    table.cell(0, 2).text = "1901"
    out = io.BytesIO()
    document.save(out)
    doc = load_document(tmp_path / "fleet.docx", "fleet.docx", raw=out.getvalue())
    assert doc.title == "Fleet Register"
    assert doc.text == "Aurora | 1901"  # the merged cell once, not once per column it spans


def test_a_docx_is_answerable_and_cited_by_section(small_settings, fake_embedder):
    write_corpus(small_settings.corpus_dir, {"harbour.docx": harbour_report()})
    bot = fake_sentence_bot(small_settings, fake_embedder)
    response = bot.ask("When was the lighthouse built, and by whom?")
    assert not response.abstained and "1872" in response.answer
    cite = response.citations[0]
    assert (cite.doc, cite.section, cite.line) == ("harbour.docx", "Lighthouse", 4)
    row = bot.ask("How heavy is the Aurora, in tons?")
    assert "1200 tons" in row.answer and row.citations[0].section == "Ships" and row.citations[0].line == 8
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


def test_the_index_reports_a_skipped_docx_and_answers_from_the_rest(small_settings, fake_embedder):
    write_corpus(small_settings.corpus_dir, {"locked.docx": ENCRYPTED})
    bot = fake_sentence_bot(small_settings, fake_embedder)
    assert sorted(d["doc"] for d in bot.documents()) == sorted(SAMPLE_DOCS)
    assert "skipped locked.docx: could not be read: encrypted .docx (it needs a password; " \
           "save a copy without one)" in bot.messages
