"""Train the theme classifier from the labelled examples in models/training and save it with skops."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from pipeline.classify import CARD_FILE, CURRENT_FILE, MODEL_FILE, ThemeClassifier, article_text
from pipeline.evaluate import evaluate_records, read_gold
from pipeline.themes import theme_ids

DEFAULT_PARAMS = {"ngram_range": [1, 2], "min_df": 1, "C": 8.0, "threshold": 0.5}


def build_pipeline(params: dict, seed: int) -> Pipeline:
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(
                ngram_range=tuple(params["ngram_range"]), min_df=params["min_df"], sublinear_tf=True,
                strip_accents="unicode", lowercase=True, dtype=np.float64,
            )),
            ("clf", OneVsRestClassifier(
                LogisticRegression(C=params["C"], class_weight="balanced", max_iter=5000, random_state=seed)
            )),
        ]
    )


def label_matrix(records: list[dict], themes: list[str]) -> np.ndarray:
    return np.array([[int(t in r["labels"]) for t in themes] for r in records])


def data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def train_model(models_dir: Path, seed: int = 13, params: dict | None = None, shared_gold: Path | None = None):
    """Fit on models/training/train.jsonl, measure on dev.jsonl (and an optional outside gold set), save.

    Returns the new version string. Same data, params and seed give the same version and weights.
    """
    params = {**DEFAULT_PARAMS, **(params or {})}
    models_dir = Path(models_dir)
    train_path, dev_path = models_dir / "training" / "train.jsonl", models_dir / "training" / "dev.jsonl"
    themes = theme_ids(models_dir)
    train = read_gold(train_path)
    unknown = {label for r in train for label in r["labels"]} - set(themes)
    if unknown:
        raise ValueError(f"train: unknown theme ids in {train_path}: {sorted(unknown)}")
    pipeline = build_pipeline(params, seed)
    pipeline.fit([article_text(r["title"], r.get("summary", "")) for r in train], label_matrix(train, themes))

    fingerprint = data_hash([train_path]) + json.dumps(params, sort_keys=True) + str(seed)
    version = "tfidf-lr-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    card = {
        "model_version": version,
        "themes": themes,
        "thresholds": {t: params["threshold"] for t in themes},
        "params": params,
        "seed": seed,
        "training_data": {"path": "training/train.jsonl", "sha256": data_hash([train_path]), "examples": len(train)},
        "library_versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                             "numpy": np.__version__},
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": {},
    }
    classifier = ThemeClassifier(pipeline, card)
    if dev_path.exists():
        card["metrics"]["dev_split"] = evaluate_records(classifier, read_gold(dev_path))
    if shared_gold and Path(shared_gold).exists():
        card["metrics"]["shared_dev"] = evaluate_records(classifier, read_gold(shared_gold))
    save_model(pipeline, card, models_dir)
    return version


def save_model(pipeline: Pipeline, card: dict, models_dir: Path) -> Path:
    import skops.io as sio

    directory = Path(models_dir) / card["model_version"]
    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, directory / MODEL_FILE)
    (directory / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (Path(models_dir) / CURRENT_FILE).write_text(card["model_version"] + "\n", encoding="utf-8")
    return directory
