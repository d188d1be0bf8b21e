"""Per-theme precision, recall and F1 of a classifier against JSON Lines gold labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.classify.model import ThemeClassifier, record_text


def read_gold(path: Path, events: Path | None = None) -> list[dict]:
    """Gold items; `events` (JSON Lines of id and events) adds event codes to the items by id."""
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
    if events is not None:
        coded = {}
        for line in Path(events).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                coded[item["id"]] = item["events"]
        for record in records:
            if record.get("id") in coded:
                record["events"] = coded[record["id"]]
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
    return [record_text(r) for r in records]


def record_languages(records: list[dict]) -> list[str]:
    """Each gold item's language: its own `language` field, else the one detected from its text."""
    from pipeline.classify.language import detect_languages

    missing = [i for i, r in enumerate(records) if not r.get("language")]
    found = detect_languages([(records[i].get("title", ""), records[i].get("summary") or records[i].get("text") or "",
                               None) for i in missing]) if missing else []
    languages = [r.get("language") for r in records]
    for i, detected in zip(missing, found, strict=True):
        languages[i] = detected.language
    return languages


def per_language(themes: list[str], records: list[dict], predicted: list[list[str]]) -> dict:
    """score_labels for the items of each language, when the gold set holds more than one."""
    languages = record_languages(records)
    if len(set(languages)) < 2:
        return {}
    return {language: score_labels(themes, [r["labels"] for r, lang in zip(records, languages, strict=True)
                                            if lang == language],
                                   [p for p, lang in zip(predicted, languages, strict=True) if lang == language])
            for language in sorted(set(languages))}


def evaluate_records(classifier: ThemeClassifier, records: list[dict]) -> dict:
    predicted = [p.labels for p in classifier.predict(_texts(records))]
    report = score_labels(classifier.themes, [r["labels"] for r in records], predicted)
    report["model_version"] = classifier.version
    languages = per_language(classifier.themes, records, predicted)
    if languages:
        report["per_language"] = languages
    events = evaluate_events(classifier, records)
    if events:
        report["events"] = events
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
    if report.get("per_language"):
        lines.append("")
        lines.append(f"{'per language':<14}{'items':>7}{'macro-F1':>10}  {'off-topic given a theme':<24}"
                     + "".join(f"{theme[:10]:>11}" for theme in report["per_theme"]))
        for language, m in report["per_language"].items():
            lines.append(f"{language:<14}{m['items']:>7}{m['macro_f1']:>10.3f}  "
                         f"{m['off_topic_false_positive_rate']:>6.1%} of {m['off_topic_items']:<14}"
                         + "".join(f"{x['f1']:>11.3f}" if x["support"] else f"{'-':>11}"
                                   for x in m["per_theme"].values()))
    if report.get("events"):
        lines.append(format_events_report(report["events"]))
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
    names = {"ru": "Russian", "uk": "Ukrainian"}
    for language, name in names.items():
        split = f"dev_{language}"
        if split in metrics:
            lines += table(split, f"**{name} development split (`training/dev_{language}.jsonl`,"
                                  f" {metrics[split]['items']:,} items written for newsmon, never trained on)**")
    lines += [f"Cross-validation on the English training split ({cv['items']:,} items): macro-F1"
              f" {cv['macro_f1']:.3f}, off-topic {cv['off_topic_false_positive_rate']:.1%}. Thresholds: {thresholds};"
              f" gate {card['gate']['threshold']}."]
    if card.get("cyrillic"):
        cyr = card["cyrillic"]
        sizes = ", ".join(f"{names[lang]} {x['examples']:,}" for lang, x in cyr["training_data"]["languages"].items())
        cyr_thresholds = ", ".join(f"{theme} {value}" for theme, value in cyr["thresholds"].items())
        lines += ["", f"Cyrillic model: trained on {cyr['training_data']['examples']:,} items ({sizes});"
                      f" cross-validation macro-F1 {cyr['cross_validation']['macro_f1']:.3f}, off-topic"
                      f" {cyr['cross_validation']['off_topic_false_positive_rate']:.1%}. Thresholds: {cyr_thresholds};"
                      f" gate {cyr['gate']['threshold']}."]
    if card.get("events"):
        lines += ["", *events_figures_markdown(card["events"])]
    return "\n".join(lines)


def events_figures_markdown(events: dict) -> list[str]:
    """The event coder's figures from a model card: triple, main-event, pair and action figures per split, and
    per action on the development split."""
    names = {"end_to_end": "model, its own themes", "gold_themes": "model, gold themes given",
             "keyword_baseline_gold_themes": "keyword rules, gold themes given"}
    titles = {"dev_split": "development split (`training/events_dev.jsonl`, written and coded for newsmon, never"
                           " trained on)",
              "shared_dev": "shared real-news set (`../shared/eval/dev_events.jsonl`, its themed items; measured,"
                            " never trained on)"}
    training = events["training"]
    lines = ["### Events (who did what)", "",
             f"Trained on {training['examples']:,} coded examples ({training['events']:,} events); the gazetteer"
             f" names the gold party of {training['gold_pairs_reachable']:.1%} of the gold (actor, theme) pairs;"
             f" threshold {training['threshold']} (cross-validated triple F1"
             f" {training['cross_validation_triple_f1']:.3f}).",
             ""]
    for split, title in titles.items():
        if split not in events["metrics"]:
            continue
        m = events["metrics"][split]
        lines += [f"**{m['end_to_end']['items']} items of the {title}, {m['end_to_end']['gold_events']} gold events**",
                  "", "| coder | triple P | triple R | triple F1 | main event | pair F1 | action accuracy |",
                  "|---|---|---|---|---|---|---|"]
        for key, name in names.items():
            x = m[key]
            lines.append(f"| {name} | {x['triple']['precision']:.2f} | {x['triple']['recall']:.2f} |"
                         f" **{x['triple']['f1']:.3f}** | {x['main_event_accuracy']:.3f} | {x['pair']['f1']:.3f} |"
                         f" {x['action_accuracy_on_found_pairs']:.3f} |")
        lines.append("")
    dev = events["metrics"].get("dev_split")
    if dev:
        lines += ["Per action on the development split (model, its own themes):", "",
                  "| action | support | precision | recall | F1 |", "|---|---|---|---|---|"]
        for action, x in dev["end_to_end"]["per_action"].items():
            lines.append(f"| {action} | {x['support']} | {x['precision']:.2f} | {x['recall']:.2f} |"
                         f" **{x['f1']:.3f}** |")
        lines.append("")
    return lines


def evaluate_gold(models_dir: Path, version: str, gold: Path, lexicon_only: bool = False,
                  events: Path | None = None) -> dict:
    """`newsmon evaluate`: the model (or its lexicon alone, the baseline) scored against a gold file."""
    classifier = ThemeClassifier.load(models_dir, version)
    scorer = evaluate_lexicon if lexicon_only else evaluate_records
    return scorer(classifier, read_gold(gold, events))


# --- events ------------------------------------------------------------------------------------------------------

def _f1(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_events(gold: list[list], predicted: list[list]) -> dict:
    """EVENTS.md's figures: triple precision/recall/F1, main-event accuracy (the gold main triple is among the
    predicted ones), (actor, theme) pair F1, action accuracy on the pairs both sides found, and F1 per action."""
    from pipeline.classify.events import ACTIONS

    t = {"tp": 0, "fp": 0, "fn": 0}
    pairs = {"tp": 0, "fp": 0, "fn": 0}
    main_hits = main_items = action_right = action_pairs = 0
    per_action = {a: {"tp": 0, "fp": 0, "fn": 0} for a in ACTIONS}
    for g, p in zip(gold, predicted, strict=True):
        g_set, p_set = {tuple(e) for e in g}, {tuple(e) for e in p}
        t["tp"] += len(g_set & p_set)
        t["fp"] += len(p_set - g_set)
        t["fn"] += len(g_set - p_set)
        for a, action, th in p_set:
            per_action[action]["tp" if (a, action, th) in g_set else "fp"] += 1
        for _, action, _ in g_set - p_set:
            per_action[action]["fn"] += 1
        if g:
            main_items += 1
            main_hits += tuple(g[0]) in p_set
        g_pairs = {(a, th): action for a, action, th in g_set}
        p_pairs = {(a, th): action for a, action, th in p_set}
        both = g_pairs.keys() & p_pairs.keys()
        pairs["tp"] += len(both)
        pairs["fp"] += len(p_pairs.keys() - both)
        pairs["fn"] += len(g_pairs.keys() - both)
        action_pairs += len(both)
        action_right += sum(g_pairs[k] == p_pairs[k] for k in both)
    return {
        "items": len(gold), "gold_events": t["tp"] + t["fn"], "predicted_events": t["tp"] + t["fp"],
        "triple": _f1(**t),
        "main_event_accuracy": round(main_hits / main_items, 4) if main_items else 0.0,
        "pair": _f1(**pairs),
        "action_accuracy_on_found_pairs": round(action_right / action_pairs, 4) if action_pairs else 0.0,
        "per_action": {a: {**_f1(**c), "support": c["tp"] + c["fn"]} for a, c in per_action.items()},
    }


def evaluate_events(classifier: ThemeClassifier, records: list[dict]) -> dict:
    """Event figures on the gold items that carry events: with the model's own themes (end to end), with the
    gold themes given, and the keyword rule coder given the gold themes (the baseline)."""
    from pipeline.classify.events import keyword_code

    coded = [r for r in records if isinstance(r.get("events"), list)]
    if not coded or classifier.events is None:
        return {}
    texts = _texts(coded)
    gold = [[list(e) for e in r["events"]] for r in coded]
    end_to_end = [[[e["actor"], e["action"], e["theme"]] for e in p.events] for p in classifier.predict(texts)]
    given = classifier.events.code(texts, [r["labels"] for r in coded])
    given = [[[e.actor, e.action, e.theme] for e in events] for events in given]
    keyword = [keyword_code(text, r["labels"], classifier.events.gazetteer)
               for text, r in zip(texts, coded, strict=True)]
    return {"end_to_end": score_events(gold, end_to_end), "gold_themes": score_events(gold, given),
            "keyword_baseline_gold_themes": score_events(gold, keyword)}


def format_events_report(report: dict) -> str:
    lines = ["", f"events ({report['end_to_end']['items']} items, {report['end_to_end']['gold_events']} gold events)",
             f"{'':<34}{'triple P':>9}{'R':>7}{'F1':>7}{'main':>7}{'pair F1':>9}{'action acc':>11}"]
    names = {"end_to_end": "model, its own themes", "gold_themes": "model, gold themes given",
             "keyword_baseline_gold_themes": "keyword rules, gold themes given"}
    for key, name in names.items():
        m = report[key]
        lines.append(f"{name:<34}{m['triple']['precision']:>9.3f}{m['triple']['recall']:>7.3f}"
                     f"{m['triple']['f1']:>7.3f}{m['main_event_accuracy']:>7.3f}{m['pair']['f1']:>9.3f}"
                     f"{m['action_accuracy_on_found_pairs']:>11.3f}")
    lines.append(f"{'per action (model, own themes)':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for action, m in report["end_to_end"]["per_action"].items():
        lines.append(f"  {action:<20}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9}")
    return "\n".join(lines)
