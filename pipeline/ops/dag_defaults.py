"""What every newsmon DAG shares. DAG files import this at parse time, so: standard library only.

A new DAG gets production settings by spreading `common_dag_args(...)` into `@dag` and, if it writes the
warehouse, by running those tasks with `**WAREHOUSE_TASK` and `outlets=[warehouse_asset()]`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# The one writer of the DuckDB file: a 1-slot pool, and a queue served by the worker that owns the file.
WAREHOUSE_TASK = {"pool": "warehouse", "queue": "warehouse"}
WAREHOUSE_ASSET_NAME = "newsmon_warehouse"
RETRIES = 3
# Exponential backoff doubles the delay per try; never wait longer than this between two tries.
BACKOFF_MULTIPLIER = 2.0
MAX_RETRY_DELAY = timedelta(minutes=30)


def retry_delay(default: timedelta) -> timedelta:
    """NEWSMON_RETRY_DELAY_SECONDS overrides every DAG's first retry delay (tests use 1 s, not minutes)."""
    override = os.environ.get("NEWSMON_RETRY_DELAY_SECONDS")
    return timedelta(seconds=float(override)) if override else default


def _record(context, final: bool) -> None:
    # Imported when a task fails, on the worker, never when the DAG file is parsed.
    from pipeline.core.config import load_settings
    from pipeline.ops.failures import record_task_failure

    record_task_failure(load_settings(), context, final=final)


def on_task_failure(context) -> None:
    """Failed for good: record it and mail it (when SMTP is configured)."""
    _record(context, final=True)


def on_task_retry(context) -> None:
    """Failed, will be retried: record it, no mail."""
    _record(context, final=False)


def warehouse_asset():
    """The Asset a task updates when it commits to the warehouse (DAGs can be scheduled on it)."""
    from airflow.sdk import Asset

    return Asset(WAREHOUSE_ASSET_NAME)


def common_dag_args(*tags: str, task_timeout: timedelta, retry_delay_base: timedelta) -> dict:
    """Keyword arguments for `@dag`: one run at a time, no catch-up, every task retried with exponential
    backoff, limited in time, and recorded (and mailed) when it fails."""
    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["newsmon", *tags],
        "default_args": {
            "owner": "newsmon",
            "retries": RETRIES,
            "retry_delay": retry_delay(retry_delay_base),
            # A multiplier in Airflow 3.3: True would mean 1.0, a constant delay.
            "retry_exponential_backoff": BACKOFF_MULTIPLIER,
            "max_retry_delay": MAX_RETRY_DELAY,
            "execution_timeout": task_timeout,
            "on_failure_callback": on_task_failure,
            "on_retry_callback": on_task_retry,
        },
    }
