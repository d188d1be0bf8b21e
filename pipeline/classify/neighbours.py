"""Second stage of the theme model: the base model's probabilities plus what the most similar training examples
were labelled, combined per output by a small logistic regression.

Why: the base model is linear in words, so a near-copy of a no-theme training example ("US and China agree a
tariff truce after talks") still scores high on the words it shares with real truce stories. Its neighbours
know better: the closest examples carried no theme. Per output (each theme, then the 'any theme' gate) the
combiner sees the logit of the base probability for that output and for the gate, and, over the K most similar
training examples, the similarity-weighted share labelled with that output and with any theme, the highest
similarity among neighbours with and without that label, and the nearest neighbour's similarity.

Text the base model already deems far from the war (its gate probability below `floor`) keeps the base
probabilities: the neighbours could not lift it to a label (cross-validation gave the same figures with and
without it), and general news, most of a feed, then costs nothing extra.

Similarity: cosine of word 1-2-gram TF-IDF without English stop words. Training rows take their neighbours
among the other training examples (an example is never its own neighbour) and their base probabilities out of
fold, so the combiners learn from the kind of evidence they get on new text.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logit
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from pipeline.classify.fastpath.tokens import Tokens, select_texts
from pipeline.classify.fastpath.wordngrams import WordNgramTfidf, compact_for_saving

SIMILARITY_CHUNK = 2000  # query rows per sparse product: bounds the similarity matrix held at once
_DERIVED = ("_fast", "_transposed")  # rebuilt from the fitted state, never saved
_SHARE_PRIOR = 0.1  # added to the neighbours' total similarity, so a few faint neighbours give a small share


def clipped_logit(probability: np.ndarray) -> np.ndarray:
    """Log-odds, with probabilities kept within [1e-4, 1 - 1e-4] so a certain base model gives a finite feature."""
    return logit(np.clip(probability, 1e-4, 1 - 1e-4))


def top_per_row(matrix: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest positive entries of each CSR row: column (-1 where a row has fewer) and value (0 there).
    One argpartition per row on its stored values: a batch has a few hundred rows of about 1,400 candidates, and
    padding them to one array for a single call cost more than the loop (16 ms against 10 per 1,000 articles)."""
    n_rows = matrix.shape[0]
    index = np.full((n_rows, k), -1, dtype=np.int64)
    value = np.zeros((n_rows, k))
    data, columns, bounds = matrix.data, matrix.indices, matrix.indptr.tolist()
    for row in range(n_rows):
        start, end = bounds[row], bounds[row + 1]
        if end - start > k:
            best = np.argpartition(data[start:end], end - start - k)[end - start - k:] + start
        else:
            best = np.arange(start, end)
        index[row, :len(best)], value[row, :len(best)] = columns[best], data[best]
    absent = value <= 0
    index[absent], value[absent] = -1, 0.0
    return index, value


class NeighbourStack(BaseEstimator):
    """Fit with `fit_out_of_fold(texts, labels, base_out_of_fold, cv)`; then `predict_proba(texts, base)` gives
    the stacked probabilities, one column per label column (the gate last)."""

    def __init__(self, neighbours: int = 20, C: float = 1.0, min_df: int = 2, max_df: float = 1.0,
                 floor: float = 0.0, seed: int = 13):
        self.neighbours = neighbours
        self.floor = floor
        self.C = C
        self.min_df = min_df
        self.max_df = max_df
        self.seed = seed

    def fit_out_of_fold(self, texts, labels: np.ndarray, base_out_of_fold: np.ndarray, cv) -> np.ndarray:
        """Fit the neighbour index and the combiners; return the combiners' out-of-fold probabilities on the
        training rows (what thresholds are chosen on)."""
        labels = np.asarray(labels)
        if labels.shape != base_out_of_fold.shape:
            raise ValueError(f"neighbours: labels {labels.shape} and base probabilities {base_out_of_fold.shape}"
                             " must have the same shape")
        for derived in _DERIVED:  # built from the previous fit's vocabulary and examples
            self.__dict__.pop(derived, None)
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True,
                                           strip_accents="unicode", min_df=self.min_df,
                                           max_df=self.max_df, dtype=np.float64).fit(texts)
        compact_for_saving(self.vectorizer_)
        self.examples_ = sp.csr_matrix(self.vectorizer_.transform(texts))
        self.labels_ = labels.astype(np.int8)
        evidence = self._evidence(self.examples_, exclude_self=True)
        self.combiners_, out_of_fold = [], np.zeros(labels.shape)
        for k in range(labels.shape[1]):
            features = self._features(base_out_of_fold, evidence, k)
            out_of_fold[:, k] = cross_val_predict(self._combiner(), features, labels[:, k], cv=cv,
                                                  method="predict_proba")[:, 1]
            self.combiners_.append(self._combiner().fit(features, labels[:, k]))
        return np.where(self._below_floor(base_out_of_fold)[:, None], base_out_of_fold, out_of_fold)

    def predict_proba(self, texts, base_probabilities: np.ndarray, tokens: Tokens | None = None) -> np.ndarray:
        """`tokens`: the batch already split by a vectorizer with the same `token_settings`, to skip doing it again."""
        stacked = np.array(base_probabilities, dtype=np.float64)
        rows = np.flatnonzero(~self._below_floor(stacked))
        if not len(rows):
            return stacked
        fast = self.fast_vectorizer
        if tokens is None:
            queries = fast.transform([texts[i] for i in rows])
        else:
            queries = fast.transform_tokens(select_texts(tokens, rows) if len(rows) < len(stacked) else tokens)
        evidence = self._evidence(queries, exclude_self=False)
        base = stacked[rows]
        for k, combiner in enumerate(self.combiners_):
            stacked[rows, k] = combiner.predict_proba(self._features(base, evidence, k))[:, 1]
        return stacked

    def _below_floor(self, base: np.ndarray) -> np.ndarray:
        return base[:, -1] < self.floor

    def nearest(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """Each text's K nearest training rows (index, -1 where there are fewer) and their similarities, nearest
        first."""
        index, similarity = self._top(self.fast_vectorizer.transform(texts), exclude_self=False)
        order = np.argsort(-similarity, axis=1, kind="stable")
        return np.take_along_axis(index, order, axis=1), np.take_along_axis(similarity, order, axis=1)

    def _combiner(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, max_iter=1000, random_state=self.seed)

    @property
    def fast_vectorizer(self) -> WordNgramTfidf:
        """The vectorizer's matrix, computed a few times faster; built on first use, never saved."""
        fast = getattr(self, "_fast", None)
        if fast is None:
            fast = self._fast = WordNgramTfidf(self.vectorizer_)
        return fast

    @property
    def _terms_by_example(self) -> sp.csr_matrix:
        """examples_ transposed, the right-hand side of every similarity product: built once, never saved."""
        transposed = getattr(self, "_transposed", None)
        if transposed is None:
            transposed = self._transposed = self.examples_.T.tocsr()
        return transposed

    def _top(self, queries: sp.csr_matrix, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each query's K most similar training rows, in no particular order (every feature is a sum or a max)."""
        index = np.full((queries.shape[0], self.neighbours), -1, dtype=np.int64)
        similarity = np.zeros((queries.shape[0], self.neighbours))
        examples_t = self._terms_by_example
        for start in range(0, queries.shape[0], SIMILARITY_CHUNK):
            scores = (queries[start:start + SIMILARITY_CHUNK] @ examples_t).tocsr()
            rows = np.arange(scores.shape[0])
            if exclude_self:  # the queries are the training rows themselves
                scores.data[scores.indices == np.repeat(rows + start, np.diff(scores.indptr))] = 0
            chunk_index, chunk_similarity = top_per_row(scores, self.neighbours)
            index[start + rows], similarity[start + rows] = chunk_index, chunk_similarity
        return index, similarity

    def _evidence(self, queries: sp.csr_matrix, exclude_self: bool) -> dict[str, np.ndarray]:
        index, similarity = self._top(queries, exclude_self)
        weights = similarity[:, :, None]  # padding rows (index -1) have similarity 0 and so weigh nothing
        labelled = self.labels_[np.maximum(index, 0)]  # (texts, K, outputs)
        return {
            "share": (weights * labelled).sum(axis=1) / (similarity.sum(axis=1)[:, None] + _SHARE_PRIOR),
            "closest_with": (weights * labelled).max(axis=1),
            "closest_without": (weights * (1 - labelled)).max(axis=1),
            "nearest": similarity.max(axis=1),
        }

    @staticmethod
    def _features(base: np.ndarray, evidence: dict[str, np.ndarray], k: int) -> np.ndarray:
        gate = base.shape[1] - 1
        columns = [clipped_logit(base[:, k])]
        columns += [evidence[name][:, k] for name in ("share", "closest_with", "closest_without")]
        columns += [evidence["nearest"], clipped_logit(base[:, gate])]
        columns += [evidence[name][:, gate] for name in ("share", "closest_with", "closest_without")]
        return np.column_stack(columns)

    def __getstate__(self):
        state = self.__dict__.copy()
        for derived in _DERIVED:
            state.pop(derived, None)  # rebuilt from the fitted state on first use
        return state
