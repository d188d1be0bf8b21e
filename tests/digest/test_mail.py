"""digest_mail: the digest reaches a real SMTP server (aiosmtpd on 127.0.0.1) as plain text + HTML with the
chart inline, to every recipient, after logging in."""

from __future__ import annotations

import email
from datetime import date
from email import policy

import pytest

from pipeline.digest.build import build_digest
from pipeline.digest.mail import DigestMailError, deliver_digest, email_digest


def test_digest_email_is_multipart_with_the_chart_inline_for_every_recipient(demo_settings, smtp_sink):
    settings = smtp_sink.configure(demo_settings)
    page = build_digest(settings, date(2026, 11, 15))
    assert email_digest(settings, page.parent) == ["analyst@newsmon.test", "desk@newsmon.test"]

    [envelope] = smtp_sink.received
    assert envelope.mail_from == "digest@newsmon.test"
    assert envelope.rcpt_tos == ["analyst@newsmon.test", "desk@newsmon.test"]
    msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert msg["Subject"].startswith("newsmon digest 2026-11-15") and "spike in Ceasefire" in msg["Subject"]
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and "# newsmon digest" in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html" and "Sunday 15 November 2026" in html.get_content()
    assert image.get_content_type() == "image/png" and image.get_content_disposition() == "inline"
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content() and 'src="chart.png"' not in html.get_content()
    assert image.get_content() == (page.parent / "chart.png").read_bytes()


def test_wrong_password_or_no_recipients_is_a_clear_error(demo_settings, smtp_sink):
    page = build_digest(demo_settings, date(2026, 11, 15))
    wrong = smtp_sink.configure(demo_settings, smtp_password="nope")
    with pytest.raises(DigestMailError, match="sending to 127.0.0.1"):
        email_digest(wrong, page.parent)
    nobody = smtp_sink.configure(demo_settings, smtp_recipients=[])
    with pytest.raises(DigestMailError, match="no recipients"):
        email_digest(nobody, page.parent)
    assert deliver_digest(nobody, page) == []  # the DAG's path: nothing configured, nothing sent
    assert smtp_sink.received == []
