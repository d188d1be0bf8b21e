"""news_ingest: every 15 minutes, fetch the due feeds in batches, classify and stage them, load once.

Thin wiring only: each task calls one function of `pipeline.ingest.cycle`; XCom carries URLs, paths and
counts, never articles. Planning and loading touch the DuckDB file, so they run in pool `warehouse`
(1 slot) and on queue `warehouse` (the one worker that owns the file); fetching runs on any worker and
stages Parquet on shared storage. The load commits in one transaction and records the run in `runs`;
it updates the `newsmon_warehouse` Asset, which other DAGs can be scheduled on.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.ops.dag_defaults import WAREHOUSE_TASK, common_dag_args, warehouse_asset


def _settings():
    from pipeline.core.config import load_settings

    return load_settings()


@dag(
    dag_id="news_ingest",
    schedule="*/15 * * * *",
    **common_dag_args("ingest", task_timeout=timedelta(minutes=20), retry_delay_base=timedelta(seconds=30)),
    params={"force": Param(False, type="boolean", description="fetch every enabled feed, due or not")},
    doc_md=__doc__,
)
def news_ingest():
    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def plan_batches() -> list[dict]:
        """Sync feeds.yaml into the registry; split the due feeds into batches (XCom: URLs and validators)."""
        from pipeline.ingest.cycle import plan_batches as plan

        context = get_current_context()
        return plan(_settings(), run_id=context["run_id"], force=bool(context["params"]["force"]))

    @task(max_active_tis_per_dag=4, multiple_outputs=False)
    def process_batch(batch: dict) -> dict:
        """Fetch, parse, normalize, classify one batch; stage Parquet (XCom: paths and counts)."""
        from pipeline.ingest.cycle import process_batch as process

        return process(_settings(), batch)

    @task(**WAREHOUSE_TASK, outlets=[warehouse_asset()], multiple_outputs=False)
    def load(staged: list[dict]) -> dict:
        """The single writer: every staged batch of the run in one transaction, plus its `runs` row."""
        from pipeline.ingest.cycle import load_run

        context = get_current_context()
        return load_run(_settings(), context["run_id"], list(staged))

    load(process_batch.expand(batch=plan_batches()))


news_ingest()
