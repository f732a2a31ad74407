"""Sentence-level mode (`--reader none`): returns the passage sentence that best matches the
question. Fast and needs no QA model, but it answers with a whole sentence, not a short span."""

from __future__ import annotations

import re

import numpy as np

from bot.ingest.chunking import sentence_spans
from bot.search.embedding import QueryCachingEmbedder
from bot.types import ReaderResult, ReadItem, Span
from bot.words import STOP_WORDS

# How much shared content words add to the cosine similarity: enough to break near-ties only.
WORD_OVERLAP_WEIGHT = 0.2
_WORD = re.compile(r"\w+")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


class SentenceReader:
    kind = "sentence"
    identity = "sentence"
    model_dir = None

    def __init__(self, embedder: QueryCachingEmbedder, top_k: int = 5) -> None:
        self.embedder = embedder
        self.top_k = top_k

    def warm_up(self) -> None:
        self.embedder.warm_up()

    def read(self, question: str, items: list[ReadItem]) -> ReaderResult:
        return self.read_batch([(question, items)])[0]

    def read_batch(self, requests: list[tuple[str, list[ReadItem]]]) -> list[ReaderResult]:
        """One embedding call for all questions and all their sentences."""
        per_request = [[(item, s, e) for item in items for s, e in _sentences(item)] for _, items in requests]
        live = [i for i, (q, _) in enumerate(requests) if q.strip() and per_request[i]]
        questions = [requests[i][0] for i in live]
        sentences = [item.text[s:e] for i in live for item, s, e in per_request[i]]
        vectors = self.embedder.encode(questions + sentences) if live else None
        results = [ReaderResult(spans=[]) for _ in requests]
        offset = len(questions)
        for n, i in enumerate(live):
            found = per_request[i]
            cosine = vectors[offset : offset + len(found)] @ vectors[n]
            offset += len(found)
            q_words = content_words(requests[i][0])
            overlap = np.array([
                len(q_words & content_words(item.text[s:e])) / max(len(q_words), 1) for item, s, e in found
            ])
            # Meaning first; shared content words break near-ties toward the sentence that
            # names what was asked about.
            scores = cosine + WORD_OVERLAP_WEIGHT * overlap
            order = np.argsort(-scores)[: self.top_k]
            results[i] = ReaderResult(spans=[
                Span(text=item.text[s:e], doc_id=item.doc_id, start=item.offset + s, end=item.offset + e,
                     score=float(scores[k]), passage_index=item.passage_index)
                for k in order
                for item, s, e in [found[k]]
            ])
        return results


def _sentences(item: ReadItem) -> list[tuple[int, int]]:
    """The sentences of an item's text, as offsets into it: the chunker's where it found them (it
    knew where the file's paragraphs and list items start), else split here. The context line
    before a passage is no answer, nor part of its first sentence."""
    if item.sentences:
        shifted = [(max(s - item.offset, item.context), e - item.offset) for s, e in item.sentences]
        return [(s, e) for s, e in shifted if s < e <= len(item.text)]
    return sentence_spans(item.text, item.context)
