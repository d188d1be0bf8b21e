"""Classify articles against the themes: probabilities, labels by per-theme threshold, and evidence terms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError

MODEL_FILE = "model.skops"
CARD_FILE = "model_card.json"
CURRENT_FILE = "CURRENT"
EVIDENCE_TERMS = 4

# Types a newsmon artifact may contain beyond skops' defaults; anything else is refused at load time.
TRUSTED_TYPES = frozenset(
    {
        "builtins.slice",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "scipy.sparse._csr.csr_matrix",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.preprocessing._label.MultiLabelBinarizer",
    }
)


@dataclass
class Prediction:
    labels: list[str]
    scores: dict[str, float]
    evidence: dict[str, list[str]]


def article_text(title: str, summary: str) -> str:
    return f"{title or ''}. {summary or ''}".strip()


def current_version(models_dir: Path) -> str:
    path = Path(models_dir) / CURRENT_FILE
    if not path.exists():
        raise ModelError(f"classify: no {CURRENT_FILE} in {models_dir}; run `newsmon train` first")
    return path.read_text(encoding="utf-8").strip()


def read_card(models_dir: Path, version: str) -> dict:
    """The model card alone: cheap, for callers that only record which model was used."""
    path = Path(models_dir) / version / CARD_FILE
    if not path.exists():
        raise ModelError(f"classify: model {version!r} not found under {models_dir}")
    return json.loads(path.read_text(encoding="utf-8"))


class ThemeClassifier:
    """A trained scikit-learn pipeline plus the thresholds and theme order from its model card."""

    def __init__(self, pipeline, card: dict):
        self.pipeline = pipeline
        self.card = card
        self.version: str = card["model_version"]
        self.themes: list[str] = list(card["themes"])
        self.thresholds = np.array([card["thresholds"][t] for t in self.themes])
        vectorizer = pipeline.named_steps["tfidf"]
        self._vocabulary = np.array(vectorizer.get_feature_names_out())
        self._coef = np.vstack([est.coef_[0] for est in pipeline.named_steps["clf"].estimators_])

    @classmethod
    def load(cls, models_dir: Path, version: str | None = None) -> ThemeClassifier:
        return _load_cached(str(Path(models_dir).resolve()), version or current_version(models_dir))

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        features = self.pipeline.named_steps["tfidf"].transform(texts)
        probabilities = self.pipeline.named_steps["clf"].predict_proba(features)
        labelled = probabilities >= self.thresholds
        return [
            Prediction(
                labels=[t for t, on in zip(self.themes, labelled[i], strict=True) if on],
                scores={t: round(float(p), 4) for t, p in zip(self.themes, probabilities[i], strict=True)},
                evidence=self._evidence(features, i, labelled[i]),
            )
            for i in range(len(texts))
        ]

    def _evidence(self, features, i: int, labelled_row) -> dict[str, list[str]]:
        """Per labelled theme: the terms of text i that pushed its score up most (tf-idf x weight)."""
        evidence: dict[str, list[str]] = {}
        if not labelled_row.any():
            return evidence
        start, end = features.indptr[i], features.indptr[i + 1]  # CSR row slice: no per-row matrix copy
        indices, values = features.indices[start:end], features.data[start:end]
        for k, theme in enumerate(self.themes):
            if not labelled_row[k]:
                continue
            contributions = values * self._coef[k, indices]
            order = np.argsort(-contributions)[:EVIDENCE_TERMS]
            evidence[theme] = [str(self._vocabulary[indices[j]]) for j in order if contributions[j] > 0]
        return evidence


@lru_cache(maxsize=4)
def _load_cached(models_dir: str, version: str) -> ThemeClassifier:
    import skops.io as sio

    card = read_card(Path(models_dir), version)
    model_path = Path(models_dir) / version / MODEL_FILE
    if not model_path.exists():
        raise ModelError(f"classify: model {version!r} has no {MODEL_FILE} under {models_dir}")
    untrusted = set(sio.get_untrusted_types(file=model_path))
    unexpected = untrusted - TRUSTED_TYPES
    if unexpected:
        raise ModelError(f"classify: refusing {model_path}: unexpected types {sorted(unexpected)}")
    pipeline = sio.load(model_path, trusted=sorted(untrusted))
    return ThemeClassifier(pipeline, card)
