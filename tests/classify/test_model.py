"""classify: the shipped skops artifact, predictions, evidence, and refusal of untrusted artifacts."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline.classify.model import (
    ThemeClassifier,
    _load_cached,
    article_text,
    classify_stream,
    current_version,
    linear_outputs,
    rounded,
)
from pipeline.classify.themes import theme_ids
from pipeline.core.config import REPO_ROOT
from pipeline.core.errors import ModelError

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


def test_evidence_terms_come_from_the_text_lexicon_first(classifier):
    text = article_text("Kyiv and Moscow agree a 30-day ceasefire on energy infrastructure",
                        "Both sides said strikes on power plants would pause while talks continue.")
    [prediction] = classifier.predict([text])
    assert "ceasefire" in prediction.labels
    terms = prediction.evidence["ceasefire"]
    analysis = classifier.lexicon.analyse(text)
    lexicon_terms = analysis.themes[classifier.themes.index("ceasefire")].terms
    assert lexicon_terms and terms[:len(lexicon_terms)] == list(lexicon_terms[:4])
    assert len(terms) > len(lexicon_terms)  # then the model's own strongest words
    assert all(all(word in text.lower().replace("-", " ") for word in term.split()) for term in terms)
    assert set(prediction.evidence) == set(prediction.labels)


def test_manual_prediction_path_equals_the_sklearn_pipeline(classifier):
    texts = [article_text("EU agrees new sanctions on Russian oil", "The price cap is lowered."),
             article_text("Cup final", "The holders won on penalties.")]
    mine = np.array([[p.scores[t] for t in classifier.themes] for p in classifier.predict(texts)])
    outputs = classifier.pipeline.predict_proba(texts)  # the themes, then the 'any theme' gate
    assert outputs.shape[1] == len(classifier.themes) + 1
    stack = classifier.stack  # the second stage, fed by scikit-learn's own vectorizer rather than shared tokens
    neighbour_matrix = stack.vectorizer_.transform(texts)
    assert abs(stack.fast_vectorizer.transform(texts) - neighbour_matrix).max() < 1e-12
    outputs = stack.predict_proba(texts, outputs)
    assert np.allclose(mine, outputs[:, :len(classifier.themes)], atol=1e-4)


def test_linear_outputs_equal_scikit_learns_one_estimator_at_a_time(classifier):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    assert classifier._linear_outputs is not None  # the shipped model takes the single-product path
    texts = [article_text("EU agrees new sanctions on Russian oil", "The price cap is lowered."),
             article_text("Cup final", "The holders won on penalties."), "Перемирие на Пасху"]
    features = classifier.pipeline.named_steps["features"].transform(texts)
    assert np.array_equal(classifier._linear_outputs(sp.csr_matrix(features)),
                          classifier._clf.predict_proba(features))
    # Estimators of another shape (here uncalibrated) keep scikit-learn's own predict_proba.
    plain = OneVsRestClassifier(LogisticRegression()).fit(np.eye(4), np.array([[1, 0], [0, 1], [1, 1], [0, 0]]))
    assert linear_outputs(plain) is None


def test_the_gate_withholds_labels_from_text_that_is_not_about_the_war(classifier):
    texts = [article_text("Union and employers begin peace talks to end strike",
                          "Envoys from both sides met for mediation."),
             article_text("US imposes new sanctions on Iran's oil exports", "The Treasury listed tankers and traders."),
             article_text("Envoys open peace talks on ending Russia's war in Ukraine", "Kyiv and Moscow meet.")]
    strike, iran, war = classifier.predict(texts)
    assert strike.labels == iran.labels == [] and war.labels == ["negotiations"]
    # Each theme's own score clears its threshold: the 'any theme' gate is what withholds the label.
    assert strike.scores["negotiations"] >= classifier.card["thresholds"]["negotiations"]
    assert iran.scores["sanctions"] >= classifier.card["thresholds"]["sanctions"]


def test_russian_and_ukrainian_text_goes_through_the_cyrillic_model(classifier):
    texts = [article_text("Евросоюз утвердил новый пакет санкций против России", "Под ограничения попал теневой флот."),
             article_text("Росія вночі атакувала Київ ракетами", "Пошкоджено енергетичну інфраструктуру."),
             article_text("Песков: Москва готова обсуждать перемирие на переговорах в Стамбуле",
                          "В Кремле заявили, что условия прекращения огня согласуют делегации."),
             article_text("Зеленський: Україна не погодиться на виведення військ з Донбасу",
                          "Президент заявив, що питання територій не може бути предметом торгу на переговорах.")]
    sanctioned, strike, truce, land = classifier.predict(texts)
    assert classifier.cyrillic is not None
    assert sanctioned.labels == ["sanctions"] and strike.labels == []
    assert "ceasefire" in truce.labels and "territory" in land.labels
    # Probabilities from the Cyrillic model's own pipeline, not the lexicon's fractions
    expected = classifier.cyrillic.pipeline.predict_proba(texts)[:, :len(classifier.themes)]
    got = np.array([[p.scores[t] for t in classifier.themes] for p in (sanctioned, strike, truce, land)])
    assert np.allclose(got, expected, atol=1e-4)
    # Evidence is quoted in the text's own language (lexicon terms as written, model terms as lemmas)
    assert any("санкц" in term for term in sanctioned.evidence["sanctions"])
    assert all(not term.isascii() for term in truce.evidence["ceasefire"])


def test_cyrillic_text_routing_leaves_english_predictions_unchanged(classifier):
    english = [article_text("Kremlin rejects 30-day ceasefire proposal", "Peskov said a truce needs guarantees."),
               article_text("Manchester City beat Brentford", "Haaland scored twice.")]
    mixed = [english[0], article_text("ЄС ухвалив новий пакет санкцій проти Росії", "Обмеження стосуються банків."),
             english[1]]
    alone, together = classifier.predict(english), classifier.predict(mixed)
    assert [p.scores for p in alone] == [together[0].scores, together[2].scores]
    assert [p.labels for p in alone] == [together[0].labels, together[2].labels]


def test_skops_round_trip_keeps_every_prediction(classifier, tmp_path):
    import skops.io as sio

    version = classifier.version
    shutil.copytree(MODELS / version, tmp_path / version)
    shutil.copy(MODELS / "themes.yaml", tmp_path / "themes.yaml")
    sio.dump(classifier.pipeline, tmp_path / version / "model.skops")
    _load_cached.cache_clear()
    reloaded = ThemeClassifier.load(tmp_path, version)
    assert reloaded is not classifier
    texts = [article_text("Zelensky rejects neutrality", "Kyiv will not give up its NATO bid."),
             article_text("Перемирие на Пасху", "Кремль объявил перемирие с Украиной."), "Cup final tonight"]
    assert reloaded.predict(texts) == classifier.predict(texts)


def test_classify_stream_reports_bad_lines_by_number_and_keeps_order(classifier):
    lines = [b'{"id": 1, "title": "Truce holds in Ukraine"}\n', b"not json\n", b'{"title": "no id"}\n',
             b"\xff\xfe broken bytes\n", b"\n", b'["a list"]\n', b'{"id": 7, "title": 5}\n',
             b'{"id": 8, "title": ""}\n', b'{"id": "a", "text": "EU sanctions on Russian banks"}\n',
             b'{"id": 10, "title": "Cup final"}']
    out, err = io.StringIO(), io.StringIO()
    counts = classify_stream(classifier, lines, out, err, chunk=2)
    assert counts == {"lines": 10, "classified": 3, "bad": 6}
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [1, "a", 10]
    reported = [line.split(":")[1].strip() for line in err.getvalue().splitlines()]
    assert reported == ["line 2", "line 3", "line 4", "line 6", "line 7", "line 8"]


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


def test_a_missing_second_stage_file_is_a_clear_error(tmp_path):
    version = current_version(MODELS)
    shutil.copytree(MODELS / version, tmp_path / version)
    (tmp_path / version / "neighbours.skops").unlink()
    with pytest.raises(ModelError, match="second stage .*missing"):
        ThemeClassifier.load(tmp_path, version)


def test_a_process_that_loaded_a_model_exits_without_duckdb_reporting_leaks(tmp_path):
    # Loading freezes the objects alive then (gc.freeze); left frozen at exit, DuckDB's bindings report them.
    script = ("import duckdb; duckdb.connect().execute('select 1').fetchall()\n"
              "from pipeline.classify.model import ThemeClassifier\n"
              "from pipeline.core.config import REPO_ROOT\n"
              "ThemeClassifier.load(REPO_ROOT / 'models').predict(['Kyiv and Moscow agree a ceasefire'])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr


def test_scores_round_as_python_rounds_even_beside_half_way_points():
    steps = (np.arange(10_000) + 0.5) / 10_000  # every half-way point between two 4-decimal scores
    values = np.concatenate([np.nextafter(steps, 0), steps, np.nextafter(steps, 1),
                             np.random.default_rng(4).random(100_000)]).reshape(-1, 10)
    assert rounded(values, 4).tolist() == [[round(v, 4) for v in row] for row in values.tolist()]
