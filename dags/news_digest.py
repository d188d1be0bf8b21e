"""news_digest: at 00:30 UTC, build the digest of the previous UTC day and send it (any past day can be rebuilt).

Thin wiring only: `build` calls `pipeline.ops.daily.build_daily_digest`, which first checks that ingest fetched
feeds that day (and says so otherwise), and passes the file path and that check on through XCom; `send`
calls `pipeline.digest.mail.deliver_digest`, which mails it through the Airflow connection named by
NEWSMON_SMTP_CONN_ID (or the NEWSMON_SMTP_* server) when NEWSMON_SMTP_RECIPIENTS is set. A backfill over a
date range builds one digest per day; a manual run without a logical date builds yesterday's.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from pipeline.ops.dag_defaults import WAREHOUSE_TASK, common_dag_args


@dag(
    dag_id="news_digest",
    # 00:30, not midnight: the last ingest run of the day (23:45) has loaded by then.
    schedule=CronTriggerTimetable("30 0 * * *", timezone="UTC"),
    **common_dag_args("digest", task_timeout=timedelta(minutes=10), retry_delay_base=timedelta(minutes=1)),
    doc_md=__doc__,
)
def news_digest():
    # Reads the DuckDB file: on the worker that owns it, never beside a running load.
    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def build() -> dict:
        """The digest of the day before the run's logical date (yesterday without one)."""
        from pipeline.core.config import load_settings
        from pipeline.digest.collect import digest_day_for_run
        from pipeline.ops.daily import build_daily_digest

        context = get_current_context()
        day = digest_day_for_run(context.get("data_interval_start"), context.get("data_interval_end"),
                                 context.get("logical_date"))
        return build_daily_digest(load_settings(), day)

    # Reads the files `build` wrote on that worker's disk; it needs no pool slot (the warehouse stays closed).
    @task(queue="warehouse", multiple_outputs=False)
    def send(built: dict) -> list[str]:
        """Mail the digest to NEWSMON_SMTP_RECIPIENTS (nothing when none are set)."""
        from pipeline.core.config import load_settings
        from pipeline.digest.mail import deliver_digest

        return deliver_digest(load_settings(), built["path"])

    send(build())


news_digest()
