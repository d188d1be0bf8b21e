"""alerts check: the demo feeds loaded with their calendar moved so that the ceasefire spike is recent (receivers.py)
produce a spike and a watched event; each alert reaches a real webhook receiver and a real SMTP server once, with
its stories and evidence, and a second check, a replay, a reclassification, a crash or a restart never sends it
again. The checks pass `now` = the midnight the moved demo ends at, so what fires does not depend on the hour."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from email import policy

import pytest
import yaml
from conftest import make_settings
from receivers import WebhookReceiver, build_demo_feeds, today_midnight

from pipeline.alerts.check import check_alerts, ledger_for
from pipeline.classify.model import current_version
from pipeline.core.config import Settings
from pipeline.ingest.cycle import replay, run_cycle
from pipeline.ops.demo import demo_feeds
from pipeline.ops.feedserver import serve_directory
from pipeline.warehouse.query import run_query
from pipeline.warehouse.readpath import rebuild

SPIKE = {"name": "ceasefire-spike", "spike": {"theme": "ceasefire"}}
RUSSIA_AGREES = {"name": "russia-agrees", "event": {"actor": "russia", "action": "agree", "theme": "ceasefire"},
                 "min_outlets": 2}


@pytest.fixture(scope="module")
def anchor():
    return today_midnight()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, anchor) -> Settings:
    """One ingest of the moved demo feeds (its raw bodies kept, for the replay); tests work on copies."""
    root = tmp_path_factory.mktemp("alerts-demo")
    build_demo_feeds(root / "feeds", anchor)
    with serve_directory(root / "feeds") as base_url:
        # The English outlets: the counts below are theirs (the Russian and Ukrainian demo outlets add stories
        # of their own, which tests/digest and tests/warehouse cover).
        english = [feed for feed in demo_feeds(base_url) if feed.language not in ("ru", "uk")]
        settings = make_settings(root, english, run_workers=1)
        run_cycle(settings)
    return settings


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def settings(tmp_path, loaded) -> Settings:
    """A copy of the loaded home (warehouse and raw bodies); webhooks may reach 127.0.0.1 and nothing else private."""
    settings = make_settings(tmp_path, allow_private_networks=False, allowed_addresses=["127.0.0.1"],
                             alerts_retry_backoff_s=0.01, run_workers=1)
    settings.ensure_home()
    shutil.copyfile(loaded.warehouse_path, settings.warehouse_path)
    shutil.copytree(loaded.raw_dir, settings.raw_dir, dirs_exist_ok=True)
    rebuild(settings.warehouse_path, settings.home)
    return settings


def write_rules(settings: Settings, channels: dict, rules: list[dict], **top) -> None:
    settings.alerts_path.write_text(yaml.safe_dump({**top, "channels": channels, "rules": rules}, sort_keys=False))


def ledger_rows(settings: Settings) -> list[tuple]:
    return sorted((r["rule"], r["key"], r["channel"], r["state"]) for r in ledger_for(settings).rows())


def test_the_demo_spike_and_a_watched_event_reach_webhook_and_email_once_with_stories_and_evidence(
        settings, webhook, smtp_sink, anchor):
    settings = smtp_sink.configure(settings)
    both = ["desk", "me"]
    write_rules(settings, {"desk": {"webhook": webhook.url()}, "me": {"email": ["analyst@newsmon.test"]}},
                [{**SPIKE, "channels": both}, {**RUSSIA_AGREES, "channels": both}])
    spike_days = [(anchor - timedelta(days=n)).date().isoformat() for n in (2, 1)]

    counts = check_alerts(settings, now=anchor)
    assert counts == {"rules": 2, "invalid_rules": 0, "alerts": 4, "sent": 8, "failed": 0, "messages": 4,
                      "already_sent": 0, "held": 0, "stuck": 0}

    # The spike: one message holding both spike days (the demo's 2026-11-15 and -16), widest stories first.
    [spike] = webhook.bodies("ceasefire-spike")
    assert [a["key"] for a in spike["alerts"]] == [f"spike:ceasefire:{d}" for d in spike_days]
    first = spike["alerts"][0]
    assert first["title"] == f"Ceasefire spike on {spike_days[0]}: 33 articles in 7 outlets, 1.0 a day before (z 23.6)"
    [measure] = first["evidence"]["measures"]
    assert (measure["measure"], measure["articles"], measure["baseline_windows"], measure["z"]) == \
        ("day", 33, 14, 23.551)
    assert first["evidence"]["terms"] and len(first["stories"]) == 5
    outlets = [len(s["outlets"]) for s in first["stories"]]
    assert outlets == sorted(outlets, reverse=True) and outlets[0] >= 2
    assert all(s["headline"] and s["url"].startswith("https://") for s in first["stories"])
    assert first["digest_url"] == (settings.digests_dir / spike_days[0] / "digest.html").resolve().as_uri()
    # The second day spiked by day and in the 24 hours ending at the anchor: one alert, both measures as evidence.
    assert [m["measure"] for m in spike["alerts"][1]["evidence"]["measures"]] == ["day", "rolling"]

    # The watched event: two outlets reported Russia agreeing to a ceasefire, in two differently worded stories.
    [event] = webhook.bodies("russia-agrees")
    headlines = sorted(a["stories"][0]["headline"] for a in event["alerts"])
    assert headlines == ["Energy stocks and power futures react as Moscow agrees to 30-day truce",
                         "Kremlin accepts energy moratorium, Black Sea pause still pending"]
    for alert in event["alerts"]:
        evidence = alert["evidence"]
        assert evidence["event"]["actor"] == "russia" and evidence["event"]["action"] == "agree"
        assert evidence["outlets_reporting"] == 2 and evidence["min_outlets"] == 2
        assert evidence["actor_words"] and evidence["action_words"]
        assert alert["title"].startswith("Russia agreed (Ceasefire): ")
    text = event["text"]
    assert "newsmon alert: russia-agrees (event actor=russia action=agree theme=ceasefire, 2+ outlet(s))" in text
    assert "2 outlet(s) reported it in the window (rule: 2+): " in text and "digest of " in text

    # The same alerts by e-mail, one message per rule, with the same stories and evidence.
    assert len(smtp_sink.received) == 2
    mails = {m["X-Newsmon-Rule"]: m for m in (email.message_from_bytes(e.original_content, policy=policy.default)
                                               for e in smtp_sink.received)}
    assert all(e.rcpt_tos == ["analyst@newsmon.test"] for e in smtp_sink.received)
    assert mails["ceasefire-spike"]["Subject"].startswith(f"newsmon alert: ceasefire-spike: Ceasefire spike on "
                                                          f"{spike_days[0]}")
    assert mails["ceasefire-spike"]["Subject"].endswith("(+1 more)")
    body = mails["russia-agrees"].get_content()
    assert all(h in body for h in headlines) and "action words: " in body

    # A second check, and one an hour later, send nothing: every delivery is in the ledger as sent.
    for later in (anchor, anchor + timedelta(hours=1)):
        again = check_alerts(settings, now=later)
        assert again["sent"] == 0 and again["messages"] == 0 and again["already_sent"] >= 6
    assert len(webhook.received) == 2 and len(smtp_sink.received) == 2
    assert {state for *_, state in ledger_rows(settings)} == {"sent"} and len(ledger_rows(settings)) == 8


def test_a_replay_and_a_reclassification_send_nothing_again(settings, webhook, anchor):
    from pipeline.classify.reclassify import reclassify

    write_rules(settings, {"desk": {"webhook": webhook.url()}},
                [{**SPIKE, "channels": ["desk"]}, {**RUSSIA_AGREES, "channels": ["desk"]},
                 {"name": "wide", "story": {"outlets": 2, "within_hours": 6, "theme": "ceasefire"},
                  "channels": ["desk"]}])
    first = check_alerts(settings, now=anchor)
    assert first["sent"] == first["alerts"] >= 6 and first["messages"] == 3
    before = ledger_rows(settings)

    fetch_days = sorted(date.fromisoformat(p.name) for p in settings.raw_dir.iterdir())
    replayed = replay(settings, fetch_days[0], fetch_days[-1])
    assert replayed["raw_bodies"] > 0 and replayed["articles_new"] == 0
    other = next(card.parent.name for card in sorted(settings.models_dir.glob("*/model_card.json"))
                 if card.parent.name != current_version(settings.models_dir))
    relabelled = reclassify(settings, other, (anchor - timedelta(days=4)).date(), anchor.date())
    assert relabelled["articles_classified"] > 0

    second = check_alerts(settings, now=anchor)
    assert second["sent"] == 0 and second["already_sent"] == first["sent"]
    assert ledger_rows(settings) == before and len(webhook.received) == 3


def test_a_webhook_to_a_forbidden_address_is_refused_and_sent_once_it_is_allowed(settings, webhook, anchor):
    write_rules(settings, {"desk": {"webhook": webhook.url()}}, [{**SPIKE, "channels": ["desk"]}])
    strict = Settings(**{**settings.model_dump(), "allowed_addresses": []})
    refused = check_alerts(strict, now=anchor)
    assert (refused["failed"], refused["sent"]) == (2, 0) and webhook.attempts == []  # no connection at all
    rows = ledger_for(settings).rows()
    assert {r["state"] for r in rows} == {"failed"}
    assert "resolves to non-public 127.0.0.1" in rows[0]["last_error"] and "secret-token" not in rows[0]["last_error"]

    allowed = check_alerts(settings, now=anchor)  # failed deliveries are claimed again by the next check
    assert (allowed["sent"], allowed["messages"], allowed["failed"]) == (2, 1, 0)
    assert len(webhook.received) == 1 and {r["attempts"] for r in ledger_for(settings).rows()} == {2}


def test_a_failing_webhook_is_retried_within_the_check_then_at_the_next_check_and_arrives_once(
        settings, webhook, anchor):
    write_rules(settings, {"desk": {"webhook": webhook.url()}}, [{**RUSSIA_AGREES, "channels": ["desk"]}])
    webhook.script = [503, 503, 503]  # every try of the first check fails
    first = check_alerts(settings, now=anchor)
    assert (first["failed"], first["sent"]) == (2, 0) and len(webhook.attempts) == 3
    webhook.script = [502]  # the next check: one more failure, then the retry inside the check succeeds
    second = check_alerts(settings, now=anchor)
    assert (second["failed"], second["sent"], second["messages"]) == (0, 2, 1)
    assert len(webhook.received) == 1 and len(webhook.received[0]["body"]["alerts"]) == 2
    assert check_alerts(settings, now=anchor)["sent"] == 0 and len(webhook.received) == 1


def test_a_delivery_claimed_by_a_check_that_died_is_reported_and_never_resent(settings, webhook, anchor):
    write_rules(settings, {"desk": {"webhook": webhook.url()}}, [{**SPIKE, "channels": ["desk"]}])
    died_on = f"spike:ceasefire:{(anchor - timedelta(days=1)).date()}"
    claimed = ledger_for(settings).claim("ceasefire-spike", "desk", [(died_on, "claimed, then the process died",
                                                                       "x")], anchor)
    assert claimed == [died_on]
    for _ in range(2):
        counts = check_alerts(settings, now=anchor)
        assert counts["stuck"] == 1
    [body] = webhook.bodies()
    assert [a["key"] for a in body["alerts"]] == [f"spike:ceasefire:{(anchor - timedelta(days=2)).date()}"]


def test_the_quiet_window_holds_a_rules_alerts_and_sends_them_together_when_it_ends(settings, webhook, anchor):
    write_rules(settings, {"desk": {"webhook": webhook.url()}},
                [{"name": "ceasefire-events", "event": {"theme": "ceasefire"}, "channels": ["desk"]},
                 {**SPIKE, "channels": ["desk"]}], quiet_minutes=24 * 60)
    day_before = anchor - timedelta(days=1)  # the demo's first spike day is over; the second not begun
    first = check_alerts(settings, now=day_before)
    assert first["messages"] == 2 and first["held"] == 0
    later = check_alerts(settings, now=anchor - timedelta(minutes=1))  # the second day's alerts, in the window
    assert later["sent"] == 0 and later["held"] >= 2 and len(webhook.received) == 2
    after = check_alerts(settings, now=day_before + timedelta(hours=24, minutes=1))  # the window is over
    assert after["sent"] == later["held"] and after["messages"] == 2 and after["held"] == 0
    events = webhook.bodies("ceasefire-events")
    assert len(events) == 2 and len(events[1]["alerts"]) > 1  # many alerts, one message
    assert not {a["key"] for a in events[0]["alerts"]} & {a["key"] for a in events[1]["alerts"]}


def test_a_first_load_does_not_replay_history(settings, webhook, anchor):
    """Everything was first seen minutes ago, but it is a new install's backlog: it is filed under the days it was
    published, and the demo's sanctions spike, 12 days before the anchor, never alerts."""
    write_rules(settings, {"desk": {"webhook": webhook.url()}},
                [{"name": "sanctions-spike", "spike": {"theme": "sanctions"}, "channels": ["desk"]}])
    _, [(first_seen,)] = run_query(settings.home, "SELECT min(first_seen_at) FROM articles")
    _, spikes = run_query(settings.home, "SELECT day FROM theme_trends WHERE spike AND theme = 'sanctions' "
                                            "AND language = 'all'")
    assert first_seen >= anchor and [day for (day,) in spikes] == [(anchor - timedelta(days=12)).date()]
    assert check_alerts(settings, now=anchor)["alerts"] == 0
    assert check_alerts(settings)["alerts"] == 0  # and at this very moment
    assert webhook.attempts == []


def test_the_rolling_window_ending_at_midnight_is_that_days_theme_trends_row(settings):
    _, days = run_query(settings.home, "SELECT DISTINCT day FROM theme_trends ORDER BY day")
    columns = "theme, articles, outlets, baseline_mean, baseline_std, baseline_days, z, spike"
    for (day,) in days:
        _, daily = run_query(settings.home, f"SELECT {columns} FROM theme_trends WHERE day = DATE '{day}' "
                                            "AND language = 'all' ORDER BY theme")
        _, window = run_query(settings.home, f"SELECT {columns} FROM theme_window_trends(TIMESTAMP '{day}' "
                                             "+ INTERVAL 1 DAY) ORDER BY theme")
        assert window == daily, day


def newsmon(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSMON_HOME": str(settings.home), "NEWSMON_FEEDS_FILE": str(settings.feeds_file),
           "NEWSMON_ALLOW_PRIVATE_NETWORKS": "false", "NEWSMON_ALLOWED_ADDRESSES": '["127.0.0.1"]',
           "NEWSMON_ALERTS_RETRY_BACKOFF_S": "0.01"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_an_invalid_rule_is_reported_by_name_and_field_while_the_others_fire(settings, webhook):
    write_rules(settings, {"desk": {"webhook": webhook.url()}},
                [{**SPIKE, "channels": ["desk"]},
                 {"name": "typo", "event": {"actor": "rusia", "action": "agree"}, "channels": ["desk"]},
                 {**RUSSIA_AGREES, "channels": ["desk"]}])
    result = newsmon(settings, "alerts", "check", "--json")  # now: the real clock
    assert result.returncode == 1  # an invalid rule is worth a non-zero exit, after the others ran
    problems = [line for line in result.stderr.splitlines() if "typo" in line]
    assert len(problems) == 1 and "rule 'typo' (#2): event.actor: unknown actor 'rusia'" in problems[0]
    counts = json.loads(result.stdout)
    assert counts["invalid_rules"] == 1 and counts["rules"] == 2 and counts["sent"] >= 3
    assert {b["rule"] for b in webhook.bodies()} == {"ceasefire-spike", "russia-agrees"}

    listed = newsmon(settings, "alerts", "list", "--format", "json")
    rows = {r["rule"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["ceasefire-spike"]["last_fired"] and rows["ceasefire-spike"]["sent"] >= 2
    assert rows["russia-agrees"]["status"] == "ok" and rows["russia-agrees"]["watches"].startswith("event actor=russia")
    assert rows["typo"]["status"].startswith("invalid: rule 'typo' (#2): event.actor")

    tested = newsmon(settings, "alerts", "test", "russia-agrees")
    assert tested.returncode == 0 and tested.stdout.strip() == "desk: sent"
    sample = webhook.received[-1]["body"]
    assert sample["test"] is True and sample["subject"].startswith("newsmon TEST alert: russia-agrees: Russia agreed")
    assert "nothing is recorded as sent" in sample["text"]
    assert newsmon(settings, "alerts", "check", "--json").returncode == 1  # still the invalid rule, nothing resent
    assert len(webhook.bodies()) == 3
    assert "no rule 'nope'" in newsmon(settings, "alerts", "test", "nope").stderr
