"""Words that carry no subject: one list for every place that looks for content words."""

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
