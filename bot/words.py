"""Words that carry no subject, and the calendar words and years that pin a question to a time:
one list for every place that looks for them."""

import re
from functools import lru_cache

QUESTION_WORDS = frozenset({
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "is", "are",
    "was", "were", "can", "could", "should", "would", "will", "has", "have", "had",
})
STOP_WORDS = QUESTION_WORDS | frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "and", "or", "be", "been", "it", "its",
    "that", "this", "as", "from", "their", "i", "me", "my", "we", "us", "our", "you", "your", "he", "him", "his",
    "she", "her", "they", "them", "these", "those", "there", "about", "into", "than", "much", "many", "some",
    "any",
})
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Numbers as words: "thirty (30) days", "four years".
NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                "hundred thousand million").split()
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
# A year of the last two centuries as documents write one: not a decade ("the 1990s"), an amount
# ("$2000", "2000 EUR", "2000 euros", "2000 km", "2000%") or part of a longer number ("2,000",
# "2024.5"). "FY2024" is the year 2024 too. Counts are left alone: "the 2024 staff survey".
_COUNTED = r"eur|usd|gbp|chf|euros?|dollars?|pounds?|francs?|yen|km|kg|cm|mm|miles?|metres?|meters?|tonnes?|tons?"
YEAR = re.compile(rf"(?<![$€£¥\d.,])(?:\b|(?<=FY))(?:19|20)\d\d\b(?!['’]?s\b|[.,]\d|\s?%|\s?(?i:{_COUNTED})\b)")
# An academic or financial year, one year and the next: "2025/26", "2025-26", "2025–2026", "FY2025/26".
ACADEMIC_YEAR = re.compile(r"(?<![\d.,/])(?:\b|(?<=FY))(?:19|20)\d\d\s?[/–-]\s?(?:19|20)?\d\d\b(?![-–/.]\d)")


def academic_year(written: str) -> str | None:
    """An `ACADEMIC_YEAR` as one form, "2025/26", or None where the second year does not follow
    the first ("2019-21", "2024-12" of a date)."""
    first, second = (int(n) for n in re.findall(r"\d+", written))
    return f"{first}/{(first + 1) % 100:02d}" if second in (first + 1, (first + 1) % 100) else None


@lru_cache(maxsize=4)
def stemmer(language: str = "english"):
    """The Snowball stemmer (PyStemmer) that BM25, the details check and the answer's extent share."""
    import Stemmer

    return Stemmer.Stemmer(language)


def stem(word: str) -> str:
    """An English word's stem, lower-cased: "changed" and "changes" are "chang"."""
    return stemmer().stemWord(word.lower())
