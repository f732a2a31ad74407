"""A question about one event answered from a sentence about its opposite.

"When was the bureau dissolved?" asked of "In May 2015, Morocco established the bureau" finds a
date the reader likes, but the sentence tells when the bureau began, not when it ended; "When did
she die?" of "She was born in 1901" likewise. Where the question names one side of such a pair of
events and the answer's sentence names the other side and not the asked one, the documents hold
something like the answer, not the answer.

Only pairs whose sides do not swap with the sentence's subject are listed: "X defeated Y" is a
win for X, and "sold to Google" is a purchase by Google, so winning and buying are left out. Words
compare by their Snowball stems ("dissolved", "dissolution": "dissolv", "dissolut"). Words that
are as often something else are left out: "open" and "close" (a shop's hours), "fire", "scrap",
"liquid"; and "found" alone is the past of "find", not "founded".
"""

from __future__ import annotations

import re

from bot.words import stem

# (one side, the other side) of a pair of opposite events, as word stems.
_OPPOSITES: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (frozenset({"establish", "found", "foundat", "creat", "creation", "launch", "introduc", "inaugur", "incorpor",
                "start", "began", "begin", "begun"}),
     frozenset({"dissolv", "dissolut", "abolish", "abolit", "disband", "termin", "discontinu", "defunct", "ceas"})),
    (frozenset({"born", "birth"}), frozenset({"die", "death", "dead", "deceas"})),
    (frozenset({"hire", "join", "appoint", "recruit"}), frozenset({"dismiss", "resign", "retir"})),
    (frozenset({"increas", "rise", "rose", "risen", "grew", "grow", "grown"}),
     frozenset({"decreas", "fell", "fall", "fallen", "declin", "drop", "shrank", "shrink", "shrunk"})),
    (frozenset({"arriv"}), frozenset({"depart"})),
)
_WORD = re.compile(r"[A-Za-z]+")


def _stems(text: str) -> set[str]:
    return {"find" if w.lower() == "found" else stem(w) for w in _WORD.findall(text)}


def opposite_event(question: str, sentence: str) -> str:
    """Why `sentence` cannot answer `question` ('' when nothing shows it): the question asks about
    one side of a pair of opposite events, and the sentence names the other side and not the asked
    one ("the passage says established, not dissolved")."""
    asked = _stems(question)
    said = None
    for one, other in _OPPOSITES:
        for side, opposite in ((one, other), (other, one)):
            if asked & side and not asked & opposite:
                found = _stems(sentence)
                if not found & side and found & opposite:
                    said = (_first(sentence, opposite), _first(question, side))
                    break
        if said:
            break
    return f"the passage says {said[0]}, not {said[1]}" if said else ""


def _first(text: str, stems: frozenset[str]) -> str:
    """The first word of `text` with one of `stems`, as written."""
    return next((w for w in _WORD.findall(text) if w.lower() != "found" and stem(w) in stems), "")
