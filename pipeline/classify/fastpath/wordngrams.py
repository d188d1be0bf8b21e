"""Word 1-2-gram TF-IDF of a fitted TfidfVectorizer, computed with array operations instead of per-token Python.

scikit-learn's transform joins every word pair into a string and looks each up in a dict, one text at a time,
second only to the lexicon in classify's time. `WordNgramTfidf` keeps the fitted vectorizer's
own preprocessor, tokenizer and stop words, maps each token to an integer once, and finds unigram and word-pair
columns for a whole batch with NumPy lookups. Its matrix equals `vectorizer.transform` (tested). Settings it
does not reproduce (other analyzers, n > 2, binary counts) raise ValueError, so the caller falls back to the
vectorizer itself.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from pipeline.classify.fastpath.tokens import (
    ChunkReader,
    Column,
    Lasting,
    Numbering,
    Tokens,
    chunk_safe_pattern,
    number_tokens,
    split_batch,
)

_UNKNOWN = -1


def compact_for_saving(vectorizer) -> None:
    """Trim a fitted TfidfVectorizer before skops saves it: the pruned n-grams it keeps (megabytes never used)
    go, and its vocabulary holds plain ints, since skops writes each NumPy scalar as its own file and 40,000
    of them took 5 s to load."""
    if hasattr(vectorizer, "stop_words_"):
        del vectorizer.stop_words_
    vectorizer.vocabulary_ = {term: int(column) for term, column in vectorizer.vocabulary_.items()}


class WordNgramTfidf:
    """Fast `transform` for a fitted word TfidfVectorizer with ngram_range within (1, 2)."""

    def __init__(self, vectorizer):
        min_n, max_n = vectorizer.ngram_range
        if (vectorizer.analyzer != "word" or vectorizer.binary or not 1 <= min_n <= max_n <= 2
                or not vectorizer.use_idf):
            raise ValueError("WordNgramTfidf: only word 1-2-grams with idf, counts not binary")
        if vectorizer.tokenizer is None and not chunk_safe_pattern(vectorizer.token_pattern):
            raise ValueError("WordNgramTfidf: only token patterns of word characters (a token with a space in it"
                             " would read as a word pair)")
        self._stop_words = frozenset(vectorizer.get_stop_words() or ())
        self._preprocess = preprocess = vectorizer.build_preprocessor()
        accents = vectorizer.strip_accents in ("unicode", "ascii")
        if vectorizer.preprocessor is None and vectorizer.lowercase and accents:
            # ASCII text has no accents to strip: skip scikit-learn's per-text encode attempt.
            self._preprocess = lambda text: text.lower() if text.isascii() else preprocess(text)
        self._tokenize = vectorizer.build_tokenizer()
        # Whether tokens may be found chunk by chunk (fastpath.tokens): scikit-learn's own preprocessing (the token
        # pattern never spans whitespace, checked above). ASCII accent stripping is left out: it deletes characters
        # such as U+1680, a space to str.split, which could join two words.
        self.reads_chunks = (vectorizer.preprocessor is None and vectorizer.tokenizer is None
                             and vectorizer.strip_accents in (None, "unicode"))
        # Two vectorizers with the same settings here split text into the same tokens (see `tokens`).
        self.token_settings = (vectorizer.strip_accents, vectorizer.lowercase, vectorizer.preprocessor,
                               vectorizer.tokenizer, vectorizer.token_pattern)
        self._sublinear = vectorizer.sublinear_tf
        self._norm = vectorizer.norm
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._width = len(self._idf)
        self._with_unigrams, self._with_pairs = min_n == 1, max_n == 2
        # Every word that occurs in a feature gets an integer; a pair of words is then one int64 key.
        words: dict[str, int] = {}
        unigrams, pairs = [], []
        for term, column in vectorizer.vocabulary_.items():
            parts = term.split(" ")
            ids = [words.setdefault(part, len(words)) for part in parts]
            (unigrams if len(ids) == 1 else pairs).append((ids, int(column)))
        self._word_ids = words
        self._unigram_column = np.full(len(words), _UNKNOWN, dtype=np.int64)
        for (word,), column in unigrams:
            self._unigram_column[word] = column
        keys = np.array([a * len(words) + b for (a, b), _ in pairs], dtype=np.int64)
        order = np.argsort(keys)
        self._pair_keys = keys[order]
        self._pair_columns = np.array([column for _, column in pairs], dtype=np.int64)[order]
        split_words, prepare = self._tokenize, self._preprocess
        self._reader = ChunkReader(lambda chunk: split_words(prepare(chunk)))
        self._chunks = Numbering()  # for batches this splits itself
        self._lasting_ids = Lasting(self._ids_of, Column)
        self._lasting_stops = Lasting(self._stops_of, lambda: Column(bool))

    def _ids_of(self, tokens: list[str]) -> np.ndarray:
        """Each token's word number (-1: not in the vocabulary)."""
        return np.fromiter(map(self._word_ids.get, tokens, repeat(_UNKNOWN)), dtype=np.int64, count=len(tokens))

    def _stops_of(self, tokens: list[str]) -> np.ndarray:
        return np.fromiter(map(self._stop_words.__contains__, tokens), dtype=bool, count=len(tokens))

    def tokens(self, texts, chunks: Tokens | None = None) -> Tokens:
        """The batch's tokens; from its whitespace chunks (`chunks`, or split here) where `reads_chunks`."""
        if not self.reads_chunks:
            return number_tokens([self._tokenize(self._preprocess(text)) for text in texts])
        return self._reader(split_batch(texts, self._chunks) if chunks is None else chunks)

    def transform(self, texts) -> sp.csr_matrix:
        return self.transform_tokens(self.tokens(texts))

    def transform_tokens(self, tokens: Tokens) -> sp.csr_matrix:
        """The matrix of a batch that `tokens` (this or an alike vectorizer's) split up."""
        distinct, occurrences, lengths, numbering = tokens
        n_texts = len(lengths)
        # Per distinct token; with a numbering, kept by token number from batch to batch.
        distinct_ids = self._ids_of(distinct) if numbering is None else self._lasting_ids(numbering).values
        doc = np.repeat(np.arange(n_texts, dtype=np.int64), lengths)
        if self._stop_words:  # scikit-learn drops stop words before pairing, so their neighbours become a pair
            stop = self._stops_of(distinct) if numbering is None else self._lasting_stops(numbering).values
            kept = ~stop[occurrences]
            occurrences, doc = occurrences[kept], doc[kept]
        ids = distinct_ids[occurrences]
        rows, columns = [], []
        if self._with_unigrams:
            known = ids >= 0
            found = self._unigram_column[ids[known]]
            keep = found >= 0
            rows.append(doc[known][keep])
            columns.append(found[keep])
        if self._with_pairs and len(ids) > 1 and len(self._pair_keys):
            first, second = ids[:-1], ids[1:]
            same_text = doc[:-1] == doc[1:]
            candidate = same_text & (first >= 0) & (second >= 0)
            keys = first[candidate] * len(self._word_ids) + second[candidate]
            at = np.minimum(np.searchsorted(self._pair_keys, keys), len(self._pair_keys) - 1)
            hit = self._pair_keys[at] == keys
            rows.append(doc[:-1][candidate][hit])
            columns.append(self._pair_columns[at[hit]])
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        counts = sp.csr_matrix((np.ones(len(row)), (row, column)), shape=(n_texts, self._width))
        counts.sum_duplicates()  # also sorts each row's columns, as scikit-learn's matrix has them
        if self._sublinear:
            np.log(counts.data, counts.data)
            counts.data += 1
        counts.data *= self._idf[counts.indices]
        return normalize(counts, norm=self._norm, copy=False) if self._norm and counts.shape[0] else counts
