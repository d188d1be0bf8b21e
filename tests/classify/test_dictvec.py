"""fastpath.dictvec: the event coder's dict vectorizing equals scikit-learn's DictVectorizer.transform."""

from __future__ import annotations

import json

import numpy as np
from sklearn.feature_extraction import DictVectorizer

from pipeline.classify.events import candidate_features, load_gazetteer, read_text
from pipeline.classify.fastpath.dictvec import transform_numeric
from pipeline.classify.model import article_text
from pipeline.core.config import REPO_ROOT


def test_equals_dict_vectorizer_on_the_coders_own_features_unseen_keys_and_zeros_included():
    gazetteer = load_gazetteer(REPO_ROOT / "models")
    records = [json.loads(line) for line in
               (REPO_ROOT / "models" / "training" / "events_dev.jsonl").read_text().splitlines()[:300]]
    rows = []
    for r in records:
        reading = read_text(article_text(r["title"], r["summary"]), gazetteer)
        rows += [candidate_features(reading, actor, theme)
                 for theme in r["labels"] for actor in reading.order + ["other"]]
    fitted = DictVectorizer().fit(rows[: len(rows) // 2])  # the second half holds keys it never saw
    rows += [{}, {"in_head": 0.0, "never-seen": 1.0}, {"a=russia": 2.5}]
    ours = transform_numeric(fitted.vocabulary_, len(fitted.vocabulary_), rows)
    theirs = fitted.transform(rows)
    assert ours.shape == theirs.shape
    assert np.array_equal(ours.toarray(), theirs.toarray())
    assert ours.dtype == theirs.dtype
