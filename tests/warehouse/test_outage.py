"""outage: a cycle in which (nearly) every feed fails at the network level is this machine's fault, not theirs."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.core.records import FetchResult
from pipeline.ingest.fetch import error_weight
from pipeline.ingest.stage import fetch_row, fetches_table, write_parquet_atomic
from pipeline.warehouse.load import load_staged
from pipeline.warehouse.store import open_warehouse

FEEDS = ["a", "b", "c", "d"]
T0 = datetime(2026, 11, 20, 12, 0)


def stage_fetches(tmp_path, run_id: str, at: datetime, kinds: dict[str, str | None]) -> str:
    rows = []
    for feed, kind in kinds.items():
        result = FetchResult(feed, f"https://{feed}.example/rss", at, None if kind else 200,
                             "error" if kind else "ok", body=b"" if kind else b"x", body_hash=None if kind else "h",
                             error_kind=kind, error=f"fetch: {kind}" if kind else None)
        row = fetch_row(result, run_id, 0, False, None)
        row["error_weight"] = error_weight(kind)
        rows.append(row)
    return str(write_parquet_atomic(fetches_table(rows), tmp_path / f"{run_id}.fetches.parquet"))


def feed_state(con) -> list[tuple]:
    return con.execute("SELECT feed_id, error_score, next_due_at, disabled_kind, last_error_kind FROM feeds "
                       "ORDER BY feed_id").fetchall()


def test_an_offline_cycle_is_an_outage_and_moves_no_feed(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        for feed in FEEDS:
            con.execute("INSERT INTO feeds (feed_id, url, source, added_at, poll_minutes) VALUES (?, ?, 'file', ?, 15)",
                        [feed, f"https://{feed}.example/rss", T0])
        load_staged(con, "ok-run", [], [stage_fetches(tmp_path, "ok-run", T0, dict.fromkeys(FEEDS))])
        before = feed_state(con)
        # 40 hours offline, one cycle every 15 minutes: before, 31 hours disabled every feed.
        for n in range(160):
            at = T0 + timedelta(minutes=15 * (n + 1))
            kinds = {"a": "dns", "b": "network", "c": "timeout", "d": "dns"}
            load_staged(con, f"offline-{n}", [], [stage_fetches(tmp_path, f"offline-{n}", at, kinds)])
        assert feed_state(con) == before  # no score, backoff or disabled state moved
        runs = con.execute("SELECT count(*) FILTER (WHERE outage), count(*) FROM runs").fetchone()
        assert runs == (160, 161)
        assert con.execute("SELECT count(*) FROM fetches WHERE outcome = 'error'").fetchone()[0] == 640  # all kept


def test_one_failing_feed_among_working_ones_is_that_feeds_fault(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        for feed in FEEDS:
            con.execute("INSERT INTO feeds (feed_id, url, source, added_at, poll_minutes) VALUES (?, ?, 'file', ?, 15)",
                        [feed, f"https://{feed}.example/rss", T0])
        kinds = {"a": "dns", "b": None, "c": None, "d": None}
        load_staged(con, "run", [], [stage_fetches(tmp_path, "run", T0, kinds)])
        state = {row[0]: row for row in feed_state(con)}
        assert state["a"][1] == 0.5 and state["a"][4] == "dns" and state["a"][2] > T0 + timedelta(minutes=15)
        assert con.execute("SELECT outage FROM runs").fetchone()[0] is False
