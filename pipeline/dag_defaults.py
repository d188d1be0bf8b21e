"""What every newsmon DAG shares. DAG files import this at parse time, so: standard library only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def common_dag_args(*tags: str, task_timeout: timedelta, retry_delay: timedelta) -> dict:
    """Keyword arguments for `@dag`: one run at a time, no catch-up, retried tasks with a time limit."""
    return {
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["newsmon", *tags],
        "default_args": {"owner": "newsmon", "retries": 2, "retry_delay": retry_delay,
                         "retry_exponential_backoff": True, "execution_timeout": task_timeout},
    }
