"""A page's own number, as the plain-text, PDF and Word readers recognise it."""

from __future__ import annotations

import pytest

from bot.ingest.page_numbers import PAGE_LABEL, PAGE_NUMBER_AT_EDGE, near_page, page_number_line, running_key


@pytest.mark.parametrize("text", ["Page 3", "Page 3 of 12", "page 12/40", "- 3 -", "—3—", "3", "3/12", "1024"])
def test_a_line_of_only_a_page_number_matches(text):
    assert page_number_line().fullmatch(text)


@pytest.mark.parametrize("text", ["Page", "Page3", "Page 3 of", "12345", "Chapter 3", "3. Results"])
def test_a_line_with_more_or_less_than_a_page_number_does_not(text):
    assert not page_number_line().fullmatch(text)


def test_unfilled_fields_allow_a_missing_number_and_fewer_digits():
    fields = page_number_line(most_digits=3, unfilled_fields=True)
    for text in ("Page  of ", "Page", "Page3", "Page 3 of 12", "- 3 -"):
        assert fields.fullmatch(text), text
    assert not fields.fullmatch("2024")  # a year, not a page


def test_plain_text_takes_bare_numbers_only_at_a_page_edge():
    assert PAGE_LABEL.match("  Page 3 of 12  ") and not PAGE_LABEL.match("- 3 -")
    for text in ("- 3 -", "3 of 12", "3", "[Page 3]", "Smith   Informational   [Page 3]"):
        assert PAGE_NUMBER_AT_EDGE.search(text), text
    assert not PAGE_NUMBER_AT_EDGE.search("3 -")


def test_numbers_near_the_page_are_its_number():
    assert near_page("- 12 -", 3) and not near_page("250", 1) and not near_page("no number", 1)
    assert running_key(" Annual report 2021, page 4\f", 4) == "Annual report 2021, page #"
