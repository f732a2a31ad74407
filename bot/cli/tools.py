"""The offline commands: `bot eval`, `bot calibrate` and `bot export-onnx`."""

from __future__ import annotations

import argparse
import sys

from bot.cli.options import add_answering_flags, add_location_flags, add_ray_flags, check_ray_flags, settings_from
from bot.config import ANSWERABLE_LOSS_BUDGET, DEFAULT_BATCH
from bot.errors import EXIT_GATE_FAILED

EXAMPLES_EVAL = """examples:
  bot eval questions.jsonl --out eval-out            # ask the configured documents
  bot eval data.csv --reader none --min-f1 40        # CI gate: exit 1 below F1 40
  bot eval squad.json --gold-context --limit 300     # reader only, on each question's own paragraph
  bot eval squad.json --squad-open --limit 300 --seed 1 --out eval-open
  bot eval --feedback                                # the questions rated on the chat page

JSONL/CSV fields: question, answers (list; in CSV a JSON list or a|b|c), optional answerable
(default true), evidence, id. SQuAD v1.1/v2.0 files are recognised by their content.
"""


def register_eval(sub) -> argparse.ArgumentParser:
    ev = sub.add_parser("eval", help="score the bot on a labelled question file (JSONL, CSV or SQuAD)",
                        epilog=EXAMPLES_EVAL, formatter_class=argparse.RawDescriptionHelpFormatter)
    ev.add_argument("file", nargs="?", help="questions with gold answers: .jsonl, .csv or a SQuAD .json "
                    "(FILE.json@Title,Title: only those articles)")
    ev.add_argument("--feedback", action="store_true",
                    help="instead of FILE: the questions rated on the chat page that are usable as gold "
                    "(INDEX/feedback.jsonl)")
    ev.add_argument("--out", metavar="DIR", help="write metrics.json, results.jsonl and report.html here")
    squad = ev.add_mutually_exclusive_group()
    squad.add_argument("--gold-context", action="store_true",
                       help="SQuAD: read each question against its own paragraph (reader only)")
    squad.add_argument("--squad-open", action="store_true",
                       help="SQuAD: all paragraphs become a temporary corpus; questions go through retrieval")
    ev.add_argument("--limit", type=int, metavar="N", help="evaluate a random sample of N questions")
    ev.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    ev.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                    help=f"questions answered together (default {DEFAULT_BATCH})")
    ev.add_argument("--skip-invalid", action="store_true",
                    help="skip malformed lines/rows (counted in metrics.json) instead of stopping")
    ev.add_argument("--min-f1", type=percent, metavar="X", help="exit 1 if F1 (%%) is below X")
    ev.add_argument("--min-em", type=percent, metavar="X", help="exit 1 if exact match (%%) is below X")
    ev.add_argument("--min-recall", type=percent, metavar="X", help="exit 1 if retrieval recall@5 (%%) is below X")
    add_location_flags(ev)
    add_answering_flags(ev)
    add_ray_flags(ev, "score the questions")
    return ev


def percent(text: str) -> float:
    """A gate's minimum: a number from 0 to 100 (NaN would let every run pass)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage from 0 to 100 (got {text})")
    return value


def run_eval(args) -> int:

    from bot.errors import UsageError
    from bot.evaluation import (choose_mode, gate_failures, load_dataset, run_evaluation, sample, select_articles,
                                split_article_spec)
    from bot.evaluation.report import check_output_folder, summary_text, write_outputs

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {args.limit})")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1 (got {args.batch_size})")
    if args.out:
        check_output_folder(args.out)
    check_ray_flags(args)
    settings = settings_from(args)
    if bool(args.file) == bool(args.feedback):
        raise UsageError("give a question file, or --feedback for the ratings from the chat page (not both)")
    if args.feedback:
        from bot.cli.feedback import feedback_dataset

        dataset, path, titles = feedback_dataset(settings), settings.index_dir / "feedback.jsonl", None
    else:
        path, titles = split_article_spec(args.file)
        dataset = load_dataset(path, skip_invalid=args.skip_invalid)
    for bad in dataset.invalid:
        print(f"warning: {path} line {bad.line}: {bad.reason} (skipped)", file=sys.stderr)
    dataset = select_articles(dataset, titles)
    mode = choose_mode(dataset, args.gold_context, args.squad_open)
    if mode == "gold-context" and args.min_recall is not None:
        raise UsageError("--min-recall needs retrieval, which --gold-context skips")
    if mode != "gold-context" and settings.top_k < 5:
        if args.min_recall is not None:
            raise UsageError(f"--min-recall is recall@5, which needs --top-k 5 or more (got {settings.top_k})")
        print(f"note: with --top-k {settings.top_k}, recall@5 counts only the {settings.top_k} passages retrieved",
              file=sys.stderr)
    if mode == "squad-open" and (args.corpus or args.index):
        print("note: --corpus/--index are not used with --squad-open (the file's paragraphs are the corpus)",
              file=sys.stderr)
    dataset = sample(dataset, args.limit, args.seed)
    spread = None
    if args.ray:
        from bot.cluster.evaluation import ray_spreader

        spread = ray_spreader(args.ray, args.ray_workers)
    run = run_evaluation(dataset, settings, mode, batch_size=args.batch_size, progress=True,
                         limit=args.limit, seed=args.seed, notify=lambda m: print(f"note: {m}", file=sys.stderr),
                         spread=spread)
    print(summary_text(run))
    if args.out:
        out = write_outputs(run, args.out)
        print(f"\nwritten to {out}/ (metrics.json, results.jsonl, report.html)")
    failed = gate_failures(run.metrics, args.min_f1, args.min_em, args.min_recall)
    for message in failed:
        print(f"gate failed: {message}", file=sys.stderr)
    return EXIT_GATE_FAILED if failed else 0


EXAMPLES_CALIBRATE = """examples:
  bot calibrate my_questions.jsonl       # fit on your Q&A pairs, stored with the index
  bot calibrate --feedback               # refit the threshold on the chat page's ratings
  bot calibrate --model bot/models/reader \\
      --tune ../shared/data/squad/squad-v1.1-dev-part-a.json \\
      --tune "../shared/data/squad/squad-v2.0-dev-5-articles.json@Victoria_(Australia)" \\
      --tune-negatives ../shared/data/squad/train/squad-v2.0-train-10-articles.json --limit 1500

Your file needs answerable and unanswerable questions (JSONL/CSV as for `bot eval`).
"""


def register_calibrate(sub) -> argparse.ArgumentParser:
    cal = sub.add_parser("calibrate", help="fit when to say 'not found' from labelled questions",
                         epilog=EXAMPLES_CALIBRATE, formatter_class=argparse.RawDescriptionHelpFormatter)
    cal.add_argument("file", nargs="?", help="your Q&A pairs (JSONL/CSV/SQuAD), asked of your corpus")
    cal.add_argument("--feedback", action="store_true",
                     help="refit the refusal threshold on the ratings from the chat page (INDEX/feedback.jsonl); "
                     "saved only if it does no worse on held-out ratings")
    cal.add_argument("--model", metavar="DIR", help="fit the calibrations shipped with this reader folder instead")
    cal.add_argument("--tune", action="append", default=[], metavar="FILE[@ARTICLE,...]",
                     help="with --model: SQuAD tune file (optionally only some articles)")
    cal.add_argument("--tune-negatives", action="append", default=[], metavar="FILE[@ARTICLE,...]",
                     help="with --model: SQuAD file whose unanswerable questions are used")
    cal.add_argument("--limit", type=int, help="with --model: at most N questions per file (seeded sample)")
    cal.add_argument("--seed", type=int, default=0)
    cal.add_argument("--work-dir", default="runs/calibration", help="with --model: temporary corpora and indexes")
    cal.add_argument("--refit", action="store_true",
                     help="with --model: refit from the examples saved in --work-dir by an earlier run")
    cal.add_argument("--max-answerable-loss", type=float, metavar="POINTS",
                     help="with --model: refusals may cost the answerable questions of each tune file at most "
                     f"this much F1 (default {100 * ANSWERABLE_LOSS_BUDGET:.0f}; 100: no limit)")
    add_location_flags(cal)
    add_answering_flags(cal)
    return cal


def run_calibrate(args) -> int:
    from pathlib import Path

    from bot.training.calibration import (
        CALIBRATION_FILE, TuneSource, calibrate_model, calibrate_on_corpus, source_table, tradeoff_table,
    )
    from bot.errors import UsageError
    from bot.evaluation import load_dataset
    from bot.pipeline import Bot

    settings = settings_from(args)
    progress = sys.stderr.isatty()
    if args.model and args.feedback:
        raise UsageError("--feedback refits your own threshold; it does not combine with --model")
    model_only = [flag for flag, given in (("--tune", args.tune), ("--tune-negatives", args.tune_negatives),
                                           ("--limit", args.limit is not None), ("--refit", args.refit),
                                           ("--max-answerable-loss", args.max_answerable_loss is not None)) if given]
    if model_only and not args.model:
        raise UsageError(f"{', '.join(model_only)} only apply to a reader's shipped calibrations: add --model DIR")
    points = 100 * ANSWERABLE_LOSS_BUDGET if args.max_answerable_loss is None else args.max_answerable_loss
    if not 0 <= points <= 100:
        raise UsageError(f"--max-answerable-loss is F1 points, 0 to 100 (got {points:g})")
    budget = points / 100
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {args.limit})")
    if args.model:
        sources = [TuneSource.parse(t) for t in args.tune] + [TuneSource.parse(t, True) for t in args.tune_negatives]
        if args.refit:
            from bot.training.calibration import refit_model
            from bot.read.answerability import Calibration

            from bot.errors import DataError

            if not (Path(args.model) / CALIBRATION_FILE).is_file():
                raise DataError(f"{args.model} has no {CALIBRATION_FILE} to refit: fit one first with "
                                f"bot calibrate --model {args.model} --tune FILE")
            previous = Calibration.load(Path(args.model) / CALIBRATION_FILE)
            fitted = refit_model(Path(args.work_dir), Path(args.model), previous.reader, previous.fitted_on,
                                 previous.embedding_model, budget)
        elif not sources:
            raise UsageError("--model needs at least one --tune or --tune-negatives file")
        else:
            from dataclasses import replace

            settings = replace(settings, reader=args.model)
            fitted = calibrate_model(Bot, settings, sources, Path(args.model), limit=args.limit, seed=args.seed,
                                     work_dir=Path(args.work_dir), progress=progress, max_answerable_loss=budget)
        for name, calibration in fitted.items():
            print(f"{name}: {calibration.n_examples} examples, threshold {calibration.threshold:.3f}")
            print(tradeoff_table(calibration))
            print(source_table(calibration))
        return 0
    if args.feedback:
        if args.file:
            raise UsageError("give a file of Q&A pairs or --feedback, not both")
        from bot.cli.feedback import run_calibrate_feedback

        return run_calibrate_feedback(args, settings)
    if not args.file:
        raise UsageError("give a file of Q&A pairs: bot calibrate FILE (or --feedback, or --model DIR --tune ...)")
    bot = Bot(settings)
    try:
        calibration = calibrate_on_corpus(bot, load_dataset(args.file), progress=progress)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = settings.index_dir / CALIBRATION_FILE
    calibration.save(target)
    print(tradeoff_table(calibration))
    print(f"threshold {calibration.threshold:.3f} chosen from {calibration.n_examples} answers; saved to {target}")
    return 0


def register_export(sub) -> argparse.ArgumentParser:
    export = sub.add_parser(
        "export-onnx",
        help="build the ONNX Runtime copies of the reader and the embedder, and measure which reader "
             "backend is fastest on this machine",
        description="Builds (or checks) the cached ONNX copies that --reader-backend onnx-* and "
                    "--embedding-backend onnx-* use (BOT_ONNX_CACHE, default ~/.cache/docqa-bot/onnx), "
                    "then times every reader backend on one fixed question and remembers the fastest "
                    "for --reader-backend auto. Without this command the same happens on first use.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  bot export-onnx                 # the bundled reader and the default embedder",
    )
    export.add_argument("--reader", help="QA model folder (default: the bundled reader)")
    export.add_argument("--embedding-model", help="sentence-transformers model folder or packaged name")
    export.add_argument("--no-measure", action="store_true", help="only build; do not time the backends")
    return export


def run_export(args) -> int:
    from bot.accel.cache import PRECISIONS, onnx_copy
    from bot.accel.choice import measure_reader_backends
    from bot.config import READER_BACKENDS
    from bot.errors import UsageError
    from bot.hardware import cpu_description
    from bot.model_paths import BUNDLED_READER_DIR, DEFAULT_EMBEDDING_MODEL, model_folder

    reader = model_folder(args.reader or str(BUNDLED_READER_DIR), "reader")
    embedder = model_folder(args.embedding_model or DEFAULT_EMBEDDING_MODEL, "embedding")
    for kind, folder in (("reader", reader), ("embedder", embedder)):
        if not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.txt")):
            # Checked before the copies are built: the bot could not read text with them.
            raise UsageError(f"the {kind} folder {folder} holds no tokenizer (tokenizer.json or vocab.txt)")
    for kind, folder in (("reader", reader), ("embedder", embedder)):
        for precision in PRECISIONS:
            model = onnx_copy(folder, kind, precision)
            print(f"{kind:8} {precision:5} {model.size_bytes / 1e6:6.1f} MB  sha256 {model.sha256[:16]}  {model.path}")
    if not args.no_measure:
        record = measure_reader_backends(reader, tuple(b for b in READER_BACKENDS if b != "auto"))
        print(f"reader per question on {cpu_description()}, median of the fixed batch: "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in record["median_ms"].items())
              + (f"; --reader-backend auto uses {record['backend']}" if record["remembered"] else
                 f"; not remembered: other work kept {record['other_load']:.0%} of the cores busy, run it again"))
    return 0
