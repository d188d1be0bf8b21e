"""Delivering a message: e-mail (the digest's SMTP settings or Airflow connection), webhook (a JSON POST) or
file (a JSON line appended under NEWSMON_HOME/alerts/).

Webhooks go through the feed fetcher's client, so the same address guard applies: the host is resolved once,
the connection goes to the checked address, and private, loopback, link-local or reserved addresses are refused
unless NEWSMON_ALLOW_PRIVATE_NETWORKS or NEWSMON_ALLOWED_ADDRESSES allow them. A redirect is not followed (a
webhook that moves is a configuration to fix). Each delivery gets NEWSMON_ALERTS_WEBHOOK_ATTEMPTS tries with
a timeout each and a doubling wait between them (Retry-After is honoured, capped); timeouts, network errors,
429 and 5xx are tried again, other answers and a refused address are not. Webhook URLs often hold a secret
token, so messages and the ledger name them by scheme and host only.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pipeline.alerts.message import Message, email_message, payload
from pipeline.alerts.rules import Channel
from pipeline.core.config import Settings
from pipeline.core.errors import FeedFetchError, NewsmonError
from pipeline.digest.mail import DigestMailError, SmtpConfig, send_message, smtp_from_airflow, smtp_from_settings
from pipeline.ingest.fetch import check_url, make_client, retry_after_seconds

log = logging.getLogger("newsmon.alerts")
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_WAIT_S = 60.0  # a Retry-After longer than this waits for the next check instead
ERROR_BODY_CHARS = 200


class DeliveryError(NewsmonError):
    """A channel did not take a message; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"alerts: {message}")
        self.kind = kind


def redact(url: str) -> str:
    """scheme://host/… : webhook paths often carry the secret (Slack's /services/T…/B…/token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


@dataclass
class Deliverer:
    """What one check needs to deliver: settings, and the HTTP client and SMTP server, made when first used."""

    settings: Settings
    smtp_conn_id: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = field(default=None, repr=False)
    _smtp: SmtpConfig | None = field(default=None, repr=False)

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    def smtp(self) -> SmtpConfig:
        if self._smtp is None:
            try:
                self._smtp = (smtp_from_airflow(self.smtp_conn_id, self.settings) if self.smtp_conn_id
                              else smtp_from_settings(self.settings))
            except DigestMailError as exc:
                raise DeliveryError("email", f"e-mail: {str(exc).removeprefix('digest: ')}") from exc
        return self._smtp

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def deliver(self, channel: Channel, message: Message) -> None:
        """Send one message through one channel, or raise DeliveryError."""
        if channel.webhook:
            self.post_webhook(channel.webhook, payload(message))
        elif channel.email:
            self.send_email(channel.email, message)
        else:
            self.append_file(self.file_path(channel), payload(message))

    def file_path(self, channel: Channel) -> Path:
        path = Path(channel.file).expanduser()
        return path if path.is_absolute() else self.settings.alerts_dir / path

    def send_email(self, recipients: list[str], message: Message) -> None:
        config = replace(self.smtp(), recipients=list(recipients))
        try:
            send_message(email_message(message, config.sender, config.recipients), config)
        except DigestMailError as exc:
            raise DeliveryError("email", f"e-mail: {str(exc).removeprefix('digest: ')}") from exc

    def append_file(self, path: Path, body: dict) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # two checks never interleave half lines
                handle.write(json.dumps(body, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError("file", f"file {path}: {exc}") from exc

    def post_webhook(self, url: str, body: dict) -> int:
        """POST the JSON body; returns the 2xx status. Retries as the module says, then raises DeliveryError."""
        where = redact(url)
        try:
            check_url(url)
        except FeedFetchError as exc:
            raise DeliveryError(exc.kind, f"webhook {where}: {str(exc).removeprefix('fetch: ')}") from exc
        attempts = self.settings.alerts_webhook_attempts
        timeout = httpx.Timeout(self.settings.alerts_webhook_timeout_s, connect=self.settings.connect_timeout_s)
        wait = self.settings.alerts_retry_backoff_s
        error = DeliveryError("network", f"webhook {where}: not tried")
        for attempt in range(1, attempts + 1):
            retry_after = None
            try:
                with self.client().stream("POST", url, json=body, timeout=timeout) as response:
                    status = response.status_code
                    if 200 <= status < 300:
                        return status
                    text = _start_of(response)
                    retry_after = retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC))
            except FeedFetchError as exc:  # the address guard (or DNS): trying again cannot help
                raise DeliveryError(exc.kind, f"webhook {where}: {str(exc).removeprefix('fetch: ')}") from exc
            except httpx.InvalidURL as exc:
                raise DeliveryError("bad_url", f"webhook {where}: {exc}") from exc
            except httpx.TimeoutException as exc:
                error = DeliveryError("timeout", f"webhook {where}: timed out ({type(exc).__name__})")
            except httpx.HTTPError as exc:
                error = DeliveryError("network", f"webhook {where}: {type(exc).__name__}: {exc}")
            else:
                kind = "redirect" if 300 <= status < 400 else "http_4xx" if status < 500 else "http_5xx"
                error = DeliveryError(kind, f"webhook {where}: HTTP {status}" + (f": {text}" if text else ""))
                if status not in RETRYABLE_STATUS:
                    raise error
            log.info("webhook attempt failed", extra={"attempt": attempt, "kind": error.kind, "reason": str(error)})
            if attempt < attempts:
                pause = wait if retry_after is None else retry_after
                if pause > MAX_WAIT_S:
                    break
                self.sleep(pause)
                wait *= 2
        raise DeliveryError(error.kind, f"{str(error).removeprefix('alerts: ')} (after {attempt} tries)")


def _start_of(response: httpx.Response) -> str:
    """The first characters of an error answer, read no further (a hostile server could send gigabytes)."""
    chunk = b""
    for piece in response.iter_raw(chunk_size=1024):
        chunk = piece
        break
    return " ".join(chunk.decode("utf-8", errors="replace").split())[:ERROR_BODY_CHARS]
