"""A span that the documents give as the definition of the term a question asks about.

"Who counts as a close family member?" answered from "A close family member means a spouse or
partner, child, parent..." is answered by the document's own words: the sentence names the term,
says "means", and the span is what follows. The reader learnt from SQuAD, whose questions rarely
ask for a definition, and scores such spans low (0.03–0.06 where right answers of prose score
0.5 and more), so a calibrated rule refuses them. Like a table cell the question names
(`rows.fills_a_named_cell`), the layout of the sentence says what the span answers.
"""

from __future__ import annotations

import re

from bot.read.rows import content_stems
from bot.types import Passage, Span

# What a question asking for a term's definition looks like, and the term it asks about.
_ASKS_DEFINITION = re.compile(
    r"^\s*(?:what|who)\s+(?:counts|qualifies)\s+as\s+(?P<counts>.+?)\W*$"
    r"|^\s*what\s+(?:is|are)\s+meant\s+by\s+(?P<meant>.+?)\W*$"
    r"|^\s*what\s+(?:does|do)\s+(?P<mean>.+?)\s+mean\W*$"
    r"|^\s*what\s+(?:is|are)\s+(?P<what>(?:an?\s+)?[\w'’ -]+?)\W*$", re.I)
# The verb of a definition, between the term and what defines it (at the end of the words before
# the span, their spaces stripped). "What is X?" takes only a verb that says what X is.
_DEFINING = re.compile(r"(?<!\S)(?:(?P<says>means|mean|is defined as|are defined as|refers to|refer to)"
                       r"|counts as|covers|includes|(?P<plain>is|are))$", re.I)
_ARTICLE = re.compile(r"^(?:an?|the)\s+", re.I)
_MAX_TERM_WORDS = 6
_MAX_QUESTION_CHARS = 200


def defines_asked_term(question: str, span: Span, passage: Passage) -> bool:
    """Whether the span's sentence is "<the asked term> means <span>..." (or "is defined as",
    "refers to", "counts as", "covers", "includes"; "is" where the question is "What is X?" and the
    sentence's subject is X and nothing more: "A fit note is...", "The joining fee is...")."""
    asked = _ASKS_DEFINITION.match(" ".join(question.split())) if len(question) <= _MAX_QUESTION_CHARS else None
    if asked is None:
        return False
    kind = asked.lastgroup
    term = _ARTICLE.sub("", asked.group(kind))
    term_stems = content_stems(term)
    if not term_stems or len(term.split()) > _MAX_TERM_WORDS:
        return False
    chunk = passage.chunk
    start = span.start - chunk.start
    sentence_start = max((s - chunk.start for s, _ in chunk.sentences if s - chunk.start <= start), default=0)
    lead = chunk.text[sentence_start:start]
    if "\n" in lead:  # the definition's own line
        lead = lead.rsplit("\n", 1)[1]
    lead = lead.rstrip()
    verb = _DEFINING.search(lead)
    if verb is None or (kind == "what" and not (verb.group("plain") or verb.group("says"))) \
            or (kind != "what" and verb.group("plain")):
        return False
    subject = _ARTICLE.sub("", lead[:verb.start()].strip(" \t:,\"“”'‘’"))
    subject_stems = content_stems(subject)
    if not term_stems <= subject_stems:
        return False
    # "A close family member means" names the term, a word more at most ("A close family member of
    # yours"); "What is X?" wants X as the whole subject ("What is a loan?" is not "A student loan").
    extra = subject_stems - term_stems
    return not extra if kind == "what" else len(extra) <= 1 and len(subject.split()) <= _MAX_TERM_WORDS + 2
