"""Follow-up questions: resolve "it", "they", "its"... against the conversation so far.

An extractive reader answers one question at a time, so a follow-up such as "What is it
responsible for?" is rewritten before retrieval and reading: the pronoun is replaced by the
subject of the previous question ("What is BCIJ responsible for?") and retrieval also sees the
previous question's key words. After a "who" question answered with a name, "he", "she" or
"they" mean that name instead ("Who was the captain of the Esperance?" "John Hale" "Where was he
born?" -> "Where was John Hale born?"), and after a "which ...?" question that names nothing
itself ("Which company builds warehouse robots?" "Acme Robotics"), any pronoun does, and after one
that does, "they" and "their" do ("Which team is top of Division 2?" "Harbour Lions" "Who is their
captain?"). A short follow-up naming something else in the same place ("And in Paris?", "What
about 2023?", "And in June?") asks the previous question again with that name, year or month in
place of its subject, year or month ("And in the Paris office?": that phrase; "And in Paris in 2023?":
both); a common noun phrase or a version does so for the words after the last question's last
preposition ("What about the banana bread?", "And in 2.2.0?"); another thing of common words,
said with an article, does so in place of the last question's subject ("And the carrot cake?",
"And a large one?"); "And their email?" asks for another detail of the same one, "And the
treasurer?" after "Who was elected chair at the 2023 AGM?" asks for the holder of another office
there, and "What about including VAT?" adds a condition. "When?" or "Where?" alone asks
a question for a time or a place again with that word ("Where is the AGM held?" -> "When is the AGM
held?"). A follow-up of a follow-up leans on the earlier question as it was resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.questions import ASKS_WHO
from bot.words import ACADEMIC_YEAR, MONTHS, QUESTION_WORDS, STOP_WORDS, WEEKDAYS, YEAR

_PRONOUNS = r"\b(it|its|they|them|their|theirs|he|him|his|she|her|this|that|these|those|there)\b"
# In capitals a word is an acronym, not a pronoun ("Who is the Head of IT?"), unless the whole
# question is in capitals ("WHAT IS HER EMAIL?": `_pronouns_of`).
_PRONOUN = re.compile(r"(?!(?-i:[A-Z]{2,})\b)" + _PRONOUNS, re.I)
_ANY_PRONOUN = re.compile(_PRONOUNS, re.I)
_POSSESSIVE = {"its", "their", "his", "her"}
_PERSONAL = {"he", "him", "his", "she", "her", "they", "them", "their", "theirs"}
_GENDERED = {"he": "he", "him": "he", "his": "he", "she": "she", "her": "she"}
# "Which company ...": a question for a thing of a kind, whose answer names it. ("What ..." is
# left out: "What destroyed the lighthouse?" asks for a cause, not the thing "it" means next.)
_ASKS_WHICH = re.compile(r"^\W*(?:and\s+)?which\s+[a-z]", re.I)
_THINGS = {"it", "its", "they", "them", "their", "theirs"} | _PERSONAL
_PLURAL = {"they", "them", "their", "theirs"}
# Acronyms that name a kind of thing, not the thing a question is about ("the base URL of the
# ParcelPoint API": the API).
_GENERIC_ACRONYMS = {"URL", "PDF", "HTML", "HTTP", "HTTPS", "API", "FAQ", "ID", "PIN", "USB", "SMS", "CSV",
                     "JSON", "XML", "SQL", "UI", "OS", "PC", "IT", "HR", "ETA", "AM", "PM", "VAT", "GB", "MB"}
_NAME_JOINERS = {"of", "de", "del", "la", "le", "van", "von", "der", "du", "al", "bin"}
_MAX_NAME_WORDS = 8
CHAIN_TURNS = 6  # how far back a chain of follow-ups is followed
_WORDS = re.compile(rf"{ACADEMIC_YEAR.pattern}|\d+(?:\.\d+)+|[\w'’-]+")  # "3.1", "2025/26" one word
# A year, or an academic year as one ("2025/26" is not 2025 followed by 26).
_ANY_YEAR = re.compile(f"{ACADEMIC_YEAR.pattern}|{YEAR.pattern}")
_CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS)


# Days as timetables group them, swapped like weekdays ("And at weekends?" after "... on weekdays?").
_DAYS = WEEKDAYS + ("weekday", "weekend")


def _calendar_word(word: str) -> bool:
    """A month or a day (`_DAYS`), a day also as a plural ("on Sundays", "at weekends")."""
    lowered = word.lower()
    return lowered in _CALENDAR or lowered.removesuffix("s") in _DAYS


_PREPOSITIONS = frozenset({"in", "on", "at", "for", "of", "from", "to", "by", "with", "about", "during", "under",
                           "over", "near", "after", "before", "since", "until", "into", "within", "per"})
_NUMBER = re.compile(r"\d+(?:\.\d+)*")  # a number or a version, as part of a name
_TIME_PREPOSITION = r"(?:in|on|during|for)"
# "in London in 2024?": London still ends the question
_TIME_AFTER = rf"\s+{_TIME_PREPOSITION}\s+(?:{YEAR.pattern}|(?:{'|'.join(MONTHS + WEEKDAYS)})s?\b)"
# How a follow-up opens ("And ...", "What about ..."): one pattern for the follow-up shapes below.
_OPENER = r"(?i:and what about|and how about|what about|how about|and)"
_FOLLOW_UP_START = re.compile(r"^\s*(and what about|and how about|what about|how about|and|also)\b", re.I)
# A name alone, asked as a question: "Zurich?", "New York?" — the last question asked of it; not
# a word that answers the bot ("Thanks?", as a chat turn "Thanks!" is read) or a phrase in lower
# case ("Parental leave?").
_BARE_NAME = re.compile(r"\s*[A-Z][\w'’-]*(?:\s+[A-Z0-9][\w'’.-]*){0,2}\s*\?\s*")
# "When?" or "And where?" alone, after a question for an event's time or place: that question asked
# again with the other word ("Where is the AGM held?" -> "When is the AGM held?"). Other kinds do
# not swap: "Where?" after "How much is the day pass?" asks where to buy it, not where it is.
_BARE_WHEN_OR_WHERE = re.compile(r"\s*(?:and\s+)?(when|where)\s*\?\s*", re.I)
_ASKED_WHEN_OR_WHERE = re.compile(r"^\s*(?:and\s+)?(?:when|where|what\s+time)\s+(?=(?:is|are|was|were|does|do|did|"
                                  r"can|will|should|must|has|have|had)\b)", re.I)
_NOT_NAMES = frozenset({"thanks", "thank", "thx", "hello", "hi", "hey", "yes", "no", "ok", "okay", "really", "help",
                        "great", "cool", "sorry", "please", "bye", "goodbye", "good", "nice", "right", "sure", "wow"})
# Besides the common stop words: words that never name what a follow-up refers to.
# The asker ("I'm 90 kg"): no name, even before a figure.
_ASKER = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d", "i'll", "i’ll"})
# A question word with its verb ("what's the price"): a question's opening, never its subject.
_CONTRACTED = frozenset(f"{w}{apostrophe}s" for w in ("what", "who", "where", "when", "how", "which")
                        for apostrophe in "'’")
_STOP = STOP_WORDS | {"year", "kind", "type", "established", "happen", "happened", "tell"} | _ASKER | _CONTRACTED
# "How long", "What time": what a question asks for, not what it is about ("How long is paternity
# leave?" is about paternity leave).
_ASKS_FOR = re.compile(r"^\W*(?:and\s+)?(?:how\s+(?:long|much|many|often|far|old|big|tall|heavy|soon)"
                       r"|what\s+time)\b", re.I)
# Words that end a noun phrase when taking the subject from a question.
_VERBS_AFTER = {"established", "founded", "created", "formed", "signed", "built", "located", "start",
                "started", "begin", "began", "join", "joined", "do", "does", "did", "mean", "happen",
                "open", "opens", "close", "closes", "end", "ends", "finish", "finishes", "cost", "costs",
                "retire", "retired", "resign", "resigned", "stood", "died"}  # not "leave": paternity leave


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question, and the answer given ("" when none was, or unknown)."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class ResolvedQuestion:
    reader_question: str  # what the reader reads
    retrieval_query: str  # what retrieval searches for
    subject: str = ""  # what the pronoun was taken to mean ('' when not a follow-up)
    unclear: str = ""  # why the question cannot be read as the conversation stands ('' when it can)


def previous_turns(history) -> list[Turn]:
    """The earlier turns of the conversation, oldest first. Each entry of `history` is a question
    (a string), a Turn, or a {"question": ..., "answer": ...} object (the answer optional); blank
    or odd entries are dropped. Interfaces turn their own message formats into this list."""
    if not isinstance(history, (list, tuple)):
        return []  # a client's odd value (one string, a number) is no conversation
    turns = []
    for entry in history:
        if isinstance(entry, dict):
            entry = Turn(entry.get("question"), entry.get("answer") or "")
        elif isinstance(entry, str):
            entry = Turn(entry)
        if isinstance(entry, Turn) and isinstance(entry.question, str) and entry.question.strip():
            turns.append(entry if isinstance(entry.answer, str) else Turn(entry.question))
    return turns


def answered_name(turn: Turn) -> tuple[str, frozenset[str]]:
    """The name a "who" or "which ..." question was answered with, and the pronouns that may stand
    for it; ("", none) when the question asked neither, or the answer describes rather than names
    ("the mastermind of the attacks")."""
    answer = re.sub(r"^the\s+", "", " ".join(turn.answer.split()).strip(" .,;:"), flags=re.I)
    kind = re.match(r"^\W*(?:and\s+)?which\s+([a-z]+)", turn.question, re.I)
    # "Which office opened in 2018?" "The Madrid office": a name with the kind asked for
    named_kind = kind is not None and answer.lower().endswith(f" {kind.group(1).lower()}") and \
        is_name(answer[: -len(kind.group(1)) - 1])
    if not is_name(answer) and not named_kind:
        return "", frozenset()
    if ASKS_WHO.search(turn.question):
        return answer, frozenset(_PERSONAL)
    if _ASKS_WHICH.search(turn.question):
        # "Which city is the Eiffel Tower in?" "Paris": "it" is still the tower; but "Which team is
        # top of Division 2?" "Harbour Lions": "their captain" is the team's, and after "Which
        # company is based in Leeds?" "Acme", "it" is the company
        subject = not _names(turn.question) or _answer_is_subject(turn.question)
        return answer, frozenset(_THINGS if subject else _PLURAL)
    return "", frozenset()


_AUXILIARY = frozenset("is are was were does do did has have had can will".split())


def _answer_is_subject(question: str) -> bool:
    """Whether a "which ..." question's answer is the subject of its sentence ("Which company is
    based in Leeds?", "Which company makes the Picker 3000?") rather than the name it holds
    ("Which city is the Eiffel Tower in?": the tower is)."""
    words = re.findall(r"[\w'’-]+", question)
    at = next((i for i, w in enumerate(words) if w.lower() == "which"), None)
    if at is None or at + 2 >= len(words):
        return False
    verb, following = words[at + 2], words[at + 3] if at + 3 < len(words) else ""
    named_next = following.lower() in ("the", "a", "an") or following[:1].isupper()
    return not (verb.lower() in _AUXILIARY and named_next)


def is_name(text: str) -> bool:
    """Whether `text` names someone or something: a few capitalised words, with the short words
    inside names ("Bank of England", "Morocco and Spain"); not a description or a number."""
    words = text.split()
    if not words or len(words) > _MAX_NAME_WORDS or not words[0][:1].isupper():
        return False
    return all(w[:1].isupper() or w.lower() in _NAME_JOINERS | {"and", "the", "&"} or _NUMBER.fullmatch(w)
               for w in words)  # "Tern 3.1", "Division 2"


def _names(question: str) -> list[str]:
    """The capitalised names and acronyms in a question, in order (its first word aside)."""
    words = _WORDS.findall(question)
    names: list[str] = []
    current: list[str] = []
    for i, w in enumerate(words):
        # "Year 6", "Division 2", "Tern 3.1", "Zone A"
        numbered = i + 1 < len(words) and (_NUMBER.fullmatch(words[i + 1]) or re.fullmatch(r"[A-Z]", words[i + 1]))
        # "March 2024", "the March meeting" say when, not what; "April Ryan" is a name
        calendar = _calendar_word(w) and not (i + 1 < len(words) and words[i + 1][:1].isupper())
        titled = w[:1].isupper() and i > 0 and (w.lower() not in _STOP or numbered) and w.lower() not in _ASKER
        capitalised = ((w.isupper() and len(w) >= 2) or titled) and not calendar
        if current and (_NUMBER.fullmatch(w) or re.fullmatch(r"[A-Z]", w)):  # "Zone A": the letter names it
            current.append(w)
            continue
        # "Bank of England", "University of Aarhus": one name across a short joining word
        joins = current and w.lower() in _NAME_JOINERS and i + 1 < len(words) and words[i + 1][:1].isupper()
        if capitalised or joins:
            current.append(re.sub(r"['’]s$", "", w))  # "Gareth Lewis's email": the name is Gareth Lewis
        elif current:
            names.append(" ".join(current))
            current = []
    if current:
        names.append(" ".join(current))
    return names


def subject_of(question: str) -> str:
    """The thing a question is about: a capitalised name or acronym if there is one, else its
    first noun-like phrase."""
    names = _names(question)
    if names:
        # A name after "of"/"for" ("the base URL of the ParcelPoint API"), else an acronym (the
        # most specific handle) that is not a kind of thing, else the longest name.
        owned = [n for n in names if re.search(rf"\b(?:of|for)\s+(?:the\s+)?{re.escape(n)}\b", question, re.I)]
        acronyms = [n for n in names if n.isupper() and n not in _GENERIC_ACRONYMS]
        return (owned or acronyms or [max(names, key=len)])[0]
    # Otherwise the noun phrase after the first article or "my" ("how tall is the old lighthouse",
    # "how often should I test my smoke alarm"),
    # or failing that the first run of content words.
    words = re.findall(r"[\w'’-]+", _ASKS_FOR.sub("", question))
    lowered = [w.lower() for w in words]
    starts = [i + 1 for i, w in enumerate(lowered) if w in {"the", "a", "an", "my", "your", "our"}] or [0]
    phrase: list[str] = []
    for w in words[starts[0]:]:
        lw = w.lower()
        if lw in _VERBS_AFTER and phrase:
            break
        if lw in _STOP:
            if phrase:
                break
            continue
        phrase.append(w)
    return " ".join(phrase)


# "How much grant income did the association get?": the thing counted or measured.
_COUNTED_THING = re.compile(r"^\W*(?i:and\s+)?(?i:how\s+(?:much|many))\s+"
                            r"(?P<thing>[a-z][\w'’-]*(?:\s+[a-z][\w'’-]*){0,2}?)"
                            r"\s+(?i:did|does|do|was|were|is|are|has|have|had|will|can)\b")
# "What does a full service at Spokes & Sprockets include?": a thing of common words at a named place.
_THING_AT_NAME = re.compile(r"\b(?i:a|an|the)\s+(?P<thing>[a-z][\w'’-]*(?:\s+[a-z][\w'’-]*){0,2})"
                            r"\s+(?i:at|from)\s+(?:the\s+)?[A-Z]")


def _what_it_is(question: str, last: str) -> str:
    """What "it" of a follow-up stands for, where the last question's name is not it: the thing it
    counted ("Who gave it?" after "How much grant income did the association get?": the grant
    income) or a thing of common words it asked about at a named place ("How much is it?" after
    "What does a full service at Spokes & Sprockets include?"; not "the hotel limit in London",
    which is still London's); '' otherwise."""
    if not re.search(r"\b(?i:it|its)\b", question):
        return ""
    found = _COUNTED_THING.match(last) or _THING_AT_NAME.search(last)
    return found.group("thing") if found else ""


def key_words(question: str) -> str:
    return " ".join(w for w in _WORDS.findall(question) if w.lower() not in _STOP)


def _others(question: str, pronouns: set[str]) -> tuple[str, str]:
    """The name and the year or month an "And in Paris?", "What about 2023?", "And in Paris in 2023?"
    asks the last question of again (each '' when the follow-up names none; both when it is not that
    short or names more: "And who founded it?")."""
    opener = _FOLLOW_UP_START.match(question)
    if not opener or pronouns:
        return "", ""
    rest = _WORDS.findall(question[opener.end():])
    if not 1 <= len(rest) <= _MAX_NAME_WORDS or rest[0].lower() in QUESTION_WORDS:
        return "", ""
    # "2023", "2024/25", "June"; "weekday evenings", "Easter Monday" as one time
    paired = next((k for k in range(len(rest) - 1) if _is_time(f"{rest[k]} {rest[k + 1]}")), None)
    if paired is not None:
        rest = [*rest[:paired], f"{rest[paired]} {rest[paired + 1]}", *rest[paired + 2:]]
    times = [w for w in rest if _is_time(w)]
    names = _names(" ".join(["x", *(w for w in rest if not _is_time(w))]))  # a question's first word is no name
    if len(names) > 1 or len(times) > 1:
        return "", ""
    return (names or [""])[0], (times or [""])[0]


def _in_its_place(question: str, other: str, last: str, subject: str) -> bool:
    """Whether a name `other` stands where the last question's subject stood: after "what about",
    bare ("And Paris?"), after the same word ("And in Paris?" for "... in London?"), or anywhere
    when the subject followed no preposition ("And in Paris?" for "Who runs the London office?",
    "And in York?" for "How much rain did Leeds record?"). Not "And at Christmas?" or "And the
    Meal Allowance?" for "... in London?": another part of the question."""
    opener = _FOLLOW_UP_START.match(question)
    if opener and opener.group(1).lower().endswith("about"):
        return True
    rest = question[opener.end():] if opener else question
    before_other = re.search(rf"(\w+)\s+{re.escape(other)}", rest)
    if before_other is None:
        return True
    before_subject = re.search(rf"(\w+)\s+{re.escape(subject)}", last)
    said, was = before_other.group(1).lower(), before_subject.group(1).lower() if before_subject else ""
    return said == was or was not in _PREPOSITIONS


def _swappable(name: str) -> bool:
    """Whether a name can stand in for another in a re-asked question: a proper name ("Paris",
    "Tern 3.1", "Bank of England"), not an acronym, a title or a unit ("CEO", "EUR", "Q4": another
    kind of detail than the place or product asked about) nor a month or a weekday."""
    words = name.split()
    return (is_name(name) and not any(w.isupper() and len(w) > 1 for w in words)
            and not any(_calendar_word(w) for w in words))


def _phrase_in_its_place(question: str, other: str, last: str, subject: str) -> str:
    """`last` with the follow-up's phrase around `other` in place of its subject, when the subject
    ends `last` after a preposition and the follow-up says more than the name, after the same
    preposition or after "what about": "And in the Paris office?" after "What is the hotel limit in
    London?" asks about "the Paris office", not about "Paris" ('' otherwise)."""
    opener = _FOLLOW_UP_START.match(question)
    if opener is None:
        return ""
    words = question[opener.end():].strip().rstrip("?!. ").split()
    said = "" if opener.group(1).lower().endswith("about") else (words or [""])[0].lower()
    phrase = words[1:] if said else words
    if said not in _PREPOSITIONS | {""} or phrase == other.split() or len(phrase) > _MAX_NAME_WORDS:
        return ""  # the bare name is swapped as a name
    ending = re.search(rf"\b(\w+)\s+{re.escape(subject)}(?=(?:{_TIME_AFTER})?[?!.\s]*$)",
                       last, re.I)
    if ending is None or ending.group(1).lower() not in _PREPOSITIONS or said not in ("", ending.group(1).lower()):
        return ""
    return f"{last[:ending.end(1)]} {' '.join(phrase)}{last[ending.end():]}"


_OBJECT_FOLLOW_UP = re.compile(rf"^\s*(?:and what about|and how about|what about|how about|and)\s+"
                               rf"(?:(?P<said>{'|'.join(sorted(_PREPOSITIONS))})\s+)?"
                               r"(?P<phrase>[^?!]+?)[?!.\s]*$", re.I)
# The last preposition of a question and the words after it (greedy before it: the last one).
_LAST_OBJECT = re.compile(rf"^.*\b({'|'.join(sorted(_PREPOSITIONS))})\s+(?P<object>[^?!]+?)[?!.\s]*$", re.I | re.S)
# Words that carry a follow-up along without naming anything ("And then?", "And also the receipts?").
_FILLERS = frozenset({"then", "also", "please", "so", "now", "too", "again", "else", "more"})
_MAX_PHRASE_WORDS = 4


def _object_in_its_place(question: str, last: str) -> str:
    """`last` with the follow-up's phrase in place of the words after its last preposition, where
    the follow-up names no proper name or time to swap: "What about the banana bread?" after "How
    hot should the oven be for the roast chicken?", "And in 2.2.0?" after "What was fixed in
    2.3.1?", "And of Globex?" after "Who is the CEO of Acme?". A preposition the follow-up says must
    be the same ("And for managers?" is not "in London"); a bare phrase must be common words ("And
    the Meal Allowance?" names a subject of its own). '' otherwise."""
    m = _OBJECT_FOLLOW_UP.match(question)
    if m is None:
        return ""
    phrase = m.group("phrase").strip()
    words = phrase.split()
    if not 1 <= len(words) <= _MAX_PHRASE_WORDS or any(w.lower() in QUESTION_WORDS or _PRONOUN.fullmatch(w)
                                                        or w.lower() in _FILLERS
                                                        or (w.isupper() and len(w) > 1) for w in words):
        return ""  # a new question, a filler, or a unit or an acronym ("And in EUR?"): another kind of detail
    said = (m.group("said") or "").lower()
    # Without a preposition only "what about ..." swaps, and only common words: "And the
    # refund?" may ask anything of it, and "And the Meal Allowance?" names a subject of its own.
    if not said and (not question.lower().lstrip().startswith(("what about", "how about", "and what about",
                                                                 "and how about"))
                     or any(w[:1].isupper() for w in words)):
        return ""
    ending = _LAST_OBJECT.search(last)
    if ending is None or len(ending.group("object").split()) > _MAX_NAME_WORDS \
            or (said and said != ending.group(1).lower()):
        return ""
    if not said and (YEAR.search(ending.group("object")) or _NUMBER.fullmatch(ending.group("object"))):
        return ""  # a phrase for a year or a figure: not the same kind of thing
    if any(_is_time(w) for w in _WORDS.findall(ending.group("object"))) and not any(_is_time(w) for w in words):
        return ""  # "the small hall" is no day: not in place of "on a Saturday"
    return f"{last[:ending.start('object')]}{phrase}{last[ending.end('object'):]}"


def _head(words: list[str]) -> str:
    """The word of a name that says what kind of thing it names: its last ("Main Hall"), or the one
    before a number or a letter ("Room B", "Gate 3")."""
    if len(words) > 1 and (_NUMBER.fullmatch(words[-1]) or re.fullmatch(r"[A-Z]", words[-1])):
        return words[-2].lower()
    return words[-1].lower() if words else ""


def _same_kind_in_its_place(question: str, other: str, last: str) -> tuple[str, str]:
    """(the new thing, `last` asked of it) for a follow-up naming another thing of the kind a name
    of the last question is: "What about the small hall?" or "Room B?" after "How much is the Main
    Hall at Ashcombe Village Hall on a Saturday?" asks of the small hall (or Room B) at Ashcombe
    Village Hall, not on the small hall nor at Room B. A name after "at", "in" or "near" is the place
    asked in, and stays. ('', '') where no name of the last question is of that kind."""
    m = _OBJECT_FOLLOW_UP.match(question)
    if m is None or m.group("said"):
        return "", ""
    phrase = other or re.sub(r"^(?i:the|a|an)\s+", "", m.group("phrase").strip())
    words = phrase.split()
    if not 1 <= len(words) <= _MAX_PHRASE_WORDS or _asks_or_points(words):
        return "", ""
    head = _head(words)
    for name in _names(last):
        if _head(name.split()) != head or name.lower() == phrase.lower():
            continue
        at = re.search(rf"(?P<article>\b(?i:the|a|an)\s+)?{re.escape(name)}\b", last)
        if at is None or re.search(r"\b(?:at|in|near|from)\s+$", last[:at.start()], re.I):
            continue
        article = re.match(r"(?i:the|a|an)\s+", m.group("phrase").strip())
        said = article.group(0) if article else ("" if is_name(phrase) else "the ")
        asked = f"{last[:at.start()]}{said}{phrase}{last[at.end():]}"
        return phrase, asked[:1].upper() + asked[1:]
    return "", ""


# "And the carrot cake?", "What about a large one?": a thing of common words, with its article.
_NEW_THING = re.compile(rf"^\s*{_OPENER}\s+(?:(?P<article>the|an|a)\s+)?"
                        r"(?P<phrase>[a-z][\w'’-]*(?:\s+[a-z][\w'’-]*){0,3})[?!.\s]*$")


def _thing_in_its_place(question: str, last: str, subject: str) -> tuple[str, str]:
    """(the new thing, `last` asked of it) for a follow-up naming another thing of common words in
    place of the last question's subject, said with an article there: "And the carrot cake?" after
    "How much is a bacon roll?" asks "How much is the carrot cake?"; "And a large one?" after "How
    much is a regular cappuccino?" asks of "a large cappuccino"; "And the summer term?" after "When
    does the spring term end?" keeps "end". ('', '') otherwise: a name ("And the Meal Allowance?")
    has a subject of its own."""
    m = _NEW_THING.match(question)
    words = subject.split()
    if m is None or not words:
        return "", ""
    phrase = m.group("phrase").split()
    article = m.group("article")
    one = phrase[-1].lower() == "one"  # "a large one": the same thing, described anew
    if (not subject[:1].islower() and not one) or _asks_or_points(phrase):
        return "", ""
    if not article and (one or phrase[-1].lower() != words[-1].lower()):
        # Said bare, a thing of the same kind ("maternity leave" for "paternity leave"); "And
        # students?" after "How much is the adult ticket?" asks for their ticket, not a ticket-student.
        return "", ""
    spaced = r"\s+".join(map(re.escape, words))
    # a name keeps its describing words before it: "a large Americano"
    described = "" if subject[:1].islower() else r"(?:[a-z][\w'’-]*\s+){0,3}?"
    # "And maternity leave?" after "How long is paternity leave?": said bare, where the subject was
    said_article = r"(?P<said>the|an|a)\s+" if article else r"(?:(?P<said>the|an|a)\s+)?"
    said = re.search(rf"\b{said_article}{described}{spaced}\b", last, re.I if not described else 0)
    if said is None or re.search(r"\b(?:at|in|on|near|from|within|inside|outside)\s+$", last[:said.start()], re.I):
        return "", ""  # "at the leisure centre": a place the question was asked in, not its subject
    if one:
        # the new words in place of the first ones: "the family one" of "the student annual
        # membership" is the family annual membership
        described_as = last[said.start():said.end()].split()[1:-1] if described else words[:-1]
        kept = described_as[len(phrase) - 1:]
        thing = " ".join([*phrase[:-1], *kept, words[-1] if subject[:1].islower() else subject])
        end = said.end()
    else:
        thing = " ".join(phrase)
        # "the summer term" for "the spring term" of "the spring term end": up to the same noun
        head = next((k for k, w in enumerate(words) if w.lower() == phrase[-1].lower()), len(words) - 1)
        end = re.search(rf"\b{re.escape(words[head])}\b", last[said.start():], re.I).end() + said.start()
        if head == len(words) - 1:  # "a pot of tea": the thing it is of goes too
            # "a cup of hot chocolate?"; but "a pot of tea cost?" after "What does": its verb stays
            verb_last = re.match(r"\W*\w+\s+(?:does|do|did|can|could|will|would|should|must)\b", last, re.I)
            of = (None if verb_last else
                  re.match(r"\s+of\s+(?:[a-z][\w'’-]*\s+){0,2}[a-z][\w'’-]*(?=[?!.]*\s*$)", last[end:])) \
                or re.match(r"\s+of\s+[a-z][\w'’-]*", last[end:])
            end += of.end() if of else 0
    article = article or said.group("said")
    asked = f"{last[:said.start()]}{f'{article} ' if article else ''}{thing}{last[end:]}"
    return thing, asked[:1].upper() + asked[1:]


# "And their email?": another detail of the one the last question asked about.
_OTHER_DETAIL = re.compile(rf"^\s*{_OPENER}\s+(?i:his|her|its|their)\s+"
                           r"(?P<detail>[a-z][\w'’-]*(?:\s+[a-z][\w'’-]*){0,3})[?!.\s]*$")
# "What is the phone number of the Parking Services team?", "What is Gareth Lewis's email?"
_WHAT_IS = r"\s*what(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+"
_DETAIL_OF = re.compile(rf"^(?P<lead>{_WHAT_IS}(?:the\s+)?)"
                        r"(?P<detail>[a-z][\w'’ -]*?)\s+of\s+(?P<owner>.+?)(?P<end>[?!.]*\s*)$", re.I)
_DETAIL_OF_OWNER = re.compile(rf"^(?P<lead>{_WHAT_IS})(?P<owner>.+?['’]s?)\s+"
                              r"(?P<detail>[a-z][\w'’ -]*?)(?P<end>[?!.]*\s*)$", re.I)
# "What about including VAT?", "And with oat milk?": the last question with that condition.
_CONDITION = re.compile(rf"^\s*{_OPENER}\s+"
                        r"(?P<condition>(?i:including|excluding|with|without|inc|ex)\s+[^?!]{1,40}?)[?!.\s]*$")


def _attribute_in_its_place(question: str, last: str) -> str:
    """`last` asked for another detail of the same one: "And their email?" after "What is the
    phone number of the Parking Services team?" asks "What is the email of the Parking Services
    team?"; after "What is Gareth Lewis's phone number?", "What is Gareth Lewis's email?". ''
    where the follow-up or `last` is not of that shape."""
    m = _OTHER_DETAIL.match(question)
    if m is None:
        return ""
    asked = _DETAIL_OF.match(last) or _DETAIL_OF_OWNER.match(last)
    if asked is None:
        return ""
    detail = m.group("detail")
    if asked.re is _DETAIL_OF:
        return f"{asked.group('lead')}{detail} of {asked.group('owner')}{asked.group('end')}"
    return f"{asked.group('lead')}{asked.group('owner')} {detail}{asked.group('end')}"


# "Who was elected Chair in 2023?", "Who is the CEO of Acme?": the office whose holder a "who"
# question asks for, said after an article or a verb of choosing, up to a preposition or the end.
_OFFICE_ASKED = re.compile(
    r"^\W*(?:and\s+)?who\s+(?:is|was|are|were|will\s+be|has\s+been|had\s+been)\s+"
    r"(?P<said>(?:elected|re-elected|appointed|named|made|chosen|voted)\s+(?:as\s+)?(?:the\s+)?|(?:the|our|your|their)\s+)?"
    rf"(?P<office>[\w'’-]+(?:\s+[\w'’-]+){{0,2}}?)(?=\s+(?:{'|'.join(sorted(_PREPOSITIONS))})\b|[?!.\s]*$)", re.I)
# "And the treasurer?", "What about the CFO?", "And Vice-Chair?": another office, alone.
_OTHER_OFFICE = re.compile(rf"^\s*{_OPENER}\s+(?P<article>(?i:the)\s+)?(?P<office>[\w'’-]+(?:\s+[\w'’-]+){{0,2}})[?!.\s]*$")


def _asks_or_points(words: list[str]) -> bool:
    """Whether the words of a short follow-up ask or point rather than name a thing: a question
    word, a filler or a pronoun among them ("And who else?", "And that one?")."""
    return any(w.lower() in QUESTION_WORDS or w.lower() in _FILLERS or _ANY_PRONOUN.fullmatch(w) for w in words)


def _asks_otherwise(words: list[str]) -> bool:
    """Whether the words of a short follow-up ask something else than another office or thing:
    they ask or point (`_asks_or_points`), or hold a preposition ("And in 2024?")."""
    return _asks_or_points(words) or any(w.lower() in _PREPOSITIONS for w in words)


def _office_in_its_place(question: str, last: str) -> tuple[str, str]:
    """(the office, `last` asked of it) for a follow-up naming another office after a "who"
    question for the holder of one: "And the treasurer?" after "Who was elected chair at the 2023
    AGM?" asks "Who was elected treasurer at the 2023 AGM?", so the year and the meeting stay;
    "And the CFO?" after "Who is the CEO of Acme?" asks "Who is the CFO of Acme?". ('', '')
    otherwise."""
    asked, other = _OFFICE_ASKED.match(last), _OTHER_OFFICE.match(question)
    if asked is None or other is None:
        return "", ""
    office = other.group("office")
    if not asked.group("said") and not other.group("article"):
        return "", ""  # "Who is responsible for fire safety?" "And first aid?": no office said either way
    if _asks_otherwise(office.split()):
        return "", ""  # "And who else?", "And in 2024?": not an office
    # An office is said as the last one was: "Treasurer" for "Chair", "CFO" or "treasurer" for
    # "CEO"; "And Globex?" after "Who is the CEO of Acme?" names a company, not an office.
    said_as = asked.group("office")
    if not (office.islower() or office.isupper() or said_as[:1].isupper() and not said_as.isupper()):
        return "", ""
    if office.lower() in _SECOND_RANKS:  # "And the deputy?" after "Who is the headteacher?": the deputy headteacher
        office = f"{office} {said_as}"
    return office, f"{last[:asked.start('office')]}{office}{last[asked.end('office'):]}"


# Words that make an office of another said alone: "the deputy" of the headteacher.
_SECOND_RANKS = frozenset({"deputy", "assistant", "acting", "associate", "joint", "vice"})


# "What total income did Ann Lee report...?": the thing a "what ...?" question asks for, up to its verb.
_WHAT_THING = re.compile(r"^\W*(?i:and\s+)?(?i:what|which)\s+(?P<thing>(?:[a-z][\w'’-]*\s+){0,2}?[a-z][\w'’-]*)\s+"
                         r"(?:is|are|was|were|did|does|do|has|have|had|will|can|should|must)\b")
# "How much is a private white filling at Riverside Dental?": the thing priced, before the name it is of.
_PRICED_THING = re.compile(r"^\W*(?i:and\s+)?(?i:how\s+much\s+(?:is|are|was|were|does|do|will))\s+"
                           r"(?:(?P<article>(?i:a|an|the))\s+)?"
                           r"(?P<thing>(?:[A-Za-z][\w'’-]*\s+){0,3}?[A-Za-z][\w'’-]*)"
                           r"(?=\s+(?:(?i:at|for|in|from|with|cost|costs)\b))")
# Who a price or a rule is for ("And children?" asks the same for them, not for a thing called so),
# each word with its form before a noun ("a junior subscription").
_PERSON_FORM = {"children": "child", "child": "child", "kids": "child", "students": "student", "student": "student",
                "adults": "adult", "adult": "adult", "seniors": "senior", "senior": "senior", "pensioners": "pensioner",
                "members": "member", "member": "member", "juniors": "junior", "junior": "junior",
                "teenagers": "teenager", "families": "family", "family": "family", "couples": "couple",
                "residents": "resident", "staff": "staff", "under-16s": "under-16", "under-18s": "under-18",
                "over-60s": "over-60", "over-65s": "over-65", "visitors": "visitor", "guests": "guest",
                "groups": "group", "concessions": "concession"}
_PEOPLE = frozenset(_PERSON_FORM)
# "And for juniors?", "What about Ramblers members?": other people, alone.
_OTHER_PEOPLE = re.compile(rf"^\s*{_OPENER}\s+(?:(?i:for)\s+)?(?:(?i:the)\s+)?(?P<people>(?:[A-Z][\w'’-]*\s+)?"
                           r"(?P<word>[a-z][\w-]*))[?!.\s]*$")


def _people_in_their_place(question: str, last: str) -> tuple[str, str]:
    """(the people, `last` asked for them) for a follow-up naming other people than the last
    question, which named some: "And for juniors?" after "How much was the adult subscription in
    2024?" asks of "the junior subscription"; "And Ramblers members?" after "What discount do
    students get?" asks what they get. ('', '') otherwise."""
    other = _OTHER_PEOPLE.match(question)
    if other is None or other.group("word").lower() not in _PERSON_FORM:
        return "", ""
    said = [m for m in re.finditer(r"[\w-]+", last) if m.group().lower() in _PERSON_FORM]
    if len(said) != 1:
        return "", ""
    was = said[0]
    people = other.group("people")
    # said as before a noun ("an adult ticket"): the other people's form for it ("a child ticket");
    # said in the plural ("do students get"), as the follow-up says them
    describing = was.group().lower() == _PERSON_FORM[was.group().lower()] and people == other.group("word")
    new = _PERSON_FORM[people.lower()] if describing else people
    before = last[:was.start()]
    article = re.search(r"\b(an?)\s+$", before, re.I)
    if article:  # "an adult ticket" -> "a child ticket"
        word = "an" if new[:1].lower() in "aeiou" else "a"
        before = before[:article.start(1)] + (word.capitalize() if article.group(1)[0].isupper() else word) + \
            before[article.end(1):]
    return people, f"{before}{new}{last[was.end():]}"


# Words that describe how a figure is taken, kept for another figure: "total income", "total expenditure".
_MEASURE_WORDS = frozenset({"total", "annual", "monthly", "weekly", "daily", "net", "gross", "average", "overall",
                            "maximum", "minimum", "current", "yearly"})
# "And expenditure?", "What about the bank balance?": a thing of common words alone.
_BARE_THING = re.compile(rf"^\s*{_OPENER}\s+(?:(?i:the)\s+)?(?P<thing>[a-z][\w'’-]*(?:\s+[a-z][\w'’-]*){{0,2}})[?!.\s]*$")


def _asked_thing_in_its_place(question: str, last: str) -> tuple[str, str]:
    """(the thing, `last` asked for it) for a follow-up naming another thing of common words after a
    "what ...?" or "how much is ...?" question for one: "And expenditure?" after "What total income
    did Ann Lee report at the 2022 AGM?" asks "What total expenditure did Ann Lee report at the 2022
    AGM?"; "And root canal?" after "How much is a white filling at Riverside Dental?" asks "How much
    is root canal at Riverside Dental?". ('', '') otherwise."""
    asked, other = _WHAT_THING.match(last) or _PRICED_THING.match(last), _BARE_THING.match(question)
    if asked is None or other is None:
        return "", ""
    numbered = _head(asked.group("thing").split()) != asked.group("thing").split()[-1].lower()
    if not asked.groupdict().get("article") and not asked.group("thing").islower() and not numbered:
        # a name with no article is the subject ("How much is Netflix Premium in the UK?"), unless
        # it numbers one of a kind ("Room B")
        return "", ""
    thing, said = other.group("thing").split(), asked.group("thing").lower().split()
    if _asks_otherwise(thing) or any(w in _STOP for w in thing) or any(w in _ASKING_WORDS or w in _STOP for w in said):
        return "", ""  # "And in 2024?", "What time ...": not a thing asked for
    if thing[-1].lower() in _PEOPLE:
        # "And children?" after "How much is a routine examination at Riverside Dental?": the same
        # thing for them
        body = last.rstrip().rstrip("?!.")
        return " ".join(thing), f"{body} for {' '.join(thing)}{last.rstrip()[len(body):] or '?'}"
    # "total" of "total income" describes the expenditure too; "phone" of "phone number" not the email
    kept = [w for w in said[:-1] if w in _MEASURE_WORDS] if len(thing) == 1 else []
    new = " ".join([*kept, *thing])
    # "the kitchen" in place of "Room B", which had no article of its own
    said_the = "the " if numbered and not asked.groupdict().get("article") and re.match(
        rf"{_OPENER}\s+the\s", question.strip()) else ""
    return new, f"{last[:asked.start('thing')]}{said_the}{new}{last[asked.end('thing'):]}"


def _with_condition(question: str, last: str) -> str:
    """`last` with the condition a follow-up adds: "What about including VAT?" after "How much is a
    large cappuccino?" asks "How much is a large cappuccino including VAT?" ('' otherwise)."""
    m = _CONDITION.match(question)
    if m is None or re.search(rf"\b{m.group('condition').split()[0]}\b", last, re.I):
        return ""  # "And with a dog?" after "... with a cat?": that one swapped instead
    body = last.rstrip().rstrip("?!.")
    return f"{body} {m.group('condition').strip()}{last.rstrip()[len(body):] or '?'}"


# A person's names as an answer gives them: "Rajesh Mehta", "Dr Aoife Brennan".
_PERSON_NAME = re.compile(r"[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’-]+){1,3}")
# Words that stand for something the conversation said: "Is there one in Ashcombe?", "the same in 2024".
_PRO_FORM = re.compile(r"\b(?:one|ones|same|else|too|also|either)\b", re.I)


# "What is", "How much was": how a question opens, up to its verb; only these fit any thing ("When
# was it built?" does not fit "And its height?").
_FRAME = re.compile(r"^\W*(?:and\s+)?(?P<frame>(?:what|how\s+much)\s+(?:is|are|was|were)\b)", re.I)


def _in_the_last_frame(asked: str, last: str) -> str:
    """A follow-up that names its thing but asks nothing, asked as the last question asked: "And
    the meal allowance in Zurich?" (from "And the meal allowance there?") after "What is the
    hotel limit per night in Zurich?" is "What is the meal allowance in Zurich?"."""
    opener = _FOLLOW_UP_START.match(asked)
    frame = _FRAME.match(last)
    rest = asked[opener.end():].strip() if opener else ""
    if opener is None or frame is None or not rest or any(
            w.lower() in QUESTION_WORDS for w in re.findall(r"[\w'’-]+", rest)):
        return asked
    return f"{frame.group('frame')[:1].upper()}{frame.group('frame')[1:]} {rest}"


def _said_as_a_role(subject: str, said: str) -> bool:
    """Whether the last question spoke of its subject with "the", as of an office or a thing ("the
    Finance Manager"), not as of a person by name."""
    return bool(subject) and re.search(rf"\bthe\s+{re.escape(subject)}\b", said, re.I) is not None


def _gender_said(question: str) -> str:
    """"he" or "she" where a question speaks of someone so (its "him", "his", "her" alike); ''
    where it says neither, or both."""
    said = {_GENDERED.get(w.lower(), "") for w in _pronouns_of(question).findall(question)} - {""}
    return said.pop() if len(said) == 1 else ""


def _pronouns_of(question: str) -> re.Pattern[str]:
    """What finds the pronouns of `question`: written in capitals, a pronoun is an acronym ("IT")
    unless the whole question is in capitals."""
    return _ANY_PRONOUN if question.isupper() else _PRONOUN


# The first words of days with names of their own: "Easter Monday", "Good Friday", "Whit Monday".
_NAMED_DAY_FIRST = frozenset({"easter", "good", "whit", "holy", "maundy", "ash", "palm", "shrove", "black", "cyber"})
# A part of a day said after the day: "weekday evenings", "Saturday morning".
_PART_OF_DAY = re.compile(r"(?:morning|afternoon|evening|night)s?", re.I)


def _asked_back(question: str, last: str) -> ResolvedQuestion:
    """The question as asked, with who its "he" or "she" is asked back."""
    said = next(w for w in _pronouns_of(question).findall(question) if w.lower() in _GENDERED)
    return ResolvedQuestion(question, f"{question} {key_words(last)}".strip(), "",
                            unclear=f"it is not clear who “{said}” is: please ask again with the name")


# Common nouns that name many people without a plural "s".
_MANY_PEOPLE = frozenset({"children", "people", "staff", "men", "women", "folk", "police", "team", "committee"})


def _are_many(words: str) -> bool:
    """Whether `words` are a plural or collective common noun ("the children", "the coaches", "staff"),
    which "he" or "she" cannot stand for."""
    last = words.split()[-1]
    return last.islower() and (last in _MANY_PEOPLE or last.endswith("s") and not last.endswith(("ss", "us", "is")))


def _is_time(words: str) -> bool:
    """Whether `words` are a year, an academic year, a month or a weekday, a day with a part of it
    ("weekday evenings")."""
    said = words.split()
    if len(said) == 2 and _PART_OF_DAY.fullmatch(said[1]):
        return said[0].lower().removesuffix("s") in _DAYS
    if len(said) == 2 and said[1].lower() in WEEKDAYS:  # a day of its own name: "Easter Monday", "Good Friday"
        return said[0].lower() in _NAMED_DAY_FIRST
    return _ANY_YEAR.fullmatch(words) is not None or _calendar_word(words)


def _same_kind(when: str) -> re.Pattern[str]:
    """What finds a time of the kind of `when` (a year, a month or a weekday) in a question; with the
    part of the day said after it, where `when` says one."""
    named = rf"(?:(?:{'|'.join(_NAMED_DAY_FIRST)})\s+)?"  # "Easter Monday" is swapped whole
    if len(when.split()) == 2:
        return re.compile(rf"\b{named}(?:{'|'.join(_DAYS)})s?(?:\s+{_PART_OF_DAY.pattern})?\b", re.I)
    if _ANY_YEAR.fullmatch(when):
        return _ANY_YEAR
    if when.lower() in MONTHS:
        return re.compile(rf"\b(?:{'|'.join(MONTHS)})\b", re.I)
    return re.compile(rf"\b{named}(?:{'|'.join(_DAYS)})s?\b", re.I)  # "on Sundays"


# "that year", "in the same year": the year the last question named.
_THAT_YEAR = re.compile(r"\b(?:in\s+)?(?:that|the\s+same)\s+year\b|\bthen(?=[?!.\s]*$)", re.I)
# "And the year before?", "the following season": a year counted from the one the last question named
_NEXT_YEAR = re.compile(r"\b(?:in\s+)?(?:the\s+(?:year|season)\s+(?P<way>before|after)|"
                        r"the\s+(?P<other>previous|preceding|following|next)\s+(?:year|season))\b", re.I)


def _year_moved(year: str, by: int) -> str:
    """A year, or an academic year as it is written ("2023-24", "2023/2024"), `by` years on."""
    first = int(year[:4])
    moved = str(first + by)
    rest = year[4:]
    if not rest:
        return moved
    second = re.search(r"\d+$", rest).group()
    joint = rest[: len(rest) - len(second)]
    later = str(first + by + 1)
    return f"{moved}{joint}{later[-len(second):]}"


def _with_time(question: str, when: str) -> str:
    """`question` with a year or month added at its end, when it names none of that kind ('' when it
    does: that one is swapped instead)."""
    if _same_kind(when).search(question):
        return ""
    body = question.rstrip().rstrip("?!.")
    preposition = "in" if when.lower() in MONTHS or _ANY_YEAR.fullmatch(when) else "on"  # "on Sundays"
    return f"{body} {preposition} {when}{question.rstrip()[len(body):]}"


def _asked_again(last: str, subject: str, other: str) -> str:
    """`last` asked of `other` instead: its one year, month or weekday replaced by another, its
    subject by a name of the same kind ('' when `last` has no such place)."""
    if not other:
        return ""
    if _is_time(other):
        times = _same_kind(other)
        if len(times.findall(last)) != 1:
            return ""
        if other.lower() in MONTHS:  # "And in May?" after "... on 1 April 2024?": May 2024, not 1 May
            times = re.compile(rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?\s+)?{times.pattern}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b,?)?",
                               re.I)
        if other.lower().endswith("s") and not _ANY_YEAR.fullmatch(other) and other.lower() not in MONTHS:
            # "on Sundays", "on weekday evenings" in place of "on a Saturday": no article
            times = re.compile(rf"(?:\b(?:a|an)\s+)?{times.pattern}", re.I)
        return times.sub(other, last)
    place = re.compile(rf"\b{re.escape(subject)}(?!\w)")
    if _swappable(subject) and _swappable(other) and place.search(last):
        return place.sub(lambda _: other, last)
    return ""


# "Week 14", "RX-300", "R-11": a name that is one of a numbered series.
_MEMBER_NUMBER = r"(?:\d+(?:\.\d+)*|[A-Z])"  # "Week 10", "R-09", "Zone A"
_SERIES_MEMBER = re.compile(rf"(?P<series>[A-Za-z][A-Za-z]*(?:[ -]|(?=\d)))(?P<number>{_MEMBER_NUMBER})")


def _other_of_series(question: str, last: str) -> tuple[str, str]:
    """(the member, `last` asked of it) for a follow-up naming another member of a numbered series
    that `last` names once: "And in Week 14?" after "How much of the Kestrel budget was spent in
    Week 10?", "And R-11?" after "Who owns risk R-09?"; ('', '') when the follow-up names no such
    member, or `last` none or several of its series."""
    opener = _FOLLOW_UP_START.match(question)
    if opener is None:
        return "", ""
    rest = question[opener.end():].strip().rstrip("?!. ")
    rest = re.sub(rf"^(?:(?:{'|'.join(sorted(_PREPOSITIONS))})\s+)?(?:the\s+)?", "", rest, flags=re.I)
    member = _SERIES_MEMBER.fullmatch(rest)
    if member is None:
        # "And in 3.0?" after "What is the hydrostatic head of version 2.0?": the one version it names
        versions = list(re.finditer(r"(?<![\w.])\d+(?:\.\d+)+(?![\w.])", last))
        if re.fullmatch(r"\d+(?:\.\d+)+", rest) and len(versions) == 1:
            return rest, f"{last[:versions[0].start()]}{rest}{last[versions[0].end():]}"
        return "", ""
    series = member.group("series")
    same = list(re.finditer(rf"(?<![\w-])(?i:{re.escape(series)}){_MEMBER_NUMBER}(?![\w-])", last))
    if len(same) != 1:
        return "", ""
    return rest, f"{last[:same[0].start()]}{rest}{last[same[0].end():]}"


# "Why not the church hall?": asked against the last answer ("Hollybrook Library community room").
_WHY_NOT = re.compile(r"^\W*(?:and\s+)?why\s+not\b", re.I)


def is_follow_up(question: str) -> bool:
    return bool(_pronouns_of(question).search(question) or _FOLLOW_UP_START.search(question) or _WHY_NOT.match(question)
                or _asks_nothing_of_its_own(question) or _THAT_YEAR.search(question) or _NEXT_YEAR.search(question))


# The words of a short question that ask how, not about what: "How often?", "Who won?", "What
# time?", "Why so many?", "What should I do?".
_ASKING_WORDS = frozenset({"often", "long", "far", "old", "time", "times", "won", "win", "wins", "so", "happen",
                           "happened", "cost", "costs", "pay", "then", "exactly", "else"})
_MAX_BARE_WORDS = 4


def _asks_nothing_of_its_own(question: str) -> bool:
    """Whether a question, a question word first, names nothing it asks about ("How often?", "Who
    won?", "Which room?"): it asks about what the last question did."""
    said = re.findall(r"[\w'’-]+", question)
    words = [w.lower() for w in said]
    if len(words) == 2 and words[0] in ("which", "what") and said[1].islower() and said[1] not in _STOP:
        return True  # "Which room?", "what floor": the kind of answer, of what the last question asked
    return (0 < len(words) <= _MAX_BARE_WORDS and words[0] in QUESTION_WORDS - _AUXILIARY
            and all(w in _STOP or w in _ASKING_WORDS or w in QUESTION_WORDS for w in words))


# Words after which "her" is no owner: "Who took over from her?", "Did they thank her for it?"
_NOT_OWNED = _PREPOSITIONS | {"and", "or", "but", "as", "than", "when", "if", "because", "so", "again", "too"}


def _owns_next(question: str, at: int) -> bool:
    """Whether the word after `at` is owned by the possessive that ends there: "her email", not
    "from her?" nor "her as chair"."""
    following = re.match(r"\s*([\w'’-]+)", question[at:])
    return following is not None and following.group(1).lower() not in _NOT_OWNED


def _asks_on_its_own(question: str) -> bool:
    """Whether a follow-up, past its "and", is a question of its own: a question word and a word
    of what it asks about ("and who was captain in 2022?"), not "And who else?" or "And why?"."""
    opener = _FOLLOW_UP_START.match(question)
    words = [w.lower() for w in re.findall(r"[\w'’-]+", question[opener.end():] if opener else question)]
    return bool(words) and words[0] in QUESTION_WORDS and not _asks_nothing_of_its_own(question) and any(
        w not in _STOP and w not in _ASKING_WORDS and w not in _FILLERS and w not in QUESTION_WORDS for w in words[1:])


def resolve(question: str, history=None) -> ResolvedQuestion:
    """`question` rewritten to stand alone, given the conversation before it (see `previous_turns`)."""
    previous = previous_turns(history)[-CHAIN_TURNS:]
    if (previous and _BARE_NAME.fullmatch(question) and not _FOLLOW_UP_START.match(question)
            and question.split()[0].lower().strip("?") not in QUESTION_WORDS | _NOT_NAMES):
        # "Zurich?" after "What is the hotel limit in London?": "And Zurich?", where that swaps a name
        asked = resolve(f"And {question.strip()}", history)
        return asked if not asked.reader_question.startswith("And ") else ResolvedQuestion(question, question)
    bare = _BARE_WHEN_OR_WHERE.fullmatch(question)
    if not previous or not (bare or is_follow_up(question)):
        return ResolvedQuestion(question, question)
    last_turn = previous[-1]
    last = last_turn.question
    if (len(previous) > 1 and _asks_nothing_of_its_own(last) and not _pronouns_of(last).search(last)
            and not bare and not _asks_nothing_of_its_own(question)):
        return resolve(question, previous[:-1])  # "Why?" in between names nothing: the turn before it does
    if len(previous) > 1 and re.match(r"\W*(?:and\s+)?why\b", last, re.I):
        # "And in 2022?" after "Why not the church hall?" after "Where was the AGM held in 2024?":
        # the year is the where-question's; the why-question asked about its answer
        other, when = _others(question, set())
        if when and not other and not _same_kind(when).search(last):
            return resolve(question, previous[:-1])
    carried = ""  # the subject a follow-up before this one was resolved to
    # "When was it automated?" after "When was it built?"; also "Zurich?" or "When?" alone
    if len(previous) > 1 and (is_follow_up(last) or _BARE_NAME.fullmatch(last) or _BARE_WHEN_OR_WHERE.fullmatch(last)):
        chained = resolve(last, previous[:-1])
        last, carried = chained.reader_question, chained.subject
        if _is_time(carried):  # "And in 2024?" swapped the year; the question is still about its subject
            carried = ""
    that_year, next_year = _THAT_YEAR.search(question), _NEXT_YEAR.search(question)
    # the year the last question named, or its answer ("When did Ann join?" "In 2019")
    years = set(_ANY_YEAR.findall(last)) or set(_ANY_YEAR.findall(last_turn.answer))
    if that_year and len(years) == 1:  # "Where was the AGM held that year?" after "... in 2022?"
        return resolve(f"{question[:that_year.start()]}in {years.pop()}{question[that_year.end():]}", history)
    if next_year and len(years) == 1:  # "And the year before?" after "... in 2023-24?": in 2022-23
        back = (next_year.group("way") or "").lower() == "before" or \
            (next_year.group("other") or "").lower() in ("previous", "preceding")
        year = _year_moved(years.pop(), -1 if back else 1)
        return resolve(f"{question[:next_year.start()]}in {year}{question[next_year.end():]}", history)
    place = _ASKED_WHEN_OR_WHERE.match(last) if bare else None
    if place:  # "When?" after "Where is the AGM held?"
        again = f"{bare.group(1).capitalize()} {last[place.end():]}"
        return ResolvedQuestion(again, again, subject_of(last))
    # "When?" after "How much does the Year 3 trip cost?": of the same thing, as any follow-up
    people, again = _people_in_their_place(question, last)
    if again:  # "And for juniors?" after "How much was the adult subscription?": the junior one
        return ResolvedQuestion(again, again, people)
    again = _attribute_in_its_place(question, last) or _with_condition(question, last)
    if again:  # "And their email?", "What about including VAT?": of the same thing, so found by its words too
        return ResolvedQuestion(again, f"{again} {key_words(last)}".strip(), subject_of(last))
    name, stands_for = answered_name(Turn(last, last_turn.answer))  # "And in 2024/25?" asked a "who" again
    # The person the last question called "he" or "she": the same word again is still that person,
    # not the one it was answered with ("Who proposed her?" "Tom Bellamy" "What's her email?"), and
    # the other word is not that person ("Why did he retire?" … "What is her email?").
    gender = _gender_said(question)
    called = _gender_said(last_turn.question) if carried and is_name(carried) else ""
    if gender and called == gender:
        name, stands_for = "", frozenset()
    elif gender and not name and _PERSON_NAME.fullmatch(last_turn.answer.strip()) \
            and _said_as_a_role(carried or subject_of(last), f"{last_turn.question} {last}"):
        # "And the Finance Manager?" "Rajesh Mehta" "What's his extension?": the person who holds it
        # (not after "Which film did Spielberg direct?" "Jurassic Park": "he" is still Spielberg)
        name, stands_for = last_turn.answer.strip(), frozenset(_PERSONAL)
    elif gender and (called and not name or _gender_said(last) == gender):
        # nobody it can stand for; nor where the last question's "her" stood for nobody either:
        # asked back, rather than answered for whoever the documents say most of
        return _asked_back(question, last)
    pronouns = {w.lower() for w in _pronouns_of(question).findall(question)} & stands_for
    subject = name if pronouns else (carried or _what_it_is(question, last) or subject_of(last))
    if gender and not pronouns and subject and _are_many(subject):
        # "she" is none of "the children" ("Which dentist sees them?" refused, then "What days is she
        # in?"): asked back, rather than read as "What days is the children in?"
        return _asked_back(question, last)
    if not subject and len(previous) > 1:  # "Why?" in between, which names nothing: the turn before it
        return resolve(question, previous[:-1])
    # the subject said again: no follow-up to resolve ("Vice-Chair" does not say "Chair" again)
    if not subject or re.search(rf"(?<![\w-]){re.escape(subject)}(?![\w-])", question, re.I):
        return ResolvedQuestion(question, f"{question} {key_words(last)}".strip(), "")
    member, in_series = ("", "") if pronouns else _other_of_series(question, last)
    if in_series:  # "And in Week 14?" after "... in Week 10?": not the subject's place
        return ResolvedQuestion(in_series, in_series, member)
    other, when = _others(question, pronouns)
    if not pronouns and not when:
        kind, again = _same_kind_in_its_place(question, other, last)
        if again:
            return ResolvedQuestion(again, again, kind)
    if when and not other and not pronouns:
        # "and the secretary in 2024?" after "Who was welfare officer in 2023?": both swapped
        untimed = re.sub(rf"\s+{_TIME_PREPOSITION}\s+{re.escape(when)}(?=[?!.\s]*$)", "", question)
        office, in_office = _office_in_its_place(untimed, last) if untimed != question else ("", "")
        if in_office:
            again = _asked_again(in_office, subject, when) or _with_time(in_office, when)
            if again:
                return ResolvedQuestion(again, again, office)
    # "And on Sundays?" after "What time does the pool open?": that time added, where none was said
    swapped = (_asked_again(last, subject, when) or _with_time(last, when)) if when and not other else ""
    if other:
        if _swappable(other) and _swappable(subject):
            # "And in the Paris office in 2023?": the phrase in the subject's place, then the year
            untimed = (re.sub(rf"\s+{_TIME_PREPOSITION}\s+{re.escape(when)}(?=[?!.\s]*$)", "", question)
                       if when else question)
            swapped = _phrase_in_its_place(untimed, other, last, subject)
        if not swapped and _in_its_place(question, other, last, subject):
            swapped = _asked_again(last, subject, other)
        if swapped and when:  # "And in Paris in 2023?": both, or neither
            swapped = _asked_again(swapped, subject, when) or _with_time(swapped, when)
    if not swapped and not pronouns and not when and (not other or _swappable(other) and not _swappable(subject)):
        swapped = _object_in_its_place(question, last)  # "What about the banana bread?"
    new_thing = ""
    if not swapped and not pronouns and not when and not other:
        new_thing, swapped = _thing_in_its_place(question, last, subject)  # "And the carrot cake?", "And a large one?"
    office = ""
    if not swapped and not pronouns and not when:
        office, swapped = _office_in_its_place(question, last)  # "And the treasurer?" after "Who was elected chair?"
        if not swapped and not other and subject[:1].isupper():
            # "And expenditure?" after "What total income did Ann Lee report at the 2022 AGM?": the
            # question is about a name, so a thing of common words is another thing asked of it
            new_thing, swapped = _asked_thing_in_its_place(question, last)
    if swapped:
        return ResolvedQuestion(swapped, swapped, other or when or new_thing or office)
    if other and _swappable(other) and _swappable(subject):
        # The follow-up names a subject of its own ("And at Christmas?"): it keeps it, and the
        # last question lends it only its other words.
        lent = " ".join(w for w in key_words(last).split() if w.lower() not in subject.lower().split())
        return ResolvedQuestion(question, f"{question} {lent}".strip(), other)

    replaced = False

    def substitute(m: re.Match) -> str:
        nonlocal replaced
        word = m.group(1)
        if word.lower() == "there" and not replaced:
            # "And the meal allowance there?" after "... in Zurich?": there is in Zurich
            place = re.search(rf"\b(in|at)\s+(?:the\s+)?{re.escape(subject)}\b", last, re.I)
            if place and re.fullmatch(r"[?!.\s]*", question[m.end():]):
                replaced = True
                return f"{place.group(1)} {subject}"
        if replaced or word.lower() in {"there", "this", "that", "these", "those"} or \
                (pronouns and word.lower() not in stands_for) or \
                (word.lower() in _PERSONAL and _is_time(subject)):  # "it" is not the person named, nor "she" 2024
            return word
        replaced = True
        # a common noun keeps its article, so that a later follow-up finds it again, and so does a
        # name the last question gave one ("the BCIJ")
        with_article = re.search(rf"\bthe\s+{re.escape(subject)}\b", last, re.I) is not None
        common = subject.split()[-1][:1].islower()  # "the Madrid office", as a name with its kind is said
        named = subject if (subject[:1].isupper() or subject[:1].isdigit()) and not with_article and not common \
            else f"the {subject}"
        return f"{named}'s" if word.lower() in _POSSESSIVE and (
            word.lower() != "her" or _owns_next(question, m.end())) else named  # "from her?": no owner

    reader_question = _pronouns_of(question).sub(substitute, question)
    if replaced:
        reader_question = _in_the_last_frame(reader_question, last)
    if not replaced and not _asks_on_its_own(question):
        reader_question = f"{question} ({subject})"
    elif not replaced and (_ANY_YEAR.search(question) or _names(question)) and not _PRO_FORM.search(question):
        # "and who was captain in 2022?": a question of its own, naming what it asks about, which
        # the last one's words ("Who took over from Priya Natarajan?") would lead retrieval away from
        return ResolvedQuestion(question, question, "")
    return ResolvedQuestion(reader_question, f"{reader_question} {key_words(last)}".strip(), subject)
