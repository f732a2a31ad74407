"""Why the reader's best span, however well scored, does not answer the question.

The reader finds the span most like an answer; it cannot tell that the documents speak of another
year or version than the one asked about (`qualifiers.py`), of the opposite event
(`opposite_events.py`), or never name what the question asks about (`unknown_names.py`). Each
check looks at the span's sentence or line in its passage; the first that finds a reason decides,
and the bot then refuses with that reason, unless a lower choice of the reader is plainly about the
asked event instead (`asked_event_instead`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.ingest.chunking import sentence_spans
from bot.read.opposite_events import names_asked_event, opposite_event
from bot.read.qualifiers import DocumentFacts, mismatch
from bot.read.unknown_names import CorpusVocabulary, answers_for_the_rest, unknown_name
from bot.read.windows import line_bounds
from bot.types import Passage, ReaderResult, Span

# How far down the reader's choices an answer about the asked event is looked for.
_NEXT_CHOICES = 4


def not_held(question: str, best: Span, passages: list[Passage], facts: DocumentFacts,
             vocabulary: CorpusVocabulary | None) -> str:
    """Why the documents hold something like the answer but not the answer ('' when nothing shows
    it): it is about another year, version, month..., about the opposite event ("established" for
    "dissolved"), or the documents never name what it is about ("the Amsterdam office" of a firm in
    Paris and Rome) and the span's line does not answer for all the others ("Other cities")."""
    why = mismatch(question, best, passages, facts) or opposite_event(question, *_sentence_of(best, passages))
    if not why and vocabulary is not None:
        unknown = unknown_name(question, vocabulary)
        if unknown and not answers_for_the_rest(_line_of(best, passages)):
            why = f"no document mentions {unknown}"
    return why


def asked_event_instead(question: str, result: ReaderResult, passages: list[Passage], facts: DocumentFacts,
                        vocabulary: CorpusVocabulary | None) -> ReaderResult | None:
    """Where the best span's sentence tells of the opposite event, the reader's result with the
    first of its next few choices whose own clause names the asked event (and that nothing else
    rules out) put first: "When did the Ropewalk reopen?" is answered "6 June 2024" from "The
    Ropewalk reopened to visitors on 6 June 2024", not "May 2024" from "the site stayed closed
    during May 2024". None where there is no such choice."""
    return _event_instead(question, result, lambda span: _sentence_of(span, passages),
                          lambda span: not not_held(question, span, passages, facts, vocabulary))


def asked_event_instead_in_text(question: str, result: ReaderResult, text: str) -> ReaderResult | None:
    """`asked_event_instead` for spans of one given text (gold-context reading)."""
    return _event_instead(question, result, lambda span: _sentence_in(text, span),
                          lambda span: not not_held_in_text(question, text, span))


def _event_instead(question: str, result: ReaderResult, sentence_of: Callable[[Span], tuple[str, tuple[int, int]]],
                   held: Callable[[Span], bool]) -> ReaderResult | None:
    if not result.spans or not opposite_event(question, *sentence_of(result.spans[0])):
        return None
    for span in result.spans[1:1 + _NEXT_CHOICES]:
        if names_asked_event(question, *sentence_of(span)) and held(span):
            return replace(result, spans=[span, *(s for s in result.spans if s is not span)],
                           best_null=span.no_answer_score)
    return None


def not_held_in_text(question: str, text: str, best: Span) -> str:
    """`not_held` for a span of one given text (gold-context reading): only the opposite-event
    check, since the other two compare the documents of a folder."""
    return opposite_event(question, *_sentence_in(text, best))


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
