"""train: reproducible from data and seed; thresholds by cross-validation; the card holds what a reader needs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pipeline.classify.evaluate import read_gold
from pipeline.classify.model import ThemeClassifier, _load_cached, current_version
from pipeline.classify.train import choose_threshold, train_model
from pipeline.core.config import REPO_ROOT

SMALL = {"threshold_folds": 3, "calibration_folds": 3}  # a small, fast run of the shipped design


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def small_models(tmp_path):
    """themes.yaml plus a small slice of the training data: 12 positives per theme, 60 items without one."""
    shutil.copy(REPO_ROOT / "models" / "themes.yaml", tmp_path / "themes.yaml")
    train = read_gold(REPO_ROOT / "models" / "training" / "train.jsonl")
    chosen: dict[str, dict] = {}
    for theme in ("sanctions", "ceasefire", "security_guarantees", "negotiations", "military_aid", "territory",
                  "neutrality_nato"):
        for record in [r for r in train if theme in r["labels"]][:12]:
            chosen[record["id"]] = record
    for record in [r for r in train if not r["labels"]][:60]:
        chosen[record["id"]] = record
    (tmp_path / "training").mkdir()
    write_jsonl(tmp_path / "training" / "train.jsonl", sorted(chosen.values(), key=lambda r: r["id"]))
    write_jsonl(tmp_path / "training" / "dev.jsonl",
                read_gold(REPO_ROOT / "models" / "training" / "dev.jsonl")[:60])
    return tmp_path


THEMES = ("sanctions", "ceasefire", "security_guarantees", "negotiations", "military_aid", "territory",
          "neutrality_nato")


@pytest.fixture
def small_models_cyrillic(small_models):
    """small_models plus small Russian and Ukrainian slices: 8 positives per theme and 30 without one each."""
    for language in ("ru", "uk"):
        train = read_gold(REPO_ROOT / "models" / "training" / f"train_{language}.jsonl")
        chosen = {r["id"]: r for theme in THEMES for r in [r for r in train if theme in r["labels"]][:8]}
        chosen |= {r["id"]: r for r in [r for r in train if not r["labels"]][:30]}
        write_jsonl(small_models / "training" / f"train_{language}.jsonl",
                    sorted(chosen.values(), key=lambda r: r["id"]))
        write_jsonl(small_models / "training" / f"dev_{language}.jsonl",
                    read_gold(REPO_ROOT / "models" / "training" / f"dev_{language}.jsonl")[:40])
    return small_models


def test_same_data_and_seed_give_the_same_model(small_models):
    first = train_model(small_models, seed=7, params=SMALL)
    weights = ThemeClassifier.load(small_models, first)._coef.copy()
    second_stage = [c.coef_.copy() for c in ThemeClassifier.load(small_models, first).stack.combiners_]
    card = json.loads((small_models / first / "model_card.json").read_text())
    shutil.rmtree(small_models / first)
    _load_cached.cache_clear()  # the loader caches by (path, version)
    second = train_model(small_models, seed=7, params=SMALL)
    assert first == second == current_version(small_models)
    again = json.loads((small_models / second / "model_card.json").read_text())
    assert again["metrics"] == card["metrics"] and again["thresholds"] == card["thresholds"]
    assert np.array_equal(ThemeClassifier.load(small_models, second)._coef, weights)
    stack = ThemeClassifier.load(small_models, second).stack
    assert all(np.array_equal(c.coef_, w) for c, w in zip(stack.combiners_, second_stage, strict=True))
    assert {type(column) for column in stack.vectorizer_.vocabulary_.values()} == {int}
    # Vocabularies are saved as plain ints and one string array: skops writes a NumPy scalar per term otherwise.
    features = ThemeClassifier.load(small_models, second).pipeline.named_steps["features"].named_transformers
    assert {type(column) for column in features["words"].vocabulary_.values()} == {int}
    assert "vocabulary_" not in vars(features["chars"]) and features["chars"].ngrams_.dtype.kind == "U"
    other_seed = train_model(small_models, seed=8, params=SMALL, make_current=False)
    assert other_seed != first and current_version(small_models) == first


def test_model_card_records_what_a_reader_needs(small_models):
    shared = small_models / "outside.jsonl"
    shutil.copy(small_models / "training" / "dev.jsonl", shared)
    version = train_model(small_models, seed=7, params=SMALL, shared_gold=shared)
    card = json.loads((small_models / version / "model_card.json").read_text())
    train_lines = (small_models / "training" / "train.jsonl").read_text().splitlines()
    assert card["training_data"]["examples"] == len(train_lines) and len(card["training_data"]["sha256"]) == 64
    assert card["lexicon"]["sha256"] and card["params"]["threshold_folds"] == 3 and card["seed"] == 7
    assert card["library_versions"]["scikit-learn"].startswith("1.9") and card["trained_at"]
    assert set(card["thresholds"]) == set(card["themes"]) and "cross-validation" in card["threshold_rule"]
    for split in ("dev_split", "shared_dev"):
        assert set(card["metrics"][split]["per_theme"]) == set(card["themes"])
        assert set(card["baseline_lexicon"][split]["per_theme"]) == set(card["themes"])
        assert "off_topic_false_positive_rate" in card["metrics"][split]
    assert card["metrics"]["cross_validation"]["items"] == len(train_lines)
    assert card["second_stage"]["file"] == "neighbours.skops" and (small_models / version / "neighbours.skops").exists()


def test_russian_and_ukrainian_data_train_a_cyrillic_model_with_figures_per_language(small_models_cyrillic):
    models = small_models_cyrillic
    version = train_model(models, seed=7, params=SMALL, cyrillic_overrides=SMALL)
    card = json.loads((models / version / "model_card.json").read_text())
    cyrillic = card["cyrillic"]
    assert cyrillic["file"] == "model_cyrillic.skops" and (models / version / "model_cyrillic.skops").exists()
    assert set(cyrillic["thresholds"]) == set(card["themes"]) and 0 <= cyrillic["gate"]["threshold"] <= 1
    assert {lang: x["examples"] for lang, x in cyrillic["training_data"]["languages"].items()} == {
        lang: len((models / "training" / f"train_{lang}.jsonl").read_text().splitlines()) for lang in ("ru", "uk")}
    for split in ("dev_ru", "dev_uk"):
        assert card["metrics"][split]["items"] == 40 and set(card["metrics"][split]["per_theme"]) == set(card["themes"])
        assert card["baseline_lexicon"][split]["items"] == 40
    _load_cached.cache_clear()
    classifier = ThemeClassifier.load(models, version)
    russian_text = "Евросоюз утвердил новый пакет санкций против России. Под ограничения попали танкеры."
    [russian, english] = classifier.predict([russian_text, "EU agrees new sanctions on Russian oil"])
    expected = classifier.cyrillic.pipeline.predict_proba([russian_text])[0, 0]
    assert russian.scores["sanctions"] == round(float(expected), 4)
    assert english.scores == classifier.predict(["EU agrees new sanctions on Russian oil"])[0].scores
    # The Cyrillic data and parameters are part of the version: other Russian data, another model.
    with (models / "training" / "train_ru.jsonl").open("a", encoding="utf-8") as f:
        extra = {"id": "extra", "title": "Песков: перемирия не будет", "summary": "", "labels": ["ceasefire"]}
        f.write(json.dumps(extra, ensure_ascii=False) + "\n")
    assert train_model(models, seed=7, params=SMALL, cyrillic_overrides=SMALL, make_current=False) != version


def test_a_one_stage_model_still_trains_loads_and_classifies(small_models):
    # Models trained before the second stage existed have none; `neighbours: 0` trains one like them.
    version = train_model(small_models, seed=7, params={**SMALL, "neighbours": 0})
    card = json.loads((small_models / version / "model_card.json").read_text())
    assert card["second_stage"] is None and not (small_models / version / "neighbours.skops").exists()
    classifier = ThemeClassifier.load(small_models, version)
    assert classifier.stack is None
    [prediction] = classifier.predict(["EU agrees new sanctions on Russian oil and a lower price cap"])
    assert set(prediction.scores) == set(card["themes"])


def test_threshold_is_chosen_on_the_out_of_fold_scores():
    truth = np.array([True] * 6 + [False] * 6)
    probability = np.array([0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05])
    threshold, f_score = choose_threshold(truth, probability, {"threshold_grid": [0.1, 0.9], "threshold_beta": 1.0})
    assert 0.3 < threshold <= 0.7 and f_score == 1.0
    noisy = probability.copy()
    noisy[6] = 0.72  # one negative scored above a positive: the best cut moves above it
    assert choose_threshold(truth, noisy, {"threshold_grid": [0.1, 0.9], "threshold_beta": 0.5})[0] > 0.7


def test_unknown_theme_in_training_data_is_refused(small_models):
    with (small_models / "training" / "train.jsonl").open("a") as f:
        f.write(json.dumps({"id": "x", "title": "t", "summary": "s", "labels": ["weather"]}) + "\n")
    with pytest.raises(ValueError, match="unknown theme ids"):
        train_model(small_models, params=SMALL)


def test_too_few_examples_for_cross_validation_is_a_clear_error(small_models):
    records = read_gold(small_models / "training" / "train.jsonl")
    write_jsonl(small_models / "training" / "train.jsonl", [r for r in records if "territory" not in r["labels"]])
    with pytest.raises(ValueError, match="too few .*territory"):
        train_model(small_models, params=SMALL)
