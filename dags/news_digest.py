"""news_digest: once a day, build the digest of the previous UTC day (any past day can be rebuilt) and send it.

Thin wiring only: `build` calls `pipeline.digest.build_digest` and passes the file path on; `send` calls
`pipeline.digest_mail.deliver_digest`, which mails it through the Airflow connection named by
NEWSMON_SMTP_CONN_ID (or the NEWSMON_SMTP_* server) when NEWSMON_SMTP_RECIPIENTS is set.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task

from pipeline.dag_defaults import common_dag_args


@dag(
    dag_id="news_digest",
    schedule="@daily",
    **common_dag_args("digest", task_timeout=timedelta(minutes=10), retry_delay=timedelta(minutes=1)),
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

    # Reads the files `build` wrote on that worker's disk; it needs no pool slot (the warehouse stays closed).
    @task(queue="warehouse", multiple_outputs=False)
    def send(digest_path: str) -> list[str]:
        from pipeline.config import load_settings
        from pipeline.digest_mail import deliver_digest

        return deliver_digest(load_settings(), digest_path)

    send(build())


news_digest()
