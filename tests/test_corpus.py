import os

import pytest

from bot.ingest.corpus import decode_text
from tests.conftest import load_corpus
from bot.errors import CorpusError
from tests.conftest import write_corpus


def test_missing_and_empty_corpus_errors_name_the_path(tmp_path):
    with pytest.raises(CorpusError, match="not found: .*nope"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no usable documents in .*empty"):
        load_corpus(tmp_path / "empty")


def test_bad_files_are_skipped_by_name_and_the_rest_loaded(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    corpus = write_corpus(tmp_path / "c", {
        "good.txt": "A normal document. It has two sentences.",
        "binary.txt": bytes(range(256)) * 4,
        "latin.txt": "Caf\xe9 cr\xe8me na\xefve.".encode("latin-1"),
        "utf16.txt": "Unicode sixteen text here.".encode("utf-16"),
        "empty.md": "",
        "invisible.md": "\u200b\u200b\n\ufeff\u2060\n",  # zero-width characters alone
        "copy.txt": "A normal document. It has two sentences.",
        "image.png": b"\x89PNG",
        "broken.pdf": b"%PDF-1.4 this is not really a pdf",
    })
    os.symlink(outside, corpus / "link.txt")
    result = load_corpus(corpus)
    loaded = {d.doc_id: d for d in result.documents}
    skipped = dict(result.skipped)
    assert set(loaded) == {"copy.txt", "latin.txt", "utf16.txt"} or set(loaded) == {"good.txt", "latin.txt", "utf16.txt"}
    assert loaded["latin.txt"].text == "Café crème naïve."
    assert loaded["utf16.txt"].text == "Unicode sixteen text here."
    assert "binary" in skipped["binary.txt"]
    assert skipped["empty.md"] == "empty file"
    assert "no text found" in skipped["invisible.md"]
    assert "duplicate of" in skipped.get("good.txt", skipped.get("copy.txt", ""))
    assert "unsupported" in skipped["image.png"]
    assert "could not be read" in skipped["broken.pdf"]
    assert "outside the corpus" in skipped["link.txt"]


def test_decode_prefers_utf8_then_cp1252():
    assert decode_text("naïve — ok".encode("utf-8")) == "naïve — ok"
    assert decode_text("smart \u2019quote".encode("cp1252")) == "smart \u2019quote"
    with pytest.raises(ValueError):
        decode_text(b"\x00\x01\x02binary\x00\x00\x03\x04")


def test_pdf_pages_are_kept(tmp_path):
    from tests.pdf_helper import make_pdf

    corpus = tmp_path / "c"
    corpus.mkdir()
    make_pdf(corpus / "two.pdf", ["Page one talks about apples.", "Page two talks about pears."])
    doc = load_corpus(corpus).documents[0]
    assert doc.kind == "pdf"
    pears = doc.text.index("pears")
    assert doc.page_at(pears) == 2 and doc.page_at(doc.text.index("apples")) == 1


def test_odd_names_and_links_are_skipped_by_name_and_the_rest_loaded(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"good.txt": "A normal document. It has two sentences."})
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as f:  # a Latin-1 name
        f.write(b"The cafe opened in 1921.")
    os.symlink("loop.txt", corpus / "loop.txt")
    os.symlink("missing.txt", corpus / "dangling.txt")
    os.symlink(".", corpus / "again")  # a link to the folder itself is not walked
    result = load_corpus(corpus)
    skipped = dict(result.skipped)
    assert [d.doc_id for d in result.documents] == ["good.txt"]
    assert "not valid UTF-8" in skipped["caf\\xe9.txt"]
    assert "leads nowhere" in skipped["loop.txt"] and "leads nowhere" in skipped["dangling.txt"]


def test_the_change_signature_does_not_walk_links_to_folders(tmp_path):
    from bot.ingest.corpus_watch import corpus_signature

    corpus = write_corpus(tmp_path / "c", {"a.txt": "text"})
    for name in "xyz":  # walked, three links back to the folder would make 3**40 paths
        os.symlink(".", corpus / name)
    assert [entry[0] for entry in corpus_signature(corpus)] == ["a.txt", "x", "y", "z"]  # the links, not walked


def test_a_link_to_a_document_of_the_corpus_leaves_the_document_under_its_own_name(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"d.txt": "The real document. It has two sentences."})
    os.symlink("d.txt", corpus / "0link.txt")  # sorts before its target
    result = load_corpus(corpus)
    assert [d.doc_id for d in result.documents] == ["d.txt"]
    assert dict(result.skipped) == {"0link.txt": "link to d.txt, indexed itself"}


def test_a_link_with_a_supported_name_to_an_unsupported_file_is_read_under_the_links_name(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"d.txt": "Another document. It has two sentences."})
    (corpus / "notes.log").write_text("The boiler was serviced in May.")
    os.symlink("notes.log", corpus / "notes.txt")
    result = load_corpus(corpus)
    assert [d.doc_id for d in result.documents] == ["d.txt", "notes.txt"]
    assert dict(result.skipped) == {"notes.log": "unsupported file type .log"}


def test_office_lock_files_and_editor_backups_are_ignored_silently(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"d.txt": "A document. It has two sentences."})
    for name in ("~$report.docx", "d.txt~", "notes.swp"):
        (corpus / name).write_bytes(b"\x00lock")
    result = load_corpus(corpus)
    assert [d.doc_id for d in result.documents] == ["d.txt"] and result.skipped == []


# ----- decoding -----

def test_utf8_with_a_stray_latin1_byte_keeps_its_utf8_and_repairs_only_that_byte():
    raw = "Der Bürgermeister von München heißt Dieter Reiter.\nLegacy line: ".encode("utf-8") + b"caf\xe9\n"
    assert decode_text(raw) == "Der Bürgermeister von München heißt Dieter Reiter.\nLegacy line: café\n"
    # A genuine cp1252 file still reads as cp1252, even where two of its bytes happen to form UTF-8 ("É”").
    latin = "CAFÉ” — crème brûlée, naïve, Müller, señor".encode("cp1252")
    assert decode_text(latin) == "CAFÉ” — crème brûlée, naïve, Müller, señor"


def test_html_declared_charset_is_honoured(tmp_path):
    russian = "Москва основана в 1147 году."
    corpus = write_corpus(tmp_path / "c", {
        "ru.html": b'<html><head><meta charset="windows-1251"></head><body><p>'
                   + russian.encode("cp1251") + b"</p></body></html>",
        "jp.htm": b'<html><head><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=Shift_JIS">'
                  b"<title>" + "東京".encode("shift_jis") + b"</title></head><body><p>"
                  + "東京は日本の首都です。".encode("shift_jis") + b"</p></body></html>",
    })
    docs = {d.doc_id: d for d in load_corpus(corpus).documents}
    assert russian in docs["ru.html"].text
    assert "東京は日本の首都です。" in docs["jp.htm"].text and docs["jp.htm"].title == "東京"


def test_html_charset_declaration_yields_to_bom_utf8_and_the_bytes():
    from bot.ingest.corpus import html_charset, parse_file

    def body(parsed_raw: bytes) -> str:
        return parse_file("html", parsed_raw).text

    meta = b'<meta charset="windows-1251"><p>'
    assert html_charset(meta) == "cp1251"
    # A BOM wins over the declaration.
    assert "Grüße" in body(b"\xef\xbb\xbf" + meta + "Grüße".encode("utf-8"))
    # Text saved as UTF-8 under a stale declaration: the non-ASCII bytes are valid UTF-8, so UTF-8 wins.
    assert "Grüße Москва" in body(meta + "Grüße Москва".encode("utf-8"))
    # Unknown or non-ASCII-compatible charsets are ignored; a declaration the bytes contradict falls back.
    assert html_charset(b'<meta charset="klingon">') is None
    assert html_charset(b'<meta charset="utf-16">') is None and html_charset(b'<meta charset="cp037">') is None
    assert html_charset(b'<!-- <meta charset="koi8-r"> --><p>x') is None
    assert "Café" in body(b'<meta charset="shift_jis"><p>' + "Café crème".encode("cp1252"))
    # Browsers read Latin-1 as windows-1252 (curly quotes in 0x80-0x9F).
    assert "\u201cquoted\u201d" in body(b'<meta charset="iso-8859-1"><p>' + "\u201cquoted\u201d".encode("cp1252"))
    # Declarations only count in HTML.
    assert "Москва" not in decode_text(meta + "Москва".encode("cp1251"))


def test_utf32_with_a_bom_is_decoded():
    text = "Hello, UTF-32 wörld."
    assert decode_text(b"\xff\xfe\x00\x00" + text.encode("utf-32-le")) == text
    assert decode_text(b"\x00\x00\xfe\xff" + text.encode("utf-32-be")) == text
    assert decode_text(text.encode("utf-16")) == text  # UTF-16 with a BOM is unchanged


def test_nul_bytes_after_the_sniffed_part_are_dropped():
    raw = ("Plain text line.\n" * 600).encode("ascii") + b"late\x00 NUL\x00s.\n"
    assert len(raw) > 8192 + 100
    text = decode_text(raw)
    assert "\x00" not in text and text.endswith("late NULs.\n")
    with pytest.raises(ValueError, match="NUL bytes"):  # in the sniffed part they still mean binary
        decode_text(b"early\x00 NUL " + raw)


def test_a_log_with_ansi_colours_is_read_without_the_escape_codes(tmp_path):
    lines = [f"\x1b[32m2024-05-0{i % 9 + 1} INFO\x1b[0m step {i} done \x1b[1;31mOK\x1b[m" for i in range(30)]
    corpus = write_corpus(tmp_path / "c", {"run.txt": "\n".join(lines).encode("utf-8")})
    doc = load_corpus(corpus).documents[0]
    assert "\x1b" not in doc.text and "2024-05-01 INFO step 0 done OK" in doc.text
    with pytest.raises(ValueError, match="control characters"):  # other control bytes are still binary
        decode_text(b"\x1b\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 20)


def test_terminal_escapes_and_control_characters_never_reach_the_text(tmp_path):
    raw = ("The vault code is 4417.\x1b]0;HACKED\x07 \x1bc Terminal reset \x1b]8;;http://x\x1b\\above\x1b]8;;\x1b\\.\n"
           "Bell\x07 and DEL\x7f and C1\x9b31m gone;\ttab\vand\x1eseparators\x85spaced.\n"
           "Page one.\n\fPage two.\r\nA lone ESC\x1b at the end\x1b").encode("utf-8")
    text = decode_text(raw)
    assert text == ("The vault code is 4417.  Terminal reset above.\n"
                    "Bell and DEL and C131m gone;\ttab and separators spaced.\n"
                    "Page one.\n\fPage two.\r\nA lone ESC at the end")  # tab, form feed and line breaks stay
    corpus = write_corpus(tmp_path / "c", {"esc.txt": raw})
    doc = load_corpus(corpus).documents[0]
    assert not any(ord(ch) < 32 and ch not in "\t\n" or 0x7f <= ord(ch) <= 0x9f for ch in doc.text)
    assert "HACKED" not in doc.text and "The vault code is 4417." in doc.text


def test_the_folder_fingerprint_sees_a_file_replaced_with_its_old_size_and_time(tmp_path):
    from bot.ingest.corpus_watch import corpus_signature

    doc = tmp_path / "bakery.txt"
    doc.write_text("Gamma Bakery was opened by Tomas Novak.", encoding="utf-8")
    before = corpus_signature(tmp_path)
    stat = doc.stat()
    replacement = tmp_path / "incoming.tmp"
    replacement.write_text("Gamma Bakery was opened by Pavel Horak.", encoding="utf-8")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or a tar restore keep it
    os.replace(replacement, doc)
    assert doc.stat().st_size == stat.st_size and doc.stat().st_mtime_ns == stat.st_mtime_ns
    assert corpus_signature(tmp_path) != before


def test_a_corpus_folder_that_cannot_be_listed_is_named_as_such(tmp_path, monkeypatch):
    import os

    from bot.errors import CorpusError
    from bot.ingest.corpus import check_corpus_folder

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(CorpusError, match="cannot read the corpus folder .*: permission denied"):
        check_corpus_folder(tmp_path)


def test_of_two_copies_of_one_file_the_one_named_for_its_type_is_kept(tmp_path):
    from bot.ingest.corpus import scan_corpus

    corpus = tmp_path / "c"
    corpus.mkdir()
    pdf = b"%PDF-1.4\n% a report\n" + bytes(range(256))
    (corpus / "a-copy.txt").write_bytes(pdf)  # sorts first
    (corpus / "report.pdf").write_bytes(pdf)
    (corpus / "notes.md").write_text("Plain notes.")
    (corpus / "notes.txt").write_text("Plain notes.")
    found = {f.rel: f.skip_reason for f in scan_corpus(corpus)}
    assert found["report.pdf"] == "" and found["a-copy.txt"] == "duplicate of report.pdf"
    assert found["notes.md"] == "" and found["notes.txt"] == "duplicate of notes.md"  # both text: the first
