"""The offline commands: `bot train-reader`, `bot eval` and `bot calibrate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.options import add_answering_flags, add_location_flags, add_ray_flags, settings_from
from bot.config import ANSWERABLE_LOSS_BUDGET, DEFAULT_BATCH

SINGLE_WINDOW_BATCH = 32  # windows per step of single-window training
DEFAULT_AVERAGE_WEIGHT = 0.5  # the trained weights' share in --average-with


def register_train(sub) -> argparse.ArgumentParser:
    train = sub.add_parser(
        "train-reader",
        help="fine-tune the extractive reader on SQuAD-format data (seeded, resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  bot train-reader --train ../shared/data/squad/train --out bot/models/reader",
    )
    train.add_argument("--train", nargs="+", required=True, metavar="PATH",
                       help="SQuAD JSON files or folders of part-*.json shards")
    train.add_argument("--out", required=True, help="folder for the exported model (fp16 safetensors)")
    train.add_argument("--work-dir", default="runs/reader", help="checkpoints and logs (resume from here)")
    train.add_argument("--base-model", default="sentence-transformers/all-MiniLM-L6-v2")
    train.add_argument("--epochs", type=float, default=1.0)
    train.add_argument("--batch-size", type=int, help=f"windows per step (default {SINGLE_WINDOW_BATCH})")
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--max-length", type=int, default=192)
    train.add_argument("--stride", type=int, default=64)
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--limit", type=int, help="train on a seeded sample of this many questions")
    train.add_argument("--stop-at-step", type=int, metavar="N",
                       help="stop after step N (checkpoint and export), keeping the full run's learning-rate schedule")
    train.add_argument("--continue-from", metavar="DIR",
                       help="with no checkpoint in --work-dir, go on from an unfinished export of this same run")
    train.add_argument("--export-only", action="store_true",
                       help="export the latest checkpoint in --work-dir to --out without training")
    mp = train.add_argument_group("multi-passage training (each question read with the passages the bot retrieves for it)")
    mp.add_argument("--multi-passage", action="store_true",
                    help="shared-normalisation training over retrieved passages, with unanswerable questions")
    mp.add_argument("--articles", type=int, help="v1.1 articles to draw answerable questions from (default 100)")
    mp.add_argument("--questions-per-article", type=int,
                    help="at most this many answerable questions from each article (default 100)")
    mp.add_argument("--groups-per-batch", type=int, help="questions (with all their passages) per step (default 8)")
    mp.add_argument("--gold-share", type=float,
                    help="share of answerable questions read on their own paragraph alone (default 0.15)")
    mp.add_argument("--removed-share", type=float,
                    help="share of answerable questions read with the passages holding the answer removed "
                    "(default 0.15)")
    mp.add_argument("--altered", type=int, metavar="N",
                    help="also train on N unanswerable questions made by changing a name, number or word of "
                    "chosen answerable ones so that their paragraph no longer answers them (default 0)")
    mp.add_argument("--distil-from", metavar="DIR",
                    help="keep the answerable questions' span choices close to this reader's (knowledge "
                    "distillation), so that learning 'no answer' costs less reading")
    mp.add_argument("--distil-weight", type=float, metavar="W",
                    help="with --distil-from: the distillation term's weight (default 1)")
    mp.add_argument("--export-every", type=int, metavar="N",
                    help="also export --work-dir/step-N every N steps, for a tuning curve")
    mp.add_argument("--average-with", metavar="DIR",
                    help="write to --out the average of the trained weights and DIR's (the trained ones "
                    "stay in --work-dir/trained)")
    mp.add_argument("--average-weight", type=float, metavar="W",
                    help=f"with --average-with: the trained weights' share (default {DEFAULT_AVERAGE_WEIGHT})")
    return train


# Flags that only one kind of training reads (argparse names); the other kind refuses them rather
# than silently training without them.
MULTI_PASSAGE_ONLY = ("articles", "questions_per_article", "groups_per_batch", "gold_share", "removed_share",
                      "altered", "distil_from", "distil_weight", "export_every", "average_with", "average_weight")
SINGLE_WINDOW_ONLY = ("batch_size", "limit", "continue_from", "export_only")
# Flags that only mean something beside another flag.
NEEDS = {"distil_weight": "distil_from", "average_weight": "average_with"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_train_flags(args) -> None:
    """A one-line usage error for a flag the chosen kind of training would ignore."""
    from bot.errors import UsageError

    given = [name for name in (MULTI_PASSAGE_ONLY if not args.multi_passage else SINGLE_WINDOW_ONLY)
             if getattr(args, name) not in (None, False)]
    if given:
        flags = ", ".join(_flag(name) for name in given) + (" only applies" if len(given) == 1 else " only apply")
        raise UsageError(f"{flags} to --multi-passage training" if not args.multi_passage
                         else f"{flags} to single-window training (without --multi-passage)")
    for name, needed in NEEDS.items():
        if getattr(args, name) is not None and getattr(args, needed) is None:
            raise UsageError(f"{_flag(name)} only applies with {_flag(needed)}")


def run_train(args) -> int:
    check_train_flags(args)
    if args.multi_passage:
        return _run_train_multi_passage(args)
    from bot.training.reader import TrainConfig, train_reader

    config = TrainConfig(
        train_files=args.train, output_dir=args.out, work_dir=args.work_dir, base_model=args.base_model,
        epochs=args.epochs, batch_size=SINGLE_WINDOW_BATCH if args.batch_size is None else args.batch_size,
        learning_rate=args.lr, max_length=args.max_length, stride=args.stride, seed=args.seed, limit=args.limit,
        stop_at_step=args.stop_at_step, continue_from=args.continue_from,
    )
    if args.export_only:
        from bot.training.reader import export_checkpoint

        out = export_checkpoint(config)
    else:
        out = train_reader(config)
    print(f"reader written to {out}")
    return 0


def _run_train_multi_passage(args) -> int:
    from bot.errors import UsageError
    from bot.training.passage_groups import GroupSpec
    from bot.training.shared_norm import MultiPassageConfig, train_multi_passage

    def given(*names: str) -> dict:
        return {name: getattr(args, name) for name in names if getattr(args, name) is not None}

    groups = given("articles", "questions_per_article", "gold_share", "removed_share", "altered")
    if groups.get("gold_share", 0) + groups.get("removed_share", 0) > 1:
        raise UsageError("--gold-share and --removed-share add up to more than 1")
    if groups.get("altered", 0) < 0:
        raise UsageError(f"--altered must be >= 0 (got {groups['altered']})")
    if (args.distil_weight or 0) < 0:
        raise UsageError(f"--distil-weight must be >= 0 (got {args.distil_weight:g})")
    average_weight = DEFAULT_AVERAGE_WEIGHT if args.average_weight is None else args.average_weight
    if args.average_with:
        from bot.training.averaging import check_weight

        check_weight(average_weight)
    trained_dir = str(Path(args.work_dir) / "trained") if args.average_with else args.out
    config = MultiPassageConfig(
        train_files=args.train, output_dir=trained_dir, base_model=args.base_model, work_dir=args.work_dir,
        epochs=args.epochs, learning_rate=args.lr, max_length=args.max_length, stride=args.stride, seed=args.seed,
        stop_at_step=args.stop_at_step, distil_from=args.distil_from,
        groups=GroupSpec(seed=args.seed, **groups),
        **given("groups_per_batch", "export_every", "distil_weight"),
    )
    out = train_multi_passage(config)
    if args.average_with:
        from bot.training.averaging import interpolate_readers

        out = interpolate_readers(Path(args.average_with), Path(out), average_weight, Path(args.out))
    print(f"reader written to {out}")
    return 0


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
    ev.add_argument("--min-f1", type=float, metavar="X", help="exit 1 if F1 (%%) is below X")
    ev.add_argument("--min-em", type=float, metavar="X", help="exit 1 if exact match (%%) is below X")
    ev.add_argument("--min-recall", type=float, metavar="X", help="exit 1 if retrieval recall@5 (%%) is below X")
    add_location_flags(ev)
    add_answering_flags(ev)
    add_ray_flags(ev, "score the questions")
    return ev


def run_eval(args) -> int:
    from pathlib import Path

    from bot.errors import UsageError
    from bot.evaluation import (choose_mode, gate_failures, load_dataset, run_evaluation, sample, select_articles,
                                split_article_spec)
    from bot.evaluation.report import summary_text, write_outputs

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {args.limit})")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1 (got {args.batch_size})")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    settings = settings_from(args)
    if bool(args.file) == bool(args.feedback):
        raise UsageError("give a question file, or --feedback for the ratings from the chat page (not both)")
    if args.feedback:
        from bot.cli.feedback import feedback_dataset

        dataset, path, titles = feedback_dataset(settings), settings.index_dir / "feedback.jsonl", None
    else:
        path, titles = split_article_spec(args.file) if not Path(args.file).exists() else (args.file, None)
        dataset = load_dataset(path, skip_invalid=args.skip_invalid)
    for bad in dataset.invalid:
        print(f"warning: {path} line {bad.line}: {bad.reason} (skipped)", file=sys.stderr)
    dataset = select_articles(dataset, titles)
    mode = choose_mode(dataset, args.gold_context, args.squad_open)
    if mode == "gold-context" and args.min_recall is not None:
        raise UsageError("--min-recall needs retrieval, which --gold-context skips")
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
    return 1 if failed else 0


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
    from bot.hardware import cpu_description
    from bot.model_paths import BUNDLED_READER_DIR, DEFAULT_EMBEDDING_MODEL, model_folder

    reader = model_folder(args.reader or str(BUNDLED_READER_DIR), "reader")
    embedder = model_folder(args.embedding_model or DEFAULT_EMBEDDING_MODEL, "embedding")
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
