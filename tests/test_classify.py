"""classify: the shipped skops artifact, predictions, evidence, and refusal of untrusted artifacts."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.classify import ThemeClassifier, article_text, current_version
from pipeline.config import REPO_ROOT
from pipeline.errors import ModelError
from pipeline.themes import theme_ids

MODELS = REPO_ROOT / "models"


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier.load(MODELS)


def test_shipped_model_loads_and_covers_every_theme(classifier):
    assert classifier.version == current_version(MODELS)
    assert classifier.themes == theme_ids(MODELS)
    card = json.loads((MODELS / classifier.version / "model_card.json").read_text())
    assert card["training_data"]["examples"] >= 500 and set(card["thresholds"]) == set(classifier.themes)


def test_prediction_shape_scores_and_labels_agree(classifier):
    text = article_text("EU agrees new sanctions on Russian oil",
                        "The package lowers the price cap and targets shadow fleet tankers.")
    [prediction] = classifier.predict([text])
    assert set(prediction.scores) == set(classifier.themes)
    assert all(0.0 <= s <= 1.0 for s in prediction.scores.values())
    assert "sanctions" in prediction.labels
    for theme in prediction.labels:
        assert prediction.scores[theme] >= classifier.card["thresholds"][theme]


def test_evidence_terms_come_from_the_text(classifier):
    text = article_text("Kyiv and Moscow agree a 30-day ceasefire on energy infrastructure",
                        "Both sides said strikes on power plants would pause while talks continue.")
    [prediction] = classifier.predict([text])
    assert "ceasefire" in prediction.labels
    terms = prediction.evidence["ceasefire"]
    assert terms and all(all(word in text.lower() for word in term.split()) for term in terms)


def test_off_topic_text_gets_no_theme(classifier):
    [prediction] = classifier.predict([article_text("Striker scores twice as league leaders win again",
                                                    "The home side extended their lead at the top of the table.")])
    assert prediction.labels == [] and prediction.evidence == {}


def test_empty_input_gives_no_predictions(classifier):
    assert classifier.predict([]) == []


def test_artifact_with_unexpected_types_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    version = current_version(MODELS)
    shutil.copytree(MODELS / version, tmp_path / "evil")
    sio.dump(Pipeline([("f", FunctionTransformer(func=print))]), tmp_path / "evil" / "model.skops")
    with pytest.raises(ModelError, match="unexpected types"):
        ThemeClassifier.load(tmp_path, "evil")


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="newsmon train"):
        ThemeClassifier.load(tmp_path)
