"""Which of the retrieved passages the reader reads, where the question names a version or a code.

The reader reads only the best few retrieved passages (`read_k`). A question that names a version
or a code ("when was 2.0.0 released", "who owns risk R-09") is about the one passage that says it,
and retrieval can rank that passage just below the read ones: the embedding hardly tells "2.0.0"
from "1.0.0", and BM25 reads "2.0.0" as three numbers. A passage shown but not read that names
every such detail of the question, in its own text or its section's name, is read in place of the
lowest read passage that does not. Years, months and names are left to the ranking: a passage
that tells a story names many years, and the one it is about may be its document's, not its own.
"""

from __future__ import annotations

from dataclasses import replace

from bot.read.qualifiers import DocumentFacts, passage_label, passage_terms, question_qualifiers
from bot.types import Passage

_DISTINCT_KINDS = ("version", "code")


def reading_order(question: str, passages: list[Passage], read_k: int, facts: DocumentFacts) -> list[Passage]:
    """`passages` with those the reader should read first: the same list when the read ones name
    the question's versions and codes, or when no passage further down does. Moved passages are
    renumbered, so that ranks still follow the list."""
    details = [q.term for q in question_qualifiers(question) if q.kind in _DISTINCT_KINDS]
    if not details or len(passages) <= read_k:
        return passages

    def names_all(passage: Passage) -> bool:
        terms = passage_terms(passage_label(passage, facts.title(passage.chunk.doc_id)), passage.chunk.text)
        return all(term in terms for term in details)

    naming = [names_all(p) for p in passages]
    read = list(range(read_k))
    for promoted in (i for i in range(read_k, len(passages)) if naming[i]):
        unnamed = [k for k in read if not naming[k]]
        if not unnamed:
            break
        read.remove(unnamed[-1])  # the lowest read passage that does not name them
        read.append(promoted)
    if read == list(range(read_k)):
        return passages
    # the read ones first, each part in retrieval's order
    order = sorted(read) + [i for i in range(len(passages)) if i not in read]
    return [replace(passages[i], rank=r) for r, i in enumerate(order, start=1)]
