"""fastpath.dictvec: the event coder's dict vectorizing equals scikit-learn's DictVectorizer.transform."""

from __future__ import annotations

import json

import numpy as np
from sklearn.feature_extraction import DictVectorizer

from pipeline.classify.events import candidate_features, load_gazetteer, read_text
from pipeline.classify.fastpath.dictvec import SharedRows
from pipeline.classify.model import article_text
from pipeline.core.config import REPO_ROOT


def test_shared_rows_equal_each_dict_vectorizer_on_the_coders_own_features_unseen_keys_and_zeros_included():
    gazetteer = load_gazetteer(REPO_ROOT / "models")
    records = [json.loads(line) for line in
               (REPO_ROOT / "models" / "training" / "events_dev.jsonl").read_text().splitlines()[:300]]
    rows = []
    for r in records:
        reading = read_text(article_text(r["title"], r["summary"]), gazetteer)
        rows += [candidate_features(reading, actor, theme)
                 for theme in r["labels"] for actor in reading.order + ["other"]]
    # Two vectorizers with different vocabularies, as the pair and action models have; each misses keys.
    first = DictVectorizer().fit(rows[: len(rows) // 2])
    second = DictVectorizer().fit(rows[len(rows) // 3:])
    rows += [{}, {"in_head": 0.0, "never-seen": 1.0}, {"a=russia": 2.5}]
    matrices = SharedRows([first.vocabulary_, second.vocabulary_]).transform(rows)
    for ours, fitted in zip(matrices, (first, second), strict=True):
        theirs = fitted.transform(rows)
        assert ours.shape == theirs.shape
        assert np.array_equal(ours.toarray(), theirs.toarray())
        assert ours.dtype == theirs.dtype
        assert ours.has_sorted_indices
