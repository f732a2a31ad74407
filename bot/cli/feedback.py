"""`bot feedback`: the ratings given on the chat page, listed and summarised; and the
`--feedback` paths of `bot eval` and `bot calibrate`, which learn from them."""

from __future__ import annotations

import argparse
import sys

from bot.cli.options import add_location_flags, settings_from
from bot.errors import DataError
from bot.formatting import shorten

EXAMPLES_FEEDBACK = """examples:
  bot feedback                  # summary and the 20 latest ratings
  bot feedback --all            # every rating
  bot eval --feedback           # score the bot on the rated questions usable as gold
  bot calibrate --feedback      # refit the refusal threshold on the ratings (kept only if it helps)
"""


def register_feedback(sub) -> argparse.ArgumentParser:
    fb = sub.add_parser("feedback", help="list and summarise the ratings given on the chat page",
                        epilog=EXAMPLES_FEEDBACK, formatter_class=argparse.RawDescriptionHelpFormatter)
    shown = fb.add_mutually_exclusive_group()
    shown.add_argument("--last", type=int, default=20, metavar="N", help="list the N latest ratings (default 20)")
    shown.add_argument("--all", action="store_true", help="list every rating")
    add_location_flags(fb)
    return fb


def _verdict(rating) -> str:
    if rating.reply.refused:
        return "refusal right" if rating.rating == "up" else "refusal wrong"
    return "answer right" if rating.rating == "up" else "answer wrong"


def summary_lines(summary, path) -> list[str]:
    return [
        f"{summary.ratings} rated replies in {path}: {summary.up} up, {summary.down} down "
        f"({100 * summary.down_share:.1f}% thumbs-down)",
        f"answers rated wrong: {summary.answers_rated_wrong}; refusals judged wrong (the answer is in the "
        f"documents): {summary.refusals_judged_wrong}; refusals confirmed: {summary.refusals_confirmed}",
        f"usable as gold by bot eval --feedback: {summary.gold} ({summary.gold_answerable} answerable, "
        f"{summary.gold_unanswerable} unanswerable)",
    ]


def rating_line(rating) -> str:
    said = "(not found)" if rating.reply.refused else shorten(rating.reply.answer, 40)
    extra = ""
    if rating.correction:
        extra = f"  user: {shorten(rating.correction, 40)}" + ("" if rating.correction_found else " [not in the documents]")
    return (f"{rating.time[:19]:<19}  {rating.rating:<4}  {_verdict(rating):<13}  {'gold' if rating.gold else '    '}  "
            f"{shorten(rating.question, 50):<50}  bot: {said}{extra}")


def run_feedback(args) -> int:
    from bot.errors import UsageError
    from bot.feedback import FeedbackStore

    if not args.all and args.last < 1:
        raise UsageError(f"--last must be >= 1 (got {args.last})")
    index_dir = settings_from(args).index_dir
    if not index_dir.is_dir():  # a mistyped --index is not an index without ratings
        raise UsageError(f"no index folder at {index_dir}: name the folder the chat page uses (--index)")
    store = FeedbackStore(index_dir)
    ratings = store.read()
    if not ratings:
        print(f"no ratings yet in {store.path}: rate replies with the thumbs on the chat page")
        return 0
    summary = store.summary(ratings)
    print("\n".join(summary_lines(summary, store.path)))
    if summary.unreadable_lines:
        print(f"warning: {summary.unreadable_lines} unreadable line(s) in {store.path} were skipped", file=sys.stderr)
    shown = ratings if args.all else ratings[-args.last:]
    print(f"\n{'latest ' + str(len(shown)) if len(shown) < len(ratings) else 'all'} ratings, oldest first:")
    for rating in shown:
        print(rating_line(rating))
    return 0


def feedback_dataset(settings):
    """`bot eval --feedback`: the rated questions usable as gold, from the index folder, as an
    evaluation Dataset; DataError when there are none."""
    from bot.evaluation.data import Dataset, EvalItem
    from bot.feedback import UP

    store = _rated(settings)
    ratings = store.gold()
    if not ratings:
        raise DataError(f"{store.path}: none of the {len(store.read())} ratings is usable as a labelled question "
                        "(thumbs-up on answers, 'not there' on refusals, or corrections found in the documents)")
    items = [EvalItem(r.id, r.question, r.answers, bool(r.answerable),
                      r.reply.citation.quote if r.rating == UP and r.reply.citation and r.answerable else "")
             for r in ratings]
    return Dataset(store.path, "jsonl", items, n_available=len(items))


def _rated(settings):
    """The feedback store of the index folder; DataError when nothing was rated there yet."""
    from bot.feedback import FeedbackStore

    store = FeedbackStore(settings.index_dir)
    if not store.path.is_file():
        raise DataError(f"no ratings yet: {store.path} does not exist (rate replies on the chat page first)")
    return store


def run_calibrate_feedback(args, settings) -> int:
    """`bot calibrate --feedback`: refit the threshold on the ratings; save it with the index
    only when it does at least as well as the one in use on the held-out ratings."""
    from datetime import date

    from bot.evaluation.run import default_bot_factory
    from bot.read.answerability import CALIBRATION_FILE
    from bot.training.feedback_threshold import refit_threshold

    store = _rated(settings)
    bot = default_bot_factory(settings)
    current = bot.calibration
    refit = refit_threshold(store.read(), current, bot.reader.identity,
                            f"{store.path.name}, {date.today().isoformat()}", seed=args.seed)
    print(f"{refit.n_fit + refit.n_held_out} usable ratings: threshold chosen on {refit.n_fit}, checked on "
          f"{refit.n_held_out}")
    print(f"threshold in use {refit.current_threshold:.3f} (held-out score {refit.held_out_current:.3f}); "
          f"refitted {refit.new_threshold:.3f} (held-out score {refit.held_out_new:.3f})")
    if not refit.accepted:
        print("not saved: the refitted threshold does worse on the held-out ratings; the calibration in use stays")
        return 0
    target = settings.index_dir / CALIBRATION_FILE
    refit.calibration.save(target)
    print(f"saved to {target}; the bot and the chat page use it from their next start")
    return 0
