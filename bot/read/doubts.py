"""Why the reader's best span, however well scored, does not answer the question.

The reader finds the span most like an answer; it cannot tell that the documents speak of another
year or version than the one asked about (`qualifiers.py`), of the opposite event
(`opposite_events.py`), never name what the question asks about (`unknown_names.py`), that the
table row it answers from has another size or day than the one asked (`rows.row_contradicts`),
that it is no e-mail address or phone number where one is asked (`extent.not_of_the_asked_type`), or
that it is its document's title, which names what the document is about and answers nothing of it.
Each check looks at the span's sentence or line in its passage; the first that finds a reason decides,
and the bot then refuses with that reason, unless the row the question names, or a lower choice of
the reader, plainly answers for the asked year, code or event instead (`check`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from bot.ingest.chunking import sentence_spans
from bot.read.document_names import unnamed_word
from bot.read.extent import asks_what_it_is_called, not_of_the_asked_type
from bot.read.opposite_events import names_asked_event, opposite_event
from bot.read.qualifiers import DocumentFacts, mismatch, names_asked_detail
from bot.read.rows import (
    Lines, block_described, cell_named_in, content_stems, fills_a_named_cell, in_named_line, is_labelled,
    list_lead_sentence, named_cell, row_contradicts, words_asked_around)
from bot.read.unknown_names import CorpusVocabulary, answers_for_the_rest, unknown_name
from bot.read.windows import line_bounds
from bot.types import Passage, ReaderResult, Span
from bot.words import stem

# Verbs that say little of what is asked, and that another sentence says in other words ("Year 6
# will go on their trip" against "Year 5 will visit Wroxeter"), as stems.
_LIGHT_VERBS = frozenset(stem(w) for w in "go goes going went get gets got make makes made do does did have has had "
                         "take takes took come comes came give gives gave given put puts see sees saw".split())
# How far down the reader's choices an answer naming what the best one lacks is looked for.
_NEXT_CHOICES = 4


class Checked(NamedTuple):
    """The reader's result after the checks: its best span replaced where the cell the question
    names or a lower choice answers instead, and why the reader's own best span does not answer
    ('' when nothing shows it)."""

    result: ReaderResult
    why: str
    replaced: bool = False  # result's best is that cell or choice, which nothing rules out


def check(question: str, result: ReaderResult, passages: list[Passage], facts: DocumentFacts,
          vocabulary: CorpusVocabulary | None) -> Checked:
    """Whether the reader's best span answers: not where it is about another year, version,
    month... than the asked one, about the opposite event ("established" for "dissolved"), the
    documents never name what the question is about ("the Amsterdam office" of a firm in Paris and
    Rome) and the span's line does not answer for all the others ("Other cities"), its table row is
    not the one asked about, or it is no e-mail address or phone number where one is asked.

    Where something stands against the best span (a name aside), the cell the question names, or
    else (another year, code, event or type) the first of the reader's next few choices that names
    the asked one in its own sentence (or clause, for an event; any of the asked type) and that
    nothing rules out, answers instead:
    "When was project P35 approved?" is answered from "Project P35 was approved on 6 March 2003",
    not from the line on P34 above it; "When did the Ropewalk reopen?" from "The Ropewalk reopened
    to visitors on 6 June 2024", not from "the site stayed closed during May 2024". Where nothing
    stands against the best span, the cell of a table the question names (by the row's label or
    another of its cells, and the column) answers: "Who convenes Natural Language Processing?" is
    answered "Dr Laura Pineda", not "AIM7103", the code of that row; but where the row the question
    names in the best span's table has another size or day than asked, nothing answers."""
    best = result.spans[0]
    kind, why = _doubt(question, best, passages, facts, vocabulary)
    if kind == "name":  # a name no document has: no other choice has it either
        return Checked(result, why)
    cell = _named_cell_for(question, best, passages)
    if not kind:  # nothing against it; but where the question names a cell of a table, that answers
        beside = _cell_named_beside(question, best, passages)
        against, why_not = _doubt(question, beside, passages, facts, vocabulary) if beside else ("", "")
        if against == "detail":
            # the line the question names beside the best span is of another year ("Musical Director:
            # Naomi Fischer" under "Season 2024–25", beside "Susan Pike stood down after the 2023–24
            # season"): that line where the asked year heads it answers, or nothing does
            held = _cell_named_elsewhere(question, best, passages, facts, vocabulary)
            return Checked(_put_first(result, held), why_not, replaced=True) if held else Checked(result, why_not)
        if cell is None and beside is not None and not against and _beside_says_more(question, best, beside, passages):
            # "Who was elected treasurer?": "Treasurer: Gareth Hughes" under "The following officers were
            # elected:", not "Ann Lee" of "Ann Lee stood down as Treasurer" above it
            return Checked(_put_first(result, beside), why, replaced=True)
        if cell is not None and cell.passage_index == best.passage_index \
                and (contradicted := row_contradicts(question, cell, passages[cell.passage_index])):
            # the row the question names in the best span's table has another size, day... than
            # asked: another row's span ("£3.10" of the large Americano for "a large flat white")
            # answers it no better
            return Checked(result, contradicted)
        if cell is not None and fills_a_named_cell(question, cell, passages[cell.passage_index]) \
                and not not_held(question, cell, passages, facts, vocabulary):
            return Checked(_put_first(result, cell), why, replaced=True)
        described = block_described(question, passages, best) if cell is None else None
        if described is not None and not (described.doc_id == best.doc_id and described.start <= best.start
                                          and best.end <= described.end) \
                and not not_held(question, described, passages, facts, vocabulary):
            # "What does a full service include?": the sentence under "Full Service: £140"
            return Checked(_put_first(result, described), why, replaced=True)
        return Checked(result, why)
    # Something stands against the best span: the cell the question names answers instead, if
    # nothing stands against it; else a lower choice, as each check allows.
    if cell is not None and not not_held(question, cell, passages, facts, vocabulary):
        return Checked(_put_first(result, cell), why, replaced=True)
    if kind == "row":  # another row than the one asked about: no other row answers either
        return Checked(result, why)
    if kind == "detail":
        held = _cell_named_elsewhere(question, best, passages, facts, vocabulary)
        if held is not None:
            # "Who was elected treasurer at the 2022 AGM?": the 2022 minutes' "Treasurer:" line, where
            # the reader liked the 2023 minutes' sentence on the treasurer better
            return Checked(_put_first(result, held), why, replaced=True)
        # What the best span's sentence says of the question, the other must say too: "Tern 3.2" in
        # "publish the Tern 3.2 release notes by 5 March" does not make that the end of its support.
        said = (content_stems(question) & content_stems(_sentence_of(best, passages)[0])) - _LIGHT_VERBS

        def names_it(span: Span) -> bool:
            # its sentence, or the section it stands under ("TRIPS" over "Year 5 will visit ...")
            own = f"{_sentence_of(span, passages)[0]} {passages[span.passage_index].chunk.section}"
            return bool(said) and said <= content_stems(own) and names_asked_detail(question, span, passages, facts)
    elif kind == "event":
        def names_it(span: Span) -> bool:
            return names_asked_event(question, *_sentence_of(span, passages))
    elif kind == "title":
        # a lower choice on the line the question names ("Venue: …"), as that line's cell would,
        # with the scores of the title the reader liked best
        def on_named_line(span: Span) -> bool:
            chunk = passages[span.passage_index].chunk
            return in_named_line(question, span.start - chunk.start, span.end - chunk.start, Lines(chunk.text))

        named = next((span for span in result.spans[1:1 + _NEXT_CHOICES] if span.passage_index < len(passages)
                      and on_named_line(span) and not not_held(question, span, passages, facts, vocabulary)), None)
        if named is None:
            return Checked(result, why)
        lent = replace(named, score=best.score, no_answer_score=best.no_answer_score)
        return Checked(replace(result, spans=[lent, *(s for s in result.spans if s is not named)],
                               best_null=lent.no_answer_score), why, replaced=True)
    else:  # "type", "document": any lower choice that `not_held` does not rule out
        def names_it(span: Span) -> bool:
            return True
    instead = _first_held(result, lambda span: span.passage_index < len(passages) and names_it(span)
                          and not not_held(question, span, passages, facts, vocabulary))
    return Checked(instead or result, why, replaced=instead is not None)


def _cell_named_elsewhere(question: str, best: Span, passages: list[Passage], facts: DocumentFacts,
                          vocabulary: CorpusVocabulary | None) -> Span | None:
    """The cell the question names in another passage read than the best span's, of the asked
    year, version... (nothing rules it out), where the best span's passage is of another: the one
    such cell, taken in each passage on its own, since look-alike documents name the same rows."""
    found = []
    for k, passage in enumerate(passages):
        if k == best.passage_index:
            continue
        like = replace(best, doc_id=passage.chunk.doc_id, passage_index=0)  # lends the cell its score
        cell = cell_named_in(question, [passage], like)
        if cell is not None:
            cell = replace(cell, passage_index=k)
            if not not_held(question, cell, passages, facts, vocabulary):
                found.append(cell)
    found = list({(cell.doc_id, cell.start): cell for cell in found}.values())  # one cell read twice is one
    return found[0] if len(found) == 1 else None


def _beside_says_more(question: str, best: Span, cell: Span, passages: list[Passage]) -> bool:
    """Whether the line the question names beside a best span of prose says more of the question,
    with the sentence that leads its list, than the span's own sentence says."""
    if is_labelled(_line_of(best, passages)):
        return False  # the best span is a labelled line's, or a table's: `named_cell` weighs those
    asked = content_stems(question)
    says = len(asked & content_stems(_sentence_of(best, passages)[0]))
    lead = list_lead_sentence(cell, passages[cell.passage_index])
    return len(asked & (content_stems(lead) | content_stems(_line_of(cell, passages)))) > says


def _cell_named_beside(question: str, best: Span, passages: list[Passage]) -> Span | None:
    """The one cell the question names in the best span's own passage."""
    k = best.passage_index
    cell = cell_named_in(question, [passages[k]], replace(best, passage_index=0))
    return None if cell is None else replace(cell, passage_index=k)


def _named_cell_for(question: str, best: Span, passages: list[Passage]) -> Span | None:
    """The cell the question names, in the best span's table (`named_cell`), or, where the best
    span fills no named cell, in any table read (`cell_named_in`): "When does the last ferry leave
    Oban on Sundays?" answered from the timetable's introduction, "valid from 28 March"."""
    passage = passages[best.passage_index]
    cell = named_cell(question, best, passage)
    if cell is None and not fills_a_named_cell(question, best, passage):
        return cell_named_in(question, passages, best)
    if cell is None:
        # the best span fills a named cell; one under a lead that says more of the question wins:
        # "Phone extension: 231" under "Finance Manager: Rajesh Mehta" for "Rajesh Mehta's
        # extension", not the 214 of the HR Manager's lines above it
        other = cell_named_in(question, passages, best)
        return other if other is not None and words_asked_around(question, other, passages[other.passage_index]) > \
            words_asked_around(question, best, passage) else None
    if cell.passage_index < len(passages):
        # a row elsewhere under a lead that says more of the question, or that says more itself: "Frame:
        # lifetime" under "E-Trek 3.0 warranty" for "the frame warranty on the E-Trek 3.0", not the
        # 2.1's "Frame: 5 years" beside the reader's span; "Committee Room — …; Sunday: £15" for "the
        # Committee Room on a Sunday", not "Committee Room: no deposit"
        other = cell_named_in(question, passages, best)
        if other is not None and words_asked_around(question, other, passages[other.passage_index]) > \
                words_asked_around(question, cell, passages[cell.passage_index]):
            return other
    return cell


def check_in_text(question: str, result: ReaderResult, text: str) -> Checked:
    """`check` for spans of one given text (gold-context reading): only the opposite-event check,
    since the others compare the documents of a folder."""
    why = opposite_event(question, *_sentence_in(text, result.spans[0]))
    if not why:
        return Checked(result, why)
    instead = _first_held(result, lambda span: names_asked_event(question, *_sentence_in(text, span))
                          and not opposite_event(question, *_sentence_in(text, span)))
    return Checked(instead or result, why, replaced=instead is not None)


def not_held(question: str, span: Span, passages: list[Passage], facts: DocumentFacts,
             vocabulary: CorpusVocabulary | None) -> str:
    """Why `span` does not answer the question ('' when nothing shows it), as `check` reads it."""
    return _doubt(question, span, passages, facts, vocabulary)[1]


def _doubt(question: str, span: Span, passages: list[Passage], facts: DocumentFacts,
           vocabulary: CorpusVocabulary | None) -> tuple[str, str]:
    """(which check, why) for `not_held`: "detail", "document", "event", "name", "row", "type" or "title"; ("", "")
    when none speaks."""
    why = mismatch(question, span, passages, facts)
    if why:
        return "detail", why
    doc_id = passages[span.passage_index].chunk.doc_id
    word = unnamed_word(question, doc_id, facts)
    if word:
        return "document", f"the passage found is from {doc_id}, which never mentions {word}"
    why = opposite_event(question, *_sentence_of(span, passages))
    if why:
        return "event", why
    if vocabulary is not None:
        unknown = unknown_name(question, vocabulary)
        if unknown and not answers_for_the_rest(_line_of(span, passages)):
            return "name", f"no document mentions {unknown}"
    why = row_contradicts(question, span, passages[span.passage_index])
    if why:
        return "row", why
    why = not_of_the_asked_type(question, span, passages[span.passage_index])
    if why:
        return "type", why
    if _is_the_title(span, passages[span.passage_index], facts) and not asks_what_it_is_called(question):
        return "title", "the span found is the title of its document"
    return "", ""


def _is_the_title(span: Span, passage: Passage, facts: DocumentFacts) -> bool:
    """Whether a span lies in its document's title, as the first passage's heading gives it: the title
    names what the document is about ("Hollybrook Residents' Association: AGM Minutes 2022 to 2024")
    and answers no question of it, but what it is called."""
    chunk = passage.chunk
    title = " ".join(facts.title(chunk.doc_id).split())
    return bool(title) and " ".join(chunk.section.split()) == title and span.end - chunk.start <= chunk.heading_length


def _first_held(result: ReaderResult, held: Callable[[Span], bool]) -> ReaderResult | None:
    """The result with the first of the next few spans that `held` accepts put first."""
    span = next((span for span in result.spans[1:1 + _NEXT_CHOICES] if held(span)), None)
    return None if span is None else _put_first(result, span)


def _put_first(result: ReaderResult, span: Span) -> ReaderResult:
    """The result with `span` as its best (a lower choice, or a cell the best was moved to)."""
    return replace(result, spans=[span, *(s for s in result.spans if s is not span)],
                   best_null=span.no_answer_score)


def _sentence_in(text: str, span: Span) -> tuple[str, tuple[int, int]]:
    """The sentence(s) of a given text a span lies in, and the span's offsets in them."""
    inside = [(s, e) for s, e in sentence_spans(text) if s < span.end and span.start < e]
    start, end = (min(s for s, _ in inside), max(e for _, e in inside)) if inside else (span.start, span.end)
    start, end = min(start, span.start), max(end, span.end)
    return text[start:end], (span.start - start, span.end - start)


def _sentence_of(span: Span, passages: list[Passage]) -> tuple[str, tuple[int, int]]:
    """The sentence(s) of its passage a span lies in, and the span's offsets in them."""
    chunk = passages[span.passage_index].chunk
    start, end = chunk.sentences_around(span.start, span.end)
    return chunk.text[start - chunk.start:end - chunk.start], (span.start - start, span.end - start)


def _line_of(span: Span, passages: list[Passage]) -> str:
    """The line of its passage a span lies on."""
    chunk = passages[span.passage_index].chunk
    start, end = line_bounds(chunk.text, span.start - chunk.start, span.end - chunk.start)
    return chunk.text[start:end]
