"""warehouse_maintenance: daily at 03:00 UTC, prune raw bodies and staging by age, checkpoint the DuckDB
file, write a backup and refresh the date-partitioned Parquet export.

Thin wiring only: each task calls one function of `pipeline.warehouse.maintenance`. Pruning works on shared
storage and runs anywhere; the rest opens the warehouse, so it runs in pool `warehouse` on its queue.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag, task

from pipeline.ops.dag_defaults import WAREHOUSE_TASK, common_dag_args


def _settings():
    from pipeline.core.config import load_settings

    return load_settings()


def _now():
    from pipeline.core.clock import utcnow

    return utcnow()


@dag(
    dag_id="warehouse_maintenance",
    schedule=CronTriggerTimetable("0 3 * * *", timezone="UTC"),
    **common_dag_args("maintenance", task_timeout=timedelta(minutes=30), retry_delay_base=timedelta(minutes=2)),
    doc_md=__doc__,
)
def warehouse_maintenance():
    @task(multiple_outputs=False)
    def prune() -> dict:
        """Delete raw bodies and staging older than their retention settings."""
        from pipeline.warehouse.maintenance import prune as prune_files

        settings = _settings()
        return prune_files(settings, _now().date(), settings.raw_retention_days, settings.staging_retention_days)

    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def checkpoint() -> dict:
        """Fold the write-ahead log into the DuckDB file."""
        from pipeline.warehouse.maintenance import checkpoint as checkpoint_warehouse

        return checkpoint_warehouse(_settings())

    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def backup() -> dict:
        """A consistent copy under NEWSMON_HOME/backups/, keeping the newest NEWSMON_BACKUPS_KEEP."""
        from pipeline.warehouse.maintenance import backup as backup_warehouse

        settings = _settings()
        return backup_warehouse(settings, _now(), keep=settings.backups_keep)

    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def export() -> dict:
        """Date-partitioned Parquet of articles and classifications under NEWSMON_HOME/export/."""
        from pipeline.warehouse.maintenance import export_parquet

        settings = _settings()
        return export_parquet(settings, settings.home / "export")

    prune() >> checkpoint() >> backup() >> export()


warehouse_maintenance()
