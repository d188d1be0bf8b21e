"""alerts.yaml: the issue's example reads as written; every bad channel or rule is one line naming it and its field,
and the rest still load; a file that cannot be read at all is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.alerts.rules import AlertRulesError, load_config, parse_config, taxonomy
from pipeline.core.config import REPO_ROOT

MODELS = REPO_ROOT / "models"
KNOWN = taxonomy(MODELS)

ISSUE_EXAMPLE = """
channels:
  desk: {webhook: "https://hooks.example.org/T1"}
  me: {email: ["analyst@example.org"]}
rules:
  - {name: ceasefire-spike, spike: {theme: ceasefire}, channels: [desk, me]}
  - {name: russia-agrees, event: {actor: russia, action: agree, theme: ceasefire}, min_outlets: 2, channels: [desk]}
"""


def parse(text: str):
    return parse_config(text, Path("alerts.yaml"), KNOWN)


def test_the_issue_example_reads_as_written():
    config = parse(ISSUE_EXAMPLE)
    assert config.problems == [] and config.invalid_rules == []
    spike, event = config.rules
    assert (spike.kind, spike.spike.theme, spike.spike.measure, spike.channels) == \
        ("spike", "ceasefire", "both", ["desk", "me"])
    assert (event.kind, event.event.actor, event.event.action, event.event.theme, event.outlets_needed) == \
        ("event", "russia", "agree", "ceasefire", 2)
    assert config.channels["desk"].kind == "webhook" and config.channels["me"].email == ["analyst@example.org"]
    assert event.describe() == "event actor=russia action=agree theme=ceasefire, 2+ outlet(s)"


def test_each_bad_rule_is_one_line_naming_it_and_its_field_and_the_others_load():
    config = parse("""
quiet_minutes: 10
channels:
  desk: {webhook: "https://hooks.example.org/T1"}
  ftp: {webhook: "ftp://hooks.example.org/T1"}
  both: {webhook: "https://a.example/", email: a@b.example}
rules:
  - {name: good-spike, spike: {theme: ceasefire}, channels: [desk]}
  - {name: typo-actor, event: {actor: rusia, action: agree}, channels: [desk]}
  - {name: no-such-channel, spike: {theme: ceasefire}, channels: [pager]}
  - {name: bad-channel, spike: {theme: ceasefire}, channels: [ftp]}
  - {name: two-kinds, spike: {theme: ceasefire}, event: {actor: russia}, channels: [desk]}
  - {name: unknown-field, spike: {theme: ceasefire, treshold: 3}, channels: [desk]}
  - {name: empty-event, event: {}, channels: [desk]}
  - {name: good-spike, spike: {theme: sanctions}, channels: [desk]}
  - {name: small-story, story: {outlets: 1, within_hours: 6}, channels: [desk]}
  - {name: long-quiet, spike: {theme: sanctions}, channels: [desk], quiet_minutes: 100000}
  - {name: outlets-on-spike, spike: {theme: sanctions}, min_outlets: 2, channels: [desk]}
  - {spike: {theme: ceasefire}, channels: [desk]}
  - just words
  - {name: good-story, story: {outlets: 3, within_hours: 6, theme: ceasefire}, channels: [desk], quiet_minutes: 30}
""")
    assert [r.name for r in config.rules] == ["good-spike", "good-story"]
    assert config.quiet_for(config.rules[0]) == 10 and config.quiet_for(config.rules[1]) == 30
    lines = [str(p) for p in config.problems]
    assert lines == [
        "channel 'ftp': webhook: a webhook is an http(s) URL, not 'ftp://hooks.example.org/T1'",
        "channel 'both': (rule): give exactly one of webhook, email, file (got webhook, email)",
        "rule 'typo-actor' (#2): event.actor: unknown actor 'rusia' (known: russia, ukraine, united_states, "
        "europe, united_kingdom, france, germany, nato, turkey, china, other)",
        "rule 'no-such-channel' (#3): channels: unknown channel(s) 'pager' (defined: desk, both, ftp)",
        "rule 'bad-channel' (#4): channels: channel 'ftp' is invalid (webhook: a webhook is an http(s) URL, "
        "not 'ftp://hooks.example.org/T1')",
        "rule 'two-kinds' (#5): (rule): give exactly one of spike, event, story (got spike, event)",
        "rule 'unknown-field' (#6): spike.treshold: unknown field",
        "rule 'empty-event' (#7): event: give at least one of actor, action, theme",
        "rule 'good-spike' (#8): name: 'good-spike' is already the name of an earlier rule",
        "rule 'small-story' (#9): story.outlets: Input should be greater than or equal to 2",
        "rule 'long-quiet' (#10): quiet_minutes: Input should be less than or equal to 1440",
        "rule 'outlets-on-spike' (#11): (rule): min_outlets is for event rules (story rules say story.outlets)",
        "rule #12: name: Field required",
        "rule #13: expected a mapping, got str",
    ]
    assert config.invalid_rules[-2:] == ["#12", "#13"]


@pytest.mark.parametrize(("text", "message"), [
    ("channels: [unclosed", "not valid YAML"),
    ("- a list", "expected a mapping with channels and rules"),
    ("rules: {a: 1}", "rules must be a list"),
    ("channels: [a, b]", "channels must be a mapping"),
    ("rule: []", "unknown top-level key(s) rule"),
    ("quiet_minutes: -5", "quiet_minutes must be a whole number"),
])
def test_a_file_that_cannot_be_read_is_one_clear_error(text, message):
    with pytest.raises(AlertRulesError, match="^alerts: alerts.yaml: ") as caught:
        parse(text)
    assert message in str(caught.value)


def test_no_file_means_no_rules_and_an_empty_file_too(tmp_path):
    assert load_config(tmp_path / "missing.yaml", MODELS).rules == []
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert load_config(tmp_path / "empty.yaml", MODELS).rules == []


def test_the_shipped_alerts_yaml_is_valid_and_reaches_nothing_beyond_this_machine():
    """The repository's example runs with `make demo`: every active channel is a local file, no hook or mail."""
    config = load_config(REPO_ROOT / "alerts.yaml", MODELS)
    assert config.problems == [] and config.rules
    assert {c.kind for c in config.channels.values()} == {"file"}
    commented = [line for line in (REPO_ROOT / "alerts.yaml").read_text().splitlines() if line.lstrip().startswith("#")]
    assert any("webhook:" in line for line in commented) and any("email:" in line for line in commented)
