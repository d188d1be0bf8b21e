"""modelops: the rule that decides whether a retrained model replaces the current one."""

from __future__ import annotations

from pipeline.modelops import is_not_worse


def report(macro: float, false_positives: float) -> dict:
    return {"macro_f1": macro, "off_topic_false_positive_rate": false_positives}


def test_a_candidate_as_good_or_better_on_every_gold_set_is_not_worse():
    current = {"dev.jsonl": report(0.90, 0.02), "dev_ru_uk.jsonl": report(0.95, 0.0)}
    candidate = {"dev.jsonl": report(0.898, 0.02), "dev_ru_uk.jsonl": report(0.97, 0.0)}  # within tolerance
    assert is_not_worse(candidate, current) == (True, [])


def test_a_drop_in_macro_f1_or_more_false_alarms_on_any_gold_set_is_worse():
    current = {"dev.jsonl": report(0.90, 0.02), "dev_ru_uk.jsonl": report(0.95, 0.0)}
    ok, reasons = is_not_worse({"dev.jsonl": report(0.95, 0.05), "dev_ru_uk.jsonl": report(0.90, 0.0)}, current)
    assert not ok and len(reasons) == 2
    assert any("off-topic" in r and "dev.jsonl" in r for r in reasons) and any("dev_ru_uk" in r for r in reasons)
    ok, reasons = is_not_worse({"dev.jsonl": report(0.95, 0.0)}, current)
    assert not ok and reasons == ["dev_ru_uk.jsonl: the candidate was not measured on it"]
