"""Fit answerability calibrations from labelled questions.

Two uses:
- `bot calibrate FILE`: a user's own Q&A pairs (answerable and unanswerable) asked of their
  corpus; the result is stored with their index and used from then on.
- `bot calibrate --model DIR FILES...`: the calibration shipped with a reader, fitted on SQuAD
  tune data. Besides each question asked normally, every answerable question is also asked with
  its own article removed from the passages, which gives realistic "the documents do not hold
  the answer" examples. Two calibrations are written: `calibration.json` (with retrieval
  evidence, used by the bot) and `calibration-reader-only.json` (reader scores only, for reading a
  given paragraph, where there is no retrieval), the latter with negatives made by pairing
  questions with another paragraph of the same article.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from bot.evaluation import metrics
from bot.read.answerability import CALIBRATION_FILE, READER_ONLY_FILE, SENTENCE_FILE, Calibration
from bot.training.calibration_fit import answerable_loss, fit_calibration
from bot.evaluation import (
    Dataset, EvalItem, ask_dataset, load_dataset, sample, select_articles, split_article_spec,
    write_squad_corpus,
)
from bot.config import ANSWERABLE_LOSS_BUDGET
from bot.errors import DataError
from bot.files import atomic_write_text
from bot.model_paths import DEFAULT_EMBEDDING_MODEL

# The reader-only model adds the shared-normalisation features: on the tune data they transfer a
# little better to review text (fitted without it) than the per-window scores alone.
READER_ONLY_FEATURES = ("span_score", "null_gap", "min_null_gap", "answer_words", "group_gap", "span_logprob")
# BM25 scores grow with the collection's size (its word statistics), so a rule that reads them
# refuses plain answers in a folder of one or two documents; the fitted rules leave them out.
OPEN_FEATURES = ("span_score", "null_gap", "min_null_gap", "dense", "top_dense", "answer_words")
SENTENCE_FEATURES = ("span_score", "dense", "top_dense", "answer_words")


@dataclass(frozen=True)
class TuneSource:
    """A SQuAD file to fit on, optionally only some articles or only its unanswerable questions
    (e.g. when its answerable ones repeat the reader's training data)."""

    path: str
    titles: frozenset[str] | None = None
    unanswerable_only: bool = False

    @classmethod
    def parse(cls, spec: str, unanswerable_only: bool = False) -> "TuneSource":
        """"file.json" or "file.json@Title_One,Title_Two"."""
        path, titles = split_article_spec(spec)
        return cls(path, titles, unanswerable_only)

    def load(self, limit: int | None, seed: int) -> Dataset:
        dataset = load_dataset(self.path)
        if not dataset.is_squad:
            raise DataError(f"{self.path}: model calibration needs SQuAD files")
        dataset = select_articles(dataset, self.titles)
        if self.unanswerable_only:
            dataset = replace(dataset, items=[i for i in dataset.items if not i.answerable])
        if limit and len(dataset.items) > limit:
            dataset = sample(dataset, limit, seed)
        return dataset


@dataclass
class Example:
    """One labelled reading: its features, the F1 of its best span (0..1) and whether the
    documents held an answer."""

    features: dict[str, float]
    answer_f1: float
    answerable: bool
    source: str = ""  # the tune file it came from, to report each domain separately


def fit(examples: list[Example], identity: str, fitted_on: str, features: tuple[str, ...],
        answerable_share: float | None = None, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
        max_answerable_loss: float | None = None) -> Calibration:
    n_answerable = sum(e.answerable for e in examples)
    check_both_kinds(n_answerable, len(examples) - n_answerable, f"{fitted_on}, of the questions given an answer")
    calibration = fit_calibration([e.features for e in examples], [e.answer_f1 for e in examples],
                                  [e.answerable for e in examples], reader_identity=identity, fitted_on=fitted_on,
                                  features=features, answerable_share=answerable_share,
                                  embedding_model=embedding_model, groups=[e.source for e in examples],
                                  max_answerable_loss=max_answerable_loss)
    calibration.per_source = refusals_by_source(calibration, examples)
    return calibration


def check_both_kinds(answerable: int, unanswerable: int, where: str) -> None:
    """A threshold trades answers to one kind of question against refusals of the other: fitted
    on one kind alone it would refuse nothing (or everything), and be saved as if it were fitted."""
    if not answerable or not unanswerable:
        raise DataError(f"{where}: calibration needs answerable and unanswerable questions "
                        f"(got {answerable} answerable and {unanswerable} unanswerable)")


def refusals_by_source(calibration: Calibration, examples: list[Example]) -> list[dict]:
    """At the chosen threshold, per tune file: the share of answerable questions refused, the mean
    F1 those refusals cost them, and the share of unanswerable ones answered (a rule that holds on
    one domain may not on another)."""
    out = []
    for source in sorted({e.source for e in examples}):
        rows = [e for e in examples if e.source == source]
        prob = np.array([calibration.probability(e.features) for e in rows])
        f1 = np.array([e.answer_f1 for e in rows])
        has = np.array([e.answerable for e in rows])
        answered = prob >= calibration.threshold
        n_has, n_no = int(has.sum()), int((~has).sum())
        loss = answerable_loss(prob, f1, has, calibration.threshold)
        out.append({"source": source or "(unnamed)", "answerable": n_has,
                    "answerable_refused": round(1 - float(answered[has].mean()), 4) if n_has else None,
                    "answerable_f1_lost": round(loss, 4) if n_has else None,
                    "unanswerable": n_no,
                    "unanswerable_answered": round(float(answered[~has].mean()), 4) if n_no else None})
    return out


def examples_from_results(results, sentence_mode: bool = False) -> list[Example]:
    """One example per evaluated question that got a candidate answer.

    Sentence mode answers with a whole sentence, whose F1 against a short gold span is low even
    when it is the right sentence; there, holding the gold answer is what counts."""
    if not sentence_mode:
        return [Example(r.features, r.answer_f1 / 100.0, r.answerable) for r in results if r.has_span]
    return [Example(r.features, float(r.answerable and metrics.contains(r.best_answer, list(r.answers))),
                    r.answerable) for r in results if r.has_span]


def features_for(reader_kind: str) -> tuple[str, ...]:
    return OPEN_FEATURES if reader_kind == "neural" else SENTENCE_FEATURES


def calibrate_on_corpus(bot, dataset: Dataset, progress: bool = False) -> Calibration:
    """Fit on a user's Q&A pairs asked of the bot's own corpus."""
    n_answerable = sum(i.answerable for i in dataset.items)
    check_both_kinds(n_answerable, len(dataset.items) - n_answerable, str(dataset.path))  # before asking them
    bot.sync(progress=progress)
    results = ask_dataset(dataset.items, bot, threshold=0.0, progress=progress)
    return fit(examples_from_results(results, sentence_mode=bot.reader.kind == "sentence"), bot.reader.identity,
               f"{dataset.path} ({len(results)} questions)", features_for(bot.reader.kind),
               embedding_model=bot.settings.embedding_model)


def _article_of(doc_id: str) -> str:
    # write_squad_corpus names documents "<article> <paragraph index>.txt"
    return doc_id.rsplit(" ", 1)[0]


def open_examples(bot, items: list[EvalItem], gold_docs: dict[int, str], with_removed_article: bool,
                  batch_size: int = 64, progress: bool = False, source: str = "") -> list[Example]:
    """Questions asked of the whole collection, and (optionally) again without their article."""
    results = ask_dataset(items, bot, threshold=0.0, batch_size=batch_size, progress=progress, gold_docs=gold_docs)
    examples = [replace(e, source=source)
                for e in examples_from_results(results, sentence_mode=bot.reader.kind == "sentence")]
    if not with_removed_article:
        return examples
    answerable = [i for i in items if i.answerable]
    for b in range(0, len(answerable), batch_size):
        batch = answerable[b : b + batch_size]
        requests = []
        for item in batch:
            article = _article_of(gold_docs[item.paragraph_index])
            # Retrieved as if the article were not in the collection (its scores fused without it).
            passages = bot.retrieve(item.question, exclude=lambda c, a=article: _article_of(c.doc_id) == a)
            requests.append((item.question, passages))
        for response in bot.answer_from(requests, threshold=0.0):
            if response.answer:
                examples.append(Example(response.features, 0.0, False, source))
    return examples


def reader_only_examples(bot, items: list[EvalItem], paragraphs_by_article: dict[str, list[str]],
                         titles: dict[int, str], seed: int, batch_size: int = 64, source: str = "") -> list[Example]:
    """Each question read against its own paragraph, and against another paragraph of its article."""
    rng = random.Random(seed)
    requests, labels = [], []
    for item in items:
        requests.append((item.question, item.context, "own"))
        labels.append(item)
        others = [p for p in paragraphs_by_article.get(titles[item.paragraph_index], []) if p != item.context]
        if item.answerable and others:
            requests.append((item.question, rng.choice(others), "other"))
            labels.append(None)
    examples = []
    for b in range(0, len(requests), batch_size):
        responses = bot.read_texts(requests[b : b + batch_size], threshold=0.0)
        for response, label in zip(responses, labels[b : b + batch_size]):
            if not response.answer:
                continue
            if label is None or not label.answerable:
                examples.append(Example(response.features, 0.0, False, source))
            else:
                examples.append(Example(response.features, metrics.f1(response.answer, label.answers) / 100.0,
                                        True, source))
    return examples


def refit_model(work_dir: Path, model_dir: Path, identity: str, described: str,
                embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                max_answerable_loss: float | None = ANSWERABLE_LOSS_BUDGET) -> dict[str, Calibration]:
    """Fit the shipped calibrations again from the examples a previous run saved (read with
    `embedding_model`'s similarities). They are described as that run described them
    (`described` when it left no description)."""
    missing = [name for name in EXAMPLE_SETS if not (work_dir / f"examples-{name}.json").is_file()]
    if missing:
        raise DataError(f"no saved calibration examples in {work_dir} (examples-{missing[0]}.json): "
                        "run bot calibrate --model DIR --tune FILE first, then --refit")
    rows = {name: load_examples(work_dir / f"examples-{name}.json") for name in EXAMPLE_SETS}
    source = work_dir / EXAMPLES_SOURCE_FILE
    if source.is_file():
        described = source.read_text(encoding="utf-8").strip() or described
    return save_model_calibrations(rows, identity, described, model_dir, embedding_model, max_answerable_loss)


def calibrate_model(bot_factory: Callable, settings, sources: list[TuneSource], model_dir: Path, *,
                    limit: int | None, seed: int, work_dir: Path, progress: bool = False,
                    log: Callable[[str], None] = print,
                    max_answerable_loss: float | None = ANSWERABLE_LOSS_BUDGET) -> dict[str, Calibration]:
    """Fit and store the calibrations shipped with a reader (see the module docstring)."""
    open_rows: list[Example] = []
    gold_rows: list[Example] = []
    sentence_rows: list[Example] = []
    identity = None
    for n, source in enumerate(sources):
        dataset = source.load(limit, seed)
        corpus = work_dir / f"corpus-{n}"
        gold_docs = write_squad_corpus(dataset.paragraphs, corpus)
        run_settings = replace(settings, corpus_dir=corpus, index_dir=work_dir / f"index-{n}", abstain_threshold=0.0)
        bot = bot_factory(run_settings)
        identity = bot.reader.identity
        bot.sync(progress=progress)
        has_answerable = any(i.answerable for i in dataset.items)
        name = _describe(source)
        open_rows += open_examples(bot, dataset.items, gold_docs, with_removed_article=has_answerable,
                                   progress=progress, source=name)
        titles = {p.index: p.title for p in dataset.paragraphs}
        by_article: dict[str, list[str]] = {}
        for p in dataset.paragraphs:
            by_article.setdefault(p.title, []).append(p.context)
        gold_rows += reader_only_examples(bot, dataset.items, by_article, titles, seed, source=name)
        from bot.read.sentence import SentenceReader

        sentence_bot = bot_factory(replace(run_settings, reader="none"))
        sentence_bot.reader = SentenceReader(sentence_bot.embedder)
        sentence_rows += open_examples(sentence_bot, dataset.items, gold_docs, with_removed_article=has_answerable,
                                       progress=progress, source=name)
        log(f"{source.path}: {len(dataset.items)} questions -> {len(open_rows)} open, "
            f"{len(gold_rows)} reader-only examples so far")
    described = "; ".join(_describe(s) for s in sources) + (f" (at most {limit} questions per file, seed {seed})" if limit else "")
    rows = dict(zip(EXAMPLE_SETS, (open_rows, gold_rows, sentence_rows)))
    for name, examples in rows.items():
        save_examples(examples, work_dir / f"examples-{name}.json")
    atomic_write_text(work_dir / EXAMPLES_SOURCE_FILE, described + "\n")
    return save_model_calibrations(rows, identity, described, model_dir, settings.embedding_model,
                                   max_answerable_loss)


# Share of answerable questions assumed when choosing the shipped thresholds: people mostly ask
# about what their documents cover. Two thirds is also the share in the SQuAD 2.0 training set.
ANSWERABLE_SHARE = 2 / 3


# The example sets a model calibration reads, saved under these names so it can be refitted.
EXAMPLE_SETS = ("open", "reader-only", "sentence")
# What the saved examples were read from (files, sample size, seed), for a refit to record.
EXAMPLES_SOURCE_FILE = "examples-source.txt"


def save_model_calibrations(rows: dict[str, list[Example]], identity: str, described: str,
                            model_dir: Path, embedding_model: str = DEFAULT_EMBEDDING_MODEL,
                            max_answerable_loss: float | None = ANSWERABLE_LOSS_BUDGET) -> dict[str, Calibration]:
    """Fit the three shipped calibrations and save them in model_dir. Thresholds are chosen for
    ANSWERABLE_SHARE answerable questions (the tune data holds more made-up negatives than real
    questions), within the refusal budget `max_answerable_loss` in every tune file (None: no budget)."""
    out = {
        CALIBRATION_FILE: fit(rows["open"], identity, described, OPEN_FEATURES, ANSWERABLE_SHARE, embedding_model,
                              max_answerable_loss),
        READER_ONLY_FILE: fit(rows["reader-only"], identity, described, READER_ONLY_FEATURES, ANSWERABLE_SHARE,
                              embedding_model, max_answerable_loss),
        SENTENCE_FILE: fit(rows["sentence"], "sentence", described, SENTENCE_FEATURES, ANSWERABLE_SHARE,
                           embedding_model, max_answerable_loss),
    }
    for name, calibration in out.items():
        calibration.save(model_dir / name)
    return out


def save_examples(rows: list[Example], path: Path) -> None:
    """Keep what was read, so a calibration can be refitted without reading again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps([asdict(r) for r in rows]))


def load_examples(path: Path) -> list[Example]:
    return [Example(**r) for r in json.loads(Path(path).read_text(encoding="utf-8"))]


def _describe(source: TuneSource) -> str:
    text = Path(source.path).name
    if source.titles:
        text += f" [{', '.join(sorted(source.titles))}]"
    return text + (" (unanswerable only)" if source.unanswerable_only else "")


def source_table(calibration: Calibration) -> str:
    """Refusals per tune file at the chosen threshold."""
    lines = [f"{'tune file':<60}  {'answerable refused':>18}  {'F1 lost':>7}  {'unanswerable answered':>21}"]
    for row in calibration.per_source:
        refused = "-" if row["answerable_refused"] is None else f"{100 * row['answerable_refused']:.1f}% of {row['answerable']}"
        lost = "-" if row.get("answerable_f1_lost") is None else f"{100 * row['answerable_f1_lost']:.1f}"
        answered = "-" if row["unanswerable_answered"] is None else f"{100 * row['unanswerable_answered']:.1f}% of {row['unanswerable']}"
        lines.append(f"{row['source'][:60]:<60}  {refused:>18}  {lost:>7}  {answered:>21}")
    return "\n".join(lines)


def tradeoff_table(calibration: Calibration) -> str:
    lines = [f"{'threshold':>9}  {'answerable answered':>19}  {'unanswerable refused':>20}  {'F1 of answers':>13}  {'score':>6}"]
    for row in calibration.tradeoff:
        mark = "  <- chosen" if abs(row["threshold"] - round(calibration.threshold, 4)) < 1e-9 else ""
        f1 = "-" if row["answered_f1"] is None else f"{100 * row['answered_f1']:.1f}"
        lines.append(f"{row['threshold']:>9.3f}  {100 * row['answerable_answered']:>18.1f}%  "
                     f"{100 * row['unanswerable_refused']:>19.1f}%  {f1:>13}  {row['score']:>6.3f}{mark}")
    return "\n".join(lines)
