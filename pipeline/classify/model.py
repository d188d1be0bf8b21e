"""Classify articles against the themes: probabilities, labels by per-theme threshold, and evidence terms.

Text is routed by script. English (and any Latin-script) text goes through the English model: word TF-IDF plus
the lexicon's evidence (pipeline.classify.lexicon) -> one calibrated logistic regression per theme and one for
"any theme" (the gate) -> where the model has one, a second stage that weighs those probabilities against the
labels of the most similar training examples (pipeline.classify.neighbours) -> a theme is labelled when its
probability and the gate's reach the thresholds chosen by cross-validation at training time.
Russian and Ukrainian text (more Cyrillic than Latin letters) goes through the Cyrillic model, built the same way
from Russian and Ukrainian examples, its words in dictionary form (pipeline.classify.lemmas). A model trained
before the Cyrillic model existed labels such text by the lexicon alone.
"""

from __future__ import annotations

import atexit
import gc
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import IO

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from pipeline.classify.events import EventCoder
from pipeline.classify.fastpath.tokens import Numbering, split_batch
from pipeline.classify.fastpath.wordngrams import WordNgramTfidf
from pipeline.classify.language import is_cyrillic
from pipeline.classify.lexicon import Analysis, BatchMatches
from pipeline.classify.neighbours import NeighbourStack
from pipeline.core.errors import ModelError

MODEL_FILE = "model.skops"
NEIGHBOURS_FILE = "neighbours.skops"
EVENTS_FILE = "events.skops"
CYRILLIC_FILE = "model_cyrillic.skops"
CARD_FILE = "model_card.json"
CURRENT_FILE = "CURRENT"
EVIDENCE_TERMS = 4  # per source: up to 4 lexicon terms and 4 model terms per label
SCORE_DECIMALS = 4
CLASSIFY_CHUNK = 1000

# Types a newsmon artifact may contain beyond skops' defaults; anything else is refused at load time.
TRUSTED_TYPES = frozenset(
    {
        "builtins.slice",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "scipy.sparse._csr.csr_matrix",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.preprocessing._label.MultiLabelBinarizer",
        "pipeline.classify.lexicon.LexiconFeatures",
        "pipeline.classify.fastpath.charngrams.CharNgramTfidf",
        "pipeline.classify.neighbours.NeighbourStack",
        "pipeline.classify.lemmas.lemmatize_text",
    }
)


@dataclass
class Prediction:
    labels: list[str]
    scores: dict[str, float]
    evidence: dict[str, list[str]]
    events: list[dict] = field(default_factory=list)  # who did what (pipeline.classify.events), main first


def article_text(title: str, summary: str) -> str:
    return f"{title or ''}. {summary or ''}".strip()


def record_text(record: dict) -> str:
    """A gold or training record's text: its title, then its summary (or, lacking one, its text)."""
    return article_text(record.get("title", ""), record.get("summary") or record.get("text") or "")


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
    """A trained scikit-learn pipeline plus the thresholds and theme order from its model card.

    `pipeline` is Pipeline([("features", FeatureUnion([words, chars, lexicon])), ("clf", OneVsRestClassifier(
    CalibratedClassifierCV(LogisticRegression)))]); `predict` runs its steps by hand so the lexicon is
    matched once per text and serves the features, the evidence and the Cyrillic path alike.
    """

    def __init__(self, pipeline, card: dict, stack=None, events: EventCoder | None = None,
                 cyrillic: ThemeClassifier | None = None):
        self.pipeline = pipeline
        self.events = events  # None: a model trained before event coding
        self.cyrillic = cyrillic  # None: Cyrillic text is labelled by the lexicon alone
        self.card = card
        if stack is not None and not isinstance(stack, NeighbourStack):
            raise ModelError(f"classify: model {card['model_version']!r}: its second stage is a {type(stack).__name__}")
        self.stack = stack  # None: a one-stage model
        self.version: str = card["model_version"]
        self.themes: list[str] = list(card["themes"])
        self.thresholds = np.array([card["thresholds"][t] for t in self.themes])
        self.gate = card.get("gate", {}).get("threshold")  # None: a model without the 'any theme' gate
        try:
            union = pipeline.named_steps["features"]
            blocks = [(name, step, union.transformer_weights.get(name, 1.0) if union.transformer_weights else 1.0)
                      for name, step in union.transformer_list]
            self._lexicon_step = lexicon_step = union.named_transformers["lexicon"]
            words = union.named_transformers["words"]
            estimators = pipeline.named_steps["clf"].estimators_
        except (AttributeError, KeyError) as exc:
            raise ModelError(f"classify: model {self.version!r} is not a newsmon theme pipeline ({exc})") from exc
        if blocks[0][0] != "words" or blocks[-1][0] != "lexicon":
            raise ModelError(f"classify: model {self.version!r}: the feature blocks must run from words to lexicon")
        self.lexicon = lexicon_step.lexicon_
        self._chunks = Numbering()  # chunk numbers that last from batch to batch (pipeline.classify.fastpath.tokens)
        if self.lexicon.theme_ids != self.themes:
            raise ModelError(f"classify: model {self.version!r}: lexicon themes differ from the card's")
        try:
            self._fast_words = WordNgramTfidf(words)  # the same matrix as words.transform, a few times faster
        except ValueError:
            self._fast_words = None
        # Text -> matrix for the blocks after words and before the lexicon, whose features come from the analyses
        # predict shares.
        self._words_transform = words.transform
        self._text_transforms = [_chunk_reader(step) for _, step, _ in blocks[1:-1]]
        self._block_weights = [weight for _, _, weight in blocks]
        self._vocabulary = words.get_feature_names_out().tolist()
        self._telling = np.fromiter(map(telling, self._vocabulary), dtype=bool, count=len(self._vocabulary))
        n_words = len(self._vocabulary)  # words come first in the union: their columns are 0..n_words-1
        self._coef = np.vstack([est.calibrated_classifiers_[0].estimator.coef_[0][:n_words]
                                for est in estimators[:len(self.themes)]])
        self._clf = pipeline.named_steps["clf"]
        self._linear_outputs = linear_outputs(self._clf)
        # The second stage splits text into words as the words block does: predict tokenizes once for both.
        self._share_tokens = (stack is not None and self._fast_words is not None
                              and stack.fast_vectorizer.token_settings == self._fast_words.token_settings)

    @classmethod
    def load(cls, models_dir: Path, version: str | None = None) -> ThemeClassifier:
        return _load_cached(str(Path(models_dir).resolve()), version or current_version(models_dir))

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Themes for every text (each through the model of its script), then who did what in the themed ones."""
        if not texts:
            return []
        if self.cyrillic is None:
            predictions = self._theme_predictions(texts, lexicon_for_cyrillic=True)
        else:
            cyrillic = [is_cyrillic(text) for text in texts]
            predictions: list[Prediction] = [None] * len(texts)  # type: ignore[list-item]
            for use_cyrillic, model in ((False, self), (True, self.cyrillic)):
                at = [i for i, c in enumerate(cyrillic) if c == use_cyrillic]
                if at:
                    found = model._theme_predictions([texts[i] for i in at], lexicon_for_cyrillic=False)
                    for i, prediction in zip(at, found, strict=True):
                        predictions[i] = prediction
        if self.events is not None:
            themed = [i for i, p in enumerate(predictions) if p.labels]
            coded = self.events.code([texts[i] for i in themed], [predictions[i].labels for i in themed])
            for i, events in zip(themed, coded, strict=True):
                predictions[i].events = [e.as_dict() for e in events]
        return predictions

    def _theme_predictions(self, texts: list[str], lexicon_for_cyrillic: bool) -> list[Prediction]:
        chunks = split_batch(texts, self._chunks)  # split at whitespace once; each block reads chunks by number
        matches = self.lexicon.match_chunks(chunks)
        tokens = self._fast_words.tokens(texts, chunks) if self._fast_words is not None else None
        words_matrix = self._fast_words.transform_tokens(tokens) if tokens is not None else self._words_transform(texts)
        matrices = [words_matrix] + [transform(texts, chunks) for transform in self._text_transforms]
        matrices.append(sp.csr_matrix(self._lexicon_step.from_matches(matches)))
        features = sp.hstack([m * w if w != 1.0 else m for m, w in zip(matrices, self._block_weights, strict=True)],
                             format="csr")
        outputs = self._linear_outputs(features) if self._linear_outputs else self._clf.predict_proba(features)
        if self.stack is not None:
            outputs = self.stack.predict_proba(texts, outputs, tokens if self._share_tokens else None)
        probabilities = outputs[:, :len(self.themes)]
        labelled = probabilities >= self.thresholds
        if self.gate is not None:
            labelled &= (outputs[:, len(self.themes)] >= self.gate)[:, None]
        predictions = []
        themes = self.themes
        # Python lists: reading NumPy rows element by element costs more than the rest of this loop.
        score_rows = rounded(probabilities, SCORE_DECIMALS).tolist()
        label_rows, any_label = labelled.tolist(), labelled.any(axis=1).tolist()
        for i, text in enumerate(texts):
            if lexicon_for_cyrillic and is_cyrillic(text):
                predictions.append(self._lexicon_prediction(matches.analysis(i)))
                continue
            scores = dict(zip(themes, score_rows[i], strict=True))
            if not any_label[i]:
                predictions.append(Prediction([], scores, {}))
                continue
            predictions.append(Prediction(list(compress(themes, label_rows[i])), scores,
                                          self._evidence(words_matrix, i, labelled[i], matches)))
        return predictions

    def _lexicon_prediction(self, analysis: Analysis) -> Prediction:
        """Lexicon-only labels. Scores are lexicon strength s/(s+min_score), halved when the theme does not fire
        (no war context, or a veto), so a label always scores >= 0.5 and a non-label < 0.5."""
        minimum = self.lexicon.min_score
        labels, scores, evidence = [], {}, {}
        for k, theme in enumerate(self.themes):
            match = analysis.themes[k]
            strength = match.score / (match.score + minimum)
            if analysis.fires(k, minimum):
                labels.append(theme)
                evidence[theme] = list(match.terms[:EVIDENCE_TERMS])
                scores[theme] = round(strength, SCORE_DECIMALS)
            else:
                scores[theme] = round(strength / 2, SCORE_DECIMALS)
        return Prediction(labels, scores, evidence)

    def lexicon_labels(self, texts: list[str]) -> list[list[str]]:
        """The lexicon layer alone, for every language: the baseline the model must beat."""
        return [self.lexicon.labels(analysis) for analysis in self.lexicon.analyse_texts(texts)]

    def _evidence(self, features, i: int, labelled_row, matches: BatchMatches) -> dict[str, list[str]]:
        """Per labelled theme: lexicon terms found in the text, then the words and word pairs of the text
        that pushed the model's score up most (tf-idf x weight)."""
        evidence: dict[str, list[str]] = {}
        start, end = features.indptr[i], features.indptr[i + 1]  # CSR row slice: no per-row matrix copy
        indices, values = features.indices[start:end], features.data[start:end]
        for k, theme in enumerate(self.themes):
            if not labelled_row[k]:
                continue
            terms = matches.terms(i, k)[:EVIDENCE_TERMS]
            contributions = values * self._coef[k, indices]
            order = np.argsort(-contributions)[:EVIDENCE_TERMS]
            for j in order:
                column = indices[j]
                if contributions[j] > 0 and self._telling[column]:
                    term = self._vocabulary[column]
                    if term not in terms:
                        terms.append(term)
            evidence[theme] = terms
        return evidence


def rounded(values: np.ndarray, decimals: int) -> np.ndarray:
    """What Python's round(v, decimals) gives each value, at NumPy's speed. NumPy scales, rounds and unscales,
    which can land on the other side of a half-way point when the scaled value lies within rounding error of
    one; those few values are rounded by Python."""
    result = np.round(values, decimals)
    scaled = np.abs(values) * 10.0 ** decimals
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    flat = result.reshape(-1)  # a view: np.round made `result` afresh, contiguous
    flat[near_half] = [round(v, decimals) for v in values.reshape(-1)[near_half].tolist()]
    return result


def _chunk_reader(step):
    """(texts, chunks) -> the step's matrix, from the chunks where the step can read them."""
    if hasattr(step, "transform_chunks"):
        return lambda texts, chunks: step.transform_chunks(chunks)
    return lambda texts, chunks: step.transform(texts)


def linear_outputs(clf):
    """The OneVsRest of sigmoid-calibrated logistic regressions as one product: p = expit(-(a (X w + c) + b))
    per output, what scikit-learn computes one estimator at a time with its input checks around each.
    None when the estimators are not of that shape, so the caller keeps scikit-learn's own predict_proba."""
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    try:
        calibrated = [estimator.calibrated_classifiers_ for estimator in clf.estimators_]
        if any(len(c) != 1 or c[0].method != "sigmoid" or len(c[0].calibrators) != 1
               or not isinstance(c[0].estimator, LogisticRegression) or len(c[0].classes) != 2 for c in calibrated):
            return None
        weights = np.vstack([c[0].estimator.coef_[0] for c in calibrated]).T  # (features, outputs)
        intercepts = np.array([c[0].estimator.intercept_[0] for c in calibrated])
        slopes = np.array([c[0].calibrators[0].a_ for c in calibrated], dtype=np.float64)
        offsets = np.array([c[0].calibrators[0].b_ for c in calibrated], dtype=np.float64)
    except (AttributeError, IndexError, TypeError):
        return None

    def predict_proba(features) -> np.ndarray:
        probability = expit(-(slopes * (features @ weights + intercepts) + offsets))
        probability[(1.0 < probability) & (probability <= 1.0 + 1e-5)] = 1.0  # as scikit-learn rounds
        return probability

    return predict_proba


# Words that carry weight in the model but explain nothing to a reader ("says", "that", "to ukraine").
UNTELLING = frozenset(ENGLISH_STOP_WORDS | {"says", "said", "say", "told", "new", "year", "years", "week", "people",
                                            "ukraine", "russia", "russian", "ukrainian", "ukraine's", "russia's"})


def telling(term: str) -> bool:
    """An evidence term a reader can use: no stop word in it, and not just the war's two country names."""
    words = term.split()
    return not any(w in ENGLISH_STOP_WORDS or len(w) < 3 for w in words) and not all(w in UNTELLING for w in words)


def classify_stream(classifier: ThemeClassifier, lines: Iterable[bytes | str], out: IO[str],
                    err: IO[str] = sys.stderr, chunk: int = CLASSIFY_CHUNK) -> dict:
    """The `newsmon classify` contract: JSON Lines in (id, title, summary or text), one JSON line out per good
    line, in input order. A bad line is reported on `err` by its number and skipped; the batch goes on.
    Memory stays bounded by `chunk` lines whatever the input size."""
    counts = {"lines": 0, "classified": 0, "bad": 0}
    pending: list[tuple[object, str]] = []

    def flush() -> None:
        for (item_id, _), p in zip(pending, classifier.predict([t for _, t in pending]), strict=True):
            record = {"id": item_id, "labels": p.labels, "scores": p.scores, "evidence": p.evidence}
            if classifier.events is not None:
                record["events"] = p.events
            record["model_version"] = classifier.version
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        counts["classified"] += len(pending)
        pending.clear()
        out.flush()

    for number, line in enumerate(lines, start=1):
        counts["lines"] = number
        try:
            if isinstance(line, bytes):
                line = line.decode("utf-8")
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            if "id" not in record or record["id"] is None:
                raise ValueError("missing 'id'")
            title = record.get("title") or ""
            body = record.get("summary") or record.get("text") or ""
            if not isinstance(title, str) or not isinstance(body, str):
                raise ValueError("'title', 'summary' and 'text' must be strings")
            if not title.strip() and not body.strip():
                raise ValueError("no 'title', 'summary' or 'text' to classify")
        except UnicodeDecodeError:
            counts["bad"] += 1
            err.write(f"classify: line {number}: not UTF-8\n")
            continue
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            counts["bad"] += 1
            err.write(f"classify: line {number}: {exc}\n")
            continue
        pending.append((record["id"], article_text(title, body)))
        if len(pending) >= chunk:
            flush()
    if pending:
        flush()
    return counts


def cyrillic_card(card: dict) -> dict:
    """The card the Cyrillic model runs by: the model's version and themes, its own thresholds and gate."""
    return {"model_version": card["model_version"], "themes": card["themes"],
            "thresholds": card["cyrillic"]["thresholds"], "gate": card["cyrillic"]["gate"]}


def _load_part(directory: Path, card: dict, key: str, file_name: str, what: str):
    """An optional artifact the card names (None when it names none)."""
    if not card.get(key):
        return None
    path = directory / file_name
    if not path.exists():
        raise ModelError(f"classify: model {directory.name!r} names {what} but {path} is missing")
    return _load_trusted(path)


@lru_cache(maxsize=4)
def _load_cached(models_dir: str, version: str) -> ThemeClassifier:
    card = read_card(Path(models_dir), version)
    model_path = Path(models_dir) / version / MODEL_FILE
    if not model_path.exists():
        raise ModelError(f"classify: model {version!r} has no {MODEL_FILE} under {models_dir}")
    pipeline = _load_trusted(model_path)
    stack = _load_part(Path(models_dir) / version, card, "second_stage", NEIGHBOURS_FILE, "a second stage")
    saved = _load_part(Path(models_dir) / version, card, "events", EVENTS_FILE, "an event coder")
    events = None if saved is None else EventCoder.from_state(saved)
    cyrillic_pipeline = _load_part(Path(models_dir) / version, card, "cyrillic", CYRILLIC_FILE, "a Cyrillic model")
    cyrillic = None if cyrillic_pipeline is None else ThemeClassifier(cyrillic_pipeline, cyrillic_card(card))
    classifier = ThemeClassifier(pipeline, card, stack, events, cyrillic)
    # A loaded model stays for the life of the process (this cache). Freezing takes its objects, and the rest
    # alive now, out of the cycle collector's full passes, which traversed them every few batches: 7.7 % of
    # classify's time before, 0.8 % after (gc callbacks, 30,000 bench articles). The price: objects alive now
    # that later become garbage cycles stay until the process ends.
    gc.freeze()
    _unfreeze_at_exit()
    return classifier


@lru_cache(maxsize=1)
def _unfreeze_at_exit() -> None:
    """Let the collector see frozen objects again at exit: extension types (DuckDB's) report the objects still
    alive then as leaks."""
    atexit.register(gc.unfreeze)


def _load_trusted(path: Path):
    """The artifact, if it holds no types beyond skops' defaults and TRUSTED_TYPES. skops audits the types before it
    builds any object, in the same read as the load: asking for the file's types first read it twice (3.3 of the
    11 s a process spent loading the shipped model)."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.load(path, trusted=sorted(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        unexpected = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
        raise ModelError(f"classify: refusing {path}: unexpected types {sorted(unexpected)}") from exc


def classify_jsonl(models_dir: Path, version: str, lines: Iterable[bytes | str], out: IO[str],
                   err: IO[str] = sys.stderr, chunk: int = CLASSIFY_CHUNK) -> dict:
    """`newsmon classify`: load a model version and stream JSON Lines through it (classify_stream)."""
    return classify_stream(ThemeClassifier.load(models_dir, version), lines, out, err, chunk=chunk)
