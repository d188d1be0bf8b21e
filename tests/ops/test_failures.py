"""Task failures under real Airflow: every failed try is recorded, the final one is mailed (real SMTP)."""

from __future__ import annotations

import json
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from conftest import make_settings
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ops.airflow_local import dags_test
from pipeline.ops.dag_defaults import RETRIES


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's Controller cannot take port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.mark.airflow
def test_failing_task_is_recorded_per_try_and_mailed_once(tmp_path, smtp_inbox, monkeypatch):
    port, inbox = smtp_inbox
    settings = make_settings(tmp_path)
    settings.feeds_file.write_text("feeds:\n  - url: ftp://example.invalid/feed.xml\n")  # plan_batches rejects it
    env = {"NEWSMON_FEEDS_FILE": str(settings.feeds_file), "NEWSMON_RETRY_DELAY_SECONDS": "0",
           "NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_SMTP_PORT": str(port), "NEWSMON_SMTP_STARTTLS": "false",
           "NEWSMON_ALERT_EMAILS": json.dumps(["analyst@example.org"])}
    with pytest.raises(RuntimeError, match="news_ingest"):
        dags_test(settings, "news_ingest", extra_env=env, log_path=tmp_path / "airflow.log")

    records = [json.loads(line) for line in settings.failures_log.read_text().splitlines()]
    assert [(r["task_id"], r["try_number"], r["final"]) for r in records] == \
        [("plan_batches", n, n == RETRIES + 1) for n in range(1, RETRIES + 2)]
    assert {r["error_type"] for r in records} == {"FeedRegistryError"}
    assert all(r["run_id"].startswith("manual__") and r["dag_id"] == "news_ingest" for r in records)

    assert len(inbox.messages) == 1  # retries are recorded, not mailed
    mail = inbox.messages[0]
    assert mail["To"] == "analyst@example.org" and "news_ingest.plan_batches" in mail["Subject"]
    assert "ftp://example.invalid/feed.xml" in mail.get_payload(decode=True).decode()

    monkeypatch.setenv("NEWSMON_HOME", str(settings.home))
    result = CliRunner().invoke(app, ["failures", "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = [json.loads(line) for line in result.output.splitlines()]
    assert len(shown) == len(records) and shown[0]["final"] is True  # newest first
