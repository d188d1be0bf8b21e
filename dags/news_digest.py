"""news_digest: once a day, build the digest of the previous UTC day (any past day can be rebuilt).

Thin wiring only: the task calls `pipeline.digest.build_digest` and passes the file path on.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="news_digest",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["newsmon", "digest"],
    default_args={"owner": "newsmon", "retries": 2, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": True, "execution_timeout": timedelta(minutes=10)},
    doc_md=__doc__,
)
def news_digest():
    # Reads the DuckDB file: on the worker that owns it, never beside a running load.
    @task(pool="warehouse", queue="warehouse", multiple_outputs=False)
    def build() -> str:
        from pipeline.config import load_settings
        from pipeline.digest import build_digest, digest_day_for_run

        context = get_current_context()
        day = digest_day_for_run(context.get("data_interval_start"), context.get("data_interval_end"),
                                 context.get("logical_date"))
        return str(build_digest(load_settings(), day))

    build()


news_digest()
