"""A question about one event answered from a sentence about its opposite.

"When was the bureau dissolved?" asked of "In May 2015, Morocco established the bureau" finds a
date the reader likes, but the sentence tells when the bureau began, not when it ended; "When did
she die?" of "She was born in 1901" likewise. Where the question names one side of such a pair of
events and the answer's sentence names the other side and not the asked one, the documents hold
something like the answer, not the answer.

Only pairs whose sides do not swap with the sentence's subject are listed: "X defeated Y" is a
win for X, and "sold to Google" is a purchase by Google, so winning and buying are left out. Words
compare by their Snowball stems ("dissolved", "dissolution": "dissolv", "dissolut"). Words that
are as often something else are left out: "open" (a shop's hours), "fire", "scrap", "liquid";
"found" alone is the past of "find", not "founded", and "close" alone is as often "near" ("close
to the harbour") as "shut"; "closed", "closing" and "closure" end something, as "reopened" starts
it again ("When did the Ropewalk reopen?" is not answered by "it stayed closed during May 2024").
"""

from __future__ import annotations

import re

from bot.words import stem

# (one side, the other side) of a pair of opposite events, as word stems.
_OPPOSITES: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (frozenset({"establish", "found", "foundat", "creat", "creation", "launch", "introduc", "inaugur", "incorpor",
                "start", "began", "begin", "begun", "commenc", "reopen"}),
     frozenset({"dissolv", "dissolut", "abolish", "abolit", "disband", "termin", "discontinu", "defunct", "ceas",
                "close", "closur", "shut"})),
    (frozenset({"born", "birth"}), frozenset({"die", "death", "dead", "deceas"})),
    (frozenset({"hire", "join", "appoint", "recruit"}), frozenset({"dismiss", "resign", "retir"})),
    (frozenset({"increas", "rise", "rose", "risen", "grew", "grow", "grown"}),
     frozenset({"decreas", "fell", "fall", "fallen", "declin", "drop", "shrank", "shrink", "shrunk"})),
    (frozenset({"arriv"}), frozenset({"depart"})),
)
_WORD = re.compile(r"[A-Za-z]+")
# Words whose stem would say more than the word does: "found" (of "find"), "close" (near).
_NOT_THEIR_STEM = {"found": "find", "close": "near"}


def _stems(text: str) -> set[str]:
    return {_NOT_THEIR_STEM.get(w.lower()) or stem(w) for w in _WORD.findall(text)}


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
    commences on 1 June and terminates on 31 May" answers "When does it start?" with 1 June. So
    does a time the question sets against an event and the sentence another ("after probation" of
    "During probation, the notice period is one week")."""
    for side, opposite in _asked_sides(question):
        found = _said(sentence, answer, side | opposite)
        if not found & side and found & opposite:
            return f"the passage says {_first(sentence, opposite)}, not {_first(question, side)}"
    for when, thing in _TIMED.findall(question):
        said = _timed(sentence, _TIMED_AGAINST[when.lower()], thing)
        if said and not _timed(sentence, when, thing):
            return f"the passage says {said.group(1).lower()} {thing}, not {when.lower()} {thing}"
    return ""


# A time set against an event ("after probation", "before the move"), and those it is not.
_OWNER = r"(?:(?:the|your|my|their|his|her|its)\s+)?"
_TIMED = re.compile(rf"\b(before|during|after)\s+{_OWNER}([a-z]{{4,}})\b", re.I)
_TIMED_AGAINST = {"before": "during|after", "during": "before|after", "after": "before|during"}


def _timed(sentence: str, when: str, thing: str) -> re.Match[str] | None:
    """Where `sentence` says `when` (a word, or words joined by "|") of `thing`: "During probation"."""
    return re.search(rf"\b({when})\s+{_OWNER}{re.escape(thing)}\b", sentence, re.I)


def names_asked_event(question: str, sentence: str, answer: tuple[int, int]) -> bool:
    """Whether the answer's own phrase or clause in `sentence` names the event the question asks
    about, of one of the pairs: "6 June 2024" in "The Ropewalk reopened on 6 June 2024" for "When
    did the Ropewalk reopen?"; or the sentence the time asked ("After probation, it is one month")."""
    if any(_said(sentence, answer, side | opposite) & side for side, opposite in _asked_sides(question)):
        return True
    return any(_timed(sentence, when, thing) for when, thing in _TIMED.findall(question))


def _asked_sides(question: str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(asked side, its opposite) of each pair the question names one side of, and not the other."""
    asked = _stems(question)
    return [(side, opposite) for one, other in _OPPOSITES for side, opposite in ((one, other), (other, one))
            if asked & side and not asked & opposite]


def _said(sentence: str, answer: tuple[int, int] | None, events: frozenset[str]) -> set[str]:
    """The stems `sentence` says around the answer: the answer's phrase where it names one of
    `events`, else its clause ("In May 2015," names no event: "..., Morocco established"); the
    whole sentence without an answer."""
    if answer is None:
        return _stems(sentence)
    found = _stems(_part(sentence, answer, _EVENT_BREAK, _PHRASE_BREAK))
    return found if found & events else _stems(_part(sentence, answer, _EVENT_BREAK))


def _part(sentence: str, answer: tuple[int, int], *breaks: re.Pattern[str]) -> str:
    """The part of `sentence` between the nearest of `breaks` around `answer`."""
    start = max((m.end() for b in breaks for m in b.finditer(sentence, 0, answer[0])), default=0)
    end = min((m.start() for b in breaks for m in b.finditer(sentence, answer[1])), default=len(sentence))
    return sentence[start:end]


def _first(text: str, stems: frozenset[str]) -> str:
    """The first word of `text` with one of `stems`, as written."""
    return next((w for w in _WORD.findall(text) if w.lower() not in _NOT_THEIR_STEM and stem(w) in stems), "")
