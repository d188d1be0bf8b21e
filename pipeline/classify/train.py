"""Train the theme classifier from models/training/train.jsonl and save it with skops plus a model card.

Design (see models/README.md):
- features: word 1-2-gram TF-IDF, character 3-5-grams inside words (pipeline.classify.fastpath.charngrams), and
  the lexicon's evidence per theme (score, anchored, veto, fires) plus whether the text names the war or
  another conflict;
- one logistic regression per theme and one for "any theme" (the gate), calibrated with
  CalibratedClassifierCV (sigmoid, out-of-fold decision values, one final estimator so evidence can read
  its weights);
- a second stage (pipeline.classify.neighbours): per output, a small logistic regression over the base probabilities and
  what the most similar training examples were labelled; it learns from the base model's out-of-fold
  probabilities, so the base model's cross-validation below serves both stages;
- thresholds: out-of-fold probabilities from a K-fold cross-validation of the whole pipeline (then of the
  second stage) on the training split; per theme the threshold that maximises F-beta (smoothed over
  neighbouring thresholds), then the strictest gate threshold within `gate_tolerance` of the best macro-F1;
- measured on the development split and, if given, on an outside gold set (never trained or tuned on),
  next to the lexicon alone on the same items.
Same data, lexicon, parameters, seed and library versions give the same version id, weights and metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
import sklearn
import skops
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.classify.evaluate import evaluate_events, evaluate_lexicon, evaluate_records, read_gold, score_labels
from pipeline.classify.events import ACTORS_FILE, EventCoder, load_gazetteer
from pipeline.classify.fastpath.charngrams import CharNgramTfidf
from pipeline.classify.fastpath.wordngrams import compact_for_saving
from pipeline.classify.lemmas import lemmatize_text
from pipeline.classify.lexicon import LexiconFeatures
from pipeline.classify.model import (
    CARD_FILE,
    CURRENT_FILE,
    CYRILLIC_FILE,
    EVENTS_FILE,
    MODEL_FILE,
    NEIGHBOURS_FILE,
    ThemeClassifier,
    cyrillic_card,
    record_text,
)
from pipeline.classify.neighbours import NeighbourStack
from pipeline.classify.themes import THEMES_FILE, lexicon_spec, load_taxonomy
from pipeline.classify.train_events import DEFAULT_EVENT_PARAMS, train_event_coder
from pipeline.core.progress import Progress, silent

log = logging.getLogger("newsmon.train")

MODEL_FAMILY = "lexlr"
DEFAULT_PARAMS = {
    "word_ngrams": [1, 2],
    "char_ngrams": [3, 5],
    "max_char_features": 20000,
    "min_df": 2,
    "max_word_features": 40000,
    "lexicon_weight": 0.1,
    "lexicon_features": ["score", "anchored", "veto", "fires"],
    "C": 8.0,
    "calibration_folds": 5,
    "threshold_folds": 5,
    "threshold_beta": 1.0,
    "threshold_grid": [0.1, 0.9],
    "gate_grid": [0.0, 0.8],
    "gate_tolerance": 0.005,
    "neighbours": 20,  # 0: no second stage
    "neighbour_C": 1.0,
    "neighbour_min_df": 2,
    "neighbour_max_df": 0.03,
    "neighbour_floor": 0.02,
}
# The Cyrillic model: the same design, its words in dictionary form, no second stage (its training split is a
# fifth of the English one: too few neighbours to learn from), and a gate allowed a point of cross-validated F1
# for fewer false alarms (its general news is thinner than the English split's, so weighs less by itself).
CYRILLIC_PARAMS = {**DEFAULT_PARAMS, "lemmas": True, "neighbours": 0, "max_word_features": 30000,
                   "gate_tolerance": 0.01}
TRAIN_FILE, DEV_FILE = "train.jsonl", "dev.jsonl"
CYRILLIC_LANGUAGES = ("ru", "uk")  # training/train_<language>.jsonl and dev_<language>.jsonl
EVENTS_TRAIN_FILE, EVENTS_DEV_FILE = "events_train.jsonl", "events_dev.jsonl"


def build_pipeline(spec: dict, params: dict, seed: int) -> Pipeline:
    """The whole model as one scikit-learn Pipeline (words must stay the first feature block: see classify)."""
    blocks = [("words", TfidfVectorizer(
        ngram_range=tuple(params["word_ngrams"]), min_df=params["min_df"], max_features=params["max_word_features"],
        sublinear_tf=True, strip_accents="unicode", lowercase=True, dtype=np.float64,
        preprocessor=lemmatize_text if params.get("lemmas") else None,  # lemmas: lower-cased by the preprocessor
    ))]
    if params["char_ngrams"]:
        blocks.append(("chars", CharNgramTfidf(ngram_range=tuple(params["char_ngrams"]), min_df=params["min_df"],
                                               max_features=params["max_char_features"])))
    blocks.append(("lexicon", LexiconFeatures(spec, kinds=tuple(params["lexicon_features"]))))
    features = FeatureUnion(blocks, transformer_weights={"lexicon": params["lexicon_weight"]})
    calibrated = CalibratedClassifierCV(
        LogisticRegression(C=params["C"], class_weight="balanced", solver="liblinear", max_iter=5000,
                           random_state=seed),
        method="sigmoid", cv=params["calibration_folds"], ensemble=False,
    )
    return Pipeline([("features", features), ("clf", OneVsRestClassifier(calibrated))])


def fit_pipeline(texts: list[str], labels: np.ndarray, spec: dict, params: dict, seed: int) -> Pipeline:
    """The final model on the whole training split, its word vocabularies compacted for saving."""
    pipeline = build_pipeline(spec, params, seed)
    pipeline.fit(texts, with_gate_column(labels))
    for _, block in pipeline.named_steps["features"].transformer_list:
        if isinstance(block, TfidfVectorizer):
            compact_for_saving(block)
    return pipeline


def label_matrix(records: list[dict], themes: list[str]) -> np.ndarray:
    return np.array([[int(t in r["labels"]) for t in themes] for r in records])


def with_gate_column(labels: np.ndarray) -> np.ndarray:
    """The themes plus one last column, 'any theme': the gate learns war diplomacy against everything else
    from all examples at once, where each theme's classifier sees only its own positives."""
    return np.hstack([labels, (labels.sum(axis=1) > 0).astype(labels.dtype)[:, None]])


def texts_of(records: list[dict]) -> list[str]:
    return [record_text(r) for r in records]


def data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def choose_threshold(truth: np.ndarray, probability: np.ndarray, params: dict) -> tuple[float, float]:
    """The grid threshold with the best F-beta on out-of-fold probabilities, smoothed over +-0.02 so one
    lucky item cannot pick it; ties go to the higher threshold (fewer false alarms on general news)."""
    low, high = params["threshold_grid"]
    grid = np.round(np.arange(low, high + 1e-9, 0.01), 2)
    beta2 = params["threshold_beta"] ** 2
    scores = []
    for threshold in grid:
        guess = probability >= threshold
        tp = float((guess & truth).sum())
        fp = float((guess & ~truth).sum())
        fn = float((~guess & truth).sum())
        denominator = (1 + beta2) * tp + beta2 * fn + fp
        scores.append((1 + beta2) * tp / denominator if denominator else 0.0)
    smoothed = np.convolve(np.pad(scores, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    best = len(grid) - 1 - int(np.argmax(smoothed[::-1]))
    return float(grid[best]), float(scores[best])


def out_of_fold_probabilities(texts, labels: np.ndarray, spec: dict, params: dict, seed: int,
                              folds: KFold) -> np.ndarray:
    """Every output's probability for each training row from a model that never saw that row (vectorizers
    refit per fold); the gate is the last column."""
    return cross_val_predict(build_pipeline(spec, params, seed), texts, with_gate_column(labels), cv=folds,
                             method="predict_proba")


def cross_validated_thresholds(probabilities: np.ndarray, labels: np.ndarray, themes: list[str],
                               params: dict) -> tuple[dict, float, dict]:
    """Out-of-fold probabilities -> per-theme thresholds, then the strictest gate threshold whose gated
    macro-F1 is within `gate_tolerance` of the best."""
    thresholds = {theme: choose_threshold(labels[:, k].astype(bool), probabilities[:, k], params)[0]
                  for k, theme in enumerate(themes)}
    gold = [[t for k, t in enumerate(themes) if labels[i, k]] for i in range(len(labels))]
    above = probabilities[:, :len(themes)] >= np.array([thresholds[t] for t in themes])

    def gated(gate: float) -> list[list[str]]:
        passed = probabilities[:, len(themes)] >= gate
        return [[t for k, t in enumerate(themes) if above[i, k] and passed[i]] for i in range(len(labels))]

    low, high = params["gate_grid"]
    grid = np.round(np.arange(low, high + 1e-9, 0.05), 2)
    macro = np.array([score_labels(themes, gold, gated(g))["macro_f1"] for g in grid])
    smoothed = np.convolve(np.pad(macro, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    # The strictest gate within `gate_tolerance` of the best macro-F1: a point of F1 is worth far fewer
    # false alarms on general news, which the training split holds too few of to weigh by itself.
    gate = float(grid[np.flatnonzero(smoothed >= smoothed.max() - params["gate_tolerance"]).max()])
    return thresholds, gate, score_labels(themes, gold, gated(gate))


def library_versions() -> dict:
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "skops": skops.__version__}


def train_model(models_dir: Path, seed: int = 13, params: dict | None = None, shared_gold: Path | None = None,
                make_current: bool = True, event_params: dict | None = None, progress: Progress = silent,
                cyrillic_overrides: dict | None = None) -> str:
    """Fit on training/train.jsonl, choose thresholds by cross-validation, measure on training/dev.jsonl (and an
    optional outside gold set), save under models/<version>/. Returns the version id."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    models_dir = Path(models_dir)
    train_path, dev_path = models_dir / "training" / TRAIN_FILE, models_dir / "training" / DEV_FILE
    taxonomy = load_taxonomy(models_dir)
    themes = [t.id for t in taxonomy.themes]
    spec = lexicon_spec(taxonomy)
    train = read_gold(train_path)
    unknown = {label for r in train for label in r["labels"]} - set(themes)
    if unknown:
        raise ValueError(f"train: unknown theme ids in {train_path}: {sorted(unknown)}")
    texts, labels = texts_of(train), label_matrix(train, themes)
    too_few = [t for k, t in enumerate(themes)
               if labels[:, k].sum() < params["threshold_folds"] * 2
               or (len(train) - labels[:, k].sum()) < params["threshold_folds"] * 2]
    if too_few:
        raise ValueError(f"train: too few positive or negative examples for cross-validation: {too_few}")

    versions = library_versions()
    training_sha = data_hash([train_path])
    events_path = models_dir / "training" / EVENTS_TRAIN_FILE
    events_params = {**DEFAULT_EVENT_PARAMS, **(event_params or {})}
    identity = {"data": training_sha, "themes": taxonomy.sha256, "params": params, "seed": seed,
                "family": MODEL_FAMILY, "libraries": versions}
    if events_path.exists():  # the event coder is part of the version: its data, gazetteer and parameters
        identity["events"] = {"data": data_hash([events_path]), "actors": data_hash([models_dir / ACTORS_FILE]),
                              "params": events_params}
    cyrillic_paths = [models_dir / "training" / f"train_{language}.jsonl" for language in CYRILLIC_LANGUAGES]
    cyrillic_params = {**CYRILLIC_PARAMS, **(cyrillic_overrides or {})}
    if all(path.exists() for path in cyrillic_paths):
        identity["cyrillic"] = {"data": data_hash(cyrillic_paths), "params": cyrillic_params}
    fingerprint = json.dumps(identity, sort_keys=True)
    version = f"{MODEL_FAMILY}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:10]}"

    step = "train (stages)"  # cross-validation, fit, events, measure, save
    progress(step, 0, 5)
    log.info("train: cross-validating thresholds", extra={"examples": len(train)})
    folds = KFold(n_splits=params["threshold_folds"], shuffle=True, random_state=seed)
    probabilities = out_of_fold_probabilities(texts, labels, spec, params, seed, folds)
    stack = None
    if params["neighbours"]:
        stack = NeighbourStack(neighbours=params["neighbours"], C=params["neighbour_C"],
                               min_df=params["neighbour_min_df"], max_df=params["neighbour_max_df"],
                               floor=params["neighbour_floor"], seed=seed)
        probabilities = stack.fit_out_of_fold(texts, with_gate_column(labels), probabilities, folds)
    thresholds, gate, cv_report = cross_validated_thresholds(probabilities, labels, themes, params)
    progress(step, 1, 5)
    pipeline = fit_pipeline(texts, labels, spec, params, seed)
    progress(step, 2, 5)

    card = {
        "model_version": version,
        "family": "word TF-IDF and lexicon features -> calibrated logistic regression per theme, plus an"
                  " 'any theme' gate" + (", then a second stage over those probabilities and the labels of the"
                                         " most similar training examples" if stack else ""),
        "themes": themes,
        "thresholds": thresholds,
        "gate": {"threshold": gate,
                 "rule": "a theme is labelled only when the last output, the probability of any theme, reaches"
                         " this threshold: the strictest in gate_grid whose cross-validated macro-F1 is within"
                         " gate_tolerance of the best"},
        "threshold_rule": (f"per theme, the threshold in {params['threshold_grid']} maximising"
                           f" F{params['threshold_beta']:g} (smoothed over +-0.02) on out-of-fold probabilities of a"
                           f" {params['threshold_folds']}-fold cross-validation of the whole pipeline on the training"
                           " split"),
        "second_stage": {"file": NEIGHBOURS_FILE,
                         "rule": f"per output, a logistic regression over the base probabilities (out of fold in"
                                 f" training) and the labels of the {params['neighbours']} most similar training"
                                 " examples (cosine of word 1-2-gram TF-IDF without stop words), for text whose base"
                                 f" gate probability reaches {params['neighbour_floor']}; thresholds and gate are"
                                 " chosen on its out-of-fold probabilities"} if stack else None,
        "languages": {"en": "model (lexicon as features)",
                      "ru, uk": "lexicon alone (text with more Cyrillic than Latin letters)"},
        "params": params,
        "seed": seed,
        "training_data": {
            "path": f"training/{TRAIN_FILE}", "sha256": training_sha, "examples": len(train),
            "positives": {t: int(labels[:, k].sum()) for k, t in enumerate(themes)},
            "no_theme": int((labels.sum(axis=1) == 0).sum()),
        },
        "lexicon": {"path": THEMES_FILE, "sha256": taxonomy.sha256, "min_score": taxonomy.min_score},
        "library_versions": versions,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": {"cross_validation": cv_report},
        "baseline_lexicon": {},
    }
    events = None
    if events_path.exists():
        gazetteer = load_gazetteer(models_dir)
        log.info("train: event coder", extra={"path": str(events_path)})
        events, events_report = train_event_coder(read_gold(events_path), gazetteer.aliases, seed, events_params)
        card["events"] = {
            "file": EVENTS_FILE,
            "rule": "candidates: each party the gazetteer (actors.yaml) names x each labelled theme, plus 'other';"
                    " a calibrated logistic regression says whether a candidate is an event, a second one picks"
                    " its action, both reading the words around the party and what the"
                    f" {events_params['neighbours']} most similar coded training articles coded for the same"
                    " (actor, theme) (word TF-IDF cosine, each leaving itself out in training);"
                    " score = P(event) x P(action); events below the threshold (chosen by"
                    f" {events_params['threshold_folds']}-fold cross-validation for triple F1) are dropped, the"
                    " best always kept, at most three, strongest first",
            "training_data": {"path": f"training/{EVENTS_TRAIN_FILE}", "sha256": identity["events"]["data"],
                              "examples": events_report["examples"], "events": events_report["events"]},
            "actors": {"path": ACTORS_FILE, "sha256": identity["events"]["actors"]},
            "training": events_report,
            "metrics": {},
        }
    cyrillic = None
    if "cyrillic" in identity:
        log.info("train: Cyrillic model", extra={"paths": [str(p) for p in cyrillic_paths]})
        cyrillic_pipeline, card["cyrillic"] = fit_cyrillic(cyrillic_paths, spec, themes, cyrillic_params, seed,
                                                           identity["cyrillic"]["data"])
        card["languages"] = {"en": "English model (Latin-script text)",
                             "ru, uk": "Cyrillic model (text with more Cyrillic than Latin letters)"}
        cyrillic = ThemeClassifier(cyrillic_pipeline, cyrillic_card(card))
    classifier = ThemeClassifier(pipeline, card, stack, events, cyrillic)
    progress(step, 3, 5)
    measured = [("dev_split", dev_path)]
    measured += [(f"dev_{language}", models_dir / "training" / f"dev_{language}.jsonl")
                 for language in CYRILLIC_LANGUAGES]
    if shared_gold:
        measured.append(("shared_dev", Path(shared_gold)))
    for name, path in measured:
        if path.exists():
            gold = read_gold(path)
            card["metrics"][name] = {"path": _display_path(path, models_dir),
                                     **evaluate_records(classifier, gold)}
            card["baseline_lexicon"][name] = evaluate_lexicon(classifier, gold)
    events_dev = models_dir / "training" / EVENTS_DEV_FILE
    if events is not None and events_dev.exists():
        card["events"]["metrics"]["dev_split"] = {"path": f"training/{EVENTS_DEV_FILE}",
                                                  **evaluate_events(classifier, read_gold(events_dev))}
    shared_events = Path(shared_gold).with_name("dev_events.jsonl") if shared_gold else None
    if events is not None and shared_events and shared_events.exists():
        card["events"]["metrics"]["shared_dev"] = {
            "path": _display_path(shared_events, models_dir),
            **evaluate_events(classifier, read_gold(Path(shared_gold), shared_events))}
    progress(step, 4, 5)
    save_model(pipeline, card, models_dir, make_current=make_current, stack=stack, events=events,
               cyrillic=cyrillic.pipeline if cyrillic else None)
    progress(step, 5, 5)
    return version


def fit_cyrillic(paths: list[Path], spec: dict, themes: list[str], params: dict, seed: int,
                 sha256: str) -> tuple[Pipeline, dict]:
    """The Cyrillic model on the Russian and Ukrainian training splits together (they share most of their
    vocabulary of war and diplomacy, and each is too small alone): thresholds and gate by the same
    cross-validation as the English model's. Returns the fitted pipeline and its section of the card."""
    records, per_language = [], {}
    for language, path in zip(CYRILLIC_LANGUAGES, paths, strict=True):
        part = read_gold(path)
        unknown = {label for r in part for label in r["labels"]} - set(themes)
        if unknown:
            raise ValueError(f"train: unknown theme ids in {path}: {sorted(unknown)}")
        part_labels = label_matrix(part, themes)
        per_language[language] = {"path": f"training/{path.name}", "examples": len(part),
                                  "positives": {t: int(part_labels[:, k].sum()) for k, t in enumerate(themes)},
                                  "no_theme": int((part_labels.sum(axis=1) == 0).sum())}
        records += part
    texts, labels = texts_of(records), label_matrix(records, themes)
    folds = KFold(n_splits=params["threshold_folds"], shuffle=True, random_state=seed)
    probabilities = out_of_fold_probabilities(texts, labels, spec, params, seed, folds)
    thresholds, gate, cv_report = cross_validated_thresholds(probabilities, labels, themes, params)
    pipeline = fit_pipeline(texts, labels, spec, params, seed)
    section = {
        "file": CYRILLIC_FILE,
        "family": "word TF-IDF over lemmas (simplemma), character n-grams and lexicon features -> calibrated"
                  " logistic regression per theme, plus an 'any theme' gate",
        "thresholds": thresholds,
        "gate": {"threshold": gate},
        "params": params,
        "training_data": {"sha256": sha256, "examples": len(records), "languages": per_language},
        "cross_validation": cv_report,
    }
    return pipeline, section


def _display_path(path: Path, models_dir: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(models_dir).resolve().parent))
    except ValueError:
        return Path(path).name


def save_model(pipeline: Pipeline, card: dict, models_dir: Path, make_current: bool = True,
               stack: NeighbourStack | None = None, events: EventCoder | None = None,
               cyrillic: Pipeline | None = None) -> Path:
    import skops.io as sio

    directory = Path(models_dir) / card["model_version"]
    directory.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, directory / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    if stack is not None:
        sio.dump(stack, directory / NEIGHBOURS_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    if events is not None:
        sio.dump(events.state(), directory / EVENTS_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    if cyrillic is not None:
        sio.dump(cyrillic, directory / CYRILLIC_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    (directory / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    if make_current:
        (Path(models_dir) / CURRENT_FILE).write_text(card["model_version"] + "\n", encoding="utf-8")
    return directory
