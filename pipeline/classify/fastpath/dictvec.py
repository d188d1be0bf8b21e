"""Feature dicts -> sparse matrices in the columns of fitted DictVectorizers, for the event coder's hot loop.

scikit-learn's DictVectorizer.transform checks the type of every value of every row (it accepts strings and
iterables too); the event coder's features are numbers only, so their columns are a dict lookup per key, and
its two models read the same rows, so one lookup serves both. The matrices equal DictVectorizer.transform's
(tests/classify/test_dictvec.py) for rows of numeric values.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class SharedRows:
    """Several fitted DictVectorizers reading the same numeric rows (the event coder's pair and action models):
    each key is looked up once, in the union of their vocabularies, and each matrix is cut from that with array
    operations. Each matrix equals its vectorizer's transform (tests/classify/test_dictvec.py)."""

    def __init__(self, vocabularies: list[dict[str, int]]):
        union: dict[str, int] = {}
        for vocabulary in vocabularies:
            for key in vocabulary:
                union.setdefault(key, len(union))
        self._union = union
        self._widths = [len(v) for v in vocabularies]
        self._columns = []  # per vectorizer: union index -> its column, -1 where it has none
        for vocabulary in vocabularies:
            columns = np.full(len(union), -1, dtype=np.int32)
            for key, column in vocabulary.items():
                columns[union[key]] = column
            self._columns.append(columns)

    def transform(self, rows: list[dict[str, float]], dtype=np.float64) -> list[sp.csr_matrix]:
        get = self._union.get
        keys = [get(key, -1) for row in rows for key in row]
        values = np.fromiter((value for row in rows for value in row.values()), dtype=dtype, count=len(keys))
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        joint = np.asarray(keys, dtype=np.int64)
        row_of = np.repeat(np.arange(len(rows)), lengths)
        known = joint >= 0
        joint, values, row_of = joint[known], values[known], row_of[known]
        matrices = []
        for columns, width in zip(self._columns, self._widths, strict=True):
            column = columns[joint]
            kept = column >= 0
            indptr = np.zeros(len(rows) + 1, dtype=np.int32)
            np.cumsum(np.bincount(row_of[kept], minlength=len(rows)), out=indptr[1:])
            matrix = sp.csr_matrix((values[kept], column[kept], indptr), shape=(len(rows), width))
            matrix.sort_indices()
            matrices.append(matrix)
        return matrices
