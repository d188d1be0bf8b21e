"""Send a built digest by email: multipart/alternative (the Markdown as plain text, the HTML with the chart
inline by Content-ID) through SMTP from settings (NEWSMON_SMTP_*) or from an Airflow SMTP connection."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pipeline.core.config import Settings
from pipeline.core.errors import NewsmonError
from pipeline.digest.collect import CHART_FILE

log = logging.getLogger("newsmon.digest")


class DigestMailError(NewsmonError):
    """The digest could not be sent (no recipients, no SMTP host, or the server refused it)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    recipients: list[str] = field(default_factory=list)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465)
    timeout_s: float = 30.0


def smtp_from_settings(settings: Settings) -> SmtpConfig:
    if not settings.smtp_host:
        raise DigestMailError("digest: no SMTP server configured (NEWSMON_SMTP_HOST or NEWSMON_SMTP_CONN_ID)")
    return SmtpConfig(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
        recipients=list(settings.smtp_recipients), user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls, ssl=settings.smtp_ssl, timeout_s=settings.smtp_timeout_s,
    )


def _flag(value) -> bool:
    """A connection extra given as JSON true/false or as text from a URI query ("false" must be false)."""
    return value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)


def smtp_from_airflow(conn_id: str, settings: Settings) -> SmtpConfig:
    """An Airflow SMTP connection, read with the same extras and defaults as the SMTP provider's hook
    (`disable_ssl`, `disable_tls`, `from_email`, `timeout`); recipients still come from settings."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    return SmtpConfig(
        host=conn.host or "localhost", port=int(conn.port or 0), sender=extra.get("from_email") or settings.smtp_sender,
        recipients=list(settings.smtp_recipients), user=conn.login or None, password=conn.password or None,
        starttls=not _flag(extra.get("disable_tls", False)), ssl=not _flag(extra.get("disable_ssl", False)),
        timeout_s=float(extra.get("timeout", 30)),
    )


def build_message(day_dir: Path, config: SmtpConfig) -> EmailMessage:
    """The message for one built digest directory (digest.md, email.html, chart.png, digest.json)."""
    entry = json.loads((day_dir / "digest.json").read_text(encoding="utf-8"))
    msg = EmailMessage()
    msg["Subject"] = entry["subject"]
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=f"digest-{entry['day']}", domain="newsmon.digest")
    msg.set_content((day_dir / "digest.md").read_text(encoding="utf-8"))
    msg.add_alternative((day_dir / "email.html").read_text(encoding="utf-8"), subtype="html")
    chart = day_dir / CHART_FILE
    if chart.exists():
        html_part = msg.get_payload()[1]
        html_part.add_related(chart.read_bytes(), maintype="image", subtype="png",
                              cid=f"<chart-{entry['day']}@newsmon.digest>", filename=CHART_FILE,
                              disposition="inline")
    return msg


def send_message(msg: EmailMessage, config: SmtpConfig) -> None:
    if not config.recipients:
        raise DigestMailError("digest: no recipients (NEWSMON_SMTP_RECIPIENTS)")
    client_class = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if config.ssl else {}
    try:
        with client_class(config.host, config.port, timeout=config.timeout_s, **kwargs) as client:
            if config.starttls and not config.ssl:
                client.starttls(context=ssl.create_default_context())
            if config.user and config.password:
                client.login(config.user, config.password)
            refused = client.send_message(msg, from_addr=config.sender, to_addrs=config.recipients)
    except (OSError, smtplib.SMTPException) as exc:
        raise DigestMailError(f"digest: sending to {config.host}:{config.port} failed: {exc}") from exc
    if refused:
        log.warning("digest: some recipients were refused: %s", sorted(refused))


def email_digest(settings: Settings, day_dir: Path, airflow_conn_id: str | None = None) -> list[str]:
    """Send the digest built in `day_dir`; returns the recipients. An Airflow connection id, when given,
    wins over the NEWSMON_SMTP_* server settings."""
    config = smtp_from_airflow(airflow_conn_id, settings) if airflow_conn_id else smtp_from_settings(settings)
    send_message(build_message(Path(day_dir), config), config)
    log.info("digest: sent %s to %d recipients", Path(day_dir).name, len(config.recipients))
    return config.recipients


def deliver_digest(settings: Settings, digest_path: str | Path) -> list[str]:
    """What the news_digest DAG does after building: send when recipients are configured, through the Airflow
    connection NEWSMON_SMTP_CONN_ID if set, else the NEWSMON_SMTP_* server. Returns the recipients."""
    if not settings.smtp_recipients:
        log.info("digest: no recipients configured (NEWSMON_SMTP_RECIPIENTS); not sent")
        return []
    return email_digest(settings, Path(digest_path).parent, airflow_conn_id=settings.smtp_conn_id)
