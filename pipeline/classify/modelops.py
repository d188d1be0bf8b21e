"""The model_train DAG's steps: train a candidate, promote it only if it is not worse, relabel a date range."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from pipeline.classify.evaluate import evaluate_records, read_gold
from pipeline.classify.model import CURRENT_FILE, ThemeClassifier, current_version, read_card
from pipeline.classify.train import train_model
from pipeline.core.config import Settings
from pipeline.warehouse.load import register_model
from pipeline.warehouse.store import open_warehouse

log = logging.getLogger("newsmon.modelops")
# A candidate may score this much lower and still count as "not worse": a retrain on the same data can move
# a borderline item either way.
TOLERANCE = 0.005


def gold_sets(models_dir: Path) -> list[Path]:
    """The labelled sets in models/training that are never trained on."""
    training = Path(models_dir) / "training"
    return [p for p in (training / "dev.jsonl", training / "dev_ru.jsonl", training / "dev_uk.jsonl") if p.exists()]


def measure(settings: Settings, version: str) -> dict:
    classifier = ThemeClassifier.load(settings.models_dir, version)
    return {path.name: evaluate_records(classifier, read_gold(path)) for path in gold_sets(settings.models_dir)}


def quality(report: dict) -> float:
    """One number per gold set: macro-F1 minus the share of off-topic items given a theme. Either alone can
    be gamed (a model that labels nothing has no false alarms), together they cannot."""
    return report["macro_f1"] - report["off_topic_false_positive_rate"]


def is_not_worse(candidate: dict, current: dict, tolerance: float = TOLERANCE) -> tuple[bool, list[str]]:
    """Per gold set, the candidate's quality may not fall below the current model's (beyond the tolerance).
    Returns the verdict and the reasons against."""
    reasons = []
    for name, now in current.items():
        new = candidate.get(name)
        if new is None:
            reasons.append(f"{name}: the candidate was not measured on it")
        elif quality(new) < quality(now) - tolerance:
            reasons.append(
                f"{name}: macro-F1 - off-topic FP rate {quality(new):.4f} < current {quality(now):.4f} "
                f"(macro-F1 {new['macro_f1']:.4f} vs {now['macro_f1']:.4f}, off-topic FP "
                f"{new['off_topic_false_positive_rate']:.4f} vs {now['off_topic_false_positive_rate']:.4f})"
            )
    return not reasons, reasons


def train_candidate(settings: Settings, seed: int = 13) -> dict:
    """Train from models/training without touching models/CURRENT."""
    version = train_model(settings.models_dir, seed=seed, make_current=False)
    return {"candidate": version, "current": current_version(settings.models_dir)}


def promote_if_not_worse(settings: Settings, candidate: str) -> dict:
    """Measure candidate and current model on the gold sets; make the candidate current (models/CURRENT and
    the warehouse's `models` table) only if it is not worse."""
    current = current_version(settings.models_dir)
    report = {"candidate": candidate, "previous": current}
    if candidate == current:  # same data, seed and code: the same model
        verdict, reasons = True, []
    else:
        verdict, reasons = is_not_worse(measure(settings, candidate), measure(settings, current))
    report |= {"promoted": verdict, "reasons": reasons}
    if verdict:
        (Path(settings.models_dir) / CURRENT_FILE).write_text(candidate + "\n", encoding="utf-8")
        settings.ensure_home()
        with open_warehouse(settings.warehouse_path) as con:
            register_model(con, read_card(settings.models_dir, candidate))
        log.info("modelops: %s is now the current model", candidate)
    else:
        log.warning("modelops: kept %s; %s is worse: %s", current, candidate, "; ".join(reasons))
    return report


def reclassify_after_promotion(settings: Settings, promotion: dict, first: str | None, last: str | None) -> dict:
    """Relabel [first, last] with the promoted version (beside the old labels); nothing when not promoted
    or no range was asked for."""
    from pipeline.classify.reclassify import reclassify

    if not promotion["promoted"] or not (first and last):
        return {"reclassified": False}
    counts = reclassify(settings, promotion["candidate"], date.fromisoformat(first), date.fromisoformat(last))
    return {"reclassified": True, **counts}
