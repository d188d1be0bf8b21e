"""Train the event coder (pipeline.classify.events) from coded examples, with its threshold by cross-validation.

Examples are JSON Lines with title, summary, labels (themes) and events ([[actor, action, theme], ...], main
first). Training reads each example's gold themes, so the coder learns who did what, not which themes apply.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline

from pipeline.classify.events import (
    ACTIONS,
    ACTORS,
    CodedNeighbours,
    EventCoder,
    Gazetteer,
    candidate_features,
    read_text,
    select,
)
from pipeline.classify.model import record_text

DEFAULT_EVENT_PARAMS = {
    "neighbours": 20,  # coded training articles read per candidate (0: none)
    "pair_C": 0.2,
    "action_C": 0.5,
    "threshold_folds": 5,
    "threshold_grid": [round(x, 2) for x in np.arange(0.05, 0.71, 0.01)],
}


def validate_events(records: list[dict], where: str) -> None:
    for r in records:
        events = r.get("events")
        if not isinstance(events, list) or len(events) > 3:
            raise ValueError(f"train: {where}: {r.get('id')}: 'events' must be a list of at most 3 triples")
        for event in events:
            actor, action, theme = event
            if actor not in ACTORS or action not in ACTIONS or theme not in r["labels"]:
                raise ValueError(f"train: {where}: {r.get('id')}: bad event {event} (labels {r['labels']})")


def candidate_rows(records: list[dict], gazetteer: Gazetteer, neighbours: CodedNeighbours | None = None):
    """Per candidate: features, whether it is a gold pair, its gold action (or None), and its record's index.
    With `neighbours` fitted on these very records, each reads its nearest others (never itself)."""
    texts = [record_text(r) for r in records]
    nearest = neighbours.nearest(texts, leave_out=list(range(len(records)))) if neighbours is not None else None
    rows, is_pair, actions, owner = [], [], [], []
    for i, r in enumerate(records):
        reading = read_text(texts[i], gazetteer)
        gold = {(a, t): act for a, act, t in r["events"]}
        for theme in r["labels"]:
            for actor in reading.order + ["other"]:
                row = candidate_features(reading, actor, theme)
                if nearest is not None:
                    row.update(neighbours.features(nearest[i], actor, theme))
                rows.append(row)
                is_pair.append((actor, theme) in gold)
                actions.append(gold.get((actor, theme)))
                owner.append((i, actor, theme))
    return rows, np.array(is_pair), actions, owner


def fit_models(rows, is_pair, actions, params: dict, seed: int):
    pair_model = Pipeline([
        ("vec", DictVectorizer()),
        ("clf", CalibratedClassifierCV(LogisticRegression(C=params["pair_C"], max_iter=3000, random_state=seed),
                                       method="sigmoid", cv=3, ensemble=False)),
    ])
    pair_model.fit(rows, is_pair)
    positives = [k for k, a in enumerate(actions) if a is not None]
    action_model = Pipeline([
        ("vec", DictVectorizer()),
        ("clf", LogisticRegression(C=params["action_C"], max_iter=3000, random_state=seed)),
    ])
    action_model.fit([rows[k] for k in positives], [actions[k] for k in positives])
    return pair_model, action_model


def choose_threshold(records, rows, owner, pair_p, action_p, classes, grid) -> tuple[float, float]:
    """The threshold with the best triple F1 on out-of-fold scores."""
    best_action = action_p.argmax(axis=1)
    scores = pair_p * action_p[np.arange(len(rows)), best_action]
    by_record: dict[int, list[tuple[float, int]]] = {}
    for r, (i, _, _) in enumerate(owner):
        by_record.setdefault(i, []).append((float(scores[r]), r))
    gold = {i: {tuple(e) for e in rec["events"]} for i, rec in enumerate(records)}
    best = (-1.0, grid[0])
    for threshold in grid:
        tp = fp = fn = 0
        for i, scored in by_record.items():
            chosen = select(scored, [owner[r][1:] for _, r in scored], threshold)
            predicted = {(owner[r][1], classes[best_action[r]], owner[r][2]) for _, r in chosen}
            tp += len(predicted & gold[i])
            fp += len(predicted - gold[i])
            fn += len(gold[i] - predicted)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best[0] + 1e-9:
            best = (f1, threshold)
    return best[1], best[0]


def train_event_coder(records: list[dict], aliases: dict[str, list[str]], seed: int,
                      params: dict | None = None) -> tuple[EventCoder, dict]:
    """Fit on every record; the threshold comes from a K-fold cross-validation of both models on them."""
    params = {**DEFAULT_EVENT_PARAMS, **(params or {})}
    validate_events(records, "events training data")
    gazetteer = Gazetteer(aliases)
    # Leave-one-out neighbours: every record reads the codes of the others, as a new article reads them all;
    # the cross-validation below measures the coder with them.
    neighbours = CodedNeighbours.fit([record_text(r) for r in records], [r["events"] for r in records],
                                     params["neighbours"]) if params["neighbours"] else None
    rows, is_pair, actions, owner = candidate_rows(records, gazetteer, neighbours)
    gold_pairs = sum(len({(a, t) for a, _, t in r["events"]}) for r in records)
    reachable = int(is_pair.sum())

    folds = KFold(n_splits=params["threshold_folds"], shuffle=True, random_state=seed)
    record_of_row = np.array([i for i, _, _ in owner])
    pair_p = np.zeros(len(rows))
    action_p = np.zeros((len(rows), len(ACTIONS)))
    classes = list(ACTIONS)
    for train_idx, test_idx in folds.split(np.arange(len(records))):
        train_rows = np.flatnonzero(np.isin(record_of_row, train_idx))
        test_rows = np.flatnonzero(np.isin(record_of_row, test_idx))
        pm, am = fit_models([rows[k] for k in train_rows], is_pair[train_rows], [actions[k] for k in train_rows],
                            params, seed)
        test_features = [rows[k] for k in test_rows]
        pair_p[test_rows] = pm.predict_proba(test_features)[:, 1]
        fold_classes = [str(c) for c in am.named_steps["clf"].classes_]
        probabilities = am.predict_proba(test_features)
        for j, c in enumerate(fold_classes):
            action_p[test_rows, classes.index(c)] = probabilities[:, j]
    threshold, cv_f1 = choose_threshold(records, rows, owner, pair_p, action_p, classes, params["threshold_grid"])

    pair_model, action_model = fit_models(rows, is_pair, actions, params, seed)
    coder = EventCoder(pair_model, action_model, aliases, threshold, neighbours)
    report = {
        "examples": len(records), "events": sum(len(r["events"]) for r in records), "candidates": len(rows),
        "gold_pairs_reachable": round(reachable / gold_pairs, 4) if gold_pairs else 0.0,
        "threshold": threshold, "cross_validation_triple_f1": round(cv_f1, 4), "params": params,
    }
    return coder, report
