"""Batch evaluation of the bot on labelled questions: data loading (`data`), running (`run`),
the figures (`figures`, `metrics`) and the written report (`report`)."""

from bot.config import DEFAULT_BATCH
from bot.evaluation.data import (
    MODES,
    STAGES,
    Dataset,
    EvalItem,
    InvalidLine,
    Paragraph,
    choose_mode,
    load_dataset,
    sample,
    select_articles,
    split_article_spec,
)
from bot.evaluation.figures import compute_metrics, gate_failures
from bot.evaluation.run import (
    EvalRun,
    QuestionResult,
    ask_dataset,
    default_bot_factory,
    read_gold_contexts,
    run_evaluation,
    write_squad_corpus,
)

__all__ = [
    "DEFAULT_BATCH", "MODES", "STAGES", "Dataset", "EvalItem", "InvalidLine", "Paragraph", "choose_mode",
    "load_dataset", "sample", "select_articles", "split_article_spec", "compute_metrics", "gate_failures",
    "EvalRun", "QuestionResult", "ask_dataset", "default_bot_factory", "read_gold_contexts", "run_evaluation",
    "write_squad_corpus",
]
