"""Unanswerable training questions made from answerable ones by changing what they ask about.

SQuAD 2.0's unanswerable questions are mostly written against a paragraph by swapping one
detail: another name, another year, the opposite adjective. The paragraph still looks relevant,
but no longer states the answer. The 2,886 real ones in the training data are too few and too
alike for the reader to learn that check, so more are made the same way from answerable questions:

- `name`: a capitalised name in the question that the paragraph mentions is replaced by a name
  from another article's questions that the paragraph does not mention;
- `number`: a number the paragraph mentions is replaced by a nearby one it does not mention;
- `opposite`: a word with a clear opposite (first/last, largest/smallest, ...) is replaced by that
  opposite, when the paragraph never uses it.

Every replacement is checked against the paragraph, so the altered question's detail is absent
from it. A question that would need no such change, or gives no candidate, is skipped.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bot.evaluation.squad import SquadExample

_OPPOSITE_PAIRS = (
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"),
    ("most", "least"), ("earliest", "latest"), ("oldest", "newest"), ("longest", "shortest"),
    ("before", "after"), ("north", "south"), ("east", "west"), ("northern", "southern"),
    ("eastern", "western"), ("increase", "decrease"), ("increased", "decreased"), ("win", "lose"),
    ("won", "lost"), ("more", "less"), ("maximum", "minimum"), ("upper", "lower"), ("major", "minor"),
    ("best", "worst"), ("higher", "lower"), ("larger", "smaller"), ("older", "younger"),
    ("early", "late"), ("start", "end"), ("started", "ended"), ("began", "ended"), ("open", "closed"),
    ("opened", "closed"), ("public", "private"), ("inside", "outside"), ("internal", "external"),
    ("strong", "weak"), ("strongest", "weakest"), ("rich", "poor"), ("positive", "negative"),
    ("allowed", "forbidden"), ("accepted", "rejected"), ("supported", "opposed"), ("gain", "loss"),
    ("import", "export"), ("imports", "exports"), ("male", "female"), ("men", "women"),
    ("modern", "ancient"), ("success", "failure"), ("successful", "unsuccessful"), ("common", "rare"),
)
_OPPOSITE = {a: b for a, b in _OPPOSITE_PAIRS} | {b: a for a, b in _OPPOSITE_PAIRS}

# A run of capitalised words (allowing "of", "the" inside), e.g. "University of Notre Dame".
_NAME = re.compile(r"\b[A-Z][\w'\-]*(?:\s+(?:(?:of|the|de|von|van)\s+)*[A-Z][\w'\-]*)*")
_NUMBER = re.compile(r"(?<![\w.,])\d{1,4}(?![\w.,]\d)")
_WORD = re.compile(r"[A-Za-z]+")
# Capitalised only because they open the question or are common words, not names.
_NOT_NAMES = frozenset("""what which who whom whose when where why how in on at of for by to from the a an
is are was were did does do has have had can could would should will during after before since
according besides name give""".split())

KINDS = ("name", "number", "opposite")


@dataclass(frozen=True)
class Alteration:
    kind: str
    original: str
    replacement: str


def _whole(phrase: str) -> str:
    """A pattern for `phrase` as whole words (not inside a longer word or number)."""
    return rf"(?<!\w){re.escape(phrase)}(?!\w)"


def _mentions(context_lower: str, phrase: str) -> bool:
    return re.search(_whole(phrase.lower()), context_lower) is not None


def _names(question: str) -> list[str]:
    names = []
    for m in _NAME.finditer(question):
        words = m.group(0).split()
        while words and words[0].lower() in _NOT_NAMES:  # "In Paris" -> "Paris"
            words = words[1:]
        if words:
            names.append(re.sub(r"'s?$", "", " ".join(words)))  # "Comcast's" -> "Comcast"
    return names


def name_pool(examples: list[SquadExample]) -> dict[str, list[tuple[str, str]]]:
    """Names asked about, by article: (name, title) pairs to draw replacements from."""
    pool: dict[str, list[tuple[str, str]]] = {}
    for e in examples:
        for name in _names(e.question):
            pool.setdefault(e.title, []).append((name, e.title))
    return pool


def _alter_name(e: SquadExample, context_lower: str, donors: list[tuple[str, str]],
                rng: random.Random) -> Alteration | None:
    names = [n for n in _names(e.question) if _mentions(context_lower, n)]
    if not names or not donors:
        return None
    original = rng.choice(names)
    size = len(original.split())
    for _ in range(20):
        candidate, title = rng.choice(donors)
        if title == e.title or _mentions(context_lower, candidate):
            continue
        if (len(candidate.split()) > 1) != (size > 1):  # a one-word name for a one-word name
            continue
        return Alteration("name", original, candidate)
    return None


def _alter_number(e: SquadExample, context_lower: str, rng: random.Random) -> Alteration | None:
    numbers = [m.group(0) for m in _NUMBER.finditer(e.question) if _mentions(context_lower, m.group(0))]
    if not numbers:
        return None
    original = rng.choice(numbers)
    value = int(original)
    spread = 30 if 1000 <= value <= 2100 else max(3, value // 2)
    for _ in range(20):
        candidate = str(max(0, value + rng.choice((-1, 1)) * rng.randint(1, spread)))
        if candidate != original and not _mentions(context_lower, candidate):
            return Alteration("number", original, candidate)
    return None


def _alter_opposite(e: SquadExample, context_lower: str, rng: random.Random) -> Alteration | None:
    words = [w for w in _WORD.findall(e.question) if w.lower() in _OPPOSITE]
    words = [w for w in words if not _mentions(context_lower, _OPPOSITE[w.lower()])]
    if not words:
        return None
    original = rng.choice(words)
    replacement = _OPPOSITE[original.lower()]
    if original[0].isupper():
        replacement = replacement.capitalize()
    return Alteration("opposite", original, replacement)


def alter(e: SquadExample, donors: list[tuple[str, str]], rng: random.Random) -> tuple[str, Alteration] | None:
    """The question with one detail changed so that its paragraph no longer answers it, or None."""
    context_lower = e.context.lower()
    kinds = list(KINDS)
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "name":
            change = _alter_name(e, context_lower, donors, rng)
        elif kind == "number":
            change = _alter_number(e, context_lower, rng)
        else:
            change = _alter_opposite(e, context_lower, rng)
        if change is not None:
            return re.sub(_whole(change.original), change.replacement, e.question, count=1), change
    return None


def altered_questions(examples: list[SquadExample], count: int, seed: int,
                      donors_from: list[SquadExample] | None = None) -> list[SquadExample]:
    """Up to `count` unanswerable questions, each altered from one of `examples` (seeded).

    Replacement names come from `donors_from` (default: `examples`), always from another article."""
    if count <= 0:
        return []
    rng = random.Random(seed)
    pool = [d for names in name_pool(donors_from or examples).values() for d in names]
    order = list(examples)
    rng.shuffle(order)
    out: list[SquadExample] = []
    for e in order:
        if len(out) >= count:
            break
        altered = alter(e, pool, rng)
        if altered is None:
            continue
        question, change = altered
        out.append(SquadExample(f"{e.id}-altered-{change.kind}", e.title, e.context, question, (), (),
                                e.paragraph_index))
    return out
