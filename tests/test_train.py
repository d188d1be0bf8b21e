"""train: reproducible from data and seed; the card records data, params, versions and metrics."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pipeline.classify import ThemeClassifier, _load_cached, current_version
from pipeline.config import REPO_ROOT
from pipeline.train import train_model


@pytest.fixture
def models_copy(tmp_path):
    shutil.copy(REPO_ROOT / "models" / "themes.yaml", tmp_path / "themes.yaml")
    shutil.copytree(REPO_ROOT / "models" / "training", tmp_path / "training")
    return tmp_path


def test_same_data_and_seed_give_the_same_model(models_copy):
    first = train_model(models_copy, seed=7)
    weights = ThemeClassifier.load(models_copy, first)._coef.copy()
    card = json.loads((models_copy / first / "model_card.json").read_text())
    shutil.rmtree(models_copy / first)
    second = train_model(models_copy, seed=7)
    assert first == second == current_version(models_copy)
    again = json.loads((models_copy / second / "model_card.json").read_text())
    assert again["metrics"] == card["metrics"]
    _load_cached.cache_clear()  # the loader caches by (path, version)
    assert np.array_equal(ThemeClassifier.load(models_copy, second)._coef, weights)


def test_model_card_records_what_a_reader_needs(models_copy):
    version = train_model(models_copy, seed=7)
    card = json.loads((models_copy / version / "model_card.json").read_text())
    assert card["training_data"]["sha256"] and card["training_data"]["examples"] > 0
    assert card["library_versions"]["scikit-learn"].startswith("1.9")
    assert set(card["metrics"]["dev_split"]["per_theme"]) == set(card["themes"])


def test_unknown_theme_in_training_data_is_refused(models_copy):
    with (models_copy / "training" / "train.jsonl").open("a") as f:
        f.write(json.dumps({"id": "x", "title": "t", "summary": "s", "labels": ["weather"]}) + "\n")
    with pytest.raises(ValueError, match="unknown theme ids"):
        train_model(models_copy)
