"""Subcommands beyond ask/index/chat: model training (and, as they land, evaluation)."""

from __future__ import annotations

import argparse

HANDLERS: dict = {}


def register(sub, common, answering) -> None:
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
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--max-length", type=int, default=192)
    train.add_argument("--stride", type=int, default=64)
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--limit", type=int, help="train on a seeded sample of this many questions")
    HANDLERS["train-reader"] = run_train


def run_train(args) -> int:
    from bot.reader_training import TrainConfig, train_reader

    config = TrainConfig(
        train_files=args.train, output_dir=args.out, work_dir=args.work_dir, base_model=args.base_model,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, max_length=args.max_length,
        stride=args.stride, seed=args.seed, limit=args.limit,
    )
    out = train_reader(config)
    print(f"reader written to {out}")
    return 0
