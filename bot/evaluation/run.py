"""Running an evaluation: every question through the bot in batches, each response scored.

Three modes:
    corpus        JSONL/CSV questions asked of the configured documents, like a user would
    squad-open    every paragraph of a SQuAD file becomes a document of a temporary corpus and
                  index; each question is asked of that whole collection
    gold-context  SQuAD only: the reader reads each question's own paragraph (no retrieval)

The bot is asked with its abstention threshold at 0 so that every response carries the answer it
would give; the real threshold is then applied here with the bot's own rule (refuse below it).
That way one run shows both the behaviour at the configured threshold and what any other
threshold would do.
"""


from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from bot.config import DEFAULT_BATCH, Settings
from bot.errors import UsageError
from bot.evaluation import metrics
from bot.evaluation.data import MODES, Dataset, EvalItem, Paragraph
from bot.evaluation.figures import EvalMetrics, compute_metrics
from bot.read.answerability import refuses
from bot.types import Response


@dataclass
class QuestionResult:
    """What happened to one question, scored."""

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    evidence: str
    prediction: str  # what the bot answered ("" when it refused)
    best_answer: str  # the reader's best span, whatever the threshold ("" if none)
    refused: bool
    score: float  # answerability probability
    em: float
    f1: float
    answer_f1: float  # F1 of best_answer as if it had been given (0 for unanswerable questions)
    hit_rank: int | None = None  # rank of the first passage holding the gold; None: none or n/a
    # squad-open: rank of the first passage from the question's own paragraph (stricter than
    # hit_rank, since years and names recur across paragraphs)
    gold_doc_rank: int | None = None
    retrieved: list[dict] = field(default_factory=list)  # [{rank, doc, hit}]
    citation: dict | None = None  # {doc, line, quote} of the answer's own location
    citation_correct: bool | None = None
    stage: str | None = None  # failure stage, None when right
    passage_doc: str = ""  # the passage most useful to understand the outcome
    passage_text: str = ""
    features: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def has_span(self) -> bool:
        return bool(self.best_answer)


@dataclass
class EvalRun:
    dataset: Dataset
    mode: str
    results: list[QuestionResult]
    threshold: float
    reader: str
    embedding_model: str
    calibration: str
    elapsed_s: float
    limit: int | None = None
    seed: int = 0
    top_k: int | None = None
    backends: dict[str, str] = field(default_factory=dict)  # how the reader and embedder ran
    metrics: EvalMetrics = field(default_factory=dict)


def default_bot_factory(settings: Settings):
    from bot.pipeline import Bot

    return Bot(settings)


def run_evaluation(dataset: Dataset, settings: Settings, mode: str, *,
                   bot_factory: Callable[[Settings], object] | None = None,
                   batch_size: int = DEFAULT_BATCH, progress: bool = False,
                   limit: int | None = None, seed: int = 0,
                   notify: Callable[[str], None] = lambda message: None,
                   spread: Callable[..., list[QuestionResult]] | None = None) -> EvalRun:
    """Run every question of the dataset and compute the metrics.

    bot_factory(settings) builds the Bot (default: the real models); tests inject light ones.
    spread(items, settings, mode, threshold, batch_size, gold_docs, progress) scores the questions
    elsewhere (bot/cluster/evaluation.py: on Ray actors) once this process has synced the index.
    """
    if mode not in MODES:
        raise UsageError(f"unknown evaluation mode {mode!r}")
    t0 = time.perf_counter()
    # The user's --threshold, else the calibrated one; the bot itself answers at 0 (see above).
    user_threshold = settings.abstain_threshold
    ask_settings = settings  # squad-open points it at a temporary corpus and index
    gold_docs: dict[int, str] = {}
    with contextlib.ExitStack() as stack:
        if mode == "squad-open":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bot-eval-")))
            gold_docs = write_squad_corpus(dataset.paragraphs, folder / "corpus")
            ask_settings = replace(settings, corpus_dir=folder / "corpus", index_dir=folder / "index")
        bot = (bot_factory or default_bot_factory)(ask_settings)
        calibration = bot.reader_only_calibration if mode == "gold-context" else bot.calibration
        threshold = calibration.threshold if user_threshold is None else user_threshold
        if mode != "gold-context":
            bot.sync(progress=progress)
            if mode == "corpus":
                for message in bot.messages:
                    notify(message)
        if spread is not None:
            results = spread(dataset.items, ask_settings, mode, threshold, batch_size, gold_docs, progress)
        elif mode == "gold-context":
            results = read_gold_contexts(dataset.items, bot, threshold, batch_size, progress)
        else:
            results = ask_dataset(dataset.items, bot, threshold, batch_size, progress, gold_docs)
    run = EvalRun(dataset, mode, results, threshold, reader=bot.reader.identity,
                  embedding_model=settings.embedding_model, calibration=calibration.fitted_on,
                  elapsed_s=time.perf_counter() - t0, limit=limit, seed=seed,
                  top_k=None if mode == "gold-context" else settings.top_k,
                  backends={"reader": getattr(bot.reader, "backend", "none"),
                            "embedder": getattr(bot.embedder, "backend", "torch")})
    run.metrics = compute_metrics(run)
    return run


def write_squad_corpus(paragraphs: list[Paragraph], folder: Path) -> dict[int, str]:
    """One text file per paragraph, named after its article (the name becomes the document
    title, as a real document collection would have). Returns paragraph index -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = {}
    by_text: dict[str, str] = {}
    for p in paragraphs:
        if p.context in by_text:  # the indexer skips a copy: its questions' gold is the first file
            docs[p.index] = by_text[p.context]
            continue
        title = re.sub(r"[^\w()\-,' ]+", "_", p.title).strip(" ._") or "paragraph"
        name = f"{title[:80]} {p.index}.txt"
        (folder / name).write_text(p.context, encoding="utf-8")
        docs[p.index] = by_text[p.context] = name
    return docs


def _bar(total: int, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="q", desc="evaluating", file=sys.stderr, disable=not progress,
                mininterval=0.5, dynamic_ncols=True)


def ask_dataset(items: list[EvalItem], bot, threshold: float, batch_size: int = DEFAULT_BATCH,
                progress: bool = False, gold_docs: dict[int, str] | None = None) -> list[QuestionResult]:
    """Ask every question through `Bot.ask_many` in batches and score the responses.

    The bot answers at threshold 0 (its best span for every question); `threshold` is then
    applied with the bot's own rule. Each result keeps the answerability features, the answer's
    F1 and whether the question is answerable, which is what fitting a calibration needs.
    """
    results: list[QuestionResult] = []
    passage_cache: dict[int, str] = {}
    with _bar(len(items), progress) as bar:
        for b in range(0, len(items), batch_size):
            batch = items[b : b + batch_size]
            responses = bot.ask_many([item.question for item in batch], threshold=0.0)
            for item, response in zip(batch, responses, strict=True):
                gold_doc = (gold_docs or {}).get(item.paragraph_index)
                results.append(_score_response(item, response, threshold, passage_cache, gold_doc))
            bar.update(len(batch))
    return results


def read_gold_contexts(items: list[EvalItem], bot, threshold: float, batch_size: int = DEFAULT_BATCH,
                       progress: bool = False) -> list[QuestionResult]:
    """Reader only: each question read against its whole own paragraph (`Bot.read_texts`), the
    decision made by the reader-only calibration (no retrieval evidence)."""
    results: list[QuestionResult] = []
    with _bar(len(items), progress) as bar:
        for b in range(0, len(items), batch_size):
            batch = items[b : b + batch_size]
            responses = bot.read_texts([(item.question, item.context, _paragraph_name(item)) for item in batch],
                                       threshold=0.0)
            results.extend(_score_response(item, response, threshold, retrieval=False)
                           for item, response in zip(batch, responses, strict=True))
            bar.update(len(batch))
    return results


def _paragraph_name(item: EvalItem) -> str:
    return f"paragraph {item.paragraph_index}"


def _score_response(item: EvalItem, response: Response, threshold: float, cache: dict[int, str] | None = None,
                    gold_doc: str | None = None, retrieval: bool = True) -> QuestionResult:
    """Score one response given at threshold 0 as if the bot had used `threshold`. Without
    retrieval (gold-context reading) there are no passages to judge and no citation to check."""
    best = response.answer  # asked at threshold 0: the best span whenever there is one
    refused = refuses(response.score, bool(best), threshold)
    prediction = "" if refused else best
    em, f1 = metrics.score_answer(prediction, refused, item.answers, item.answerable)
    answer_f1 = metrics.f1(best, item.answers) if item.answerable and best else 0.0
    needles = [*item.answers, item.evidence] if item.answerable else []
    retrieved, hit_rank = [], None
    for p in response.passages:
        hit = bool(needles) and _passage_hit(p.chunk, needles, cache if cache is not None else {})
        if hit and hit_rank is None:
            hit_rank = p.rank
        retrieved.append({"rank": p.rank, "doc": p.chunk.doc_id, "hit": hit})
    gold_doc_rank = next((p.rank for p in response.passages if p.chunk.doc_id == gold_doc), None) if gold_doc else None
    citation, citation_correct = None, None
    if response.citations and retrieval:
        c = response.citations[0]
        citation = {"doc": c.doc, "line": c.line, "page": c.page, "quote": c.quote}
        if item.answerable and not refused:
            citation_correct = metrics.contains(c.quote, needles)
    stage = metrics.failure_stage(item.answerable, refused, f1, retrieved=(hit_rank is not None) if retrieval else None)
    if retrieval:
        passage = _explaining_passage(response, hit_rank)
        passage_doc, passage_text = (passage.chunk.doc_id, passage.chunk.text) if passage else ("", "")
    else:
        passage_doc, passage_text = _paragraph_name(item), item.context
    return QuestionResult(
        id=item.id, question=item.question, answers=item.answers, answerable=item.answerable,
        evidence=item.evidence, prediction=prediction, best_answer=best, refused=refused,
        score=response.score, em=em, f1=f1, answer_f1=answer_f1, hit_rank=hit_rank,
        gold_doc_rank=gold_doc_rank, retrieved=retrieved,
        citation=citation, citation_correct=citation_correct, stage=stage,
        passage_doc=passage_doc, passage_text=passage_text,
        features=dict(response.features), timings_ms=dict(response.timings_ms),
    )


def _passage_hit(chunk, needles: list[str], cache: dict[int, str]) -> bool:
    # Normalising each chunk once matters on thousands of questions over the same passages.
    text = cache.get(chunk.chunk_id)
    if text is None:
        text = cache[chunk.chunk_id] = metrics.normalize_answer(chunk.text)
    return metrics.contains_normalized(text, needles)


def _explaining_passage(response: Response, hit_rank: int | None):
    """The passage that holds the gold when one does; else the one the answer came from; else the top one."""
    passages = response.passages
    if not passages:
        return None
    wanted = hit_rank if hit_rank is not None else (response.citations[0].passage_rank if response.citations else None)
    return next((p for p in passages if p.rank == wanted), passages[0])


