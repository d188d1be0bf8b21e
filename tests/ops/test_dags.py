"""DAGs: parsed by Airflow's DagBag without errors, light to import, and news_ingest run under real Airflow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import make_settings

from pipeline.core.config import REPO_ROOT
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.airflow_local import airflow_env, dags_test
from pipeline.warehouse.query import table_counts
from pipeline.warehouse.store import open_readonly

DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))


def python_in_airflow_env(settings, code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], env=airflow_env(settings), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_dagbag_has_no_import_errors(settings):
    out = python_in_airflow_env(settings, f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": sorted(bag.dag_ids)}}))
""")
    report = json.loads(out)
    assert report["errors"] == {}
    assert "news_ingest" in report["dags"]


def test_every_task_retries_with_backoff_times_out_and_reports_failures(settings):
    out = python_in_airflow_env(settings, f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})
def names(callbacks):
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
    return [c.__name__ for c in callbacks]
report = {{}}
for dag_id, dag in bag.dags.items():
    report[dag_id] = {{
        "max_active_runs": dag.max_active_runs, "catchup": dag.catchup, "tags": sorted(dag.tags),
        "doc": bool(dag.doc_md), "schedule": str(getattr(dag.timetable, "expression", "")),
        "timetable": type(dag.timetable).__name__,
        "assets": [a.name for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", [])],
        "tasks": {{t.task_id: {{
            "owner": t.owner, "retries": t.retries, "backoff": float(t.retry_exponential_backoff),
            "timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "on_failure": names(t.on_failure_callback), "on_retry": names(t.on_retry_callback),
            "queue": t.queue, "pool": t.pool, "outlets": [getattr(o, "name", None) for o in t.outlets],
        }} for t in dag.tasks}},
    }}
print(json.dumps(report))
""")
    report = json.loads(out)
    assert set(report) == {"news_ingest", "news_digest", "model_train", "warehouse_maintenance", "news_alerts"}
    for dag_id, dag in report.items():
        assert dag["max_active_runs"] == 1 and dag["catchup"] is False and "newsmon" in dag["tags"] and dag["doc"]
        for task_id, task in dag["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert task["owner"] == "newsmon", where
            assert task["retries"] >= 1 and task["backoff"] > 1.0, where  # 1.0 would be a constant delay
            assert task["timeout_s"] and task["timeout_s"] > 0, where
            assert task["on_failure"] == ["on_task_failure"] and task["on_retry"] == ["on_task_retry"], where
    ingest = report["news_ingest"]
    assert ingest["schedule"] == "*/15 * * * *"
    assert ingest["tasks"]["load"]["outlets"] == ["newsmon_warehouse"]
    for writer in ("plan_batches", "load"):
        assert (ingest["tasks"][writer]["pool"], ingest["tasks"][writer]["queue"]) == ("warehouse", "warehouse")
    assert ingest["tasks"]["process_batch"]["queue"] == "default"
    assert report["news_digest"]["schedule"] == "30 0 * * *"
    assert report["warehouse_maintenance"]["schedule"] == "0 3 * * *"
    assert report["model_train"]["schedule"] == ""  # manual
    alerts = report["news_alerts"]  # after every load: scheduled on the Asset the load task updates
    assert alerts["timetable"] == "AssetTriggeredTimetable" and alerts["assets"] == ["newsmon_warehouse"]
    assert alerts["tasks"]["check"]["queue"] == "warehouse" and alerts["tasks"]["check"]["pool"] != "warehouse"
    for dag_id, writers in (("model_train", ("promote", "relabel")),
                            ("warehouse_maintenance", ("checkpoint", "backup", "export"))):
        for writer in writers:
            assert report[dag_id]["tasks"][writer]["pool"] == "warehouse", writer


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_importing_a_dag_file_does_no_heavy_work(settings, dag_file):
    out = python_in_airflow_env(settings, f"""
import json, runpy, sys
import airflow.sdk, pendulum  # what every DAG file needs; anything heavier must wait for a task to run
before = set(sys.modules)
runpy.run_path({str(dag_file)!r})
heavy = ("duckdb", "sklearn", "pyarrow", "feedparser", "skops", "pipeline")
allowed = {{"pipeline", "pipeline.ops", "pipeline.ops.dag_defaults"}}  # the shared DAG arguments: standard library only
print(json.dumps(sorted(m for m in set(sys.modules) - before - allowed if m.split(".")[0] in heavy)))
""")
    assert json.loads(out) == []


def test_news_ingest_runs_under_airflow_and_reruns_add_nothing(tmp_path, fixture_server):
    feeds = [FeedSpec(n, f"{fixture_server}/{n}.xml") for n in ("rss2_basic", "atom_basic", "rdf_basic")]
    feeds.append(FeedSpec("gone", f"{fixture_server}/missing.xml"))
    settings = make_settings(tmp_path, feeds, batch_size=2)
    env = {"NEWSMON_FEEDS_FILE": str(settings.feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true"}
    log = tmp_path / "airflow.log"
    dags_test(settings, "news_ingest", extra_env=env, log_path=log)
    with open_readonly(settings.warehouse_path) as con:
        first = table_counts(con)
        assert con.execute("SELECT count(*) FROM fetches WHERE outcome = 'error'").fetchone()[0] == 1
        run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
    assert first["articles"] == 7 and first["runs"] == 1
    assert run_id.startswith("manual__")  # the Airflow run id reached the warehouse
    assert "[DAG TEST] end task task_id=load" in log.read_text()

    dags_test(settings, "news_ingest", extra_env=env, log_path=log, conf={"force": True})
    with open_readonly(settings.warehouse_path) as con:
        second = table_counts(con)
    assert {k: second[k] for k in ("articles", "classifications", "article_events", "stories")} == \
        {k: first[k] for k in ("articles", "classifications", "article_events", "stories")}
    assert second["runs"] == 2 and second["fetches"] == 2 * first["fetches"]


def test_news_digest_builds_the_day_before_its_logical_date_and_mails_it(tmp_path, fixture_server, smtp_sink):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp_sink.port, "login": smtp_sink.user,
                  "password": smtp_sink.password,
                  "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@newsmon.test"}}
    env = {"AIRFLOW_CONN_NEWSMON_SMTP": json.dumps(connection), "NEWSMON_SMTP_CONN_ID": "newsmon_smtp",
           "NEWSMON_SMTP_RECIPIENTS": "desk@newsmon.test"}
    dags_test(settings, "news_digest", extra_env=env, log_path=tmp_path / "airflow.log",
              logical_date="2026-11-17T00:00:00+00:00")
    digest = settings.digests_dir / "2026-11-16"
    assert "Envoys meet in Geneva" in (digest / "digest.md").read_text() and (digest / "digest.html").exists()
    [envelope] = smtp_sink.received  # sent through the Airflow connection, not NEWSMON_SMTP_HOST
    assert envelope.mail_from == "airflow@newsmon.test" and envelope.rcpt_tos == ["desk@newsmon.test"]
    assert b"Envoys meet in Geneva" in envelope.original_content


def test_warehouse_maintenance_backs_up_checkpoints_and_exports_under_airflow(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    dags_test(settings, "warehouse_maintenance", log_path=tmp_path / "airflow.log")
    [backup] = list((settings.home / "backups").glob("warehouse-*.duckdb"))
    with open_readonly(backup) as con:
        assert table_counts(con)["articles"] == 3
    assert list((settings.home / "export" / "articles").glob("day=*/*.parquet"))


def test_model_train_promotes_a_model_that_is_not_worse_and_relabels_the_range(tmp_path, fixture_server):
    import shutil

    from pipeline.classify.model import current_version

    models = tmp_path / "models"  # a copy: the repository's models/ is never written by tests
    shutil.copytree(REPO_ROOT / "models", models, ignore=shutil.ignore_patterns("lexlr-*"))
    shipped = current_version(REPO_ROOT / "models")
    shutil.copytree(REPO_ROOT / "models" / shipped, models / shipped)
    for name in ("train.jsonl", "train_ru.jsonl", "train_uk.jsonl", "events_train.jsonl",
                 "events_dev.jsonl"):  # a tenth of the examples: training
        data = models / "training" / name  # time is not under test here
        data.write_text("".join(data.read_text().splitlines(keepends=True)[::10]))
    card_path = models / shipped / "model_card.json"  # make the current model clearly worse: no labels at all
    card = json.loads(card_path.read_text())
    card["thresholds"] = dict.fromkeys(card["thresholds"], 1.01)
    card["cyrillic"]["thresholds"] = dict.fromkeys(card["cyrillic"]["thresholds"], 1.01)
    card_path.write_text(json.dumps(card))
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")], models_dir=models)
    run_cycle(settings)
    env = {"NEWSMON_MODELS_DIR": str(models)}
    dags_test(settings, "model_train", extra_env=env, log_path=tmp_path / "airflow.log",
              conf={"seed": 7, "reclassify_from": "2026-11-01", "reclassify_to": "2026-11-30"})
    candidate = current_version(models)
    assert candidate != shipped and (models / candidate / "model_card.json").exists()
    with open_readonly(settings.warehouse_path) as con:
        assert (candidate,) in con.execute("SELECT model_version FROM models").fetchall()
        covered = dict(con.execute("SELECT model_version, articles_covered FROM model_versions").fetchall())
    assert covered[candidate] == covered[shipped] == 3  # the new labels sit beside the old ones


def test_the_airflow_ui_listens_on_this_machine_only_unless_told_otherwise(settings, monkeypatch):
    from pipeline.ops.airflow_local import airflow_env, airflow_executable

    def host(env) -> str:
        return subprocess.run([airflow_executable(), "config", "get-value", "api", "host"], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()

    monkeypatch.delenv("AIRFLOW__API__HOST", raising=False)
    assert host(airflow_env(settings)) == "127.0.0.1"  # what Airflow itself reads for its api-server
    monkeypatch.setenv("AIRFLOW__API__HOST", "0.0.0.0")
    assert host(airflow_env(settings)) == "0.0.0.0"  # the user's choice wins
