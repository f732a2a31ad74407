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
