"""warehouse: migrations, idempotent loads and feed state, on real DuckDB files."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from conftest import FEED_FIXTURES

from pipeline.classify import Prediction
from pipeline.errors import WarehouseError
from pipeline.normalize import normalize_entries
from pipeline.parse import parse_feed
from pipeline.query import run_query
from pipeline.records import FetchResult
from pipeline.stage import articles_table, fetch_row, fetches_table, write_parquet_atomic
from pipeline.warehouse import load_staged, open_warehouse, register_model, table_counts

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
    with open_warehouse(tmp_path / "w.duckdb"):
        pass
    with pytest.raises(WarehouseError, match="read-only"):
        run_query(tmp_path / "w.duckdb", "DELETE FROM articles")
    with pytest.raises(WarehouseError, match="^sql: "):
        run_query(tmp_path / "w.duckdb", "SELEC 1")
    with pytest.raises(WarehouseError, match="no warehouse"):
        run_query(tmp_path / "nothing.duckdb", "SELECT 1")
