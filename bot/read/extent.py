"""How much of its passage an answer takes: the reader's span widened to what the question asks for.

The reader learnt from SQuAD, whose answers are short phrases inside running prose. Asked for the
documents to attach, the steps of a procedure or why a rule changed, it gives the first item or
the first clause. The passage's layout, which the reader's tokens do not show, settles these after
reading:

- **list**: a question for several things ("What are the steps...", "Which documents...", "What
  do I need...") answered inside one item of a list takes the whole list;
- **row** (`rows.py`): a question naming one row of a table, or one line of a labelled list ("jury service",
  "flashing red"), answered from another row takes the named row's value, in the column the
  question names ("a student day return") or else the same column; answered with a part of a
  short value there ("20:00" of "Saturday: 09:00 to 20:00"), the whole value;
- **type**: a question for an e-mail address, a web address or a phone number, answered with
  something else (the name beside it), takes the one in the answer's sentence;
- **yes/no**: a question answered yes or no ("Can I keep a cat?", "Do I get interest on my
  deposit?") takes the clause its span lies in: what the documents say of it ("Not to keep any pet
  ... without the Landlord's prior written consent"), not a phrase of it ("prior written consent");
- **sentence**: a why / how / what-is question answered under a line of the document that asks
  that question (an FAQ's "Q:", a heading "Why the carry-over rule changed") takes its sentence
  to the end. In running prose a short answer sits inside a longer sentence, so the rule waits
  for the document to show that the sentence is the answer;
- **figure**: a figure in words followed by its digits in brackets takes them and what it counts
  ("thirty (30) days");
- **kind**: "What kinds of forensics training..." answered from an item of a list written in a
  sentence ("training in investigating incidents, cyber forensics, crime scene forensics, and...")
  takes the items that name the kind asked for;
- **series**: a question for several things ("Which systems require MFA?") answered with some
  items of a series written in a sentence ("mandatory for email, the HR portal, Expensa and every
  system that can be reached from outside...") takes the whole series;
- **between**: a figure after "between" takes the word and the range's other end ("between 3:00
  and 5:00");
- **open end**: a figure followed by "or later", "or more"... takes them ("Android 9.0 or later");
- **tally**: a span in a tally ("38 for, 4 against, 2 abstentions") takes the count of the one item
  the question says ("4" for "How many voted against?");
- **purpose**: "How do I reset the router?" answered with the purpose that opens a sentence ("To
  restore the factory settings") takes what follows it instead ("press and hold Reset for 6 seconds");
- **label**: a span that is the whole label of a labelled line and only says what the question
  asks for ("Phone extension" of "Phone extension: 214") takes the line's value;
- **complement**: an answer that only names what the question asks for ("mutual expertise" for
  "What expertise...?") takes what the sentence says it is ("...in the areas of crisis management,
  border security, and terrorism investigations"); one that only repeats the question's words
  ("the criminal code" for "Which criminal code changes...?") takes the noun it completes
  ("amendments to the criminal code");
- **when**: a date or day answering "When..." takes the days and times that follow it ("1 May to
  30 September only, Thursday to Sunday, 11:00 to 16:30");
- **name**: a question for what something is called takes the whole capitalised name ("The
  Bosun's Call", not "Bosun");
- **figure** (shortened): an amount that runs on into a second clause ("£1,420,000 and total
  expenditure was £1,370,000") ends with its figure, where the question asks for one;
- **hours**: "What time does the office open?" (or "close", "finish"...) answered with its hours
  ("7:30 am to 7:00 pm") takes that end of them ("7:30 am"); "When is the shop open?" keeps both;
- **quantity**: "How heavy is it?" (or "How much is...", "How tall...") answered with a value of
  several figures ("sleeps 3, packed weight 2.6 kg, price £319") takes the one of that quantity;
- **person**: "Who...?" answered with a name and a bracketed aside ("Sian Roberts (07700 900 562)")
  takes the name alone;
- **bound**: a figure or a clock time, however shaped, takes the limit before it ("at least 14
  characters", "up to 20", "before 9:30"), and "more than fifteen" its "no".

Whether to answer at all is decided on the reader's own span; widening only shapes what is shown.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

from bot.ingest.chunking import LIST_MARK
from bot.questions import ASKS_WHO
from bot.read.rows import (
    LABELLED, WORD, Lines, content_stems, content_words, in_named_line, named_cell, respan, row_cells, row_value,
    weekdays_of_range)
from bot.read.units import asked_quantities, figures_measuring, in_another_unit, is_unit, not_a_count
from bot.types import Chunk, Passage, Span
from bot.words import MONTHS, NUMBER_WORDS, STOP_WORDS, WEEKDAYS, stem

_MARKED_LINE = re.compile(rf"[ \t]*({LIST_MARK})[ \t]+\S")
_SENTENCE_BREAK = re.compile(r"[.!?][\"”’)]?\s+[A-Z]")
_MAX_ITEM_CHARS = 200  # a list item is a line of a phrase or a short sentence
_MAX_ITEMS = 20
_MAX_ADDED_WORDS = 40  # a sentence's end: the rest of one sentence, not a paragraph

# What a question asks for.
_AUXILIARIES = frozenset("is was does did do has had can could should would will must may might".split())
_VERBS_IN_S = frozenset("happens means causes makes takes goes comes gets needs uses says works costs lasts "
                        "includes contains requires".split())
_SEVERAL = re.compile(r"^(?:list|name|enumerate)\b|\b(?:steps|stages)\b"
                      r"|\bwhat (?:do|does|will|should|must) \w+ (?:need|bring|require)\b")
# "Why...", "What causes...", "How does X work?", "How do I...", "What is OpenTherm?", "What does X
# mean?"; not "What is the name / price / date of...", which want a value.
_DESCRIPTION = re.compile(
    r"^(?:why\b|what (?:causes|happens)\b|how (?:does|do) .+\bwork\b|how (?:do|can|should) (?:i|you|we)\b"
    r"|what (?:is|are) (?:an? |the )?(?!(?:\w+ )?(?:name|address|number|date|time|price|cost|rate|size|age|url"
    r"|email|phone)\b)[\w'-]+(?: [\w'-]+)?\?*$|what does .{1,60} (?:mean|do)\?*$)", re.I)
_WH_WORDS = ("why", "how", "what", "which", "when", "where", "who")
# Before a question line's own words: "Q:", "Question.", a section number "4.5".
_QUESTION_LEAD = re.compile(r"^\s*(?:q(?:uestion)?\s*[:.]\s*|\d{1,3}(?:\.\d{1,3})*\.?\s+)?", re.I)


# "What was fixed", "What has been added", "What changed": what was done, in a past participle.
_WHAT_WAS_DONE = re.compile(r"(?:what|which \w+)\s+(?:(?:was|were|has been|have been|got|is|are)\s+)?([a-z]+ed)\b",
                            re.I)


def asks_explicitly_for_several(question: str) -> bool:
    """"What are the steps...", "List the...", "What do I need to bring?": several things, whatever
    one of them names."""
    return _SEVERAL.search(" ".join(question.lower().split())) is not None


def asks_for_several(question: str) -> bool:
    """Whether a question asks for several things: explicitly, or by a plural ("Which documents
    must be attached?", "What are the risks?")."""
    return asks_explicitly_for_several(question) or _plural_asked(question) is not None


def _plural_asked(question: str) -> str | None:
    """The plural a "what" or "which" question asks for ("documents" of "Which documents must be
    attached?", "" for "What are the risks?"), or None where it asks for one thing."""
    written = re.findall(r"[A-Za-z][A-Za-z'-]*", question)
    if written and written[0].lower() in ("what", "which"):
        for n, as_written in enumerate(written[1:4]):
            word = as_written.lower()
            if word in ("are", "were"):
                return "" if n == 0 else None  # "What are the risks?"; not "What format are thumbnails saved in?"
            if word in _AUXILIARIES or word in _VERBS_IN_S:
                return None
            if (len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))
                    and not as_written[:1].isupper()):
                # A plural: "Which documents", "What risks", "What safety documents must..."; not
                # "Which Windows version", nor the verb of "What command checks the install?".
                following = written[n + 2].lower() if n + 2 < len(written) else ""
                several = n == 0 or following in _AUXILIARIES or following in ("are", "were", "need", "")
                return word if several else None
    return None


def _singulars(word: str) -> set[str]:
    """What a plural's singular may be ("buses": "bus" or "buse"; "courses": "course"; "ferries":
    "ferry"); the spelling alone does not say which."""
    forms = {word[:-1]} if word.endswith("s") else {word}
    for plural, singular in (("ies", "y"), ("ses", "s"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(plural):
            forms.add(word[: len(word) - len(plural)] + singular)
    return forms


def _picks_one_item(question: str, lines: Lines, items: tuple[int, int], start: int, doc_id: str = "") -> bool:
    """Whether a name or a figure of the question ("on Saturday", "Windows", "in 2002") stands in
    the answer's item of the list and in no other: the question asks for that item, not the list.
    A name the passage gives above the list, or the file name ("the RX-300" of the RX-300's manual),
    says which document is asked about, not which item. So does the thing a plural question asks
    for, where it labels the answer's item alone ("Which buses stop outside?" of "By bus: the 7 and
    7A stop at Quay Street" among "By train: …" and "By car: …"), and a table row or labelled line
    the question names by its label."""
    first, last = lines.index(items[0]), lines.index(items[1])
    if in_named_line(question, start, start + 1, lines):
        return True  # a row or line the question names by its label ("the fares for a Weekly Rider", "on Tuesdays")
    plural = _plural_asked(question)
    if plural:
        labelled = [i for i in range(first, last + 1)
                    if (m := LABELLED.match(lines[i])) and _singulars(plural) & set(WORD.findall(m["label"].lower()))]
        if labelled == [lines.index(start)]:
            return True
    after_first_word = question.strip().partition(" ")[2]
    specific = {w.lower() for w in re.findall(r"\b(?:[A-Z][\w'-]*|\d[\w.,:/-]*)", after_first_word)}
    # A name typed in lower case is one still, where the list writes it with capitals ("macos" of
    # "macOS"); a capital opening an item ("Clean the filter") makes no name.
    item_names = {w.lower() for i in range(first, last + 1)
                  for n, w in enumerate(re.findall(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*", lines[i]))
                  if not w.islower() and (n > 0 or not w[1:].islower())}
    specific |= {w for w in WORD.findall(after_first_word.lower()) if w in item_names and w not in STOP_WORDS}
    # What heads the list (the title, its heading, its lead-in) and the file name: not a note below it.
    heading = lines.text[:lines.bounds[first][0]] + "\n" + doc_id
    around = {w.replace("-", "") for w in WORD.findall(heading.lower().replace("_", " "))}
    specific = {w for w in specific if w.replace("-", "") not in around}
    if not specific:
        return False
    holding = [i for i in range(first, last + 1) if specific & set(WORD.findall(lines[i].lower()))]
    return holding == [lines.index(start)]


# Words by which a list's lead-in points to it: "The following people must be told:".
_POINTING = re.compile(r"\b(?:the following|following|below|as follows|these|those)\b", re.I)


def _list_pointed_to(lines: Lines, start: int, end: int, heading: int,
                     sentences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The list a span points to from its lead-in ("The following people" of "The following people
    must be informed:" above four names), or None: the reader chose the words that stand for it."""
    i = lines.index(start)
    if lines.index(max(start, end - 1)) != i or not lines[i].rstrip().endswith(":"):
        return None
    if not _POINTING.search(lines.text[start:end]):
        return None
    following = i + 1
    while following < len(lines) and not lines[following].strip():
        following += 1
    if following >= len(lines):
        return None
    item = lines.text_start(following)
    return _list_in(lines, item, item + 1, heading, sentences)


def _heading_asked(question: str, lines: Lines, list_start: int, heading: int) -> bool:
    """Whether the list at `list_start` stands right under the heading the passage starts with
    (`heading`: its length), and the question asks what was done with that heading's word: "What
    was fixed in 2.3.1?" of a list headed "Fixed", "What changed?" of "Changed". Such a list is the
    answer; "What is the deadline?" under "Deadline" asks for a value of it."""
    done = _WHAT_WAS_DONE.match(" ".join(question.split()))
    if done is None:
        return False
    above = lines.index(list_start) - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above < 0 or not lines.ends_heading(above, heading):
        return False
    named = content_stems(lines[above])
    return stem(done.group(1)) in named and named <= content_stems(question)


def asks_for_description(question: str) -> bool:
    return _DESCRIPTION.match(" ".join(question.split())) is not None


class Extent(NamedTuple):
    spans: list[Span]  # the reader's ranked spans, the answer first
    rule: str = ""  # which rule of the module's docstring shaped the answer ("list", "row", "when"...); '' for none


def widen(question: str, spans: list[Span], passages: list[Passage],
          held: Callable[[Span], bool] | None = None) -> Extent:
    """The reader's ranked spans, the first (the answer) widened or moved as the rules above say;
    the others as they were. `held`: whether a lower span may answer at all (the checks of
    `doubts.py`), where the answer moves to one ("AGM 2024"'s venue does not answer for 2022)."""
    if not spans or spans[0].passage_index >= len(passages):
        return Extent(spans)
    best, rest = spans[0], spans[1:]
    passage = passages[best.passage_index]
    chunk = passage.chunk
    lines = Lines(chunk.text)
    start, end = best.start - chunk.start, best.end - chunk.start
    moved = named_cell(question, best, passage)
    if moved is not None and not_of_the_asked_type(question, moved, passage) \
            and not not_of_the_asked_type(question, best, passage):
        moved = None  # "the Finance Manager's email" is on the line under "Finance Manager: Rajesh Mehta"
    if moved is not None:
        at = (question, chunk.text, moved.start - chunk.start, moved.end - chunk.start)
        part = _contact_part(*at) or _name_without_its_aside(*at)
        return Extent([respan(moved, passage, *part) if part else moved, best, *rest], "row")
    if not in_named_line(question, start, end, lines):
        # A lower span of the same passage in the row the question names answers it, where the best
        # one lies in no row it names ("Who approves jury service leave?" answered from the
        # bereavement row); so does one of another passage of the same document where the best one
        # lies in its passage's heading ("How much does Joint membership cost?" answered from the
        # title "Membership 2025"). Another document's row is another edition's.
        in_heading = end <= chunk.heading_length
        for k, other in enumerate(rest):
            own = passages[other.passage_index].chunk if other.passage_index < len(passages) else None
            if own is not None and (own is chunk or in_heading and own.doc_id == chunk.doc_id) and in_named_line(
                    question, other.start - own.start, other.end - own.start,
                    lines if own is chunk else Lines(own.text)) and (held is None or held(other)):
                # in the column the question names, where the reader's span there is in another
                column = named_cell(question, other, passages[other.passage_index])
                return Extent([column or other, best, *rest[:k], *rest[k + 1:]], "row")
    typed = _of_the_asked_type(question, chunk, start, end)
    if typed is not None:
        return Extent([respan(best, passage, *typed), *rest], "type")
    sentences = [(s - chunk.start, e - chunk.start) for s, e in chunk.sentences]
    pointed = _list_pointed_to(lines, start, end, chunk.heading_length, sentences)
    if pointed is not None:
        return Extent([respan(best, passage, *pointed), *rest], "list")
    kinds = _items_of_kind(question, chunk.text, start, end, sentences)
    if kinds is not None:
        return Extent([respan(best, passage, *kinds), *rest], "kind")
    series = None if _KIND_ASKED.search(question) else _whole_series(question, chunk.text, start, end, sentences)
    if series is not None:  # (a "What kinds of...?" question takes the items of its kind, or the reader's)
        return Extent([respan(best, passage, *series), *rest], "series")
    several = asks_for_several(question)
    named_row = several and in_named_line(question, start, end, lines)
    whole_row = row_value(question, lines, lines.index(start)) if named_row else None
    if whole_row is not None:  # "What are the fares for a Weekly Rider?": that row's cells, not the table
        return Extent([respan(best, passage, *whole_row), *rest], "row")
    if several or chunk.heading_length:
        items = _list_in(lines, start, end, chunk.heading_length, sentences)
        if (items is not None and (several or _heading_asked(question, lines, items[0], chunk.heading_length))
                and (asks_explicitly_for_several(question)
                     or not _picks_one_item(question, lines, items, start, chunk.doc_id))):
            return Extent([respan(best, passage, *items), *rest], "list")
    clause = _yes_no_clause(question, chunk, start, end)
    if clause is not None:
        return Extent([respan(best, passage, *clause), *rest], "yes/no")
    if asks_for_description(question) and _under_same_question(question, start, lines, chunk.heading_length):
        sentence_end = _sentence_end(best, chunk, lines)
        if sentence_end is not None:
            return Extent([respan(best, passage, start, sentence_end), *rest], "sentence")
    rule, reshaped = "", (start, end)
    for name, shape in _PHRASE_RULES:  # the rest look no further than the span's own phrase
        found = shape(question, chunk.text, start, end)
        if found is not None:
            rule, reshaped = name, found
            break
    bound = _bound_start(question, chunk.text, reshaped[0])
    if bound is not None:  # on top of any other shape: "up to" + "thirty (30) days"
        rule, reshaped = rule or "bound", (bound, reshaped[1])
    return Extent([respan(best, passage, *reshaped), *rest], rule) if rule else Extent(spans)




# A question answered yes or no: "Can I keep a cat?", "Is accidental damage covered?"; not one that
# asks a wh-question inside ("Can you tell me when the office opens?") nor one offering a choice
# ("Is it rising or falling?"), answered in its own words.
_ASKS_YES_OR_NO = re.compile(r"^\W*(?:can|could|may|might|is|are|was|were|do|does|did|should|shall|will|must"
                             r"|has|have|had|am)\b(?![^?]*\b(?:what|when|where|who|whom|whose|which|how|why|or)\b)",
                             re.I)
# A clause's number or an FAQ's answer mark: "4.6 ", "(b) ", "A: ".
_CLAUSE_MARK = re.compile(r"[ \t]*(?:\(?(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z])[.)]|\d{1,3}(?:\.\d{1,3})+|A:)[ \t]+")
# Who says it, before what is said: "As the Department of State affirms, \"".
_ATTRIBUTION = re.compile(r"(?:As|According to)\b[^,;\n]{0,80},[ \t]*[\"“]?")
_LONGEST_CLAUSE = 250  # characters: a longer sentence is shown by its span alone


def _unopened_quote(clause: str) -> bool:
    """Whether a clause ends with a quote mark it does not open."""
    if clause.endswith('"'):
        return clause.count('"') % 2 == 1
    return clause.endswith("”") and clause.count("”") > clause.count("“")


def _yes_no_clause(question: str, chunk: Chunk, start: int, end: int) -> tuple[int, int] | None:
    """The clause a span lies in, for a question answered yes or no: what the documents say of it
    ("No interest is payable to the Tenant on the Deposit", not "No interest"), its sentence cut at
    semicolons and line ends, without a clause's number. None for other questions, a span that is
    the clause already, or a clause too long to show."""
    if not _ASKS_YES_OR_NO.match(question):
        return None
    text = chunk.text
    s, e = chunk.sentences_around(chunk.start + start, chunk.start + end)
    s, e = max(s - chunk.start, text.rfind("\n", 0, start) + 1), e - chunk.start
    line_end = text.find("\n", end)
    e = min(e, len(text) if line_end < 0 else line_end)
    semicolon = text.rfind(";", s, start)
    s = s if semicolon < 0 else semicolon + 1
    semicolon = text.find(";", end, e)
    e = e if semicolon < 0 else semicolon
    for lead in (_CLAUSE_MARK, _ATTRIBUTION):
        m = lead.match(text, s)
        s = m.end() if m and m.end() <= start else s
    while s < start and text[s].isspace():
        s += 1
    while e > end and (text[e - 1] in " \t." or _unopened_quote(text[s:e])):
        e -= 1  # a closing quote goes with the opening one the attribution took
    if e - s > _LONGEST_CLAUSE or (s, e) == (start, end):
        return None
    return s, e


def _figure_in_words_and_digits(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """"thirty" + "(30) days": the digits in brackets and what they count (None when none follow)."""
    m = _BRACKETED_FIGURE.match(text, end)
    return (start, m.end()) if m and _NUMBER_WORD_END.search(text, start, end) else None


def _with_its_head(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    head = _head_start(question, text, start, end)
    return None if head is None else (head, end)


# The rest of a labelled line after its label: ": 214" of "Phone extension: 214".
_LABELLED_VALUE = re.compile(r"[ \t]*:[ \t]*(?P<value>[^\n]{1,60}?)[ \t.]*(?:\n|$)")


def _value_of_its_label(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """"Phone extension" of the line "Phone extension: 214" for "What is Clare Whitfield's
    extension?": a span that is a line's whole label and only says what the question asks for
    takes the line's value instead. ("HR Manager" of "HR Manager: Clare Whitfield" answers "What
    is her role?": its words are not the question's.)"""
    line_start = text.rfind("\n", 0, start) + 1
    value = _LABELLED_VALUE.match(text, end)
    if value is None or text[line_start:start].strip(" \t-*•") or not _names_what_is_asked(
            *_words_of_span_and_question(question, text, start, end)):
        return None
    return value.span("value")


def _with_its_complement(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    complement = _complement_end(question, text, start, end)
    return None if complement is None else (start, complement)


def _with_days_and_times(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    range_end = _RANGE_OF_DAYS_GOES_ON.match(text, end)  # "Monday" of "Monday to Saturday"
    days_end = range_end.end() if range_end else end
    reach = _days_and_times_end(question, text, start, days_end)
    if reach is None:
        return None
    times = re.compile(rf"[ \t,]*({_TIMES})", re.I).match(text, days_end, reach)
    if times is not None and _days_cover(text[start:days_end], _days_named(question)):
        # "When is the shop open on Saturdays?": the hours of "Monday to Saturday, 9:30 am to 5:30 pm"
        return times.start(1), reach
    return start, reach


def _days_named(text: str) -> set[str]:
    """The weekdays a text names ("on Saturdays": saturday)."""
    return {d.lower().removesuffix("s") for d in re.findall(rf"\b{_DAY}\b", text, re.I)}


def _days_cover(days: str, asked: set[str]) -> bool:
    """Whether a day or a range of days ("Monday to Saturday") holds every asked weekday, and some."""
    said = _days_named(days)
    held = weekdays_of_range(days) or (said if len(said) == 1 and not re.search(r"\d", days) else set())
    return bool(asked) and asked <= held


def _first_figure(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """An amount that runs on into a second clause, cut to the amount, where one is asked for."""
    figure = _FIGURE_THEN_CLAUSE.match(text, start, end)
    if figure is None or asks_for_several(question) or _ASKS_TWO.search(question):
        return None
    return start, figure.end(1)


# A tally: counts, each with its word, in a row ("38 for, 4 against, 2 abstentions").
_TALLY = re.compile(r"\d[\d,]*[ \t]+[A-Za-z]+(?:(?:,[ \t]*|,?[ \t]+and[ \t]+)\d[\d,]*[ \t]+[A-Za-z]+)+")
_TALLY_ITEM = re.compile(r"(\d[\d,]*)[ \t]+([A-Za-z]+)")


def _count_of_the_tally(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The count of the one item of a tally that the question says: "4" of "38 for, 4 against, 2
    abstentions" for "How many voted against?", where the reader took "38 for, 4"."""
    if not re.search(r"\bhow\s+many\b", question, re.I):
        return None
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    said = {stem(w) for w in re.findall(r"[a-z]+", question.lower())}
    for tally in _TALLY.finditer(text, line_start, len(text) if line_end < 0 else line_end):
        if tally.start() < end and start < tally.end():
            items = [m for m in _TALLY_ITEM.finditer(tally.group()) if stem(m.group(2).lower()) in said]
            if len(items) == 1 and (tally.start() + items[0].start(1), tally.start() + items[0].end(1)) != (start, end):
                return tally.start() + items[0].start(1), tally.start() + items[0].end(1)
    return None


_ASKS_TWO = re.compile(r"\b(?:and|compared?|versus|vs|both)\b", re.I)  # "income and expenditure", "2023 and 2024"
# An amount, then another clause with a verb of its own: "£1,420,000 and total expenditure was
# £1,370,000". The reader takes both; a question for one value wants the first.
_FIGURE_THEN_CLAUSE = re.compile(r"([£$€]?\d[\d,.]*(?:[ \t]?(?:%|[A-Za-z]{1,10}))?)(?:,?[ \t]+(?:and|but|while|whereas)|;)"
                                 r"[ \t]+[^\n]*?\b(?:is|was|are|were|has|had|rose|fell)\b[^\n]*\d[^\n]*$")


# A question for what something is called takes the whole capitalised name: "The Bosun's Call",
# not "Bosun" of it.
_ASKS_NAME = re.compile(r"\b(?:is|are|was|were)\b[^?]{0,60}?\b(?:called|named|titled)\b|\b(?:name|title) of\b"
                        r"|\bwhat(?:['’]s| is| was) (?:its|their|his|her) (?:name|title)\b", re.I)
_CALENDAR_NAMES = "|".join(m.capitalize() for m in (*MONTHS, *WEEKDAYS))
# The next capitalised word of the name, across "of" or "of the" ("Duchess of Garrow"); not a
# month or a day ("Duchess of Garrow in May").
_NAME_GOES_ON = re.compile(rf"(?:[ \t]+(?:of|the)){{0,2}}[ \t]+(?!(?:{_CALENDAR_NAMES})\b)[A-Z][\w'’-]*")
_POSSESSIVE_NAME = re.compile(rf"['’]s[ \t]+(?!(?:{_CALENDAR_NAMES})\b)[A-Z][a-z][\w'’-]*")  # "The Bosun's Call"
_ARTICLE_BEFORE = re.compile(r"(?:^|(?<=[ \t\n]))(?:The|A|An)[ \t]+$")


def asks_what_it_is_called(question: str) -> bool:
    """Whether a question asks what something is called ("What is the newsletter called?")."""
    return _ASKS_NAME.search(question) is not None


def _whole_name(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The capitalised name a span lies at the start of, for a question asking what something is
    called ("The Bosun's Call" for "Bosun"; None when the span is the whole name already). A
    possessive goes on only in a name with its article ("The Bosun's Call", not "Acme's Chief")."""
    if not _ASKS_NAME.search(question) or not text[start:start + 1].isupper():
        return None
    article = _ARTICLE_BEFORE.search(text, max(0, start - 4), start)
    first = article.start() if article else start
    reach = end
    while (m := _NAME_GOES_ON.match(text, reach) or (article and _POSSESSIVE_NAME.match(text, reach))) is not None:
        reach = m.end()
    return (first, reach) if (first, reach) != (start, end) else None


# An address or number the question asks for, and what one looks like: the reader may give the
# name beside it ("Mr Callum Osei" for "What is the administrator's email address?").
_TYPES = (
    (re.compile(r"\be-?mail\b", re.I), re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (re.compile(r"\b(?:website|web ?site|web address|url|homepage|link)\b", re.I),
     re.compile(r"(?:https?://|www\.)[^\s<>\"')]+[^\s<>\"').,;:]")),
    (re.compile(r"\b(?:(?:tele)?phone|mobile|fax)(?: number| no\b)|\bnumber\b.*\b(?:call|ring|phone)\b", re.I),
     re.compile(r"(?<![\w+])\+?(?=(?:[ ()/-]*\d){7})\d[\d ()/-]{5,}\d(?!\w)(?<!\d{4}[/–-]\d{4})")),
)


# Questions that ask for nothing but an address or number ("What is Jane Roe's email?"; not "Which
# email system do we use?", "What should I do with a suspicious email?"), of the kinds of `_TYPES`,
# in its order.
_ASKS_ONLY = (
    re.compile(r"\be-?mail address\b|^\W*what(?:['’]s|\s+is|\s+was)\b.*\be-?mail\W*$", re.I),
    re.compile(r"\b(?:web address|url)\b|^\W*what(?:['’]s|\s+is|\s+was)\b.*\bweb ?site\W*$", re.I),
    re.compile(r"\b(?:(?:tele)?phone|mobile|fax) (?:number|no)\b", re.I),
)
_KINDS = ("e-mail address", "web address", "phone number")


# "What time does the train leave?" asks for a time of day, not a journey time; not "what time zone"
# nor "within what time".
_ASKS_CLOCK_TIME = re.compile(r"(?<!within )(?<!in )\bwhat time\b"
                              r"(?!\s+(?:zone|of|frame|limit|period|slot|span|scale)s?\b)", re.I)
# A time of day, or what stands for one ("closed", "all day").
_CLOCK_TIME = re.compile(r"\b\d{1,2}[:.h]\d{2}\b|\b\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\b|\b[0-2]\d[0-5]\d\b"
                         r"|\b(?:noon|midday|midnight|dawn|dusk|sunrise|sunset|closed|all day|24 hours|o'?clock)\b",
                         re.I)


# "Which version added clustering?", "in which release was it removed": a version's number is asked
# ("1.3"), not "Print the version and exit"; not "the release date", "the release notes".
_ASKS_VERSION = re.compile(r"\b(?:which|what)\s+(?:[\w.-]+\s+)?(?:version|release)s?\b(?!\s+(?:date|notes?)\b)", re.I)


def not_of_the_asked_type(question: str, span: Span, passage: Passage) -> str:
    """Why a span cannot answer a question asking only for an e-mail address, a web address or a
    phone number ('' when nothing shows it): the span is none, and its sentence holds none either
    ("01632 960 102" for "What is her email address?"); asking for a figure in a unit, the
    span's figures are in units of another quantity ("9.5 litres" for "in kWh", `units.py`) or,
    asking how many things, all measure something ("19.2 years" for "How many students...?"); or
    asking "what time", the span gives no time of day ("2 hours 56 minutes"); or asking which
    version, it gives no number ("Print the version and exit")."""
    why = in_another_unit(question, span.text) or not_a_count(question, span.text)
    if why:
        return why
    if _ASKS_CLOCK_TIME.search(question) and not _CLOCK_TIME.search(span.text):
        return "the passage found gives no time of day there"
    if _ASKS_VERSION.search(question) and not re.search(r"\d", span.text):
        return "the passage found gives no version number there"
    chunk = passage.chunk
    for asks, (_, looks), kind in zip(_ASKS_ONLY, _TYPES, _KINDS):
        if asks.search(question) and not looks.search(span.text):
            s, e = chunk.sentences_around(span.start, span.end)
            if not looks.search(chunk.text, s - chunk.start, e - chunk.start):
                return f"the passage found gives no {kind} there"
    return ""


def _contact_part(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The part of a contact line's value that the question asks for: "Lorraine Hughes, 01632 960
    418, bookings@hall.org" gives its phone number to "What is the bookings manager's phone
    number?" and its name to "Who is the bookings manager?". None where the value holds no
    address or number, or the question asks for neither."""
    value = text[start:end]
    parts = [(m.start(), m.end()) for m in re.finditer(r"[^,;]+", value) if m.group().strip()]
    typed = [(s, e) for s, e in parts if any(looks.fullmatch(value[s:e].strip()) for _, looks in _TYPES)]
    if len(parts) < 2 or not typed:
        return None
    for asks, looks in _TYPES:
        if asks.search(question):
            found = looks.search(text, start, end)
            return (found.start(), found.end()) if found else None
    if ASKS_WHO.match(question) and parts[0] not in typed:
        s, e = parts[0]
        return start + s + len(value[s:e]) - len(value[s:e].lstrip()), start + e
    return None


def _of_the_asked_type(question: str, chunk: Chunk, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of the e-mail address, web address or phone number in the span's sentence, where the
    question asks for one and the span is none; None otherwise."""
    for asks, looks in _TYPES:
        if asks.search(question) and not looks.search(chunk.text, start, end):
            s, e = chunk.sentences_around(chunk.start + start, chunk.start + end)
            found = looks.search(chunk.text, s - chunk.start, e - chunk.start)
            return (found.start(), found.end()) if found else None
    return None


# "When..." asks for the days and hours too: "1 May to 30 September" goes on over "only, Thursday
# to Sunday, 11:00 to 16:30", and "Saturday 12 April 2025" over ", 14:00".
_ASKS_WHEN = re.compile(r"^\s*(?:when\b|what (?:time|times|hours)\b)", re.I)  # not "On which days...?"
_DAY = rf"(?:{'|'.join(WEEKDAYS)})s?"
# A time of day: "14:00", "2 pm", "2.30 p.m."; not "12.30 metres". A full stop after "p.m" is the
# time's only where the sentence goes on ("at 2 p.m. in room 4"; not "at 2 pm. Saturdays are busier").
_TIME = r"\d{1,2}(?:[:.]\d{2})?[ \t]*[ap]\.?m(?:\.(?=[ \t]+(?-i:[a-z\d])|[,;)]))?|\d{1,2}:\d{2}"
_TIMES = rf"(?:at[ \t]+|from[ \t]+)?(?:{_TIME})(?:[ \t]*(?:to|until|–|-)[ \t]*(?:{_TIME}))?"
# Days, then times: a range of days stands alone ("Thursday to Sunday"), a single day only before
# its times ("Saturday 10am to 1pm"; not "Sundays excepted").
_DAYS_OR_TIMES = re.compile(
    rf",?[ \t]+(?:only,?[ \t]+)?(?:(?:from[ \t]+)?{_DAY}[ \t]*(?:to|until|–|-)[ \t]*{_DAY}"
    rf"|{_DAY},?[ \t]+{_TIMES}|{_TIMES})(?![\w:])", re.I)
# The rest of a range of days after its first day: " to Saturday".
_RANGE_OF_DAYS_GOES_ON = re.compile(rf"[ \t]*(?:to|until|–|-)[ \t]*{_DAY}\b", re.I)
# What a date or a day ends with: a figure, a month, a day, "p.m.", "of each month", "every weekend".
_DATE_END = re.compile(rf"(?:\d|\b(?:{'|'.join(MONTHS)}|{_DAY}|[ap]\.?m|month|week|weekend|morning|afternoon|evening"
                       rf"|night)s?)\.?$", re.I)


def _days_and_times_end(question: str, text: str, start: int, end: int) -> int | None:
    """Where the days and times that follow a date or day answering a "when" question end (None
    when none follow): "1 May to 30 September" + "only, Thursday to Sunday, 11:00 to 16:30"."""
    if not _ASKS_WHEN.match(question) or not _DATE_END.search(text, start, end) or text[end - 1] in ".!?":
        return None  # a whole sentence (sentence mode) ends where it ends
    reach = end
    while (m := _DAYS_OR_TIMES.match(text, reach)) is not None:
        reach = m.end()
    return reach if reach > end else None


# A figure written in words, then in digits in brackets, then what it counts, as contracts write
# them: "thirty (30) days", "twenty-four (24) hours' notice". The reader takes the word alone.
_NUMBER_WORD_END = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})$", re.I)
_BRACKETED_FIGURE = re.compile(r"[ \t]*\(\d[\d,.]*%?\)(?:[ \t\n]+(?:(?:working|business|calendar|clear)[ \t\n]+)?"
                               r"(?:days?|weeks?|months?|years?|hours?|minutes?|per[ \t]cent|percent)\b)?")


# A figure's limit, before it: "up to", "at least", "no more than", "a maximum of"; a clock time's
# ("before 9:30", "no later than 17:00"). Without it the answer says another thing: "more than
# fifteen" for "no more than fifteen", "14 characters" for "at least 14 characters".
_FIGURE_START = re.compile(rf"[£$€]?\d|(?:{'|'.join(NUMBER_WORDS)})\b", re.I)
_COMPARISON_START = re.compile(r"(?:more|less|fewer|later)[ \t]+than\b", re.I)
# "9:30", "5 pm", "9.30 am"; not "12.75 per cent", nor "12 ambassadors"
_CLOCK_TIME_START = re.compile(r"\d{1,2}(?::\d\d\b|(?:\.\d\d)?[ \t]?(?:am|pm|a\.m\.|p\.m\.)(?![a-z]))", re.I)
_NEGATION_BEFORE = re.compile(r"(?<![\w-])(?:no|not)[ \t]+$", re.I)
_FIGURE_BOUND = re.compile(r"(?<![\w-])(?:(?:no|not)[ \t]+)?(?:up[ \t]+to|at[ \t]+(?:least|most)|"
                           r"(?:more|less|fewer)[ \t]+than|an?[ \t]+(?:maximum|minimum)[ \t]+of)[ \t]+$", re.I)
# The words of a limit that a question may say itself.
_LIMIT_WORDS = frozenset({"up", "least", "most", "more", "less", "fewer", "maximum", "minimum", "before", "after",
                          "until", "by", "later"})
_TIME_BOUND = re.compile(r"(?<![\w-])(?:before|after|until|by|(?:no|not)[ \t]+later[ \t]+than)[ \t]+$", re.I)


def _bound_start(question: str, text: str, start: int) -> int | None:
    """Where the limit before a figure or a clock time starting at `start` starts, or the "no" of a
    "more than" there (None for none, or where the question says the limit itself: "Until what
    time...?", "What is the maximum number...?")."""
    before = text[max(0, start - 30):start]
    if _COMPARISON_START.match(text, start):  # "no" + "more than fifteen": always, or it says the opposite
        negation = _NEGATION_BEFORE.search(before)
        return None if negation is None else start - len(before) + negation.start()
    if _CLOCK_TIME_START.match(text, start):
        bound = _TIME_BOUND.search(before) or _FIGURE_BOUND.search(before)
    elif _FIGURE_START.match(text, start):
        bound = _FIGURE_BOUND.search(before)
    else:
        return None
    if bound is None or _LIMIT_WORDS & set(bound.group().lower().split()) & set(WORD.findall(question.lower())):
        return None
    return start - len(before) + bound.start()


# --- lists ----------------------------------------------------------------------------------------

def _mark_kind(line: str) -> str | None:
    """"digit", "letter" or "bullet" for a line starting with a list's mark; None without one."""
    m = _MARKED_LINE.match(line)
    if m is None:
        return None
    mark = m.group(1)
    if mark[:1].isdigit() or mark[1:2].isdigit():
        return "digit"
    return "letter" if mark.strip("().").isalpha() else "bullet"


def _reads_as_item(line: str) -> bool:
    """A line a list may hold: marked, or short and one sentence at most."""
    body = line.strip()
    return _mark_kind(line) is not None or (0 < len(body) <= _MAX_ITEM_CHARS and not _SENTENCE_BREAK.search(body))


def list_around(text: str, start: int, end: int, heading: int = 0,
                sentences: list[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """Offsets of the list text[start:end] lies in, from its first item's start (its mark, if any)
    to its last item's end: lines with the same kind of mark, or unmarked lines after a lead-in that
    ends with a colon (or after the heading the text starts with, `heading` its length), up to a
    blank line or a line of prose, and not one sentence wrapped over lines (`sentences`: the
    sentences of the text, as offsets into it). None when it lies in no list of two items or more.
    (Readers drop bullets, as a page shows no "-", so many lists are told by their lead-in alone.)"""
    return _list_in(Lines(text), start, end, heading, sentences)


def _list_in(lines: Lines, start: int, end: int, heading: int,
             sentences: list[tuple[int, int]] | None) -> tuple[int, int] | None:
    first, last = lines.index(start), lines.index(max(start, end - 1))
    kind = _mark_kind(lines[first])
    if kind is not None:
        lo, hi = first, max(first, last)
        while (before := _next_item(lines, lo, kind, -1)) is not None:
            lo = before
        while (after := _next_item(lines, hi, kind, 1)) is not None:
            hi = after
    else:
        span = _unmarked_list(lines, first, heading)
        if span is None or last > span[1]:
            return None
        lo, hi = span
        # The newlines between items, and after the last one: a list ends where a sentence does.
        breaks = [lines.bounds[i][1] for i in range(lo, min(hi + 1, len(lines) - 1))]
        if any(s < at < e for s, e in sentences or () for at in breaks):
            return None  # a sentence wrapped over lines: prose after a colon, not items
    if hi == lo:
        return None
    list_start = lines.text_start(lo)
    list_end = lines.bounds[hi][1]
    while list_end > list_start and lines.text[list_end - 1] in " \t.;,":
        list_end -= 1
    return list_start, list_end


_MAX_ITEM_BODY_LINES = 12  # a code block or a wrapped paragraph inside one item


def _next_item(lines: Lines, i: int, kind: str, step: int) -> int | None:
    """The line of the item of mark `kind` next to line i (step 1: after, -1: before), over blank
    and indented lines between (an item's code block: "3. Install it:" / "   pip install x" /
    "4. Log in"); None where the list ends."""
    j = i + step
    while 0 <= j < len(lines) and abs(j - i) <= _MAX_ITEM_BODY_LINES:
        if _mark_kind(lines[j]) == kind:
            # Beyond a gap, numbers must run on: "1. a / 2. b" then "1. c" is another list.
            here, there = _item_number(lines[i]), _item_number(lines[j])
            adjacent = abs(j - i) == 1
            return j if adjacent or here is None or there is None or there == here + step else None
        if lines[j].strip() and not lines[j][:1].isspace() and not lines[j][:1].islower():
            return None  # a line of its own; one in lower case runs on from the item's (Markdown's lazy wrap)
        j += step
    return None


def _item_number(line: str) -> int | None:
    m = re.match(r"\s*\(?(\d{1,3})[.)]", line)
    return int(m.group(1)) if m else None


def _unmarked_list(lines: Lines, first: int, heading: int) -> tuple[int, int] | None:
    """(first, last) lines of the unmarked list whose line `first` is an item, or None."""
    if not _reads_as_item(lines[first]) or lines.bounds[first][0] < heading:
        return None
    lo = first
    while (lo > 0 and lines[lo - 1].strip() and not lines[lo - 1].rstrip().endswith(":")
           and not lines.ends_heading(lo - 1, heading)):
        lo -= 1  # up to the lead-in, or the heading the text starts with (HTML puts no blank line after one)
        if first - lo > _MAX_ITEMS or not _reads_as_item(lines[lo]):
            return None
    lead_in = lo - 1
    if lead_in > 0 and not lines[lead_in].strip():
        lead_in -= 1  # a blank line between the lead-in and its items (Markdown)
    if lead_in < 0 or not (lines[lead_in].rstrip().endswith(":") or lines.ends_heading(lead_in, heading)):
        return None  # no "You will need:" nor a heading above: lines of prose
    items = [lines[i].strip() for i in range(lo, first + 1)]
    bare = not any(item.endswith((".", ";", ",")) for item in items)
    longest = max(len(item) for item in items)
    hi = first
    while hi + 1 < len(lines) and lines[hi + 1].strip() and _reads_as_item(lines[hi + 1]) and hi - lo < _MAX_ITEMS:
        following = lines[hi + 1].strip()
        if following.endswith(":"):
            break  # the lead-in of the next list ("Rare (may affect up to 1 in 1,000 people):")
        lower_case_items = all(item[:1].islower() for item in items)
        if bare and following.endswith(".") and (len(following) > 2 * longest
                                                 or (lower_case_items and following[:1].isupper())):
            break  # the prose after a list of bare phrases
        hi += 1
    return lo, hi


# --- sentences ------------------------------------------------------------------------------------

def _under_same_question(question: str, start: int, lines: Lines, heading: int) -> bool:
    """Whether offset `start` lies under a line of the passage that asks the user's question: an
    FAQ's question, or a heading (`heading`: its length, at the passage's start) such as "How does
    split tunnelling work?" or "4.5 Why the carry-over rule changed". The text under such a line
    is written as its answer."""
    for j in range(lines.index(start) - 1, -1, -1):
        line = lines[j].strip()
        if line.endswith("?") or lines.ends_heading(j, heading):
            break
    else:
        return False
    asks = _QUESTION_LEAD.sub("", line).lower()
    question_word = (asks.split() or [""])[0]
    if question_word not in _WH_WORDS:
        return False
    asked = content_stems(question)
    named = content_stems(asks)
    shared = len(asked & named)
    same_word = question.strip().lower().startswith(question_word)
    return shared >= 2 or (shared >= 1 and same_word) or (bool(named) and shared >= 0.5 * len(named))


def _sentence_end(span: Span, chunk: Chunk, lines: Lines) -> int | None:
    """Chunk offset where the sentence the span starts in ends, when it goes on after the span by a
    few words at most (a table row's cell ends at the row's next column); None otherwise."""
    start, end = span.start - chunk.start, span.end - chunk.start
    i = lines.index(start)
    row = row_cells(lines[i])
    if row is not None:
        offset = lines.bounds[i][0]
        cell_end = next((offset + e for s, e, _ in row[1] if offset + s <= start < offset + e), None)
        return cell_end if cell_end is not None and end < cell_end else None
    for s, e in chunk.sentences:
        if s <= span.start < e and span.end < e:
            if len(chunk.text[end:e - chunk.start].split()) > _MAX_ADDED_WORDS:
                return None
            sentence_end = e - chunk.start
            while sentence_end > end and chunk.text[sentence_end - 1] in " \t\n.;,:":
                sentence_end -= 1
            return sentence_end if sentence_end > end else None
    return None


# --- lists written in a sentence, and what an answer names ----------------------------------------

# "What kinds of forensics training...", "Which types of vehicle...": the kind asked for.
_KIND_ASKED = re.compile(r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|forms?)\s+of\s+([a-z][\w'-]*)", re.I)
_MAX_KIND_ITEM_WORDS = 6


def _items_of_kind(question: str, text: str, start: int, end: int,
                   sentences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Offsets of the items naming the kind a "What kinds of W..." question asks for, in the list
    written in the sentence that holds start..end (items between commas: "training in A, cyber
    forensics, crime scene forensics, and B"), when the span lies in one item that does not name
    it and the naming items are one run of short ones; None otherwise."""
    asked = _KIND_ASKED.search(question)
    if asked is None or asked.group(1).lower() in STOP_WORDS:
        return None
    kind = stem(asked.group(1).lower())
    sentence = next(((s, e) for s, e in sentences if s <= start < e and end <= e), None)
    if sentence is None:
        return None
    items = _comma_items(text, *sentence)
    holding = next((k for k, (s, e) in enumerate(items) if s <= start and end <= e), None)
    if len(items) < 3 or holding is None:
        return None  # no list, or a span over several items: the reader chose them

    def names_kind(k: int) -> bool:
        return kind in {stem(w) for w in WORD.findall(text[items[k][0]:items[k][1]].lower())}

    if names_kind(holding):
        return None  # "intense learning experience" of "What kind of learning experience...?"
    # The first part holds the sentence's lead-in too ("Staff can take annual leave"): its item is
    # its last words, as many as the next item has.
    if holding != 0 and names_kind(0) and names_kind(1):
        words = list(re.finditer(r"\S+", text[items[0][0]:items[0][1]]))
        n = len(text[items[1][0]:items[1][1]].split())
        if len(words) > n:
            items[0] = (items[0][0] + words[-n].start(), items[0][1])
    naming = [k for k in range(len(items)) if names_kind(k)
              and len(text[items[k][0]:items[k][1]].split()) <= _MAX_KIND_ITEM_WORDS]
    if not naming or naming != list(range(naming[0], naming[-1] + 1)):
        return None
    return items[naming[0]][0], items[naming[-1]][1]


# Where a series written in a sentence starts: after the last of these in its first part
# ("mandatory for email", "include the gym").
_SERIES_LEAD = re.compile(r".*\b(?:for|to|in|of|on|by|with|from|including|such as|are|is|were|was|has|have|"
                          r"(?:include|cover|offer|provide|require|need|accept|support|contain|list|use)s?)"
                          r"\s+(?:the\s+|an?\s+)?|.*:\s*", re.I | re.S)
_COUNT_ASKED = re.compile(r"\b(?:two|three|four|five|six|\d)\b", re.I)  # "Which two...", "Name 3..."; not a year
_MAX_SERIES_ITEM_WORDS = 6
_MAX_SHORT_SERIES_WORDS = 3  # "red, white and blue": a series of three written with one comma is of short items
# A sentence that opens with a phrase set off by a comma ("In 1850, ...", "According to the census, ...").
_OPENING_PHRASE = re.compile(r"\s*(?:in|on|at|by|for|from|after|before|during|since|according|under|as|when|while|"
                             r"although|if|because|in addition|however|today|now)\b[^,.;]*,", re.I)
# A part that starts like this is a clause or an example, not the series' next item.
_NO_ITEM_START = re.compile(r"\s*(?:such as|including|e\.g\.|for example|where|which|who|whom|whose|that|when|while|"
                            r"whereas|although|because|if|as|so|but|also|then|later|[a-z]+ing\s+\w+\s+\w+)",
                            re.I)  # "relying on strategy"
_MAX_SERIES_LAST_WORDS = 16  # the last item may say more: "and every system that can be reached from outside"


def _whole_series(question: str, text: str, start: int, end: int,
                  sentences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Offsets of the whole series written in a sentence ("email, the HR portal, Expensa and every
    system that can be reached from outside the corporate network"), for a question asking for
    several things ("Which systems require MFA?") answered with some of its items; None where the
    sentence holds no such series (three items at least, short ones, the last after "and" or
    "or", the first after a word that leads into it), the span lies outside it or takes it whole,
    or the question asks for a number of them."""
    if _plural_asked(question) is None or _COUNT_ASKED.search(question):
        return None
    sentence = next(((s, e) for s, e in sentences if s <= start < e and end <= e), None)
    if sentence is None or _OPENING_PHRASE.match(text, sentence[0]):  # "In 1850, he visited Paris, ..."
        return None
    items = _comma_items(text, *sentence)
    last_said = text[sentence[0]:items[-1][1]].rsplit(",", 1)[-1]  # with its "and": "cycling, running, and swimming"
    joined = re.search(r"(?:^|\s)(and|or)\s", last_said)
    if len(items) < 2 or joined is None:
        return None
    lead = _SERIES_LEAD.match(text, items[0][0], items[0][1])  # a sentence's own clauses follow none
    if lead is None:
        return None
    first_start = lead.end()
    series = (first_start, items[-1][1])
    before_last, after_last = last_said[:joined.start()], last_said[joined.end():]
    parts = [text[first_start:items[0][1]], *(text[s:e] for s, e in items[1:-1]), before_last, after_last]
    words = [len(part.split()) for part in parts[:-1]]
    if (max(words) > (_MAX_SERIES_ITEM_WORDS if len(items) > 2 else _MAX_SHORT_SERIES_WORDS)
            or len(after_last.split()) > _MAX_SERIES_LAST_WORDS
            or any(_NO_ITEM_START.match(part) for part in parts[1:] if part.strip())
            or first_start >= items[0][1] or start < series[0] or (start, end) == series
            or re.search(r"\s(?:and|or)\s", text[start:end])  # the reader chose a series of its own
            or re.search(r"\s[–—]\s|\(", after_last)  # an aside: the sentence goes on
            or not _whole_items(text, start, end, [(first_start, items[0][1]), *items[1:]])):
        return None
    if start < items[0][1]:  # "change cultural traditions": the first item as the reader began it
        series = (start, series[1])
    return series


def _whole_items(text: str, start: int, end: int, items: list[tuple[int, int]]) -> bool:
    """Whether start..end begins where an item does (its article aside) and ends where one does:
    the reader chose items ("HR portal, Expensa"), not a word inside one ("defensins" of
    "antimicrobial peptides called defensins")."""
    starts = {s + len(m.group()) if (m := re.match(r"(?:the|an?)\s+", text[s:e], re.I)) else s for s, e in items}
    starts |= {s for s, _ in items}
    ends = {e for _, e in items} | {s + len(part) for s, e in items
                                    for part in re.split(r"\s(?:and|or)\s", text[s:e])[:1]}
    return start in starts and end in ends


def _comma_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of text[start:end] between commas, as offsets, without a leading "and"/"or" nor
    the punctuation and quotes that end the sentence."""
    items = []
    at = start
    for m in [*re.finditer(r",\s+", text[start:end]), None]:
        item_end = start + m.start() if m else end
        s, e = at, item_end
        lead = re.match(r"(?:and|or)\s+", text[s:e])
        if lead:
            s += lead.end()
        while e > s and text[e - 1] in " \t\n.;:!?\"'”’)":
            e -= 1
        items.append((s, e))
        at = start + m.end() if m else end
    return items


def _words_of_span_and_question(question: str, text: str, start: int, end: int) -> tuple[list[str], set[str]]:
    """The span's content words in order, and the stems of the question's: what tells a span that
    only repeats or names what is asked."""
    words = [w for w in WORD.findall(text[start:end].lower()) if w not in STOP_WORDS]
    return words, content_stems(question)


# Words before "to the ..." that are verbs, not the noun it completes: "sent", "escalated", "going".
_LIKE_A_VERB = re.compile(r"(?:ed|ing|en)$|^(?:sent|made|put|kept|held|paid|set|led|brought|told|left|sold|built|"
                          r"went|came|got|gave|took|moved|passed|returned|referred|switched)$", re.I)
# Before a span: the noun it completes ("amendments" of "amendments to the criminal code").
_COMPLETED_NOUN = re.compile(r"(?<![\w'-])([A-Za-z][\w-]*)[ \t]+(?:to|of|for|on)[ \t]+(?:(?:the|an?)[ \t]+)?$")


def _names_what_is_asked(words: list[str], asked: set[str]) -> bool:
    """Whether a span's words (`_words_of_span_and_question`) only name what the question asks
    for: they add at most one word to the question's and end with one of them ("mutual expertise"
    for "What expertise...?", "Phone extension" for "What is her extension?")."""
    return bool(words) and stem(words[-1]) in asked and sum(stem(w) not in asked for w in words) <= 1


def _head_start(question: str, text: str, start: int, end: int) -> int | None:
    """Where the noun that a span only repeating the question's words completes starts ("the
    criminal code" of "Which criminal code changes...?" in "enacted amendments to the criminal
    code"); None when the span says anything the question does not, or no such noun stands before
    it. A question offering a choice ("increasing or declining?") is answered by its own words."""
    words, asked = _words_of_span_and_question(question, text, start, end)
    if not words or len(words) > 3 or any(stem(w) not in asked for w in words) or re.search(r"\bor\b", question, re.I):
        return None
    noun = _COMPLETED_NOUN.search(text, max(0, start - 60), start)
    if noun is None or noun.group(1).lower() in STOP_WORDS or stem(noun.group(1).lower()) in asked:
        return None
    if _LIKE_A_VERB.search(noun.group(1)):  # "sent to the complaints office": the span is the answer
        return None
    return noun.start(1)


# After a span that only names what is asked: where the sentence says what it is.
_COMPLEMENT_LEAD = re.compile(r"[ \t]+(?:in the (?:areas?|fields?|domains?) of|such as|including|namely)[ \t]+"
                              r"|[ \t]*:[ \t]+", re.I)
# Where that ends: the sentence's or a clause's end, a purpose ("to strengthen..."), a closing quote.
_COMPLEMENT_STOP = re.compile(r"[.;!?](?=\s|$)|\s(?:to|that|which|who|where|while|because|so that)\s|[\"”)\]\n]")
_MAX_COMPLEMENT_WORDS = 25


def _complement_end(question: str, text: str, start: int, end: int) -> int | None:
    """Where what a span names is said to be ends ("mutual expertise" + " in the areas of crisis
    management, border security, and terrorism investigations"), when the span adds at most one
    word to the question's and ends with one of them; None otherwise."""
    words, asked = _words_of_span_and_question(question, text, start, end)
    if len(words) > 4 or not _names_what_is_asked(words, asked):
        return None
    lead = _COMPLEMENT_LEAD.match(text, end)
    if lead is None:
        return None
    stop = _COMPLEMENT_STOP.search(text, lead.end())
    complement_end = stop.start() if stop else len(text)
    while complement_end > lead.end() and text[complement_end - 1] in " \t,":
        complement_end -= 1
    added = len(text[lead.end():complement_end].split())
    return complement_end if 0 < added <= _MAX_COMPLEMENT_WORDS else None


# The rules that reshape the answer within its own phrase, in the order they are tried: (the rule's
# name for `Extent.rule`, a function of (question, text, start, end) giving the new offsets or None).
# "between 3:00 and 5:00", "between £50 and £149.99": both ends of the range, with the word.
_BETWEEN_BEFORE = re.compile(r"(?<![\w-])between[ \t]+$", re.I)
_RANGE_END = re.compile(r"[ \t]+and[ \t]+[£$€]?\d[\d,.:]*\d|[ \t]+and[ \t]+\d")
_UNIT_AFTER = re.compile(r"[ \t]?(%|[ap]\.?m\b\.?|°?[A-Za-z]{1,10}\b)")


def _whole_between(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """A figure or range after "between" takes the word and the range's other end: "between 3:00
    and 5:00", not "3:00 and 5:00" nor "3:00"."""
    if not _FIGURE_START.match(text, start) and not _CLOCK_TIME_START.match(text, start):
        return None
    before = _BETWEEN_BEFORE.search(text, max(0, start - 12), start)
    if before is None:
        return None
    if re.search(r"[ \t]and[ \t]", text[start:end]):
        return before.start(), end
    other_end = _RANGE_END.match(text, end)
    if other_end is None:
        return None
    unit = _UNIT_AFTER.match(text, other_end.end())  # "5:00 pm", "20 kg"; not "£149.99 for"
    measured = unit is not None and (re.fullmatch(r"%|[ap]\.?m\.?", unit.group(1), re.I) or is_unit(unit.group(1)))
    return before.start(), unit.end() if measured else other_end.end()


# "Android 9.0 or later", "aged 12 or over": the open end a figure's limit runs on to.
_OPEN_END = re.compile(r"[ \t]+or[ \t]+(?:later|newer|higher|above|over|more|greater|older|younger|less|fewer|"
                       r"below|under|earlier|lower)\b", re.I)


def _with_its_open_end(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """A figure that ends the span, with the "or later" or "or more" after it: a requirement is
    that figure or beyond, not it alone (none where the question says the limit: "What is the
    minimum...?")."""
    if not re.search(r"\d\s*[A-Za-z%°]{0,10}$", text[start:end]):
        return None
    m = _OPEN_END.match(text, end)
    if m is None or re.search(r"\b(?:minimum|maximum|least|most|oldest|earliest|latest)\b", question, re.I):
        return None
    return start, m.end()


# "How do I reset it?", "How can we ...", "How to ...": a question for the steps.
_HOW_TO = re.compile(r"^\s*how\s+(?:(?:do|can|could|should|would|shall|must)\s+(?:i|we|you|one|they)\b|to\b)", re.I)
_PURPOSE = re.compile(r"(?:in\s+order\s+)?to\s+[a-z]", re.I)
_CLAUSE_MAX_CHARS = 300
_AFTER_COMMA = re.compile(r"\s*,\s*")
_CLAUSE_END = re.compile(r"[.!?](?=\s|$)|\n")


def _after_its_purpose(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """"How do I reset the router?" answered by the purpose that opens a sentence ("To restore the
    factory settings, press and hold Reset for 6 seconds."): what follows it, to the sentence's end."""
    if not _HOW_TO.match(question) or not _PURPOSE.match(text, start):
        return None
    comma = _AFTER_COMMA.match(text, end)
    if comma is None or (start > 0 and not re.search(r"(?:^|[.!?:]\s|\n)\s*$", text[max(0, start - 3):start])):
        return None  # no purpose clause opening its sentence
    stop = _CLAUSE_END.search(text, comma.end())
    main_end = stop.start() if stop else len(text)
    return (comma.end(), main_end) if 0 < main_end - comma.end() <= _CLAUSE_MAX_CHARS else None


# "What time does the Leeds office open?" asks for one end of its hours: the opening time of
# "7:30 am to 7:00 pm", and "... close?" the closing time. "open and close" asks for both, and
# "When is the shop open?" for its hours.
_ASKS_OPENING = re.compile(r"\b(?:what time|when)\b.*\b(?:open|opens|start|starts|begin|begins)\b", re.I)
_ASKS_CLOSING = re.compile(r"\b(?:what time|when)\b.*\b(?:close|closes|shut|shuts|finish|finishes|end|ends)\b", re.I)
_ASKS_HOURS = re.compile(r"\b(?:is|are|was|were|be)\b[^?]*\b(?:open|shut)\b", re.I)
_TIME_OF_DAY = r"\d{1,2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\b\.?)?"
_HOURS = re.compile(rf"(?P<first>{_TIME_OF_DAY})\s*(?:to|until|till|–|-)\s*(?P<last>{_TIME_OF_DAY})", re.I)


def _end_of_the_hours(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The opening or the closing time of the one range of hours in the span ("7:30 am" of "7:30
    am to 7:00 pm" for "What time does it open?"), where the question asks for only one of them."""
    opening, closing = bool(_ASKS_OPENING.search(question)), bool(_ASKS_CLOSING.search(question))
    if opening == closing or _ASKS_HOURS.search(question):
        return None
    ranges = [m for m in _HOURS.finditer(text, start, end)
              if _CLOCK_TIME.search(m.group("first")) and _CLOCK_TIME.search(m.group("last"))]
    if len(ranges) != 1:
        return None
    return ranges[0].span("first" if opening else "last")


def _figure_of_the_asked_quantity(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """"How heavy is the Ridgeback 3?" answered with a value of several figures ("sleeps 3,
    packed weight 2.6 kg, price £319"): the one figure of the quantity asked ("2.6 kg")."""
    quantities = asked_quantities(question)
    span = text[start:end]
    if not quantities or len([part for part in re.split(r"[,;]\s+", span) if re.search(r"\d", part)]) < 2:
        return None
    found = figures_measuring(span, quantities)
    return (start + found[0][0], start + found[0][1]) if len(found) == 1 else None


# A name and a bracketed aside after it: "Sian Roberts (07700 900 562)", "Anna Price (soprano)".
_NAME_WITH_ASIDE = re.compile(r"((?:[A-Z][\w'’.-]*\s+){0,4}[A-Z][\w'’.-]*)\s*\(([^()]*)\)\s*$")


def _name_without_its_aside(question: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """"Who is the coordinator?" answered with a name and a bracketed aside ("Sian Roberts (07700
    900 562)", "Funmi Adeyemi (treasurer@…)"): the name alone, unless the question asks for what the
    aside says ("Who sang tenor?" keeps "(tenor)")."""
    m = _NAME_WITH_ASIDE.fullmatch(text, start, end)
    if not ASKS_WHO.match(question) or m is None:
        return None
    words = re.sub(r"\S*[@/]\S*", " ", m.group(2))  # an address says nothing asked ("treasurer@...")
    if content_words(words) & content_words(question):
        return None
    return m.span(1)


_PHRASE_RULES = (
    ("person", _name_without_its_aside),
    ("hours", _end_of_the_hours),
    ("quantity", _figure_of_the_asked_quantity),
    ("purpose", _after_its_purpose),
    ("tally", _count_of_the_tally),
    ("between", _whole_between),
    ("open end", _with_its_open_end),
    ("figure", _figure_in_words_and_digits),
    ("complement", _with_its_head),
    ("label", _value_of_its_label),
    ("complement", _with_its_complement),
    ("when", _with_days_and_times),
    ("name", _whole_name),
    ("figure", _first_figure),
)
