"""The distributed stack for real: CeleryExecutor with a fresh PostgreSQL metadata database and a Redis
broker on this machine, api-server, scheduler, dag-processor and one Celery worker per queue as processes.

Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379. The test creates
its own database and drops it, uses its own Redis db number and flushes only that one.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg2
import pytest
import redis
from conftest import FEED_FIXTURES, Behaviour, ScriptedServer, make_settings

from pipeline.core.records import FeedSpec
from pipeline.feeds.lists import write_feeds_file
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.airflow_cluster import LocalCluster, celery_env
from pipeline.ops.demo import demo_feeds
from pipeline.warehouse.query import table_counts
from pipeline.warehouse.store import open_readonly

pytestmark = pytest.mark.airflow

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = int(os.environ.get("NEWSMON_TEST_REDIS_DB", "11"))  # this test's own db; only it is flushed
RUN_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(statement: str) -> None:
    """CREATE/DROP DATABASE: outside a transaction, on the maintenance database."""
    con = psycopg2.connect(dbname="postgres", **PG)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(statement)
    finally:
        con.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    database = f"newsmon_it_{os.getpid()}_{secrets.token_hex(4)}"
    admin_sql(f'CREATE DATABASE "{database}"')
    broker = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    broker.flushdb()
    settings = make_settings(tmp, [], batch_size=3)
    api_port = free_port()
    env = celery_env(
        settings, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}",
        f"redis://127.0.0.1:6379/{REDIS_DB}", api_port, secrets.token_urlsafe(32),
        extra={"NEWSMON_FEEDS_FILE": str(settings.feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true",
               "NEWSMON_BATCH_SIZE": "3", "NEWSMON_RETRY_DELAY_SECONDS": "1",
               # Only the runs a test triggers or backfills: no cron run may interleave with them.
               "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"},
    )
    stack = LocalCluster(settings, env, tmp / "logs")
    started = time.monotonic()
    try:
        stack.start()
        api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}/api/v2", timeout=30)
        stack.api = api
        stack.wait_for(lambda: _ok(api, "/dags/news_ingest") and _ok(api, "/dags/news_digest"), 180,
                       "the api-server to serve both DAGs")
        print(f"\ncluster ready in {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        stack.stop()
        print(f"\ncluster up for {time.monotonic() - started:.1f} s in all")
        broker.flushdb()
        broker.close()
        admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _ok(api: httpx.Client, path: str) -> bool:
    try:
        return api.get(path).status_code == 200
    except httpx.TransportError:
        return False


def trigger(stack, dag_id: str, conf: dict | None = None) -> str:
    """A manual run as the UI makes it: no logical date."""
    response = stack.api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
    assert response.status_code == 200, response.text
    assert response.json()["logical_date"] is None
    return response.json()["dag_run_id"]


def wait_for_run(stack, dag_id: str, run_id: str) -> dict:
    def finished():
        run = stack.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
        return run if run["state"] in ("success", "failed") else None

    run = stack.wait_for(finished, RUN_TIMEOUT, f"{dag_id} run {run_id}", interval=1)
    assert run["state"] == "success", task_instances(stack, dag_id, run_id)
    return run


def task_instances(stack, dag_id: str, run_id: str) -> list[dict]:
    return stack.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]


def test_ingest_runs_on_celery_workers_and_loads_on_the_warehouse_queue(cluster, demo_server, tmp_path):
    feeds = demo_feeds(demo_server)
    write_feeds_file(feeds, cluster.settings.feeds_file)
    started = time.monotonic()
    run_id = trigger(cluster, "news_ingest", {"force": True})
    wait_for_run(cluster, "news_ingest", run_id)
    print(f"\nnews_ingest over {len(feeds)} demo feeds: {time.monotonic() - started:.1f} s from trigger to success")

    tis = task_instances(cluster, "news_ingest", run_id)
    queues = {(ti["task_id"], ti["map_index"]): ti["queue"] for ti in tis}
    assert queues[("load", -1)] == "warehouse" and queues[("plan_batches", -1)] == "warehouse"
    assert {q for (task, _), q in queues.items() if task == "process_batch"} == {"default"}
    # The Celery hostnames say which worker executed which task.
    assert "task_id='load'" in cluster.log("worker-warehouse")
    assert "task_id='load'" not in cluster.log("worker-default")
    assert "task_id='process_batch'" in cluster.log("worker-default")

    # The same feeds run in-process give the reference the distributed run must match.
    reference = make_settings(tmp_path, feeds)
    run_cycle(reference, force=True)
    with open_readonly(reference.warehouse_path) as con:
        expected = table_counts(con)
    with open_readonly(cluster.settings.warehouse_path) as con:
        got = table_counts(con)
        assert con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM fetches WHERE run_id = ? AND outcome = 'ok'",
                           [run_id]).fetchone()[0] == len(feeds)
    assert expected["articles"] > 0
    for table in ("articles", "classifications", "article_events", "stories"):
        assert got[table] == expected[table], table

    asset_events = cluster.api.get("/assets/events", params={"source_dag_id": "news_ingest"}).json()
    assert any(e["source_run_id"] == run_id and e["source_task_id"] == "load"
               for e in asset_events["asset_events"])

    dags_list, pools_list = cluster.cli("dags", "list"), cluster.cli("pools", "list")
    print("\n$ airflow dags list\n" + dags_list + "\n$ airflow pools list\n" + pools_list)
    assert "news_ingest" in dags_list and "news_digest" in dags_list
    assert any(line.split("|")[0].strip() == "warehouse" and line.split("|")[1].strip() == "1"
               for line in pools_list.splitlines() if "|" in line)


def test_process_batch_killed_mid_fetch_is_retried_without_duplicates(cluster, tmp_path):
    server = ScriptedServer()
    try:
        bodies = {name: (FEED_FIXTURES / f"{name}.xml").read_bytes() for name in ("rss2_basic", "atom_basic",
                                                                                "rdf_basic")}
        xml = {"Content-Type": "application/xml"}
        server.routes = {"/a.xml": Behaviour(200, bodies["rss2_basic"], xml),
                         "/b.xml": Behaviour(200, bodies["atom_basic"], xml),
                         "/slow.xml": Behaviour(hang=True)}
        feeds = [FeedSpec("kill-a", server.url("/a.xml")), FeedSpec("kill-b", server.url("/b.xml")),
                 FeedSpec("kill-slow", server.url("/slow.xml"))]
        write_feeds_file(feeds, cluster.settings.feeds_file)
        run_id = trigger(cluster, "news_ingest", {"force": True})

        def batch_hanging_on_slow_feed():
            if not any(path == "/slow.xml" for path, _ in server.requests):
                return None
            running = [ti for ti in task_instances(cluster, "news_ingest", run_id)
                       if ti["task_id"] == "process_batch" and ti["state"] == "running" and ti["pid"]]
            return running[0] if running else None

        victim = cluster.wait_for(batch_hanging_on_slow_feed, RUN_TIMEOUT, "process_batch to hang on a feed")
        os.kill(victim["pid"], signal.SIGKILL)  # what the OOM killer does to a task mid-run
        server.routes["/slow.xml"] = Behaviour(200, bodies["rdf_basic"], xml)
        server.release.set()
        wait_for_run(cluster, "news_ingest", run_id)

        batch = next(ti for ti in task_instances(cluster, "news_ingest", run_id)
                     if ti["task_id"] == "process_batch" and ti["map_index"] == victim["map_index"])
        assert batch["try_number"] == victim["try_number"] + 1  # it was killed, then retried

        reference = make_settings(tmp_path, feeds)
        run_cycle(reference, force=True)
        with open_readonly(reference.warehouse_path) as con:
            ids = [r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()]
            expected = _counts_for(con, ids)
        with open_readonly(cluster.settings.warehouse_path) as con:
            assert _counts_for(con, ids) == expected
            assert con.execute("SELECT count(*), count(DISTINCT feed_id) FROM fetches WHERE run_id = ?",
                               [run_id]).fetchone() == (3, 3)
            assert con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] == 1
            for table, key in (("article_events", "article_id, event, feed_id, content_hash"),
                               ("classifications", "article_id, model_version, theme"), ("stories", "story_id")):
                total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({key})) FROM {table}").fetchone()
                assert total == distinct, f"duplicates in {table}"
    finally:
        server.close()


def _counts_for(con, article_ids: list[str]) -> dict:
    return {table: con.execute(f"SELECT count(*) FROM {table} WHERE list_contains(?, article_id)",
                               [article_ids]).fetchone()[0]
            for table in ("articles", "article_events", "classifications")}


def test_digest_backfill_over_three_days_builds_three_digests(cluster, fixture_server):
    # Articles published on the backfilled days, ingested today: the digests say ingest did not run then.
    write_feeds_file([FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")], cluster.settings.feeds_file)
    run_cycle(cluster.settings, force=True)
    days = [date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16)]
    # Runs at 00:30 on the 15th, 16th and 17th, each building the day before.
    cluster.cli("backfill", "create", "--dag-id", "news_digest", "--from-date", "2026-11-15",
                "--to-date", "2026-11-18", "--max-active-runs", "1")

    def backfill_runs():
        runs = cluster.api.get("/dags/news_digest/dagRuns", params={"run_type": "backfill"}).json()["dag_runs"]
        return runs if len(runs) >= 3 and all(r["state"] in ("success", "failed") for r in runs) else None

    runs = cluster.wait_for(backfill_runs, RUN_TIMEOUT, "three backfill runs of news_digest", interval=1)
    assert [r["state"] for r in runs] == ["success"] * 3
    results = [_build_result(cluster, r["dag_run_id"]) for r in runs]
    assert sorted(r["day"] for r in results) == [d.isoformat() for d in days]
    assert not any(r["ingest_ran"] for r in results)
    for day in days:
        assert (cluster.settings.digests_dir / day.isoformat() / "digest.md").exists()
    # Which stories a day lists depends on everything loaded that day (this cluster also holds the demo feeds),
    # so the day's theme count is checked: it must include the backfilled article.
    with open_readonly(cluster.settings.warehouse_path) as con:
        geneva_ceasefire = con.execute(
            "SELECT count(*) FROM current_classifications c JOIN articles a USING (article_id)"
            " WHERE a.title LIKE 'Envoys meet in Geneva%' AND c.theme = 'ceasefire' AND c.label").fetchone()[0]
        ceasefire_on_16th = con.execute(
            "SELECT articles FROM theme_daily WHERE day = DATE '2026-11-16' AND theme = 'ceasefire'"
            " AND language = 'all'").fetchone()[0]
    assert geneva_ceasefire == 1
    digest_16th = (cluster.settings.digests_dir / "2026-11-16" / "digest.md").read_text()
    assert f"| Ceasefire | {ceasefire_on_16th} |" in digest_16th

    # A manual run has no logical date: it builds yesterday's digest, and ingest did run yesterday or not.
    run_id = trigger(cluster, "news_digest")
    wait_for_run(cluster, "news_digest", run_id)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert _build_result(cluster, run_id)["day"] == yesterday
    assert Path(_build_result(cluster, run_id)["path"]).exists()


def _build_result(stack, run_id: str) -> dict:
    response = stack.api.get(f"/dags/news_digest/dagRuns/{run_id}/taskInstances/build/xcomEntries/return_value",
                             params={"deserialize": True})
    assert response.status_code == 200, response.text
    value = response.json()["value"]
    return value if isinstance(value, dict) else json.loads(value)
