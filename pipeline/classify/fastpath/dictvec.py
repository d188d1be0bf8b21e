"""Feature dicts -> a sparse matrix in the columns of a fitted DictVectorizer, for the event coder's hot loop.

scikit-learn's DictVectorizer.transform checks the type of every value of every row (it accepts strings and
iterables too); the event coder's features are numbers only, so their columns are a dict lookup per key. The
matrix equals DictVectorizer.transform's (tests/classify/test_dictvec.py) for rows of numeric values.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def transform_numeric(vocabulary: dict[str, int], n_features: int, rows: list[dict[str, float]],
                      dtype=np.float64) -> sp.csr_matrix:
    """The CSR matrix DictVectorizer(sparse=True).transform(rows) gives, for rows of numeric values; features
    the vectorizer never saw are dropped as it drops them."""
    indices: list[int] = []
    values: list[float] = []
    indptr = [0]
    get = vocabulary.get
    for row in rows:
        for key, value in row.items():
            column = get(key)
            if column is not None:
                indices.append(column)
                values.append(value)
        indptr.append(len(indices))
    matrix = sp.csr_matrix((np.asarray(values, dtype=dtype), np.asarray(indices, dtype=np.int32),
                            np.asarray(indptr, dtype=np.int32)), shape=(len(rows), n_features))
    matrix.sort_indices()
    return matrix
