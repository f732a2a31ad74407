"""The figures `bot eval` reports from scored results, and the CI gates on them."""


from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypedDict

from bot.evaluation import metrics
from bot.evaluation.data import STAGES

if TYPE_CHECKING:
    from bot.evaluation.run import EvalRun, QuestionResult

class AnswerableFigures(TypedDict):
    n: int
    exact_match: float | None
    f1: float | None
    refused: int
    refused_pct: float | None


class UnanswerableFigures(TypedDict):
    n: int
    refused: int
    refused_pct: float | None


class EvalMetrics(TypedDict, total=False):
    """metrics.json: every figure of one run (percentages 0-100, rounded to 3 places)."""

    data_file: str
    format: str
    mode: str  # corpus | squad-open | gold-context
    n: int
    n_available: int
    limit: int | None
    seed: int
    exact_match: float | None
    f1: float | None
    answered: int
    has_answer: AnswerableFigures
    no_answer: UnanswerableFigures
    retrieval: dict | None  # recall@1/3/5 and MRR (and, squad-open, of the gold paragraph); None without retrieval
    citation_accuracy: float | None
    citations_checked: int
    failures: dict[str, int]  # per failure stage, and the total
    failure_f1_below: float
    latency_ms: dict  # p50/p95 overall and per stage
    threshold: float
    reader: str
    embedding_model: str
    calibration: str
    top_k: int | None
    invalid: dict
    elapsed_s: float
    created_at: str


def compute_metrics(run: EvalRun) -> EvalMetrics:
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
        "backends": run.backends,
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


def gate_failures(figures: EvalMetrics, min_f1: float | None = None, min_em: float | None = None,
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
            shown = f"{value:.1f}" if round(value, 1) < minimum else f"{value:.6g}"  # never "66.7 below 66.7"
            failed.append(f"{name} {shown} is below the minimum {minimum:g}")
    return failed
