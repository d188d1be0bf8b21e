"""news_alerts: after every committed load (the `newsmon_warehouse` Asset), run the rules of alerts.yaml on the last
48 hours and send each new alert once per channel.

Thin wiring only: `check` calls `pipeline.alerts.check.check_alerts`, the same function as `newsmon alerts check`,
and passes its counts through XCom. It reads the read path, never the write file, so it takes no `warehouse` pool
slot and never waits for a load; it runs on the `warehouse` queue because the read path and the alerts' sent-ledger
(NEWSMON_HOME/alerts/ledger.sqlite) live on that worker's disk. It evaluates as of the time it runs, not a data
interval: an alert is about now, and the ledger makes a rerun, a retry or a replay send nothing twice. E-mail goes
through the Airflow connection NEWSMON_SMTP_CONN_ID when set, else the NEWSMON_SMTP_* server.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from pipeline.ops.dag_defaults import common_dag_args, warehouse_asset


@dag(
    dag_id="news_alerts",
    schedule=[warehouse_asset()],
    **common_dag_args("alerts", task_timeout=timedelta(minutes=5), retry_delay_base=timedelta(seconds=30)),
    doc_md=__doc__,
)
def news_alerts():
    @task(queue="warehouse", multiple_outputs=False)
    def check() -> dict:
        """Evaluate the rules and deliver what is new (XCom: counts only)."""
        from pipeline.alerts.check import check_alerts
        from pipeline.core.config import load_settings

        settings = load_settings()
        return check_alerts(settings, smtp_conn_id=settings.smtp_conn_id)

    check()


news_alerts()
