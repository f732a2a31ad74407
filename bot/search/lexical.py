"""The lexical ranker: BM25 (bm25s) over Snowball-stemmed words of each chunk, and its files.

A generation stores its BM25 index as bm25s's own files (numpy arrays and JSON, read without
pickle), so loading an index does not tokenise every chunk again; `lexical_settings` is what such
files depend on besides the chunks, recorded with them so that other settings rebuild them.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.files import atomic_write_files
from bot.types import Chunk
from bot.words import STOP_WORDS, stemmer

# BM25 over Snowball-stemmed English words ("erupted" finds "eruption"), with a weaker term
# saturation (k1) and length normalisation (b) than the usual 1.5 / 0.75. Chosen on SQuAD v1.1 dev
# part A (tune split; its paragraphs as documents), fused with the dense ranker
# (bot/search/retrieval.py): recall@1/@3/@5 81.7 / 93.3 / 96.0% -> 83.7 / 94.6 / 96.7% (k1 0.4-0.9
# and b 0.3-0.5 all within 0.5 point of it; stemming alone gave +0.3 / +0.7 / +0.4).
BM25_K1 = 0.6
BM25_B = 0.4
STEMMER_LANGUAGE = "english"
STOP_WORDS_LANGUAGE = "en"  # bm25s's list, left out of the indexed words
# Words of two or more characters (bm25s's own rule), and also single digits and numbers with
# dots, commas or colons kept whole: "version 2.9.4", "clause 2.4", "Type 3" and "10:30" are
# searchable (the default split "2.9.4" into nothing). Such a number is also indexed by its parts
# (`with_number_parts`), so "$2,150" still finds "$2,150.00" and "2024" finds "12.05.2024". On
# part A: recall@1/3/5 83.9 / 94.9 / 96.7 -> 84.0 / 94.9 / 96.8.
TOKEN_PATTERN = r"(?u)\d+(?:[.,:]\d+)+|\b\w\w+\b|\b\d\b"
_GROUPED_NUMBER = re.compile(r"\d+(?:[.,:]\d+)+")
# Bump when the text a chunk is indexed by or its tokenisation changes in a way the settings in
# `lexical_settings` do not show (`lexical_text`, `with_number_parts`): stored files are rebuilt.
LEXICAL_VERSION = 1
# bm25s's files, by part, and the suffix each takes in an index folder.
PARTS = {"data": "data.npy", "indices": "indices.npy", "indptr": "indptr.npy", "vocab": "vocab.json",
         "params": "params.json"}


def with_number_parts(text: str) -> str:
    """`text` with each dotted or grouped number followed by its parts ("2,150.00" -> "2,150.00 2 150 00")."""
    return _GROUPED_NUMBER.sub(lambda m: f"{m.group()} {' '.join(re.split(r'[.,:]', m.group()))}", text)


def lexical_text(chunk: Chunk, title: str) -> str:
    """What BM25 indexes a chunk by: its document's title and its section, then its text."""
    return f"{title} {chunk.section} {chunk.text}"


def lexical_texts(chunks: list[Chunk], titles: dict[str, str]) -> list[str]:
    return [lexical_text(c, titles.get(c.doc_id, "")) for c in chunks]


def lexical_settings() -> dict:
    """Everything stored BM25 files depend on besides the chunks. The libraries are included: a
    new bm25s may change its stop words or scoring, a new PyStemmer its stems."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {"version": LEXICAL_VERSION, "k1": BM25_K1, "b": BM25_B, "token_pattern": TOKEN_PATTERN,
            "stemmer": STEMMER_LANGUAGE, "stop_words": STOP_WORDS_LANGUAGE,
            "bm25s": installed("bm25s"), "PyStemmer": installed("PyStemmer")}


def bm25_file_names(generation: str) -> dict[str, str]:
    """Part -> file name of a generation's BM25 files ("bm25-<gen>-data.npy", ...)."""
    return {part: f"bm25-{generation}-{suffix}" for part, suffix in PARTS.items()}


class BM25Index:
    """Lexical search over chunk texts (bm25s); catches names, numbers and rare terms that a
    small embedding model blurs."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        _quiet()
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        tokens = bm25s.tokenize([with_number_parts(t) for t in texts], stopwords=STOP_WORDS_LANGUAGE,
                                stemmer=stemmer(STEMMER_LANGUAGE), show_progress=False, token_pattern=TOKEN_PATTERN)
        retriever.index(tokens, show_progress=False)
        self._use(retriever, len(texts))

    @classmethod
    def load(cls, folder: Path, names: dict[str, str]) -> BM25Index:
        """The index saved under `names` in `folder`. Its arrays are memory-mapped, as the vectors
        are: processes serving one index share the pages, and a question reads only its words'."""
        import bm25s

        _quiet()
        retriever = bm25s.BM25.load(folder, data_name=names["data"], indices_name=names["indices"],
                                    indptr_name=names["indptr"], vocab_name=names["vocab"],
                                    params_name=names["params"], mmap=True, allow_pickle=False, show_progress=False)
        index = cls.__new__(cls)
        index._use(retriever, int(retriever.scores["num_docs"]))
        return index

    def save(self, folder: Path, names: dict[str, str]) -> None:
        """Write bm25s's files under `names` in `folder`, each whole or not at all, flushed to disk."""
        def write(staging: Path) -> None:
            self.retriever.save(staging, data_name=names["data"], indices_name=names["indices"],
                                indptr_name=names["indptr"], vocab_name=names["vocab"], params_name=names["params"],
                                allow_pickle=False, show_progress=False)

        atomic_write_files(folder, list(names.values()), write, durable=True)

    def _use(self, retriever, size: int) -> None:
        import bm25s

        self._bm25s = bm25s
        self._stemmer = stemmer(STEMMER_LANGUAGE)
        self.retriever = retriever
        self.size = size
        self.vocab = set(retriever.vocab_dict)
        self.left_out = frozenset(bm25s.stopwords.STOPWORDS_EN)  # words of the text not in `vocab`
        # A question's own words ("what", "how much", "do I") are in every FAQ: matching them
        # would rank the passages that ask questions above those that answer them.
        self._query_stop_words = sorted(STOP_WORDS | set(bm25s.stopwords.STOPWORDS_EN))

    def texts_saying(self, word_stem: str) -> list[int]:
        """The indices of the texts that hold a word (its stem, as `vocab` has it)."""
        token = self.retriever.vocab_dict.get(word_stem)
        if token is None:
            return []
        indptr = self.retriever.scores["indptr"]
        return [int(i) for i in self.retriever.scores["indices"][indptr[token]: indptr[token + 1]]]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        words = self._bm25s.tokenize([with_number_parts(query)], stopwords=self._query_stop_words, stemmer=self._stemmer,
                                     return_ids=False, show_progress=False, token_pattern=TOKEN_PATTERN)[0]
        words = [w for w in words if w in self.vocab]
        if not words or self.size == 0:
            return []
        ids, scores = self.retriever.retrieve([words], k=min(k, self.size), show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


def _quiet() -> None:
    import logging

    logging.getLogger("bm25s").setLevel(logging.ERROR)
