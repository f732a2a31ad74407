"""Batch evaluation: load a labelled question file into typed records, run every question
through the bot in batches, and compute the figures `bot eval` reports.

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
import csv
import io
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from bot import metrics
from bot.calibration import refuses
from bot.config import Settings
from bot.errors import DataError, UsageError
from bot.questions import clean_question
from bot.squad import load_squad, squad_version
from bot.types import Response

MODES = ("corpus", "squad-open", "gold-context")
STAGES = ("not_retrieved", "misread", "wrongly_refused", "answered_unanswerable")
DEFAULT_BATCH = 64
_TRUE = {"true", "1", "yes", "y", ""}
_FALSE = {"false", "0", "no", "n"}


# ----- data -----

@dataclass(frozen=True)
class EvalItem:
    """One labelled question."""

    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool = True
    evidence: str = ""
    line: int | None = None  # where it starts in the file (JSONL/CSV)
    context: str = ""  # SQuAD: the question's own paragraph
    paragraph_index: int | None = None


@dataclass(frozen=True)
class Paragraph:
    index: int
    title: str
    context: str


@dataclass(frozen=True)
class InvalidLine:
    line: int | None
    reason: str


@dataclass
class Dataset:
    path: Path
    format: str  # jsonl | csv | squad-1.1 | squad-2.0
    items: list[EvalItem]
    invalid: list[InvalidLine] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)  # SQuAD files only
    n_available: int = 0  # valid questions in the file, before sampling

    @property
    def is_squad(self) -> bool:
        return self.format.startswith("squad")


def load_dataset(path: str | Path, skip_invalid: bool = False) -> Dataset:
    """Read a JSONL, CSV or SQuAD (v1.1/v2.0, detected by content) file.

    A malformed line or row raises DataError naming the file and line, unless skip_invalid,
    in which case it is recorded in `Dataset.invalid`.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a question file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    squad = _as_squad(text)
    if squad is not None:
        dataset = _load_squad(path, squad)
    elif path.suffix.lower() == ".csv":
        dataset = _load_csv(path, text, skip_invalid)
    else:
        dataset = _load_jsonl(path, text, skip_invalid)
    if not dataset.items:
        why = f" ({len(dataset.invalid)} invalid)" if dataset.invalid else ""
        raise DataError(f"{path}: no questions to evaluate{why}")
    dataset.n_available = len(dataset.items)
    return dataset


def _as_squad(text: str) -> dict | None:
    """The parsed file if it is one JSON object with a 'data' list (the SQuAD layout)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None  # e.g. JSONL: several objects
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data
    return None


def _load_squad(path: Path, data: dict) -> Dataset:
    version = squad_version(data, path)
    try:
        examples = load_squad(path)
        paragraphs = [
            Paragraph(n, article.get("title", ""), paragraph["context"])
            for n, (article, paragraph) in enumerate(
                (a, p) for a in data["data"] for p in a.get("paragraphs", []))
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: malformed SQuAD entry ({type(exc).__name__}: {exc})") from None
    items = [
        EvalItem(id=e.id, question=e.question, answers=e.answers, answerable=e.answerable,
                 context=e.context, paragraph_index=e.paragraph_index)
        for e in examples if e.question.strip()
    ]
    return Dataset(path, f"squad-{version}", items, paragraphs=paragraphs)


def _load_jsonl(path: Path, text: str, skip_invalid: bool) -> Dataset:
    items, invalid = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            items.append(_item(record, number, f"line{number}"))
        except ValueError as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
    return Dataset(path, "jsonl", items, invalid)


def _load_csv(path: Path, text: str, skip_invalid: bool) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise DataError(f"{path} line 1: {exc}") from None
    missing = [c for c in ("question", "answers") if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'})")
    items, invalid = [], []
    while True:
        number = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
            continue
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) != len(header):
                raise ValueError(f"expected {len(header)} fields, found {len(row)}")
            record = dict(zip(header, row))
            record["answers"] = _csv_answers(record["answers"])
            items.append(_item(record, number, f"row{number}"))
        except ValueError as exc:
            _invalid(path, number, str(exc), skip_invalid, invalid)
    return Dataset(path, "csv", items, invalid)


def _csv_answers(cell: str) -> list:
    """A JSON list, or answers separated by '|'."""
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"answers look like a JSON list but are not valid JSON ({exc.msg})") from None
        return value
    return [a.strip() for a in cell.split("|") if a.strip()]


def _item(record: dict, line: int, default_id: str) -> EvalItem:
    if "question" not in record:
        raise ValueError("missing 'question'")
    question = record["question"]
    if not isinstance(question, str):
        raise ValueError("'question' must be text")
    try:
        clean_question(question, 10**9)
    except UsageError:
        raise ValueError("the question is empty") from None
    answerable = _flag(record.get("answerable", True))
    answers = record.get("answers", [])
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ValueError("'answers' must be a list of strings")
    answers = tuple(a for a in answers if a.strip())
    if answerable and not answers:
        raise ValueError("an answerable question needs at least one non-empty answer")
    evidence = record.get("evidence") or ""
    if not isinstance(evidence, str):
        raise ValueError("'evidence' must be text")
    item_id = record.get("id")
    item_id = default_id if item_id is None or str(item_id).strip() == "" else str(item_id)
    return EvalItem(item_id, question, answers, answerable, evidence.strip(), line)


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return True
    raise ValueError(f"'answerable' must be true or false (got {value!r})")


def _invalid(path: Path, line: int, reason: str, skip: bool, out: list[InvalidLine]) -> None:
    if not skip:
        raise DataError(f"{path} line {line}: {reason}")
    out.append(InvalidLine(line, reason))


def select_articles(dataset: Dataset, titles: frozenset[str] | set[str] | None) -> Dataset:
    """Only the questions and paragraphs of the named SQuAD articles (None keeps everything)."""
    if not titles:
        return dataset
    if not dataset.is_squad:
        raise UsageError(f"{dataset.path}: choosing articles (FILE@Title,...) needs a SQuAD file")
    missing = set(titles) - {p.title for p in dataset.paragraphs}
    if missing:
        raise DataError(f"{dataset.path}: no article named {', '.join(sorted(missing))}")
    keep = {p.index for p in dataset.paragraphs if p.title in titles}
    items = [i for i in dataset.items if i.paragraph_index in keep]
    return replace(dataset, paragraphs=[p for p in dataset.paragraphs if p.index in keep], items=items,
                   n_available=len(items))


def split_article_spec(spec: str) -> tuple[str, frozenset[str] | None]:
    """"file.json" or "file.json@Title_One,Title_Two" -> (path, titles or None)."""
    path, _, titles = spec.partition("@")
    return path, frozenset(t for t in titles.split(",") if t) or None


def sample(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """A reproducible random sample of `limit` questions, kept in file order."""
    if limit is None or limit >= len(dataset.items):
        return dataset
    if limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {limit})")
    keep = sorted(random.Random(seed).sample(range(len(dataset.items)), limit))
    return replace(dataset, items=[dataset.items[i] for i in keep])


def choose_mode(dataset: Dataset, gold_context: bool, squad_open: bool) -> str:
    if gold_context and squad_open:
        raise UsageError("choose one of --gold-context and --squad-open")
    if dataset.is_squad:
        if not (gold_context or squad_open):
            raise UsageError(f"{dataset.path} is a SQuAD file: add --gold-context (reader only, each question "
                             "against its own paragraph) or --squad-open (all paragraphs as the corpus)")
        return "gold-context" if gold_context else "squad-open"
    if gold_context or squad_open:
        raise UsageError("--gold-context and --squad-open apply to SQuAD files only")
    return "corpus"


# ----- running -----

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
    metrics: dict = field(default_factory=dict)


def default_bot_factory(settings: Settings):
    from bot.pipeline import Bot

    return Bot(settings)


def run_evaluation(dataset: Dataset, settings: Settings, mode: str,
                   bot_factory: Callable[[Settings], object] | None = None,
                   batch_size: int = DEFAULT_BATCH, progress: bool = False,
                   limit: int | None = None, seed: int = 0,
                   notify: Callable[[str], None] = lambda message: None) -> EvalRun:
    """Run every question of the dataset and compute the metrics.

    bot_factory(settings) builds the Bot (default: the real models); tests inject light ones.
    """
    if mode not in MODES:
        raise UsageError(f"unknown evaluation mode {mode!r}")
    t0 = time.perf_counter()
    # The user's --threshold, else the calibrated one; the bot itself answers at 0 (see above).
    user_threshold = settings.abstain_threshold
    ask_settings = settings
    gold_docs: dict[int, str] = {}
    with contextlib.ExitStack() as stack:
        if mode == "squad-open":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bot-eval-")))
            gold_docs = write_squad_corpus(dataset.paragraphs, folder / "corpus")
            ask_settings = replace(ask_settings, corpus_dir=folder / "corpus", index_dir=folder / "index")
        bot = (bot_factory or default_bot_factory)(ask_settings)
        calibration = bot.reader_only_calibration if mode == "gold-context" else bot.calibration
        threshold = calibration.threshold if user_threshold is None else user_threshold
        if mode == "gold-context":
            results = read_gold_contexts(dataset.items, bot, threshold, batch_size, progress)
        else:
            bot.sync(progress=progress)
            if mode == "corpus":
                for message in bot.messages:
                    notify(message)
            results = ask_dataset(dataset.items, bot, threshold, batch_size, progress, gold_docs)
    run = EvalRun(dataset, mode, results, threshold, reader=bot.reader.identity,
                  embedding_model=settings.embedding_model, calibration=calibration.fitted_on,
                  elapsed_s=time.perf_counter() - t0, limit=limit, seed=seed,
                  top_k=None if mode == "gold-context" else settings.top_k)
    run.metrics = compute_metrics(run)
    return run


def write_squad_corpus(paragraphs: list[Paragraph], folder: Path) -> dict[int, str]:
    """One text file per paragraph, named after its article (the name becomes the document
    title, as a real document collection would have). Returns paragraph index -> doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = {}
    for p in paragraphs:
        title = re.sub(r"[^\w()\-,' ]+", "_", p.title).strip(" ._") or "paragraph"
        name = f"{title[:80]} {p.index}.txt"
        (folder / name).write_text(p.context, encoding="utf-8")
        docs[p.index] = name
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
            for item, response in zip(batch, responses):
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
                           for item, response in zip(batch, responses))
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


# ----- figures -----

def compute_metrics(run: EvalRun) -> dict:
    results = run.results
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    stages = [r.stage for r in results]

    def pct(count: int, total: int) -> float | None:
        return 100.0 * count / total if total else None

    answered = [r for r in answerable if not r.refused]
    out = {
        "data_file": str(run.dataset.path),
        "format": run.dataset.format,
        "mode": run.mode,
        "n": len(results),
        "n_available": run.dataset.n_available,
        "limit": run.limit,
        "seed": run.seed,
        "exact_match": metrics.mean([r.em for r in results]),
        "f1": metrics.mean([r.f1 for r in results]),
        "answered": sum(1 for r in results if not r.refused),
        "has_answer": {
            "n": len(answerable),
            "exact_match": metrics.mean([r.em for r in answerable]),
            "f1": metrics.mean([r.f1 for r in answerable]),
            "refused": len(answerable) - len(answered),
            "refused_pct": pct(len(answerable) - len(answered), len(answerable)),
        },
        "no_answer": {
            "n": len(unanswerable),
            "refused": sum(1 for r in unanswerable if r.refused),
            "refused_pct": pct(sum(1 for r in unanswerable if r.refused), len(unanswerable)),
        },
        "retrieval": None,
        "citation_accuracy": None,
        "citations_checked": 0,
        "failures": {stage: stages.count(stage) for stage in STAGES} | {"total": sum(1 for s in stages if s)},
        "failure_f1_below": metrics.FAILURE_F1,
        "latency_ms": _latency(results),
        "threshold": run.threshold,
        "reader": run.reader,
        "embedding_model": run.embedding_model,
        "calibration": run.calibration,
        "top_k": run.top_k,
        "invalid": {"skipped": len(run.dataset.invalid),
                    "lines": [{"line": x.line, "reason": x.reason} for x in run.dataset.invalid[:100]]},
        "elapsed_s": run.elapsed_s,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if run.mode != "gold-context":
        ranks = [r.hit_rank for r in answerable]
        out["retrieval"] = {
            "n": len(ranks),
            "recall@1": metrics.recall_at(ranks, 1),
            "recall@3": metrics.recall_at(ranks, 3),
            "recall@5": metrics.recall_at(ranks, 5),
            "mrr": metrics.mean_reciprocal_rank(ranks),
        }
        if run.mode == "squad-open":
            gold = [r.gold_doc_rank for r in results]
            out["retrieval"]["gold_paragraph"] = {
                "n": len(gold),
                "recall@1": metrics.recall_at(gold, 1),
                "recall@3": metrics.recall_at(gold, 3),
                "recall@5": metrics.recall_at(gold, 5),
                "mrr": metrics.mean_reciprocal_rank(gold),
            }
        checked = [r.citation_correct for r in answered if r.citation_correct is not None]
        out["citations_checked"] = len(checked)
        out["citation_accuracy"] = pct(sum(checked), len(checked))
    return _rounded(out)


def _latency(results: list[QuestionResult]) -> dict:
    stages = ["total"] + sorted({k for r in results for k in r.timings_ms} - {"total"},
                                key=lambda s: ["embed", "retrieve", "read", "format"].index(s)
                                if s in ("embed", "retrieve", "read", "format") else 9)
    out: dict = {}
    for stage in stages:
        values = [r.timings_ms[stage] for r in results if stage in r.timings_ms]
        figures = {"p50": metrics.percentile(values, 50), "p95": metrics.percentile(values, 95)}
        if stage == "total":
            out.update(figures)
        else:
            out[stage] = figures
    return out


def _rounded(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def gate_failures(figures: dict, min_f1: float | None = None, min_em: float | None = None,
                  min_recall: float | None = None) -> list[str]:
    """The CI gates a run misses, as messages (empty when it passes them all)."""
    retrieval = figures.get("retrieval") or {}
    checks = [("F1", figures.get("f1"), min_f1), ("exact match", figures.get("exact_match"), min_em),
              ("recall@5", retrieval.get("recall@5"), min_recall)]
    failed = []
    for name, value, minimum in checks:
        if minimum is None:
            continue
        if value is None:
            failed.append(f"{name} was not measured (minimum {minimum:g})")
        elif value < minimum:
            failed.append(f"{name} {value:.1f} is below the minimum {minimum:g}")
    return failed
