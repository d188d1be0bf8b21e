"""readpath: readers never stop ingestion; real reader and writer processes on real DuckDB and Parquet files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import duckdb
from conftest import Behaviour, make_settings

from pipeline.classify.model import current_version
from pipeline.core.config import REPO_ROOT
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle
from pipeline.warehouse.readpath import PARQUET_DIR, read_db_path, read_dir, refresh
from pipeline.warehouse.store import open_warehouse

NEWSMON = [sys.executable, "-m", "pipeline.cli"]
START = datetime(2026, 11, 20, 6, tzinfo=UTC)


def feed_with(items: range) -> bytes:
    body = "".join(
        f"<item><title>Envoys meet for ceasefire talks, round {n}</title><link>https://w.example/{n}</link>"
        f"<guid>w{n}</guid><pubDate>{format_datetime(START + timedelta(hours=n))}</pubDate>"
        f"<description>Delegations discussed a truce, session {n}.</description></item>" for n in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://w.example/</link>'
            f"<description>d</description>{body}</channel></rss>").encode()


CLIENT = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)  # held open, read-only, for the whole test
print("open", flush=True)
for line in sys.stdin:
    print(con.execute("SELECT count(*) FROM articles").fetchone()[0], flush=True)
"""


def test_a_client_holding_the_read_file_open_never_stops_ingestion(tmp_path, scripted_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire.xml"))])
    scripted_server.routes["/wire.xml"] = Behaviour(200, feed_with(range(0, 3)))
    run_cycle(settings)  # the first load creates the read path
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(read_db_path(settings.home))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "open"

        def ask() -> int:
            client.stdin.write("count\n")
            client.stdin.flush()
            return int(client.stdout.readline())

        assert ask() == 3
        for cycle in range(1, 4):  # three loads while the client keeps the read file open
            scripted_server.routes["/wire.xml"] = Behaviour(200, feed_with(range(0, 3 + 2 * cycle)))
            counts = run_cycle(settings, force=True)
            assert counts["articles_new"] == 2 and counts["read_days_written"] >= 1
            assert ask() == 3 + 2 * cycle  # the client's next query sees the new articles
    finally:
        client.kill()
        client.wait()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        runs = con.execute("SELECT loaded_at, read_refreshed_at FROM runs ORDER BY loaded_at").fetchall()
        assert con.execute("SELECT count(*) FROM read_pending").fetchone()[0] == 0
    assert len(runs) == 4 and all(refreshed >= loaded for loaded, refreshed in runs)


LOADER = """
import json, sys, time
from pipeline.core.config import Settings
from pipeline.ingest.cycle import load_run
settings = Settings(home=sys.argv[1], allow_private_networks=True)
print("loading", flush=True)
counts = load_run(settings, "big-run", json.loads(sys.argv[2]))
with open(sys.argv[3], "w") as out:  # a file, not the pipe: the result must not depend on who reads stdout when
    json.dump({"at": time.time(), "articles_new": counts["articles_new"]}, out)
"""
ARTICLES = 40_000  # enough for many queries to run during the load; the 100k load is timed by `make bench`


def test_newsmon_sql_answers_while_a_big_load_runs(tmp_path):
    # How fast it answers is measured by `make bench` (load row), never asserted here as a wall-clock limit.
    sys.path.insert(0, str(REPO_ROOT))
    from bench.run import stage_generated  # the benchmark's generated articles, staged as process_batch does

    settings = make_settings(tmp_path)
    settings.ensure_home()
    articles_path, fetches_path = stage_generated(tmp_path, ARTICLES)
    with open_warehouse(settings.warehouse_path) as con:
        con.execute("INSERT INTO feeds (feed_id, url, source, added_at) VALUES "
                    "('bench-feed', 'https://bench.example/feed', 'file', now()::TIMESTAMP)")
        refresh(con, settings.home)
    staged = [{"articles_path": articles_path, "fetches_path": fetches_path,
               "model_version": current_version(REPO_ROOT / "models")}]
    result_path = tmp_path / "loaded.json"
    loader = subprocess.Popen([sys.executable, "-c", LOADER, str(settings.home), json.dumps(staged), str(result_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert loader.stdout.readline().strip() == "loading"
    env = {**os.environ, "NEWSMON_HOME": str(settings.home)}
    answers = []
    while loader.poll() is None:
        t0 = time.monotonic()
        result = subprocess.run([*NEWSMON, "sql", "SELECT count(*) AS n FROM articles", "--format", "json"],
                                capture_output=True, text=True, env=env, timeout=60)
        answers.append((time.monotonic() - t0, time.time(), result.returncode, result.stdout, result.stderr))
    code = loader.wait()
    assert code == 0 and result_path.exists(), (code, loader.stdout.read()[-3000:], loader.stderr.read()[-3000:])
    loaded = json.loads(result_path.read_text())
    assert loaded["articles_new"] == ARTICLES
    during = [a for a in answers if a[1] < loaded["at"]]
    assert during, "no query finished while the load ran"
    seen = []
    for _seconds, _, code, out, err in during:
        assert code == 0, err  # never "database is locked": readers do not touch the write file
        seen.append(json.loads(out)["n"])
    # Before the commit the last refreshed state (0); during the refresh, days appear one whole file at a time.
    assert seen == sorted(seen) and 0 <= seen[0] and seen[-1] <= ARTICLES
    after = subprocess.run([*NEWSMON, "sql", "SELECT count(*) AS n FROM articles", "--format", "json"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(after.stdout) == {"n": ARTICLES}  # visible as soon as the load task ended


def test_a_crash_between_commit_and_refresh_is_repaired_by_the_next_load(tmp_path, scripted_server):
    from pipeline.ingest.cycle import new_run_id, plan_batches, process_batch
    from pipeline.warehouse.load import load_staged

    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire.xml"))])
    scripted_server.routes["/wire.xml"] = Behaviour(200, feed_with(range(0, 2)))
    run_cycle(settings)
    # A load that commits and then dies before its refresh: load_staged is the commit, load_run's refresh never runs.
    scripted_server.routes["/wire.xml"] = Behaviour(200, feed_with(range(0, 4)))
    run_id = new_run_id()
    staged = [process_batch(settings, b) for b in plan_batches(settings, run_id, force=True)]
    with open_warehouse(settings.warehouse_path) as con:
        load_staged(con, run_id, [s["articles_path"] for s in staged], [s["fetches_path"] for s in staged])
        assert con.execute("SELECT count(*) FROM read_pending WHERE table_name = 'articles'").fetchone()[0] >= 1

    def read_count() -> int:
        with duckdb.connect(str(read_db_path(settings.home)), read_only=True) as con:
            return con.execute("SELECT count(*) FROM articles").fetchone()[0]

    assert read_count() == 2  # readers still see the last refreshed state, whole
    scripted_server.routes["/wire.xml"] = Behaviour(200, feed_with(range(0, 5)))
    run_cycle(settings, force=True)
    assert read_count() == 5  # the next load wrote its own days and the crashed run's
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE read_refreshed_at IS NULL").fetchone()[0] == 0


REFRESHER = """
import sys
from pipeline.warehouse.readpath import mark_all, refresh
from pipeline.warehouse.store import open_warehouse
with open_warehouse(sys.argv[1]) as con:
    while True:  # until killed: every day of every table, again and again
        mark_all(con)
        refresh(con, sys.argv[2])
"""


def test_a_refresh_killed_midway_never_leaves_a_half_written_day(tmp_path, demo_warehouse):
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(demo_warehouse, home / "warehouse.duckdb")
    refresher = subprocess.Popen([sys.executable, "-c", REFRESHER, str(home / "warehouse.duckdb"), str(home)])
    deadline = time.monotonic() + 30
    while not read_db_path(home).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.7)  # well inside a later pass over the 24 days of five tables
    refresher.send_signal(signal.SIGKILL)
    refresher.wait()
    files = sorted((read_dir(home) / PARQUET_DIR).glob("*/*/*.parquet"))
    assert files and all(not f.name.startswith(".") for f in files)  # write-aside files never match the glob
    with duckdb.connect() as con:
        for f in files:  # every visible day file is a whole Parquet file
            con.execute("SELECT count(*) FROM read_parquet(?)", [str(f)]).fetchone()
    with duckdb.connect(str(read_db_path(home)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 753
