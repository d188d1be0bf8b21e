"""warehouse: migrations, idempotent loads and feed state, on real DuckDB files."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from conftest import FEED_FIXTURES

from pipeline.classify.model import Prediction
from pipeline.core.errors import WarehouseError
from pipeline.core.records import FetchResult
from pipeline.ingest.normalize import normalize_entries
from pipeline.ingest.parse import parse_feed
from pipeline.ingest.stage import articles_table, fetch_row, fetches_table, write_parquet_atomic
from pipeline.warehouse.load import load_staged, register_model
from pipeline.warehouse.query import run_query, table_counts
from pipeline.warehouse.readpath import refresh
from pipeline.warehouse.store import open_warehouse

FETCHED = datetime(2026, 11, 20, 12, 0)
CARD = {"model_version": "test-model", "themes": ["ceasefire"]}


def stage_fixture(tmp_path, run_id: str, feed_id: str = "wire", name: str = "rss2_basic.xml", edit=None):
    entries = parse_feed((FEED_FIXTURES / name).read_bytes()).entries
    articles = normalize_entries(entries, feed_id, FETCHED)
    if edit:
        articles = [edit(a) for a in articles]
    predictions = {a.article_id: Prediction(["ceasefire"] if "ceasefire" in a.title else [],
                                            {"ceasefire": 0.9 if "ceasefire" in a.title else 0.1},
                                            {"ceasefire": ["ceasefire"]} if "ceasefire" in a.title else {})
                   for a in articles}
    path = write_parquet_atomic(articles_table(articles, predictions, run_id, "test-model"),
                                tmp_path / f"{run_id}-{feed_id}.articles.parquet")
    fetch = FetchResult(feed_id, f"https://x.example/{feed_id}", FETCHED, 200, "ok", body=b"x", body_hash="h1")
    fpath = write_parquet_atomic(fetches_table([fetch_row(fetch, run_id, len(entries), False, None)]),
                                 tmp_path / f"{run_id}-{feed_id}.fetches.parquet")
    return str(path), str(fpath)


def open_with_feed(tmp_path):
    cm = open_warehouse(tmp_path / "w.duckdb")
    con = cm.__enter__()
    con.execute("INSERT INTO feeds (feed_id, url, source, added_at) VALUES "
                "('wire', 'https://x.example/wire', 'file', ?), ('other', 'https://x.example/other', 'file', ?)",
                [FETCHED, FETCHED])
    register_model(con, CARD)
    return cm, con


def test_migrations_are_recorded_and_applied_once(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        versions = con.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert versions[0] == (1, "001_init")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(versions)


def test_loading_the_same_batch_twice_changes_nothing(tmp_path):
    cm, con = open_with_feed(tmp_path)
    files = stage_fixture(tmp_path, "run1")
    first = load_staged(con, "run1", [files[0]], [files[1]])
    counts = table_counts(con)
    again = load_staged(con, "run1", [files[0]], [files[1]])
    assert first["articles_new"] == 3 and again["articles_new"] == 0
    assert table_counts(con) == counts
    assert con.execute("SELECT error_count FROM feeds WHERE feed_id = 'wire'").fetchone()[0] == 0
    cm.__exit__(None, None, None)


def test_duplicates_inside_one_batch_load_once(tmp_path):
    cm, con = open_with_feed(tmp_path)
    files = stage_fixture(tmp_path, "run1", name="rss2_duplicate_guids.xml")
    result = load_staged(con, "run1", [files[0], files[0]], [files[1]])
    assert result["articles_new"] == 3
    assert con.execute("SELECT count(*) FROM classifications").fetchone()[0] == 3
    cm.__exit__(None, None, None)


def test_same_article_in_second_feed_is_one_article_with_a_sighting(tmp_path):
    cm, con = open_with_feed(tmp_path)
    a = stage_fixture(tmp_path, "run1", "wire")
    b = stage_fixture(tmp_path, "run1", "other")
    load_staged(con, "run1", [a[0], b[0]], [a[1], b[1]])
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
    events = dict(con.execute("SELECT event, count(*) FROM article_events GROUP BY 1").fetchall())
    assert events == {"first_seen": 3, "seen_in_feed": 3}
    cm.__exit__(None, None, None)


def test_changed_content_updates_article_and_logs_an_event(tmp_path):
    from dataclasses import replace

    cm, con = open_with_feed(tmp_path)
    first = stage_fixture(tmp_path, "run1")
    load_staged(con, "run1", [first[0]], [first[1]])
    changed = stage_fixture(tmp_path, "run2", edit=lambda a: replace(a, summary=a.summary + " Updated.",
                                                                     content_hash=a.content_hash + "x"))
    result = load_staged(con, "run2", [changed[0]], [changed[1]])
    assert (result["articles_new"], result["articles_changed"]) == (0, 3)
    assert con.execute("SELECT count(*) FROM article_events WHERE event = 'content_changed'").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM articles WHERE summary LIKE '%Updated.'").fetchone()[0] == 3
    cm.__exit__(None, None, None)


def test_another_feeds_wording_of_the_same_article_is_a_sighting_not_an_edit(tmp_path):
    from dataclasses import replace

    cm, con = open_with_feed(tmp_path)
    wire = stage_fixture(tmp_path, "run1", "wire")
    other = stage_fixture(tmp_path, "run2", "other", edit=lambda a: replace(a, summary="A shorter lede.",
                                                                            content_hash=a.content_hash + "o"))
    changes = [load_staged(con, run, [files[0]], [files[1]])["articles_changed"]
               for run, files in (("run1", wire), ("run2", other), ("run3", wire), ("run4", other))]
    assert changes == [0, 0, 0, 0]  # loading the feeds in turn never flips the stored text
    assert con.execute("SELECT count(*) FROM article_events WHERE event = 'content_changed'").fetchone()[0] == 0
    cm.__exit__(None, None, None)


def test_failed_fetch_counts_once_per_attempt_and_backs_off(tmp_path):
    cm, con = open_with_feed(tmp_path)
    fail = FetchResult("wire", "https://x.example/wire", FETCHED, 500, "error", error_kind="http_5xx", error="boom")
    path = write_parquet_atomic(fetches_table([fetch_row(fail, "r1", 0, False, None)]), tmp_path / "f.parquet")
    load_staged(con, "r1", [], [str(path)])
    load_staged(con, "r1", [], [str(path)])  # replay of the same batch
    row = con.execute("SELECT error_count, last_error_kind, next_due_at FROM feeds WHERE feed_id = 'wire'").fetchone()
    assert row[0] == 1 and row[1] == "http_5xx"
    assert row[2] > FETCHED.replace(minute=15)  # backed off beyond one poll interval
    cm.__exit__(None, None, None)


def test_failed_load_leaves_the_warehouse_as_before(tmp_path):
    cm, con = open_with_feed(tmp_path)
    files = stage_fixture(tmp_path, "run1")
    before = table_counts(con)
    with pytest.raises(duckdb.Error):
        load_staged(con, "run1", [files[0], str(tmp_path / "missing.parquet")], [files[1]])
    assert table_counts(con) == before
    cm.__exit__(None, None, None)


def test_readers_cannot_write_and_get_one_line_errors(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        refresh(con, tmp_path)  # what every writer does after its commit
    with pytest.raises(WarehouseError, match="read-only"):
        run_query(tmp_path, "CREATE TABLE mine AS SELECT 1 AS x")
    with pytest.raises(WarehouseError, match="^sql: "):  # the read path's tables are views over Parquet
        run_query(tmp_path, "DELETE FROM articles")
    with pytest.raises(WarehouseError, match="^sql: "):
        run_query(tmp_path, "SELEC 1")
    with pytest.raises(WarehouseError, match="no warehouse"):
        run_query(tmp_path / "nothing", "SELECT 1")
    with pytest.raises(WarehouseError, match="^sql: "):  # nor can they write files
        run_query(tmp_path, f"COPY (SELECT 42) TO '{tmp_path / 'out.csv'}'")
    assert not (tmp_path / "out.csv").exists()


# --- upgrades, crashes, locks --------------------------------------------------------------------------------

def test_warehouse_made_by_the_first_migration_is_upgraded_with_data_intact(tmp_path):
    from pipeline.warehouse.store import MIGRATIONS_DIR

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # what release 1 wrote: schema 001 only
    con.execute(MIGRATIONS_DIR.joinpath("001_init.sql").read_text())
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO schema_migrations VALUES (1, '001_init', ?)", [FETCHED])
    con.execute("INSERT INTO feeds (feed_id, url, source, added_at, error_count, disabled_reason) VALUES "
                "('wire', 'https://x.example/wire', 'file', ?, 2, NULL), "
                "('old', 'https://x.example/old', 'file', ?, 0, 'removed from feeds file')", [FETCHED, FETCHED])
    con.execute("INSERT INTO articles VALUES ('a1', 'wire', 'g1', 'https://x.example/1', 'https://x.example/1', "
                "'Truce talks resume', 'Envoys met.', NULL, 'en', ?, ?, 'h1', 's1', 'm1', NULL)", [FETCHED, FETCHED])
    con.execute("INSERT INTO stories VALUES ('s1', 'Truce talks resume', ?, ?)", [FETCHED, FETCHED])
    con.execute("INSERT INTO classifications VALUES ('a1', 'm1', 'ceasefire', 0.9, true, ['truce'], 'h1', ?)",
                [FETCHED])
    con.close()
    with open_warehouse(path) as con:
        versions = con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert [v for (v,) in versions] == [1, 2, 3, 4, 5, 6, 7]
        assert con.execute("SELECT language, declared_language FROM articles").fetchall() == [("en", "en")]
        assert con.execute("SELECT count(*) FROM article_actions").fetchone()[0] == 0  # events start with new loads
        assert con.execute("SELECT feed_id, configured_url, error_score, disabled_kind FROM feeds ORDER BY 1"
                           ).fetchall() == [("old", "https://x.example/old", 0.0, "removed"),
                                            ("wire", "https://x.example/wire", 2.0, None)]
        assert con.execute("SELECT article_id, title, story_id, clustered_at FROM articles").fetchall() == [
            ("a1", "Truce talks resume", "s1", FETCHED)]
        assert con.execute("SELECT story_id, title, articles, themes FROM stories").fetchall() == [
            ("s1", "Truce talks resume", 1, ["ceasefire"])]


BIG_BATCH_SQL = """
COPY (
    SELECT 'big' || i AS article_id, 'wire' AS feed_id, NULL::VARCHAR AS guid,
           'https://x.example/a/' || i AS url, 'https://x.example/a/' || i AS canonical_url,
           'Generated headline number ' || i AS title, repeat('generated lede text ', 8) AS summary,
           NULL::VARCHAR AS author, 'en' AS language,
           TIMESTAMP '2026-11-01' + to_seconds(i) AS published_at, TIMESTAMP '2026-11-20' AS first_seen_at,
           md5(i::VARCHAR) AS content_hash, md5('s' || i) AS story_key, 'big-run' AS run_id,
           'test-model' AS model_version,
           [{'theme': 'ceasefire', 'score': 0.9, 'label': true, 'evidence': ['truce']},
            {'theme': 'sanctions', 'score': 0.2, 'label': false, 'evidence': []::VARCHAR[]}] AS themes,
           '' AS body
    FROM range(?) t(i)
) TO '{path}' (FORMAT parquet)
"""

KILLABLE_LOADER = """
import sys
from pipeline.warehouse.load import load_staged
from pipeline.warehouse.store import open_warehouse
with open_warehouse(sys.argv[1]) as con:
    print("loading", flush=True)
    load_staged(con, "big-run", [sys.argv[2]], [sys.argv[3]])
print("done", flush=True)
"""


def test_loader_killed_with_sigkill_mid_batch_leaves_the_warehouse_as_before(tmp_path):
    import subprocess
    import sys
    import time

    cm, con = open_with_feed(tmp_path)
    small = stage_fixture(tmp_path, "run1")
    load_staged(con, "run1", [small[0]], [small[1]])
    before = table_counts(con)
    big = tmp_path / "big.articles.parquet"
    con.execute(BIG_BATCH_SQL.replace("{path}", str(big)), [300_000])
    cm.__exit__(None, None, None)
    db = tmp_path / "w.duckdb"
    sizes_before = (db.stat().st_size, db.with_suffix(".duckdb.wal").stat().st_size if
                    db.with_suffix(".duckdb.wal").exists() else 0)
    child = subprocess.Popen([sys.executable, "-c", KILLABLE_LOADER, str(db), str(big), small[1]],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "loading"
    wal = db.with_suffix(".duckdb.wal")
    while child.poll() is None:  # kill as soon as the batch has started reaching the disk
        if (db.stat().st_size, wal.stat().st_size if wal.exists() else 0) != sizes_before:
            break
        time.sleep(0.005)
    child.kill()
    child.wait()
    assert child.returncode == -9, "the loader finished before it could be killed"
    with open_warehouse(db) as con:
        assert table_counts(con) == before
        assert con.execute("SELECT count(*) FROM runs WHERE run_id = 'big-run'").fetchone()[0] == 0
        again = load_staged(con, "big-run", [str(big)], [small[1]])  # the batch loads whole afterwards
        assert again["articles_new"] == 300_000


def test_a_held_lock_is_retried_then_fails_naming_the_holder(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "w.duckdb"
    with open_warehouse(db):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(60)", str(db), "--newsmon-test-holder"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseError) as err, open_warehouse(db, lock_wait_s=0.5):
            pass
        message = str(err.value)
        assert f"PID {holder.pid}" in message and "--newsmon-test-holder" in message and "gave up after" in message
    finally:
        holder.kill()
        holder.wait()
    with open_warehouse(db, lock_wait_s=0.5) as con:  # released: the writer gets in
        assert con.execute("SELECT 1").fetchone() == (1,)
