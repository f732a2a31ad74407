"""`bot train-reader`: fine-tuning the extractive reader, one window at a time or over the passages
the bot retrieves (--multi-passage). Flags that the chosen kind of training would not read are
refused, not ignored."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.read.windows import WINDOW_STRIDE, WINDOW_TOKENS

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
    train.add_argument("--max-length", type=int, default=WINDOW_TOKENS)
    train.add_argument("--stride", type=int, default=WINDOW_STRIDE)
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--limit", type=int, help="train on a seeded sample of this many questions")
    train.add_argument("--stop-at-step", type=int, metavar="N",
                       help="stop after step N (checkpoint and export), keeping the full run's learning-rate schedule")
    train.add_argument("--continue-from", metavar="DIR",
                       help="with no checkpoint in --work-dir, go on from an unfinished export of this same run")
    train.add_argument("--export-only", action="store_true",
                       help="export the latest checkpoint in --work-dir to --out without training")
    mp = train.add_argument_group(
        "multi-passage training (each question read with the passages the bot retrieves for it)")
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


def check_train_values(args) -> None:
    """One-line usage errors for sizes no run can use, and for folders that cannot take the result,
    before any data is read or any step is trained."""
    from bot.errors import UsageError
    from bot.training.export_folder import check_export_folder

    if (args.altered or 0) < 0:
        raise UsageError(f"--altered must be >= 0 (got {args.altered})")
    if (args.distil_weight or 0) < 0:
        raise UsageError(f"--distil-weight must be >= 0 (got {args.distil_weight:g})")
    if not args.epochs > 0:
        raise UsageError(f"--epochs must be more than 0 (got {args.epochs:g})")
    if not args.lr > 0:
        raise UsageError(f"--lr must be more than 0 (got {args.lr:g})")
    at_least_1 = ("batch_size", "limit", "stop_at_step", "articles", "questions_per_article", "groups_per_batch",
                  "export_every")
    for name in at_least_1:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"{_flag(name)} must be at least 1 (got {value})")
    if args.max_length < 64:
        raise UsageError(f"--max-length must be at least 64 tokens (got {args.max_length})")
    if not 0 <= args.stride < args.max_length // 2:
        raise UsageError(f"--stride must be from 0 to half of --max-length (got {args.stride})")
    # --base-model may also be a hub name; the others are folders.
    for name in ("average_with", "distil_from", "continue_from"):
        if getattr(args, name) and not Path(getattr(args, name)).is_dir():
            raise UsageError(f"{_flag(name)} {getattr(args, name)}: no such folder")
    for name in ("base_model", "average_with", "distil_from", "continue_from"):
        folder = getattr(args, name)
        if folder and Path(folder).is_dir() and not (Path(folder) / "config.json").is_file():
            raise UsageError(f"{_flag(name)} {folder} holds no model (no config.json)")
    if Path(args.base_model).is_dir() and not any(
            (Path(args.base_model) / name).is_file() for name in ("tokenizer.json", "vocab.txt")):
        raise UsageError(f"--base-model {args.base_model} holds no tokenizer (tokenizer.json or vocab.txt)")
    # A model folder may be replaced by its own successor (it is read first); the work folder and
    # the data may not.
    check_export_folder(args.out, [args.work_dir, *args.train])


def run_train(args) -> int:
    check_train_flags(args)
    check_train_values(args)
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
