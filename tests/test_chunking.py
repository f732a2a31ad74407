import pytest

from bot.ingest.chunking import chunk_document, sentence_spans
from bot.ingest.corpus import load_document
from bot.ingest.html import parse_html
from bot.ingest.markdown import parse_markdown
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
    assert [(c.section, c.text) for c in chunks] == [("Alpha", "Alpha\n\nOne fact about alpha."),
                                                     ("Beta", "Beta\n\nOne fact about beta.")]


def test_standalone_line_taken_as_heading_stays_readable(tmp_path):
    path = tmp_path / "award.txt"
    path.write_text("The winner was:\n\nMaria Lopez\n\nShe received the medal in 2019.\n", encoding="utf-8")
    doc = load_document(path, "award.txt")
    chunks = chunk_document(doc, 600, 150)
    assert any("Maria Lopez" in c.text for c in chunks)
    assert any("The winner was:" in c.text for c in chunks) and any("She received" in c.text for c in chunks)


def test_no_chunk_lies_inside_the_one_before():
    # 0-494 holds the first two sentences; the third does not fit with the second, so a chunk
    # starting at the second sentence would end at 494 again and repeat it for nothing.
    first = "A" + " first sentence words" * 16 + "."
    second = "B" + " second sentence words" * 6 + "."
    third = "C" + " third sentence words" * 23 + "."
    doc = make_doc(f"{first} {second} {third}")
    chunks = chunk_document(doc, 600, 150)
    spans = [(c.start, c.end) for c in chunks]
    assert all(not (a[0] <= b[0] and b[1] <= a[1]) for a in spans for b in spans if a != b), spans
    assert [c.text[0] for c in chunks] == ["A", "C"]


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
    assert chunk.text.startswith("Notes\n\nFirst line.") and chunk.text.endswith("The answer is on line six.")
    assert chunk.line == 1
    assert chunk.line_at(doc.text.index("The answer")) == 6
    assert chunk.line_at(doc.text.index("First")) == 3


def test_numbered_headings_and_steps_are_one_sentence():
    text = "6. Warranty\n2.1. Fit the lid. Then wait."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["6. Warranty", "2.1. Fit the lid.", "Then wait."]


def test_a_heading_with_nothing_under_it_joins_the_next_section():
    doc = make_doc("# 5. Troubleshooting\n\n## 5.1 Filter light\n\nThe light turns red when the filter is full.\n")
    chunks = chunk_document(doc, 600, 150)
    assert len(chunks) == 1 and chunks[0].text.startswith("5. Troubleshooting")
    assert "red" in chunks[0].text


def test_a_long_sentence_is_cut_into_overlapping_pieces():
    sentence = ("The policyholder must pay, for each claim made under this policy, " * 12 +
                "an excess of two hundred and fifty euros.")
    doc = make_doc(sentence + "\n")
    chunks = chunk_document(doc, 200, 60)
    assert all(len(c.text) <= 200 for c in chunks)
    assert any("two hundred and fifty euros." in c.text for c in chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # each piece repeats the end of the one before


def test_a_hard_wrapped_sentence_is_one_sentence():
    text = "The building will open in\nthe autumn of 2026. It has a cafe.\nItems:\nkeys\n\nnext paragraph"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["The building will open in\nthe autumn of 2026.", "It has a cafe.", "Items:", "keys",
                   "next paragraph"]


def test_hard_wrapped_text_keeps_sentences_whole_across_capitalised_lines():
    """Text wrapped at a fixed width: a line that reaches the width runs on, whatever the next line
    starts with; a list of short lines, or text kept one paragraph per line, is not wrapped."""
    from bot.ingest.chunking import sentence_spans, wrap_width

    text = ("The new harbour crane was delivered in March 2021 by a Finnish maker.\n"
            "It can lift 80 tonnes and was paid for by the regional council and the\n"
            "European Maritime Fund. Work on its foundations took eleven weeks, and\n"
            "Mayor Lina Berg opened it at a ceremony attended by four hundred people.\n")
    assert wrap_width(text) == 72
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "It can lift 80 tonnes and was paid for by the regional council and the\nEuropean Maritime Fund." in sentences
    listing = "Monday to Friday: 7:00 to 19:00\nSaturday: 8:00 to 12:00\nSunday: closed\nHolidays: closed\n"
    assert wrap_width(listing) is None and len(sentence_spans(listing)) == 4
    assert wrap_width("One paragraph on a line. " * 10 + "\nAnother short line\nAnd a third\nAnd a fourth\n") is None


def test_short_list_items_in_lower_case_stay_sentences_of_their_own():
    """Bullets are dropped from Markdown lists, so their items are bare lines: a short one that
    stops without punctuation is an item, not a sentence broken off."""
    text = "Requirements\nPython 3.9 or newer\nrequests 2.28+\ntqdm for progress bars (optional)\n"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Requirements", "Python 3.9 or newer", "requests 2.28+", "tqdm for progress bars (optional)"]


def test_indented_wrapped_text_runs_on_and_a_new_list_item_does_not():
    text = ("   The controller keeps a log of every change it makes to the lamps, and\n"
            "   falls back to its last saved state when the link to the hub is lost for\n"
            "   more than ten seconds. A lamp that does not answer is marked offline.\n"
            "   The log is kept for ninety days and can be exported as a CSV file by\n"
            "   any administrator of the site.\n")
    sentences = [" ".join(text[s:e].split()) for s, e in sentence_spans(text)]
    assert sentences[0].startswith("The controller keeps") and sentences[0].endswith("more than ten seconds.")
    wrapped_list = ("Duties of the keeper, as set out in the contract signed in the spring:\n"
                    "- Keep the light burning from sunset to sunrise without any exception\n"
                    "- Maintain the breakwater and report any damage to the harbour office\n"
                    "- Collect the harbour dues from every vessel that moors at the quay\n")
    assert len(sentence_spans(wrapped_list)) == 4


def test_an_e_mail_shows_its_wrap_width_despite_headers_lists_and_a_long_quote_line():
    from bot.ingest.chunking import sentence_spans, wrap_width

    text = ("From: Martin Kessler <m.kessler@brightwater.example>\nTo: Dana Whitfield <dana@harborline.example>\n"
            "Subject: Re: Unit 14 lease renewal\n\nDear Dana,\n\n"
            "Thank you for the revised terms. We have discussed them internally and\n"
            "would like to accept the five-year term, but we cannot agree to the rent\n"
            "as proposed.\n\n"
            "- We accept the service charge of EUR 9.40 per square metre.\n"
            "- We would like the break clause after year three rather than year\n"
            "  four, with six months' notice.\n\n"
            "Sofia Lindqvist, our new facilities manager, will be the contact for\n"
            "the dock repairs from now on. She is in the office on Mondays to\n"
            "Wednesdays and can be reached on +31 20 555 0192.\n\n"
            "Kind regards,\nMartin\n\n"
            "On Mon, 4 Mar 2024 at 11:05, Dana Whitfield <dana.whitfield@harborline-properties.example> wrote:\n"
            "Dear Martin,\n")
    assert wrap_width(text) == 72
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "She is in the office on Mondays to\nWednesdays and can be reached on +31 20 555 0192." in sentences


def test_a_sentence_broken_off_before_a_figure_runs_on_and_a_numbered_item_does_not():
    text = ("If you are ill, you must notify your line manager by phone before\n"
            "9:30 a.m. on the first day of absence.\n"
            "1. Call your manager, and\n2. Record the absence in the HR portal\n")
    sentences = [" ".join(text[s:e].split()) for s, e in sentence_spans(text)]
    assert sentences[0] == ("If you are ill, you must notify your line manager by phone before 9:30 a.m. "
                            "on the first day of absence.")
    assert sentences[1:] == ["1. Call your manager, and", "2. Record the absence in the HR portal"]



def test_a_heading_with_nothing_under_it_and_its_first_subsection_head_one_chunk():
    doc = make_doc("# Changelog\n\n## 2.3.1 — 2026-01-19\n\n### Fixed\n- Uploads over 2 GB timed out.\n- Search lost focus.\n\n"
                   "### Security\n- A path traversal was closed.\n")
    first, *rest = chunk_document(doc)
    # A run of headings with nothing between them heads one chunk, named by the innermost (the
    # title is in no path); all of them are its heading: no answer, no list item.
    assert first.section == "2.3.1 — 2026-01-19 › Fixed"
    assert first.text[:first.heading_length] == "Changelog\n\n2.3.1 — 2026-01-19\n\nFixed"
    assert first.text.endswith("Search lost focus.")
    security = next(c for c in chunk_document(doc) if c.text.startswith("Security"))
    assert security.section.endswith("› Security") and security.text[:security.heading_length] == "Security"


def test_a_title_right_above_the_first_section_heads_its_chunk_with_it():
    doc = make_doc("# Leave FAQ 2024\n\n## Carry-over\n\nUp to 10 unused days may be carried over.\n\n"
                   "## Sick leave\n\nA certificate is needed from the fourth day.\n")
    first, second = chunk_document(doc, chunk_size=80, chunk_overlap=0)
    assert first.section == "Carry-over"
    assert first.text[:first.heading_length] == "Leave FAQ 2024\n\nCarry-over"
    assert second.section == "Sick leave"


def _sentences(kind: str, content: str) -> list[str]:
    parsed = {"md": parse_markdown, "html": parse_html}[kind](content)
    doc = Document(doc_id=f"d.{kind}", text=parsed.text, content_hash="x", kind=kind,
                   line_starts=tuple(parsed.line_starts), source_lines=tuple(parsed.source_lines),
                   headings=tuple(parsed.headings), block_starts=tuple(parsed.block_starts))
    return [" ".join(doc.text[s:e].split()) for chunk in chunk_document(doc) for s, e in chunk.sentences]


_ITEMS = ["free entry to the Harbour Gallery and the Ropewalk", "10% off in the museum shop and the Galley Café",
          "three issues a year of the newsletter The Bosun's Call", "invitations to exhibition previews"]


@pytest.mark.parametrize("kind, content", [
    ("md", "# Benefits\n\nAll Friends receive:\n\n" + "".join(f"- {item}\n" for item in _ITEMS)),
    ("html", "<h1>Benefits</h1><p>All Friends receive:</p><ul>" + "".join(f"<li>{i}</li>" for i in _ITEMS) + "</ul>"),
])
def test_a_long_list_item_in_lower_case_never_runs_on_into_the_next(kind, content):
    """A bare line over 40 characters that stops without punctuation reads as broken off; where
    the format marks it as a list item, the next item starts a sentence of its own."""
    assert _sentences(kind, content)[-4:] == _ITEMS


def test_a_line_break_inside_an_html_paragraph_may_carry_a_sentence_on():
    content = ("<p>The committee agreed that the harbour dues for visiting yachts will rise in<br>"
               "april, after the consultation closes.</p><p>next year the fees are reviewed again.</p>")
    assert _sentences("html", content) == [
        "The committee agreed that the harbour dues for visiting yachts will rise in april, after the consultation "
        "closes.", "next year the fees are reviewed again."]


def test_hard_wrapped_markdown_paragraphs_still_run_on():
    content = ("Membership runs for twelve months from the date of joining and can be\n"
               "renewed at either site.\n\n- a lowercase item that is long enough to look broken off\n"
               "- another item\n")
    assert _sentences("md", content) == [
        "Membership runs for twelve months from the date of joining and can be renewed at either site.",
        "a lowercase item that is long enough to look broken off", "another item"]


def test_a_pre_block_s_wrapped_lines_carry_a_sentence_on_and_a_line_after_a_blank_starts_one():
    content = ("<pre>The committee agreed that the harbour dues for visiting yachts\n"
               "rise in april, after the consultation that closes at the end of the month\n\n"
               "new paragraph here, in lower case as notes are written.</pre>")
    assert _sentences("html", content) == [
        "The committee agreed that the harbour dues for visiting yachts rise in april, after the consultation "
        "that closes at the end of the month", "new paragraph here, in lower case as notes are written."]
