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
                "start", "began", "begin", "begun", "commenc"}),
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


# Where a sentence passes from one event to another ("commences on 1 June and terminates on 31
# May", "worked there from 2010 until she retired"), and where it may only set a phrase apart
# ("In May 2015, Morocco established...", "The club, founded in 1890, was dissolved in 1931").
_EVENT_BREAK = re.compile(r";|\s(?:and|but|until|till|while|whereas|before|after|then)\s", re.I)
_PHRASE_BREAK = re.compile(r"[,:]")


def opposite_event(question: str, sentence: str, answer: tuple[int, int] | None = None) -> str:
    """Why `sentence` cannot answer `question` ('' when nothing shows it): the question asks about
    one side of a pair of opposite events, and the sentence names the other side and not the asked
    one ("the passage says established, not dissolved"). With `answer` (the answer's offsets in the
    sentence), the answer's own clause decides where it names an event of the pair: "The lease
    commences on 1 June and terminates on 31 May" answers "When does it start?" with 1 June."""
    asked = _stems(question)
    for one, other in _OPPOSITES:
        for side, opposite in ((one, other), (other, one)):
            if not asked & side or asked & opposite:
                continue
            if answer is None:
                found = _stems(sentence)
            else:  # the answer's phrase, else its clause ("In May 2015," names no event: "..., Morocco established")
                found = _stems(_part(sentence, answer, _EVENT_BREAK, _PHRASE_BREAK))
                if not found & (side | opposite):
                    found = _stems(_part(sentence, answer, _EVENT_BREAK))
            if not found & side and found & opposite:
                return f"the passage says {_first(sentence, opposite)}, not {_first(question, side)}"
    return ""


def _part(sentence: str, answer: tuple[int, int], *breaks: re.Pattern[str]) -> str:
    """The part of `sentence` between the nearest of `breaks` around `answer`."""
    start = max((m.end() for b in breaks for m in b.finditer(sentence, 0, answer[0])), default=0)
    end = min((m.start() for b in breaks for m in b.finditer(sentence, answer[1])), default=len(sentence))
    return sentence[start:end]


def _first(text: str, stems: frozenset[str]) -> str:
    """The first word of `text` with one of `stems`, as written."""
    return next((w for w in _WORD.findall(text) if w.lower() != "found" and stem(w) in stems), "")
