"""Typed data passed between stages. Offsets are the contract: every span carries the document
and the character range it came from, so `document.text[start:end] == text` always holds."""

from __future__ import annotations

import bisect
import functools
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypedDict

# Joins a section's headings into its name ("Fees › Late fees"), where a format has heading levels.
SECTION_SEPARATOR = " › "


@dataclass(frozen=True)
class Document:
    """A source file as a reader sees it (markup removed), with maps back to the file."""

    doc_id: str  # path relative to the corpus folder, with forward slashes
    text: str
    content_hash: str  # sha256 of the raw file bytes
    kind: str  # txt | md | html | pdf | docx
    # Start offset in `text` of each text line, and the source-file line it came from.
    line_starts: tuple[int, ...] = ()
    source_lines: tuple[int, ...] = ()
    # Start offset in `text` of each PDF page (page numbers are 1-based); empty for other kinds.
    page_starts: tuple[int, ...] = ()
    # (offset in text where the section starts, heading) in document order.
    headings: tuple[tuple[int, str], ...] = ()
    title: str = ""
    # Start offset of each line that begins a paragraph, list item, row or heading of the source,
    # where the format says so (Word, HTML, Markdown's list items): sentences never run on into it.
    block_starts: tuple[int, ...] = ()

    def line_at(self, offset: int) -> int | None:
        if not self.line_starts:
            return None
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return self.source_lines[max(i, 0)]

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset)

    def section_at(self, offset: int) -> str:
        i = bisect.bisect_right(self._heading_starts, offset) - 1
        return self.headings[i][1] if i >= 0 else ""

    @functools.cached_property
    def _heading_starts(self) -> list[int]:  # found once: every chunk asks
        return [h[0] for h in self.headings]


class DocumentInfo(TypedDict):
    """One indexed document as `Bot.documents()` lists it."""

    doc: str  # its name: the path relative to the corpus folder
    title: str
    kind: str
    chunks: int
    bytes: int | None  # size of the file (None when it is gone from the folder)
    added_at: str  # ISO 8601 time it was first indexed with this content


@dataclass(frozen=True)
class Chunk:
    chunk_id: int
    doc_id: str
    text: str
    start: int
    end: int
    section: str
    line: int | None
    page: int | None
    # Sentence boundaries inside the chunk, as (start, end) document offsets.
    sentences: tuple[tuple[int, int], ...] = ()
    # (document offset, source line or page) wherever the line/page changes inside the chunk,
    # so a citation can name the line or page of the exact answer, not just the chunk's start.
    line_map: tuple[tuple[int, int], ...] = ()
    page_map: tuple[tuple[int, int], ...] = ()
    # Where the heading lines the chunk starts with end (characters from its start), set by the
    # chunker: a section's heading, or several where a heading with nothing under it joined the
    # section below ("2.3.1 — 2026-01-19" above "Fixed"). None: worked out from the first line.
    heading_end: int | None = None

    @property
    def heading_length(self) -> int:
        """The length of the section heading(s) the chunk starts with, 0 when it starts elsewhere
        (a section's first chunk starts with its heading line)."""
        if self.heading_end is not None:
            return self.heading_end
        first_line = self.text.split("\n", 1)[0]
        name = self.section.rsplit(SECTION_SEPARATOR, 1)[-1]
        return len(first_line) if name and " ".join(first_line.split()) == name else 0

    def sentences_around(self, start: int, end: int) -> tuple[int, int]:
        """Document offsets of the chunk's sentences that hold start..end (the whole chunk when
        its sentences are not known), widened to start..end itself."""
        inside = [(s, e) for s, e in self.sentences if s < end and start < e] or [(self.start, self.end)]
        return min(min(s for s, _ in inside), start), max(max(e for _, e in inside), end)

    def line_at(self, offset: int) -> int | None:
        return _lookup(self.line_map, offset, self.line)

    def page_at(self, offset: int) -> int | None:
        return _lookup(self.page_map, offset, self.page)


def _lookup(mapping: tuple[tuple[int, int], ...], offset: int, default: int | None) -> int | None:
    value = default
    for start, v in mapping:
        if start > offset:
            break
        value = v
    return value


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the evidence that ranked it."""

    chunk: Chunk
    score: float  # fused score used for ranking
    rank: int
    dense_score: float | None = None  # cosine similarity to the question
    bm25_score: float | None = None


@dataclass(frozen=True)
class Span:
    """A candidate answer from the reader."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float  # reader score: higher is better; comparable within one reader
    passage_index: int  # which passage it was read from
    no_answer_score: float = 0.0  # reader's score for "no answer in this passage"


@dataclass(frozen=True)
class ReadItem:
    """A piece of text to read: a passage, or a whole paragraph in gold-context evaluation."""

    text: str
    doc_id: str
    offset: int  # where text starts in its document
    passage_index: int = 0
    # The sentences the chunker found, as (start, end) document offsets (empty when not known): an
    # answer may run over a line break inside one of them, not between two.
    sentences: tuple[tuple[int, int], ...] = ()
    # The length of the section heading the text starts with (0: none): its number ("4 Mileage",
    # "2.3 Results") and its words without a figure name the section and answer nothing.
    heading: int = 0
    # The length of a context line put before the passage's own text (its section's headings, which
    # the passage does not show), read but never answered from: `text[context:]` is the document's
    # text at `offset + context`. `heading` counts from the start of `text`, context included.
    context: int = 0


@dataclass
class ReaderResult:
    """What a reader found for one question: candidate spans and its "no answer" evidence."""

    spans: list[Span]  # best first, duplicates merged
    # Score of "no answer" in the window that produced the best span, and the lowest over all
    # windows (a window the model is sure holds an answer).
    best_null: float = 0.0
    min_null: float = 0.0
    # "No answer" over everything read, as the reader is trained to score it: the [CLS] start
    # and end scores of all windows, each combined by log-sum-exp.
    group_null: float = 0.0
    # Log-sum-exp of all start plus all end scores (the shared softmax's normaliser), so a span's
    # score minus this is its log-probability among every place the answer could be.
    log_norm: float = 0.0


class Reader(Protocol):
    """Reads passages for questions. `kind` is "neural" or "sentence"; `identity` names the model
    (calibrations are fitted per identity)."""

    kind: str
    identity: str
    # The folder the model was loaded from, where its calibrations are shipped (None: no model of
    # its own, as in sentence mode; a neural reader knows it once loaded).
    model_dir: str | None

    def warm_up(self) -> None: ...

    def read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]: ...


@dataclass(frozen=True)
class Citation:
    doc: str
    section: str
    start: int  # character range of the answer span in the document
    end: int
    quote: str  # the source sentence that holds the answer, verbatim
    quote_start: int
    quote_end: int
    line: int | None = None
    page: int | None = None
    passage_rank: int | None = None  # rank of the retrieved passage it quotes (None: a given text)


@dataclass
class Response:
    question: str
    answer: str
    abstained: bool
    score: float  # probability that the answer is right (0..1)
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str = ""  # why it abstained, or a notice (e.g. the question was shortened)
    alternatives: list[Span] = field(default_factory=list)
    retrieval_query: str = ""
    follow_up: bool = False  # read with the conversation before it ("When was it built?")
    asked_as: str = ""  # a follow-up as it was read, made to stand alone ("When was the lighthouse built?")
    # About the question or the index, answered or not (the question was shortened, the index is
    # catching up with the folder); also in `reason`.
    notice: str = ""
    # What shows the documents hold only something like the answer ("no document mentions Peru");
    # '' when nothing does (a refusal for low confidence alone, or an answer).
    not_held: str = ""
    # The answerability features behind `score` (what the calibration was given).
    features: dict[str, float] = field(default_factory=dict)
    # The answer's items, one a line of the document, when the answer is a whole list ([] otherwise):
    # shown one per line, where a span over wrapped lines of prose is shown as one line.
    answer_items: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passages"] = [
            {
                "rank": p.rank,
                "doc": p.chunk.doc_id,
                "section": p.chunk.section,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "line": p.chunk.line,
                "page": p.chunk.page,
                "score": round(p.score, 6),
                "dense_score": None if p.dense_score is None else round(p.dense_score, 6),
                "bm25_score": None if p.bm25_score is None else round(p.bm25_score, 6),
                "text": p.chunk.text,
            }
            for p in self.passages
        ]
        data["timings_ms"] = {k: round(v, 2) for k, v in self.timings_ms.items()}
        data["score"] = round(self.score, 6)
        return data
