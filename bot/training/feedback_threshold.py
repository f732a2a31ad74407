"""Refit the refusal threshold on the ratings users gave on the chat page.

Only the threshold moves: the answerability model (how features become a probability) stays
the one in use, since a few dozen ratings are enough to place one cut-off but not to fit
a model of several features. Each rating keeps the features of the reply as the user saw it,
so nothing is asked again and the rated reply itself is what is scored:

    rating                       answering scores           refusing scores
    thumbs-up on an answer       1 (it was right)           0
    thumbs-down on an answer     0 (it was wrong)           1 (saying "not found" beats a wrong quote)
    "right, it is not there"     0                          1
    "it is in the documents"     the probability that its   0
                                 best span was right

The threshold is chosen on a seeded, stratified 70% of the ratings and kept only when, on the
other 30%, it scores at least as well as the threshold in use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bot.errors import DataError
from bot.feedback import DOWN, UP, Rating
from bot.read.answerability import NO_SPAN_SCORE, Calibration

MIN_RATINGS = 30
MIN_EACH_SIDE = 5
FIT_SHARE = 0.7
_REFIT_MARK = "; threshold refitted on "


@dataclass(frozen=True)
class Outcome:
    """One rated reply as the threshold sees it."""

    probability: float
    answer_gain: float
    refuse_gain: float

    @property
    def should_answer(self) -> bool:
        return self.answer_gain > self.refuse_gain


@dataclass(frozen=True)
class ThresholdRefit:
    calibration: Calibration  # the one in use with the new threshold
    current_threshold: float
    new_threshold: float
    n_fit: int
    n_held_out: int
    held_out_current: float  # mean score on the held-out ratings
    held_out_new: float

    @property
    def accepted(self) -> bool:
        return self.held_out_new >= self.held_out_current


def outcome(rating: Rating, calibration: Calibration) -> Outcome | None:
    """None for a rating the threshold cannot act on: taken back, or a reply without any
    candidate answer (refused whatever the threshold)."""
    features = rating.reply.features
    if rating.rating not in (UP, DOWN) or not features or features.get("span_score", NO_SPAN_SCORE) <= NO_SPAN_SCORE:
        return None
    p = calibration.probability(features)
    if rating.reply.refused:
        return Outcome(p, 0.0, 1.0) if rating.rating == UP else Outcome(p, p, 0.0)
    return Outcome(p, 1.0, 0.0) if rating.rating == UP else Outcome(p, 0.0, 1.0)


def usable_outcomes(ratings: list[Rating], calibration: Calibration, reader: str) -> list[Outcome]:
    """Ratings of replies read by this reader, on the similarity scale this calibration reads."""
    out = []
    for rating in ratings:
        reply = rating.reply
        if reply.reader != reader or not calibration.fits_embedder(reply.embedding_model):
            continue
        o = outcome(rating, calibration)
        if o is not None:
            out.append(o)
    return out


def shortfall(outcomes: list[Outcome]) -> str | None:
    """What is missing before a refit is worth trying, or None when there is enough."""
    answer = sum(o.should_answer for o in outcomes)
    refuse = len(outcomes) - answer
    needs = []
    if len(outcomes) < MIN_RATINGS:
        needs.append(f"{MIN_RATINGS - len(outcomes)} more rating{'s' if MIN_RATINGS - len(outcomes) != 1 else ''}")
    if answer < MIN_EACH_SIDE:
        needs.append(f"{MIN_EACH_SIDE - answer} more where answering was right (thumbs-up on answers, "
                     "or 'it is in the documents' on refusals)")
    if refuse < MIN_EACH_SIDE:
        needs.append(f"{MIN_EACH_SIDE - refuse} more where a refusal was right (thumbs-down on answers, "
                     "or 'right, it is not there' on refusals)")
    if not needs:
        return None
    return (f"not enough ratings to refit the threshold: {len(outcomes)} usable ({answer} answer, {refuse} refuse); "
            f"needs {'; '.join(needs)}")


def mean_score(outcomes: list[Outcome], threshold: float) -> float:
    """Mean score of the bot's rule (answer when probability >= threshold) on these ratings."""
    if not outcomes:
        return 0.0
    return sum(o.answer_gain if o.probability >= threshold else o.refuse_gain for o in outcomes) / len(outcomes)


def best_threshold(outcomes: list[Outcome], current: float) -> float:
    """The threshold with the best mean score; cut-offs lie halfway between rated probabilities
    (not on one), and among equals the one nearest the current threshold wins: few ratings
    should move it no further than they show."""
    probs = sorted({o.probability for o in outcomes})
    candidates = {current, 0.0, 1.0} | {(a + b) / 2 for a, b in zip(probs, probs[1:])}
    return max(sorted(candidates), key=lambda t: (round(mean_score(outcomes, t), 9), -abs(t - current)))


def split(outcomes: list[Outcome], seed: int) -> tuple[list[Outcome], list[Outcome]]:
    """A seeded FIT_SHARE / rest split that keeps both kinds of rating on each side."""
    rng = random.Random(seed)
    fit, held = [], []
    for side in (True, False):
        group = [o for o in outcomes if o.should_answer == side]
        rng.shuffle(group)
        cut = round(len(group) * FIT_SHARE)
        fit += group[:cut]
        held += group[cut:]
    return fit, held


def refit_threshold(ratings: list[Rating], calibration: Calibration, reader: str, described: str,
                    seed: int = 0) -> ThresholdRefit:
    """Choose a new threshold for `calibration` from the ratings (DataError when too few)."""
    outcomes = usable_outcomes(ratings, calibration, reader)
    missing = shortfall(outcomes)
    if missing:
        raise DataError(missing)
    fit, held = split(outcomes, seed)
    current = calibration.threshold
    new = best_threshold(fit, current)
    base = calibration.fitted_on.split(_REFIT_MARK)[0] or "default rule"
    fitted = replace(calibration, reader=reader, threshold=round(new, 6), n_examples=len(outcomes), tradeoff=[],
                     fitted_on=f"{base}{_REFIT_MARK}{len(outcomes)} ratings ({described})")
    return ThresholdRefit(fitted, current, new, len(fit), len(held), mean_score(held, current), mean_score(held, new))
