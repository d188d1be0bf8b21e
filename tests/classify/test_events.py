"""events: who did what, from the gazetteer to the shipped coder, the classify and evaluate contracts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.classify.evaluate import read_gold, score_events
from pipeline.classify.events import (
    ACTIONS,
    ACTORS,
    Gazetteer,
    keyword_code,
    load_gazetteer,
    read_text,
)
from pipeline.classify.model import ThemeClassifier, article_text
from pipeline.core.config import REPO_ROOT

MODELS = REPO_ROOT / "models"
NEWSMON = [sys.executable, "-m", "pipeline.cli"]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(MODELS)


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier.load(MODELS)


def actors_named(text: str, gazetteer: Gazetteer) -> list[str]:
    return read_text(text, gazetteer).order


def test_gazetteer_names_parties_in_english_russian_and_ukrainian(gazetteer):
    assert actors_named("Kremlin's envoy rejects Kyiv plan", gazetteer) == ["russia", "ukraine"]
    assert actors_named("Кремль отверг предложение Зеленского о перемирии", gazetteer) == ["russia", "ukraine"]
    assert actors_named("Зеленський закликав Трампа посилити санкції", gazetteer) == ["ukraine", "united_states"]
    assert actors_named("Erdogan offers Istanbul for talks; Wang Yi calls for restraint", gazetteer) == \
        ["turkey", "china"]


def test_capitalised_aliases_match_only_as_written(gazetteer):
    assert actors_named("US rules out troops", gazetteer) == ["united_states"]
    assert actors_named("Analysts told us the truce is fragile", gazetteer) == []  # the pronoun is nobody
    assert actors_named("The bloc blocked the plan", gazetteer) == ["europe"]  # 'blocked' is not 'bloc'


def test_the_headline_ends_at_the_first_sentence_end_not_at_an_abbreviation(gazetteer):
    reading = read_text("U.S. envoy meets Putin. Ukraine was not at the table", gazetteer)
    headline = reading.tokens[:reading.head_end]
    assert headline == ["U.S", "envoy", "meets", "Putin"]
    assert [m.actor for m in reading.mentions if m.start >= reading.head_end] == ["ukraine"]


def test_a_themed_article_without_a_named_party_gets_actor_other_never_an_error(classifier):
    text = "Truce hopes fade after another night of heavy shelling. Residents said nobody believed in a pause."
    events = classifier.events.code([text, ""], [["ceasefire"], ["sanctions"]])
    assert events[0] and {e.actor for e in events[0]} == {"other"} and events[0][0].theme == "ceasefire"
    assert events[1] and events[1][0].actor == "other"  # even an empty text with a theme


def test_events_respect_the_scheme(classifier):
    texts = ["Kremlin rejects Zelensky's offer of an energy truce. Peskov said Moscow saw no basis for a pause.",
             "EU adopts 19th sanctions package against Russia's shadow fleet",
             "Manchester City beat Arsenal 2-1"]
    predictions = classifier.predict(texts)
    assert predictions[2].labels == [] and predictions[2].events == []
    for p in predictions[:2]:
        assert p.labels and 1 <= len(p.events) <= 3
        scores = [e["score"] for e in p.events]
        assert scores == sorted(scores, reverse=True)  # main event first
        assert len({(e["actor"], e["theme"]) for e in p.events}) == len(p.events)  # one per (actor, theme)
        for e in p.events:
            assert e["actor"] in ACTORS and e["action"] in ACTIONS and e["theme"] in p.labels
            assert 0 < e["score"] <= 1 and set(e["evidence"]) == {"actor", "action"}
    first = predictions[0].events[0]
    assert (first["actor"], first["theme"]) == ("russia", "ceasefire")
    assert first["evidence"]["actor"][0] == "Kremlin"  # the words as written
    sanctions = predictions[1].events[0]
    assert (sanctions["actor"], sanctions["action"], sanctions["theme"]) == ("europe", "enact", "sanctions")


def test_classify_command_writes_events_main_first(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": 1, "title": "Putin rejects ceasefire proposal from Washington",
                                  "summary": "The Kremlin said a truce would only help Kyiv rearm."}) + "\n"
                      + json.dumps({"id": 2, "title": "Local bakery wins award", "summary": ""}) + "\n")
    out = subprocess.run([*NEWSMON, "classify", str(source)], capture_output=True, text=True, check=True).stdout
    first, second = (json.loads(line) for line in out.splitlines())
    assert list(first) == ["id", "labels", "scores", "evidence", "events", "model_version"]
    assert "ceasefire" in first["labels"] and first["events"][0]["actor"] == "russia"
    assert first["events"][0]["action"] == "reject"
    assert second["labels"] == [] and second["events"] == []


def test_event_scores_follow_the_scheme_definitions():
    gold = [[["russia", "reject", "ceasefire"], ["ukraine", "propose", "ceasefire"]],
            [["europe", "enact", "sanctions"]],
            [["united_states", "meet", "negotiations"]]]
    predicted = [[["russia", "reject", "ceasefire"]],
                 [["europe", "propose", "sanctions"], ["other", "other", "sanctions"]],
                 []]
    report = score_events(gold, predicted)
    assert report["triple"] == {"precision": round(1 / 3, 4), "recall": 0.25, "f1": round(2 / 7, 4)}
    assert report["main_event_accuracy"] == round(1 / 3, 4)
    assert report["pair"]["precision"] == round(2 / 3, 4) and report["pair"]["recall"] == 0.5
    assert report["action_accuracy_on_found_pairs"] == 0.5  # russia/ceasefire right, europe/sanctions wrong
    assert report["per_action"]["reject"]["f1"] == 1.0 and report["per_action"]["meet"]["support"] == 1


def test_keyword_rule_coder_takes_the_first_party_and_the_first_action_word(gazetteer):
    assert keyword_code("Moscow rejects plan, Kyiv proposes talks", ["ceasefire", "negotiations"], gazetteer) == \
        [("russia", "reject", "ceasefire"), ("russia", "reject", "negotiations")]
    assert keyword_code("Shelling goes on", ["ceasefire"], gazetteer) == [("other", "other", "ceasefire")]


def test_evaluate_reports_event_figures_when_the_gold_carries_events(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "title": "Kremlin rejects 30-day ceasefire offer", "summary": "", "labels": ["ceasefire"],
         "events": [["russia", "reject", "ceasefire"]]},
        {"id": "b", "title": "Football: late goal settles derby", "summary": "", "labels": [], "events": []},
    ]) + "\n")
    out = subprocess.run([*NEWSMON, "evaluate", "--gold", str(gold), "--json", str(tmp_path / "r.json")],
                         capture_output=True, text=True, check=True).stdout
    assert "events (2 items, 1 gold events)" in out and "keyword rules, gold themes given" in out
    report = json.loads((tmp_path / "r.json").read_text())["events"]
    assert set(report) == {"end_to_end", "gold_themes", "keyword_baseline_gold_themes"}
    assert report["gold_themes"]["triple"]["f1"] == 1.0 and report["gold_themes"]["main_event_accuracy"] == 1.0


def test_shared_event_codes_join_the_gold_items_by_id(tmp_path):
    gold, codes = tmp_path / "gold.jsonl", tmp_path / "codes.jsonl"
    gold.write_text(json.dumps({"id": "x", "title": "t", "labels": ["sanctions"]}) + "\n"
                    + json.dumps({"id": "y", "title": "u", "labels": []}) + "\n")
    codes.write_text(json.dumps({"id": "x", "events": [["europe", "enact", "sanctions"]]}) + "\n")
    records = read_gold(gold, codes)
    assert records[0]["events"] == [["europe", "enact", "sanctions"]] and "events" not in records[1]


def test_the_shipped_coder_beats_the_keyword_rules_on_the_development_split(classifier):
    card = classifier.card["events"]["metrics"]["dev_split"]
    assert card["gold_themes"]["triple"]["f1"] > card["keyword_baseline_gold_themes"]["triple"]["f1"] + 0.15
    records = read_gold(MODELS / "training" / "events_dev.jsonl")[:60]
    texts = [article_text(r["title"], r["summary"]) for r in records]
    coded = classifier.events.code(texts, [r["labels"] for r in records])
    model = score_events([r["events"] for r in records], [[[e.actor, e.action, e.theme] for e in c] for c in coded])
    keyword = [keyword_code(t, r["labels"], classifier.events.gazetteer) for t, r in zip(texts, records, strict=True)]
    rules = score_events([r["events"] for r in records], keyword)
    assert model["triple"]["f1"] > rules["triple"]["f1"]


def test_coded_neighbours_leave_a_training_article_out_and_read_what_similar_ones_coded():
    from pipeline.classify.events import CodedNeighbours

    texts = ["Kremlin rejects truce offer from Kyiv. Moscow said the pause would help Ukraine rearm.",
             "Kremlin rejects energy truce offer. Peskov said strikes would go on.",
             "EU adopts new sanctions package on Russian oil. The Council agreed the measures on Friday.",
             "Kremlin rejects Easter truce offer. The Kremlin said no order had been given."]
    events = [[["russia", "reject", "ceasefire"]], [["russia", "reject", "ceasefire"]],
              [["europe", "enact", "sanctions"]],
              [["russia", "reject", "ceasefire"], ["ukraine", "propose", "ceasefire"]]]
    neighbours = CodedNeighbours.fit(texts, events, k=2)

    [own] = neighbours.nearest(texts[:1], leave_out=[0])
    assert [j for j, _ in own] == [1, 3] and own[0][1] >= own[1][1] > 0  # itself left out, most similar first
    features = neighbours.features(own, "russia", "ceasefire")
    assert features == {"knn_pair": 1.0, "knn_act:reject": 1.0}
    ukraine = neighbours.features(own, "ukraine", "ceasefire")
    assert 0 < ukraine["knn_pair"] < 1 and ukraine["knn_act:propose"] == 1.0
    assert neighbours.features(own, "europe", "sanctions") == {"knn_pair": 0.0}
    [unrelated] = neighbours.nearest(["Football cup final ends in penalties"])
    assert neighbours.features(unrelated, "russia", "ceasefire") == {}  # no similar article: nothing to read


def test_the_shipped_coder_reads_its_neighbours_the_same_after_saving_and_loading(classifier):
    coder = classifier.events
    assert coder.neighbours is not None and coder.neighbours.k == 20
    text = "Kremlin rejects 30-day truce offer. Peskov said Moscow would not pause its offensive."
    [nearest] = coder.neighbours.nearest([text])
    assert len(nearest) == 20 and all(s > 0 for _, s in nearest)
    fast = coder.neighbours.vectorizer.transform([text]).toarray()
    assert abs(fast - coder.neighbours._fast.transform([text]).toarray()).max() < 1e-12
