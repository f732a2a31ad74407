import pytest

from bot.chunking import chunk_document, sentence_spans
from bot.corpus import load_document
from bot.parsing import parse_markdown
from bot.types import Document


def make_doc(text: str) -> Document:
    parsed = parse_markdown(text)
    return Document(doc_id="d.md", text=parsed.text, content_hash="x", kind="md",
                    line_starts=tuple(parsed.line_starts), source_lines=tuple(parsed.source_lines),
                    headings=tuple(parsed.headings))


def test_sentences_respect_abbreviations_and_numbers():
    text = "The U.S. Army arrived at 3.5 p.m. in Jan. 2015. Dr. Smith left. It cost $1,500."
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["The U.S. Army arrived at 3.5 p.m. in Jan. 2015.", "Dr. Smith left.", "It cost $1,500."]


def test_sentences_never_cross_lines():
    text = "First bullet without period\nSecond bullet. Still second"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["First bullet without period", "Second bullet.", "Still second"]


@pytest.mark.parametrize("size,overlap", [(80, 0), (120, 40), (300, 100), (600, 150)])
def test_chunks_are_exact_slices_of_the_document(size, overlap):
    body = " ".join(f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(60))
    doc = make_doc(f"# Title\n\n{body}\n\n## Second part\n\n- A bullet.\n- Another bullet with [a link](#).\n")
    chunks = chunk_document(doc, size, overlap)
    assert chunks
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert len(c.text) <= size
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end


def test_overlap_repeats_trailing_sentences_and_always_advances():
    body = " ".join(f"This is sentence {i}." for i in range(40))
    doc = make_doc(body)
    chunks = chunk_document(doc, 100, 40)
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts))
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:])), "expected overlapping chunks"
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s, e in sentence_spans(doc.text):
        assert set(range(s, e)) <= covered


def test_chunks_do_not_cross_sections_and_know_their_heading():
    doc = make_doc("# Alpha\n\nOne fact about alpha.\n\n# Beta\n\nOne fact about beta.\n")
    chunks = chunk_document(doc, 500, 0)
    assert [(c.section, c.text) for c in chunks] == [("Alpha", "One fact about alpha."), ("Beta", "One fact about beta.")]


def test_long_sentence_is_split_at_word_boundaries():
    doc = make_doc("word " * 200)
    chunks = chunk_document(doc, 100, 0)
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text and not c.text.startswith(" ")


def test_line_numbers_point_at_the_source_file(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\nFirst line.\n\n\n- The answer is on line six.\n", encoding="utf-8")
    doc = load_document(path, "notes.md")
    chunk = chunk_document(doc, 50, 0)[-1]
    assert chunk.text.startswith("First line.") and chunk.text.endswith("The answer is on line six.")
    assert chunk.line == 3
    assert chunk.line_at(doc.text.index("The answer")) == 6
    assert chunk.line_at(doc.text.index("First")) == 3
