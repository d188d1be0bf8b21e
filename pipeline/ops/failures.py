"""Task failures: what the Airflow failure and retry callbacks record, and the alert mail they send.

The record is one JSON line per failed attempt in `NEWSMON_HOME/failures/task_failures.jsonl`, not a
warehouse table: a callback runs on whichever worker ran the task, which may not hold the DuckDB file,
and the failure may be that the warehouse is locked or broken. Query it with any SQL reader, e.g.
`newsmon sql "SELECT * FROM read_json('var/failures/task_failures.jsonl')"` or `newsmon failures`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from pipeline.core.config import Settings
from pipeline.core.errors import NewsmonError

log = logging.getLogger("newsmon.failures")
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class TaskFailure:
    """One failed attempt of one task instance; `final` is False when Airflow will retry it."""

    failed_at: str
    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    max_tries: int
    final: bool
    hostname: str
    logical_date: str | None
    error_type: str | None
    error: str | None


def failure_from_context(context, final: bool) -> TaskFailure:
    """Build the record from an Airflow callback context (a mapping with `ti`, maybe `exception`)."""
    ti = context["ti"]
    error = context.get("exception")
    logical_date = context.get("logical_date")
    return TaskFailure(
        failed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=_int(getattr(ti, "map_index", None), -1),
        try_number=_int(getattr(ti, "try_number", None), 0),
        max_tries=_int(getattr(ti, "max_tries", None), 0),
        final=final,
        hostname=getattr(ti, "hostname", None) or socket.gethostname(),
        logical_date=logical_date.isoformat() if logical_date else None,  # manual runs may have none
        error_type=type(error).__name__ if error is not None else None,
        error=str(error)[:MAX_ERROR_CHARS] if error is not None else None,
    )


def _int(value, default: int) -> int:
    return default if value is None else int(value)


def append_failure(path: Path, failure: TaskFailure) -> None:
    """Append one line with a single write on an O_APPEND file: concurrent workers never interleave lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(asdict(failure), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def alert_message(settings: Settings, failure: TaskFailure) -> EmailMessage:
    message = EmailMessage()
    where = f"{failure.dag_id}.{failure.task_id}" + (f"[{failure.map_index}]" if failure.map_index >= 0 else "")
    message["Subject"] = f"newsmon: task {where} failed ({failure.run_id})"
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(settings.alert_emails)
    message.set_content(
        f"Task {where} of run {failure.run_id} failed for good after try {failure.try_number} "
        f"on {failure.hostname} at {failure.failed_at}.\n\n"
        f"{failure.error_type}: {failure.error}\n\n"
        f"Every failed attempt is recorded in {settings.failures_log}.\n"
    )
    return message


def send_alert(settings: Settings, failure: TaskFailure) -> bool:
    """Mail the failure when SMTP and recipients are configured; returns whether a mail was sent."""
    from pipeline.digest.mail import send_message, smtp_from_settings

    if not settings.smtp_host or not settings.alert_emails:
        return False
    config = replace(smtp_from_settings(settings), recipients=list(settings.alert_emails))
    send_message(alert_message(settings, failure), config)  # one SMTP path for digests and alerts
    return True


def record_task_failure(settings: Settings, context, final: bool = True) -> TaskFailure:
    """What the callbacks call: record every failed attempt; mail only the final one.

    A broken mail server must not hide the failure, so mail errors are logged, never raised.
    """
    failure = failure_from_context(context, final)
    append_failure(settings.failures_log, failure)
    log.error("task failed", extra={"run_id": failure.run_id, "task_id": failure.task_id, "final": final})
    if final:
        try:
            send_alert(settings, failure)
        except NewsmonError as exc:
            log.error("failures: could not mail the alert: %s", exc)
    return failure


def read_failures(settings: Settings, limit: int = 20) -> tuple[list[str], list[tuple]]:
    """The newest recorded failures, read with DuckDB (in memory: the warehouse is not opened)."""
    if not settings.failures_log.exists():
        return [], []
    import duckdb

    con = duckdb.connect()
    try:
        cursor = con.execute(
            "SELECT failed_at, dag_id, task_id, map_index, try_number, final, run_id, error_type, error "
            "FROM read_json(?, format = 'newline_delimited') ORDER BY failed_at DESC LIMIT ?",
            [str(settings.failures_log), limit],
        )
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        con.close()
