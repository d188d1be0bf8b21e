"""Per-theme precision, recall and F1 of a classifier against JSON Lines gold labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.classify.model import ThemeClassifier, article_text


def read_gold(path: Path) -> list[dict]:
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"evaluate: {path}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(record.get("labels"), list):
            raise ValueError(f"evaluate: {path}:{number}: 'labels' must be a list")
        records.append(record)
    return records


def score_labels(themes: list[str], gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Precision/recall/F1 per theme, macro-F1, and the share of no-theme gold items given any theme."""
    per_theme = {}
    for theme in themes:
        truth = np.array([theme in g for g in gold])
        guess = np.array([theme in p for p in predicted])
        tp, fp, fn = int((truth & guess).sum()), int((~truth & guess).sum()), int((truth & ~guess).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_theme[theme] = {
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": int(truth.sum()), "tp": tp, "fp": fp, "fn": fn,
        }
    off_topic = [p for g, p in zip(gold, predicted, strict=True) if not g]
    supported = [m["f1"] for m in per_theme.values() if m["support"]]
    return {
        "items": len(gold),
        "per_theme": per_theme,
        "macro_f1": round(float(np.mean(supported)), 4) if supported else 0.0,
        "off_topic_items": len(off_topic),
        "off_topic_false_positive_rate": round(sum(bool(p) for p in off_topic) / len(off_topic), 4)
        if off_topic else 0.0,
    }


def _texts(records: list[dict]) -> list[str]:
    return [article_text(r.get("title", ""), r.get("summary") or r.get("text") or "") for r in records]


def evaluate_records(classifier: ThemeClassifier, records: list[dict]) -> dict:
    predicted = [p.labels for p in classifier.predict(_texts(records))]
    report = score_labels(classifier.themes, [r["labels"] for r in records], predicted)
    report["model_version"] = classifier.version
    return report


def evaluate_lexicon(classifier: ThemeClassifier, records: list[dict]) -> dict:
    """The same report for the model's lexicon alone (the baseline the model has to beat)."""
    report = score_labels(classifier.themes, [r["labels"] for r in records], classifier.lexicon_labels(_texts(records)))
    report["model_version"] = f"{classifier.version} (lexicon only)"
    return report


def format_report(report: dict) -> str:
    lines = [f"{'theme':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for theme, m in report["per_theme"].items():
        lines.append(f"{theme:<22}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}")
    lines.append(f"macro-F1 (themes with support): {report['macro_f1']:.3f}   items: {report['items']}")
    lines.append(
        f"off-topic items given a theme: {report['off_topic_false_positive_rate']:.1%} "
        f"of {report['off_topic_items']}"
    )
    return "\n".join(lines)


def card_figures_markdown(card: dict) -> str:
    """The 'Figures of the shipped model' section of models/README.md, rendered from a model card so the
    published figures are the card's, never typed in (a test holds the README to the shipped card)."""
    metrics, lexicon = card["metrics"], card["baseline_lexicon"]

    def table(split: str, title: str) -> list[str]:
        rows = [title, "", "| theme | support | precision | recall | F1 | lexicon alone F1 |",
                "|---|---|---|---|---|---|"]
        for theme in card["themes"]:
            m, base = metrics[split]["per_theme"][theme], lexicon[split]["per_theme"][theme]
            rows.append(f"| {theme} | {m['support']} | {m['precision']:.2f} | {m['recall']:.2f} | **{m['f1']:.3f}** |"
                        f" {base['f1']:.3f} |")
        rows.append(f"| macro (themes with examples) | | | | **{metrics[split]['macro_f1']:.3f}** |"
                    f" {lexicon[split]['macro_f1']:.3f} |")
        rows.append(f"| off-topic items given a theme | {metrics[split]['off_topic_items']} | | |"
                    f" **{metrics[split]['off_topic_false_positive_rate']:.1%}** |"
                    f" {lexicon[split]['off_topic_false_positive_rate']:.1%} |")
        return rows + [""]

    cv = metrics["cross_validation"]
    thresholds = ", ".join(f"{theme} {value}" for theme, value in card["thresholds"].items())
    lines = [f"## Figures of the shipped model (`{card['model_version']}`, from its `model_card.json`)", ""]
    lines += table("dev_split", f"**Development split (`training/dev.jsonl`, {metrics['dev_split']['items']:,} items"
                                " written for newsmon, never trained on)**")
    lines += table("shared_dev", f"**Shared real-news set (`../shared/eval/dev.jsonl`, {metrics['shared_dev']['items']}"
                                 " real feed items; measured, never trained on)**")
    lines += [f"Cross-validation on the training split ({cv['items']:,} items): macro-F1 {cv['macro_f1']:.3f},"
              f" off-topic {cv['off_topic_false_positive_rate']:.1%}. Thresholds: {thresholds};"
              f" gate {card['gate']['threshold']}.", "",
              f"Russian/Ukrainian smoke set ({metrics['dev_ru_uk']['items']} items, lexicon path): macro-F1"
              f" {metrics['dev_ru_uk']['macro_f1']:.3f}."]
    return "\n".join(lines)


def evaluate_gold(models_dir: Path, version: str, gold: Path, lexicon_only: bool = False) -> dict:
    """`newsmon evaluate`: the model (or its lexicon alone, the baseline) scored against a gold file."""
    classifier = ThemeClassifier.load(models_dir, version)
    scorer = evaluate_lexicon if lexicon_only else evaluate_records
    return scorer(classifier, read_gold(gold))
