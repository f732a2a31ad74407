"""Training questions as the bot meets them: each question with the passages it would read.

For every training question the article's paragraphs become documents (as `bot eval --squad-open`
makes them), are cut by the bot's own chunker and ranked by its own retriever (dense + BM25 fusion).
A group is what the reader then sees for that question, with one label for the whole group:

- `retrieved`: the best `read_k` passages of the article, the gold-holding one always among them;
- `gold`: the question's own paragraph alone (gold-context reading);
- `removed`: the best passages once every passage holding the answer is taken away ("not in
  the documents", the chat page's most common refusal);
- SQuAD 2.0 unanswerable questions, read with their own paragraph (alone, or among retrieved ones);
- `altered`: answerable questions with one detail changed so their paragraph no longer answers
  them (`altered_questions.py`), read like the unanswerable ones.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.ingest.chunking import chunk_document
from bot.ingest.corpus import load_document
from bot.search.documents import embedding_text
from bot.evaluation.metrics import normalize_answer
from bot.evaluation.squad import SquadExample, load_squad
from bot.types import Chunk


@dataclass(frozen=True)
class GroupSpec:
    """How training groups are drawn (all seeded)."""

    articles: int = 100  # answerable questions come from this many v1.1 articles
    questions_per_article: int = 100
    read_k: int = 3  # passages per group, as the bot reads at run time
    gold_share: float = 0.15  # answerable questions read on their own paragraph
    removed_share: float = 0.15  # answerable questions read with the gold passages removed
    unanswerable_alone_share: float = 0.5  # unanswerable questions read on their own paragraph only
    altered: int = 0  # unanswerable questions made by altering answerable ones (altered_questions.py)
    chunk_size: int = 600
    chunk_overlap: int = 150
    candidates: int = 20  # retrieved passages to choose distractors from
    seed: int = 13


@dataclass
class Passage:
    text: str
    answer: tuple[int, int] | None = None  # the gold span's character range in text, if it holds it


@dataclass
class Group:
    question: str
    passages: list[Passage]
    kind: str  # retrieved | gold | removed | unanswerable | unanswerable-alone
    example_id: str = ""

    @property
    def answerable(self) -> bool:
        return any(p.answer for p in self.passages)


@dataclass
class _Article:
    title: str
    chunks: list[Chunk] = field(default_factory=list)
    doc_of_paragraph: dict[int, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def squad_files(paths: list[str]) -> list[Path]:
    """Files named directly, and every .json file inside named folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return out


def load_examples(paths: list[str]) -> tuple[list[SquadExample], list[SquadExample]]:
    """Answerable and unanswerable questions; a question repeated across files is kept once.

    Paragraph indexes are made unique across files so that a paragraph names one document.
    """
    answerable: list[SquadExample] = []
    unanswerable: list[SquadExample] = []
    seen: set[tuple[str, str, str]] = set()
    base = 0
    for path in squad_files(paths):
        examples = load_squad(path)
        for e in examples:
            key = (e.title, e.context, e.question)
            if key in seen:
                continue
            seen.add(key)
            e = SquadExample(e.id, e.title, e.context, e.question, e.answers, e.answer_starts,
                             base + e.paragraph_index)
            (answerable if e.answerable else unanswerable).append(e)
        base += 1 + max((e.paragraph_index for e in examples), default=0)
    return answerable, unanswerable


def choose_answerable(examples: list[SquadExample], spec: GroupSpec) -> list[SquadExample]:
    """A seeded sample of articles, and of questions within each."""
    rng = random.Random(spec.seed)
    by_title: dict[str, list[SquadExample]] = defaultdict(list)
    for e in examples:
        by_title[e.title].append(e)
    titles = sorted(by_title)
    rng.shuffle(titles)
    chosen: list[SquadExample] = []
    for title in titles[: spec.articles]:
        questions = list(by_title[title])
        rng.shuffle(questions)
        chosen.extend(questions[: spec.questions_per_article])
    return chosen


def build_articles(examples: list[SquadExample], spec: GroupSpec) -> dict[str, _Article]:
    """Every paragraph of the questions' articles as a document, chunked as the index would."""
    articles: dict[str, _Article] = {}
    done: set[int] = set()
    for e in examples:
        if e.paragraph_index in done:
            continue
        done.add(e.paragraph_index)
        article = articles.setdefault(e.title, _Article(e.title))
        name = f"{e.title.replace('/', '_')[:80]} {e.paragraph_index}.txt"
        doc = load_document(Path(name), name, raw=e.context.encode("utf-8"))
        if not e.context.startswith(doc.text):  # offsets must carry over (trailing space may go)
            continue
        article.doc_of_paragraph[e.paragraph_index] = name
        article.titles[name] = doc.title
        article.chunks.extend(chunk_document(doc, spec.chunk_size, spec.chunk_overlap,
                                             first_id=len(article.chunks)))
    return articles


def _holds(chunk: Chunk, start: int, end: int) -> bool:
    return chunk.start <= start and end <= chunk.end


def _mentions(chunk: Chunk, answers: tuple[str, ...]) -> bool:
    text = f" {normalize_answer(chunk.text)} "
    return any(f" {normalize_answer(a)} " in text for a in answers if normalize_answer(a))


def _passage(chunk: Chunk, gold: tuple[int, int], gold_doc: str) -> Passage:
    """The chunk as a passage, labelled with the gold span if it is the gold document's and holds it."""
    if chunk.doc_id == gold_doc and _holds(chunk, *gold):
        return Passage(chunk.text, (gold[0] - chunk.start, gold[1] - chunk.start))
    return Passage(chunk.text)


def make_groups(answerable: list[SquadExample], unanswerable: list[SquadExample], embedder,
                spec: GroupSpec, log=print, altered: list[SquadExample] = ()) -> list[Group]:
    """Rank each question's article with the bot's retriever and assemble its group."""
    import faiss

    from bot.search.retrieval import Retriever

    examples = answerable + unanswerable + list(altered)
    n_real = len(answerable) + len(unanswerable)
    articles = build_articles(examples, spec)
    all_chunks = [(a, c) for a in articles.values() for c in a.chunks]
    log(f"embedding {len(all_chunks)} passages of {len(articles)} articles and {len(examples)} questions")
    vectors = embedder.encode([embedding_text(c, a.titles.get(c.doc_id, "")) for a, c in all_chunks],
                              show_progress=True)
    questions = embedder.encode([e.question.strip() for e in examples], show_progress=True)
    retrievers = {}
    offset = 0
    for title, article in articles.items():
        block = vectors[offset : offset + len(article.chunks)]
        offset += len(article.chunks)
        if not article.chunks:
            continue
        index = faiss.IndexFlatIP(block.shape[1])
        index.add(block)
        retrievers[title] = Retriever(article.chunks, block, index, embedder, article.titles)

    rng = random.Random(spec.seed + 1)
    groups: list[Group] = []
    for position, (e, q_vector) in enumerate(zip(examples, questions)):
        article = articles.get(e.title)
        doc_id = article.doc_of_paragraph.get(e.paragraph_index) if article else None
        if doc_id is None or e.title not in retrievers:
            continue
        ranked = [p.chunk for p in retrievers[e.title].retrieve(e.question, spec.candidates, vector=q_vector)]
        own = [c for c in article.chunks if c.doc_id == doc_id]
        kind = "unanswerable" if position < n_real else "altered"
        group = (_answerable_group(e, ranked, own, spec, rng) if e.answerable
                 else _unanswerable_group(e, ranked, own, spec, rng, kind))
        if group is not None:
            groups.append(group)
    return groups


def _answerable_group(e: SquadExample, ranked: list[Chunk], own: list[Chunk], spec: GroupSpec,
                      rng: random.Random) -> Group | None:
    gold = (e.answer_starts[0], e.answer_starts[0] + len(e.answers[0]))
    if e.context[gold[0] : gold[1]] != e.answers[0]:
        return None
    roll = rng.random()
    if roll < spec.gold_share:
        # The whole paragraph as one passage, as gold-context evaluation reads it.
        return Group(e.question, [Passage(e.context, gold)], "gold", e.id)
    holding = [c for c in own if _holds(c, *gold)]  # `own`: chunks of the question's paragraph only
    if not holding:
        return None
    # Distractors: retrieved passages that neither hold nor mention the answer.
    others = [c for c in ranked if not _mentions(c, e.answers)]
    if roll < spec.gold_share + spec.removed_share:
        chosen = [c for c in others if c.doc_id != holding[0].doc_id][: spec.read_k]
        if not chosen:
            return None
        return Group(e.question, [Passage(c.text) for c in chosen], "removed", e.id)
    retrieved_gold = [c for c in ranked if c in holding]
    gold_chunk = retrieved_gold[0] if retrieved_gold else holding[0]
    chosen = [gold_chunk] + others[: spec.read_k - 1]
    rng.shuffle(chosen)
    return Group(e.question, [_passage(c, gold, gold_chunk.doc_id) for c in chosen], "retrieved", e.id)


def _unanswerable_group(e: SquadExample, ranked: list[Chunk], own: list[Chunk], spec: GroupSpec,
                        rng: random.Random, kind: str = "unanswerable") -> Group:
    if rng.random() < spec.unanswerable_alone_share:
        return Group(e.question, [Passage(e.context)], f"{kind}-alone", e.id)
    # The paragraph the question was written against stays in: it is the hardest distractor.
    own_ranked = [c for c in ranked if c in own] or own[:1]
    chosen = own_ranked[:1] + [c for c in ranked if c not in own_ranked[:1]][: spec.read_k - 1]
    rng.shuffle(chosen)
    return Group(e.question, [Passage(c.text) for c in chosen], kind, e.id)


def summarize(groups: list[Group]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for g in groups:
        counts[g.kind] += 1
    return dict(sorted(counts.items()))


def answer_lengths(examples: list[SquadExample], tokenizer) -> dict[str, float]:
    """Word-piece lengths of gold answers (to check the reader's span-length limit)."""
    lengths = np.array([len(tokenizer(a, add_special_tokens=False)["input_ids"]) for e in examples for a in e.answers[:1]])
    if not len(lengths):
        return {}
    return {"n": int(len(lengths)), "p50": float(np.percentile(lengths, 50)), "p99": float(np.percentile(lengths, 99)),
            "max": int(lengths.max()), "over_30": float((lengths > 30).mean())}
