"""modelops: the rule that decides whether a retrained model replaces the current one."""

from __future__ import annotations

from pipeline.classify.modelops import is_not_worse


def report(macro: float, false_positives: float) -> dict:
    return {"macro_f1": macro, "off_topic_false_positive_rate": false_positives}


def test_a_candidate_as_good_or_better_on_every_gold_set_is_not_worse():
    current = {"dev.jsonl": report(0.90, 0.02), "dev_ru_uk.jsonl": report(0.95, 0.0)}
    candidate = {"dev.jsonl": report(0.898, 0.02), "dev_ru_uk.jsonl": report(0.97, 0.0)}  # within tolerance
    assert is_not_worse(candidate, current) == (True, [])


def test_more_false_alarms_than_the_f1_gained_or_a_drop_on_any_gold_set_is_worse():
    current = {"dev.jsonl": report(0.90, 0.02), "dev_ru_uk.jsonl": report(0.95, 0.0)}
    ok, reasons = is_not_worse({"dev.jsonl": report(0.91, 0.05), "dev_ru_uk.jsonl": report(0.90, 0.0)}, current)
    assert not ok and len(reasons) == 2
    assert reasons[0].startswith("dev.jsonl:") and reasons[1].startswith("dev_ru_uk.jsonl:")
    ok, reasons = is_not_worse({"dev.jsonl": report(0.95, 0.0)}, current)
    assert not ok and reasons == ["dev_ru_uk.jsonl: the candidate was not measured on it"]


def test_a_model_that_labels_nothing_does_not_win_on_its_empty_false_alarm_rate():
    labels_nothing = {"dev.jsonl": report(0.0, 0.0)}
    assert is_not_worse({"dev.jsonl": report(0.90, 0.02)}, labels_nothing) == (True, [])
    assert is_not_worse(labels_nothing, {"dev.jsonl": report(0.90, 0.02)})[0] is False
