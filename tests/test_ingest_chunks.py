"""Properties of chunking over seeded random documents, loaded from files the way `bot index`
loads them: nothing a reader needs is lost, no chunk is redundant, offsets are exact."""

from __future__ import annotations

import random

import pytest

from bot.ingest.chunking import chunk_document, sentence_spans
from bot.ingest.corpus import load_document
from bot.types import SECTION_SEPARATOR, Document

WORDS = ("river bridge station museum council harbour winter report survey garden tower engine "
         "market village letter ferry school orchard signal canal archive chapel meadow quarry").split()
NAMES = ("Maria Lopez", "Harbour Master", "North Gate", "Elm Street", "Project Lantern", "Anna Berg", "1894")
SIZES = [(600, 150), (300, 100), (200, 50), (120, 40), (80, 0), (400, 399)]
DOCUMENTS = 300


def _sentence(rng: random.Random) -> str:
    length = rng.choice([rng.randint(2, 8), rng.randint(8, 30), rng.randint(30, 70)])
    words = [rng.choice(WORDS) for _ in range(length)]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), str(rng.randint(1, 2024)))
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "!", "?"])


def _block(rng: random.Random, markdown: bool) -> str:
    kind = rng.random()
    if kind < 0.15:
        return rng.choice(NAMES)  # a short stand-alone line: taken as a heading, and may be the only fact
    if kind < 0.25:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))).title()
    if kind < 0.35:
        return f"The {rng.choice(WORDS)} was:"
    if kind < 0.45:
        return "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(1, 4)))
    if markdown and kind < 0.55:
        return f"{'#' * rng.randint(1, 3)} {rng.choice(NAMES)}"
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 8)))


def random_document(rng: random.Random, markdown: bool) -> str:
    blocks = [_block(rng, markdown) for _ in range(rng.randint(1, 20))]
    return "".join(b + rng.choice(["\n\n", "\n\n", "\n", "\n\f"]) for b in blocks)


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[tuple[Document, int, int]]:
    """(document, chunk size, overlap) for each random document."""
    folder = tmp_path_factory.mktemp("random-docs")
    rng = random.Random(20240611)
    out = []
    for n in range(DOCUMENTS):
        suffix = ".md" if n % 3 == 0 else ".txt"
        path = folder / f"doc{n}{suffix}"
        path.write_text(random_document(rng, suffix == ".md"), encoding="utf-8")
        out.append((load_document(path, path.name), *rng.choice(SIZES)))
    return out


def _inside_one_chunk(chunks, start: int, end: int) -> bool:
    return any(c.start <= start and end <= c.end for c in chunks)


def test_every_sentence_and_heading_is_readable_in_some_chunk(documents):
    checked_headings = 0
    for doc, size, overlap in documents:
        chunks = chunk_document(doc, size, overlap)
        covered = set()
        for c in chunks:
            covered.update(range(c.start, c.end))
        for s, e in sentence_spans(doc.text):
            if e - s <= size:
                assert _inside_one_chunk(chunks, s, e), (doc.doc_id, doc.text[s:e])
            else:  # longer than a chunk: cut at words, but every character is still in some chunk
                assert set(range(s, e)) - {i for i in range(s, e) if doc.text[i].isspace()} <= covered
        for offset, path in doc.headings:
            heading = path.rsplit(SECTION_SEPARATOR, 1)[-1]  # a section is named with the headings above it
            start = doc.text.index(heading, offset)
            if len(heading) <= size:
                assert _inside_one_chunk(chunks, start, start + len(heading)), (doc.doc_id, heading)
                checked_headings += 1
    assert checked_headings > 200  # the generator does produce stand-alone lines taken as headings


def test_no_chunk_lies_inside_another(documents):
    for doc, size, overlap in documents:
        chunks = chunk_document(doc, size, overlap)
        for a, b in zip(chunks, chunks[1:]):
            # Starts and ends both strictly increase: then no chunk can contain another.
            assert a.start < b.start and a.end < b.end, (doc.doc_id, size, overlap, (a.start, a.end), (b.start, b.end))


def test_chunks_keep_the_offset_contract_and_size(documents):
    for doc, size, overlap in documents:
        for c in chunk_document(doc, size, overlap):
            assert doc.text[c.start:c.end] == c.text
            assert 0 < len(c.text) <= size
            assert c.line == doc.line_at(c.start)
            # The section is the innermost of the headings the chunk starts with (one, or a
            # heading with nothing under it and its own first subsection's, or the document's
            # first heading and the one below it).
            assert c.section == doc.section_at(c.start + max(c.heading_length - 1, 0))
            assert c.section.startswith(doc.section_at(c.start)) or doc.headings[0][0] == c.start
