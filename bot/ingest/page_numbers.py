"""A page's own number as documents print it ("Page 3 of 12", "- 3 -", "3/12"), for the plain-text,
PDF and Word readers, which leave it out of the text; and a running header or footer as it is
compared from page to page, with that number set aside.
"""

from __future__ import annotations

import re

_DASH = "[-–—]"
_NUMBER = r"\d{1,4}"
_TOTAL = rf"(?:\s*(?:of|/)\s*{_NUMBER})?"  # "of 12", "/12"


def page_number_line(*, most_digits: int = 4, unfilled_fields: bool = False) -> re.Pattern[str]:
    """A line that holds only a page number (to be matched whole: `fullmatch`): "Page 3 of 12",
    "Page 3", "- 3 -", "3/12", "3".

    most_digits: the longest page number (a header's "2024" is a year where 3 is the most).
    unfilled_fields: the number and the total may be missing, and "Page" may touch the number:
    Word writes them as fields set against their label, and a field whose result was never stored
    shows nothing ("Page  of ").
    """
    least = 0 if unfilled_fields else 1
    word_gap = r"\s*" if unfilled_fields else r"\s+"
    number, total = rf"\d{{{least},{most_digits}}}", rf"\d{{{least},4}}"
    return re.compile(rf"(?:page{word_gap})?{_DASH}?\s*{number}\s*{_DASH}?(?:\s*(?:of|/)\s*{total})?", re.IGNORECASE)


# Plain text has no layout to tell a page's number from a number in its text, so it is stricter than
# `page_number_line`: "Page 3" or "Page 3 of 12" on a line of its own counts anywhere (`PAGE_LABEL`);
# on a page's first or last line, also "- 3 -", "3 of 12", "3/12", "3", or a line ending in
# "[Page 3]" (a plain-text standard's footer: "Smith   Informational   [Page 3]"; `PAGE_NUMBER_AT_EDGE`).
PAGE_LABEL = re.compile(rf"^\s*page\s+{_NUMBER}{_TOTAL}\s*$", re.IGNORECASE)
PAGE_NUMBER_AT_EDGE = re.compile(rf"^\s*(?:{_DASH}\s*{_NUMBER}\s*{_DASH}|{_NUMBER}{_TOTAL}|\[page\s+{_NUMBER}\])\s*$"
                                 rf"|\S\s{{2,}}\[page\s+{_NUMBER}\]\s*$", re.IGNORECASE)

# Numbers this close to the page's own number are page numbers ("Page 3", "- 12 -", "3/10"); others
# ("Results for 2021", "Invoice 1003") are what the page is about.
PAGE_NUMBER_SLACK = 10
_NUMBER_IN_TEXT = re.compile(r"\d{1,6}")


def _near(number: str, page: int) -> bool:
    return abs(int(number) - page) <= PAGE_NUMBER_SLACK


def near_page(line: str, page: int) -> bool:
    """Whether the first number on a line is close to the page's own: "250" closing page 1 is an
    answer, not its number."""
    m = _NUMBER_IN_TEXT.search(line)
    return m is not None and _near(m.group(), page)


def running_key(line: str, page: int) -> str:
    """A line as a running header is compared from page to page: numbers close to the page's own
    number stand for it."""
    return _NUMBER_IN_TEXT.sub(lambda m: "#" if _near(m.group(), page) else m.group(), line.strip(" \t\f"))
