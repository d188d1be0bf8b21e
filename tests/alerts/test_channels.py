"""alerts channels: a webhook is a JSON POST with a Slack/Mattermost `text` beside the structured fields, sent to a
real loopback receiver through the fetcher's address guard, with timeouts and retries; e-mail reaches a real SMTP
server; feed text cannot ping or link in a chat."""

from __future__ import annotations

import email
from datetime import date, datetime
from email import policy

import pytest
from conftest import make_settings
from receivers import WebhookReceiver

from pipeline.alerts.channels import Deliverer, DeliveryError
from pipeline.alerts.evaluate import Alert, StoryRef
from pipeline.alerts.message import Message, chat_escape, payload, render_text
from pipeline.alerts.rules import Rule

HOSTILE = "<!channel> @here Truce <https://evil.example|click> & more"


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def loopback_settings(tmp_path, **overrides):
    """Private addresses refused except 127.0.0.1, as an operator would allow one local receiver."""
    return make_settings(tmp_path, allow_private_networks=False, allowed_addresses=["127.0.0.1"],
                         alerts_retry_backoff_s=0.01, **overrides)


def message(headline: str = "Kremlin accepts energy moratorium") -> Message:
    rule = Rule(name="russia-agrees", event={"actor": "russia", "action": "agree"}, channels=["desk"])
    story = StoryRef("s1", headline, "https://a.example/1", ("Baltic Monitor", "Northwire"), datetime(2026, 12, 6, 15))
    evidence = {"watched": {"actor": "russia", "action": "agree", "theme": None}, "watched_as": "Russia agreed",
                "event": {"actor": "russia", "action": "agree", "theme": "ceasefire", "rank": 1, "score": 0.72},
                "actor_words": ["Kremlin"], "action_words": ["accepts"], "outlets_reporting": 2,
                "reported_by": ["Baltic Monitor", "Northwire"], "min_outlets": 2, "story_articles_with_event": 1}
    alert = Alert("russia-agrees", "event", "story:s1", date(2026, 12, 6), f"Russia agreed (Ceasefire): {headline}",
                  [story], evidence, "https://digests.example/2026-12-06/digest.html")
    return Message(rule, [alert])


def test_a_webhook_gets_json_with_a_chat_text_and_the_structured_alert(tmp_path, webhook):
    with Deliverer(loopback_settings(tmp_path)) as deliverer:
        assert deliverer.post_webhook(webhook.url(), payload(message())) == 200
    [got] = webhook.received
    assert got["headers"]["Content-Type"] == "application/json" and got["headers"]["User-Agent"].startswith("newsmon")
    body = got["body"]
    assert body["rule"] == "russia-agrees" and body["kind"] == "event" and body["source"] == "newsmon"
    assert body["test"] is False and body["subject"].startswith("newsmon alert: russia-agrees: Russia agreed")
    [alert] = body["alerts"]
    assert alert["key"] == "story:s1" and alert["stories"][0]["outlets"] == ["Baltic Monitor", "Northwire"]
    assert alert["digest_url"] == "https://digests.example/2026-12-06/digest.html"
    text = body["text"]
    assert "Kremlin accepts energy moratorium" in text and "2 outlets: Baltic Monitor, Northwire" in text
    assert "https://a.example/1" in text and "digest of 2026-12-06: https://digests.example/" in text
    assert "actor words: Kremlin; action words: accepts; score 0.72 (main event)" in text


def test_feed_text_cannot_ping_link_or_mark_up_a_chat_but_stays_as_written_in_the_fields():
    hostile = message(HOSTILE)
    text = payload(hostile)["text"]
    assert "<!channel>" not in text and "<https://evil" not in text and "@here" not in text
    assert "&lt;!channel&gt; @\u200bhere Truce &lt;https://evil.example|click&gt; &amp; more" in text
    assert payload(hostile)["alerts"][0]["stories"][0]["headline"] == HOSTILE  # programs get it as written
    assert HOSTILE in render_text(hostile)  # e-mail is plain text: nothing in it is markup
    assert chat_escape("a\n\tb") == "a b"


def test_a_webhook_that_fails_is_tried_again_and_a_hanging_one_times_out(tmp_path, webhook):
    settings = loopback_settings(tmp_path, alerts_webhook_timeout_s=0.3, alerts_webhook_attempts=3)
    waits = []
    with Deliverer(settings, sleep=waits.append) as deliverer:
        webhook.script = [503, 500]
        assert deliverer.post_webhook(webhook.url(), payload(message())) == 200
        assert len(webhook.attempts) == 3 and len(webhook.received) == 1
        assert waits == [0.01, 0.02]  # doubling

        webhook.script = ["hang", "hang", "hang"]
        with pytest.raises(DeliveryError, match=r"timed out .*\(after 3 tries\)") as caught:
            deliverer.post_webhook(webhook.url(), payload(message()))
        assert caught.value.kind == "timeout" and len(webhook.attempts) == 6


def test_a_client_error_or_a_redirect_is_not_tried_again(tmp_path, webhook):
    with Deliverer(loopback_settings(tmp_path)) as deliverer:
        webhook.script = [404]
        with pytest.raises(DeliveryError, match="HTTP 404: busy, try later") as caught:
            deliverer.post_webhook(webhook.url(), payload(message()))
        assert caught.value.kind == "http_4xx"
        webhook.script = [302]
        with pytest.raises(DeliveryError, match="HTTP 302") as caught:
            deliverer.post_webhook(webhook.url(), payload(message()))
        assert caught.value.kind == "redirect"
    assert len(webhook.attempts) == 2 and webhook.received == []  # one try each, the redirect not followed


def test_a_webhook_to_a_private_address_is_refused_before_any_connection(tmp_path, webhook):
    strict = make_settings(tmp_path, allow_private_networks=False)  # the default: nothing private allowed
    with Deliverer(strict) as deliverer:
        with pytest.raises(DeliveryError, match="resolves to non-public 127.0.0.1") as caught:
            deliverer.post_webhook(webhook.url(), payload(message()))
        assert caught.value.kind == "forbidden_address"
        assert "secret-token" not in str(caught.value)  # the URL's secret path is never logged or stored
        only_one = loopback_settings(tmp_path)  # 127.0.0.1 allowed; 127.0.0.2 still is not
        with Deliverer(only_one) as allowed, pytest.raises(DeliveryError, match="non-public 127.0.0.2"):
            allowed.post_webhook(webhook.url().replace("127.0.0.1", "127.0.0.2"), payload(message()))
        with pytest.raises(DeliveryError, match="only http"):
            deliverer.post_webhook("file:///etc/passwd", payload(message()))
    assert webhook.attempts == []


def test_an_email_alert_reaches_a_real_smtp_server_as_plain_text(tmp_path, smtp_sink):
    settings = smtp_sink.configure(loopback_settings(tmp_path))
    with Deliverer(settings) as deliverer:
        deliverer.send_email(["desk@newsmon.test"], message(HOSTILE))
    [envelope] = smtp_sink.received
    assert envelope.rcpt_tos == ["desk@newsmon.test"] and envelope.mail_from == "digest@newsmon.test"
    msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert msg["Subject"].startswith("newsmon alert: russia-agrees: Russia agreed (Ceasefire): <!channel>")
    assert msg["X-Newsmon-Rule"] == "russia-agrees" and msg.get_content_type() == "text/plain"
    assert HOSTILE in msg.get_content() and "why: 2 outlet(s) reported it" in msg.get_content()


def test_no_smtp_server_is_a_delivery_error_not_a_crash(tmp_path):
    with Deliverer(loopback_settings(tmp_path)) as deliverer, \
            pytest.raises(DeliveryError, match="^alerts: e-mail: no SMTP server configured") as caught:
        deliverer.send_email(["desk@newsmon.test"], message())
    assert caught.value.kind == "email"
