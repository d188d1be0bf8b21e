"""Character n-gram TF-IDF that is fast enough to classify thousands of articles a second.

scikit-learn's `char_wb` analyzer builds every n-gram of every text in pure Python (about 1,800 texts/s
here). `char_wb` n-grams never cross a word boundary, so a text's n-grams are the concatenation of its
words' n-grams, and so of its whitespace-separated chunks' n-grams: this transformer finds each distinct chunk's
vocabulary columns once (kept by chunk number across batches: fastpath.tokens.Lasting) and gets the counts as
one sparse product, (texts x chunks) @ (chunks x n-grams). The matrix equals
CountVectorizer(analyzer="char_wb") followed by TfidfTransformer with the same settings (tested).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from pipeline.classify.fastpath.tokens import Lasting, Numbering, Ragged, Tokens, renumbered, split_batch

_NO_COLUMNS = np.zeros(0, dtype=np.int32)
# Rebuilt from the fitted state, never saved.
_DERIVED = ("_preprocess", "_analyse_word", "_chunk_columns", "_columns", "_chunks")


class CharNgramTfidf(TransformerMixin, BaseEstimator):
    """texts -> TF-IDF of the character n-grams inside word boundaries (`char_wb`), sublinear tf, l2 norm."""

    def __init__(self, ngram_range: tuple = (2, 5), min_df: int = 2, max_features: int | None = 20000):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def _counter(self) -> CountVectorizer:
        return CountVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                               max_features=self.max_features, strip_accents="unicode", lowercase=True,
                               dtype=np.float64)

    def fit(self, texts, y=None):
        self._fit_counts(texts)
        return self

    def fit_transform(self, texts, y=None):
        counts = self._fit_counts(texts)
        return self.tfidf_.transform(counts)

    def _fit_counts(self, texts) -> sp.csr_matrix:
        """Learn the vocabulary and idf; returns the texts' counts so fit_transform does not count twice."""
        texts = list(texts)
        counter = self._counter().fit(texts)
        for derived in _DERIVED:  # a refit must not reuse columns of the previous vocabulary
            self.__dict__.pop(derived, None)
        # Saved as one NumPy string array (column order), not a dict: skops stores a 20,000-key dict node by node
        # and took seconds to load it.
        self.ngrams_ = counter.get_feature_names_out().astype(str)
        self.n_features_out_ = len(self.ngrams_)
        counts = self._counts(split_batch(texts))
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)
        return counts

    def transform(self, texts):
        chunks = getattr(self, "_chunks", None)
        if chunks is None:
            chunks = self._chunks = Numbering()  # lasting chunk numbers for the batches this splits itself
        return self.transform_chunks(split_batch(texts, chunks))

    def transform_chunks(self, chunks: Tokens) -> sp.csr_matrix:
        """`transform` of a batch already split at whitespace (pipeline.classify.fastpath.tokens)."""
        counts = self._counts(chunks)
        if not counts.shape[0]:
            return counts
        # What self.tfidf_.transform computes (sublinear tf, idf, l2), in place on a matrix made for this call:
        # scikit-learn copies it and multiplies by a diagonal matrix, a sixth of classify's work on characters.
        np.log(counts.data, counts.data)
        counts.data += 1
        counts.data *= self.tfidf_.idf_[counts.indices]
        return normalize(counts, norm="l2", copy=False)

    def _counts(self, chunks: Tokens) -> sp.csr_matrix:
        """(texts x chunks of the batch) @ (chunks x n-grams). A chunk's words are whitespace-separated after lower
        case and accent stripping, which keep whitespace whitespace, so a text's n-grams are its chunks' n-grams;
        each chunk's n-gram columns are found once and remembered across batches."""
        if chunks.numbering is None:
            chunks = renumbered(chunks)
        columns = getattr(self, "_chunk_columns", None)
        if columns is None:
            columns = self._chunk_columns = Lasting(lambda new: list(map(self._columns_of_chunk, new)), Ragged)
        ngrams, starts = columns(chunks.numbering).csr_parts()
        chunks_by_ngrams = sp.csr_matrix((np.ones(len(ngrams)), ngrams, starts),
                                         shape=(len(starts) - 1, self.n_features_out_))
        texts_by_chunks = sp.csr_matrix(
            (np.ones(len(chunks.occurrences)), chunks.occurrences, np.concatenate([[0], np.cumsum(chunks.lengths)])),
            shape=(len(chunks.lengths), len(starts) - 1))
        return (texts_by_chunks @ chunks_by_ngrams).tocsr()

    def _columns_of_chunk(self, chunk: str) -> np.ndarray:
        """The vocabulary columns of every n-gram of the chunk's words, repeated as often as they occur."""
        if not hasattr(self, "_analyse_word"):
            counter = self._counter()
            self._preprocess, self._analyse_word = counter.build_preprocessor(), counter.build_analyzer()
        vocabulary = self.vocabulary_
        found = [vocabulary[gram] for word in self._preprocess(chunk).split() for gram in self._analyse_word(word)
                 if gram in vocabulary]
        return np.array(found, dtype=np.int32) if found else _NO_COLUMNS

    @property
    def vocabulary_(self) -> dict[str, int]:
        columns = getattr(self, "_columns", None)
        if columns is None:
            self._columns = columns = {str(gram): column for column, gram in enumerate(self.ngrams_)}
        return columns

    def get_feature_names_out(self, input_features=None):
        return self.ngrams_.astype(object)

    def __getstate__(self):
        state = dict(super().__getstate__())
        for key in _DERIVED:
            state.pop(key, None)
        return state
