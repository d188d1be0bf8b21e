"""news_ingest: every 15 minutes, fetch the due feeds in batches, classify and stage them, load once.

Thin wiring only: each task calls one function of `pipeline.ingest`; XCom carries URLs, paths and
counts, never articles. Planning and loading touch the DuckDB file, so they run in pool `warehouse`
(1 slot) and on queue `warehouse` (the one worker that owns the file); fetching runs anywhere.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task


def _settings():
    from pipeline.config import load_settings

    return load_settings()


@dag(
    dag_id="news_ingest",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["newsmon", "ingest"],
    default_args={"owner": "newsmon", "retries": 2, "retry_delay": timedelta(seconds=30),
                  "retry_exponential_backoff": True, "execution_timeout": timedelta(minutes=20)},
    params={"force": Param(False, type="boolean", description="fetch every enabled feed, due or not")},
    doc_md=__doc__,
)
def news_ingest():
    @task(pool="warehouse", queue="warehouse", multiple_outputs=False)
    def plan_batches() -> list[dict]:
        from pipeline.ingest import plan_batches as plan

        context = get_current_context()
        return plan(_settings(), run_id=context["run_id"], force=bool(context["params"]["force"]))

    @task(max_active_tis_per_dag=4, multiple_outputs=False)
    def process_batch(batch: dict) -> dict:
        from pipeline.ingest import process_batch as process

        return process(_settings(), batch)

    @task(pool="warehouse", queue="warehouse", multiple_outputs=False)
    def load(staged: list[dict]) -> dict:
        from pipeline.ingest import load_run

        context = get_current_context()
        return load_run(_settings(), context["run_id"], list(staged))

    load(process_batch.expand(batch=plan_batches()))


news_ingest()
