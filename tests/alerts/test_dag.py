"""news_alerts under real Airflow after an ingest, and the time from a load's commit to the webhook's delivery."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email import policy
from email.utils import format_datetime

import pytest
import yaml
from conftest import Behaviour, make_settings
from receivers import WebhookReceiver, build_demo_feeds, today_midnight

from pipeline.alerts.check import check_alerts, ledger_for
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.airflow_local import dags_test
from pipeline.ops.demo import demo_feeds
from pipeline.ops.feedserver import serve_directory
from pipeline.warehouse.query import run_query


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.mark.airflow
def test_news_alerts_runs_under_airflow_after_an_ingest_and_a_rerun_sends_nothing(tmp_path, webhook, smtp_sink):
    anchor = today_midnight()
    build_demo_feeds(tmp_path / "feeds", anchor)
    with serve_directory(tmp_path / "feeds") as base_url:
        settings = make_settings(tmp_path, demo_feeds(base_url), run_workers=1)
        run_cycle(settings)  # the ingest
    rules = {"channels": {"desk": {"webhook": webhook.url()}, "me": {"email": ["analyst@newsmon.test"]}},
             "rules": [{"name": "ceasefire-spike", "spike": {"theme": "ceasefire"}, "channels": ["desk", "me"]},
                       {"name": "russia-agrees", "event": {"actor": "russia", "action": "agree", "theme": "ceasefire"},
                        "min_outlets": 2, "channels": ["desk", "me"]}]}
    settings.alerts_path.write_text(yaml.safe_dump(rules))
    connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp_sink.port, "login": smtp_sink.user,
                  "password": smtp_sink.password,
                  "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "alerts@newsmon.test"}}
    env = {"NEWSMON_FEEDS_FILE": str(settings.feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "false",
           "NEWSMON_ALLOWED_ADDRESSES": '["127.0.0.1"]', "AIRFLOW_CONN_NEWSMON_SMTP": json.dumps(connection),
           "NEWSMON_SMTP_CONN_ID": "newsmon_smtp"}
    log = tmp_path / "airflow.log"
    dags_test(settings, "news_alerts", extra_env=env, log_path=log)
    assert "[DAG TEST] end task task_id=check" in log.read_text()

    assert {b["rule"] for b in webhook.bodies()} == {"ceasefire-spike", "russia-agrees"}
    spike_keys = {a["key"] for a in webhook.bodies("ceasefire-spike")[0]["alerts"]}
    assert f"spike:ceasefire:{(anchor - timedelta(days=1)).date()}" in spike_keys
    # The check's 48 hours end at the real clock: a run after midnight also reaches the Russian-language outlet's
    # "Russia agreed" story two days before the anchor. The day before the anchor holds the two English ones.
    agreed = webhook.bodies("russia-agrees")[0]["alerts"]
    day_before = [a for a in agreed if a["day"] == (anchor - timedelta(days=1)).date().isoformat()]
    assert len(day_before) == 2 and {a["day"] for a in agreed} <= {a["day"] for a in day_before} | {
        (anchor - timedelta(days=2)).date().isoformat()}
    assert len(smtp_sink.received) == 2  # through the Airflow connection, not NEWSMON_SMTP_HOST
    assert {e.mail_from for e in smtp_sink.received} == {"alerts@newsmon.test"}
    subjects = {email.message_from_bytes(e.original_content, policy=policy.default)["Subject"].split(":")[1].strip()
                for e in smtp_sink.received}
    assert subjects == {"ceasefire-spike", "russia-agrees"}
    sent = ledger_for(settings).rows()
    assert {r["state"] for r in sent} == {"sent"} and {r["channel"] for r in sent} == {"desk", "me"}

    dags_test(settings, "news_alerts", extra_env=env, log_path=log)  # the next load's run: nothing new
    assert len(webhook.received) == 2 and len(smtp_sink.received) == 2
    assert len(ledger_for(settings).rows()) == len(sent)


def rss(items: list[tuple[str, str, datetime]]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>https://wire.example/{g}</link><guid>{g}</guid>"
                   f"<pubDate>{format_datetime(d.replace(tzinfo=UTC))}</pubDate><description>{t}.</description></item>"
                   for g, t, d in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>'
            f"<description>t</description>{body}</channel></rss>").encode()


def test_time_from_load_commit_to_webhook_delivery(tmp_path, scripted_server, webhook, capsys):
    """A load brings 'Kremlin agrees to a ceasefire'; the check that follows it (what news_alerts does on the
    Asset event) delivers it. Prints the times: a measurement, not a limit."""
    hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    quiet = [("q1", "Cup final goes to penalties", hour_ago - timedelta(hours=2))]
    scripted_server.routes["/wire.xml"] = Behaviour(200, rss(quiet), {"Content-Type": "application/rss+xml"})
    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire.xml"), title="Wire")],
                             allow_private_networks=False, allowed_addresses=["127.0.0.1"], run_workers=1)
    settings.alerts_path.write_text(yaml.safe_dump({
        "channels": {"desk": {"webhook": webhook.url()}},
        "rules": [{"name": "russia-ceasefire", "event": {"actor": "russia", "theme": "ceasefire"},
                   "channels": ["desk"]}]}))
    run_cycle(settings)
    assert check_alerts(settings)["alerts"] == 0  # the history: nothing to say

    news = quiet + [("k1", "Kremlin agrees to 30-day ceasefire on energy infrastructure", hour_ago)]
    scripted_server.routes["/wire.xml"] = Behaviour(200, rss(news), {"Content-Type": "application/rss+xml"})
    run_id = run_cycle(settings, force=True)["run_id"]
    counts = check_alerts(settings)
    assert counts["sent"] == 1
    [delivered] = webhook.received
    _, [(loaded_at, load_s, refreshed_at)] = run_query(
        settings.home, f"SELECT loaded_at, load_seconds, read_refreshed_at FROM runs WHERE run_id = '{run_id}'")
    committed = loaded_at + timedelta(seconds=load_s)  # loaded_at is the transaction's start (DuckDB's now())
    figures = {"commit_to_delivery_s": round((delivered["arrived"] - committed).total_seconds(), 3),
               "read_refresh_to_delivery_s": round((delivered["arrived"] - refreshed_at).total_seconds(), 3),
               "load_transaction_s": round(load_s, 3)}
    with capsys.disabled():
        print(f"\nalerts latency: {json.dumps(figures)}\nas received:\n{delivered['body']['text']}")
    assert delivered["body"]["alerts"][0]["title"].startswith("Russia agreed (Ceasefire): Kremlin agrees")
