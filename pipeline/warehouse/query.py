"""Read-only SQL on the warehouse for `newsmon sql` and the other readers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.core.errors import WarehouseError
from pipeline.warehouse.readpath import open_read


def run_query(home: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of one query on the read path (never the write file); bad SQL and any attempt to write
    (the read file, or a file through COPY) give a one-line WarehouseError."""
    with open_read(home, writes_refused=True) as con:
        try:
            relation = con.execute(sql)
            columns = [d[0] for d in relation.description or []]
            return columns, relation.fetchall()
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise WarehouseError(f"sql: {first_line}") from exc


def fetch_coverage(con, start: datetime, end: datetime) -> dict[str, int]:
    """Ingest runs that fetched feeds in [start, end), their fetches, and the distinct hours they fell in."""
    runs, fetches, hours = con.execute(
        "SELECT count(DISTINCT run_id), count(*), count(DISTINCT date_trunc('hour', started_at)) "
        "FROM fetches WHERE started_at >= ? AND started_at < ?",
        [start, end],
    ).fetchone()
    return {"runs": runs, "fetches": fetches, "hours_covered": hours}


def table_counts(con) -> dict[str, int]:
    tables = ["feeds", "fetches", "articles", "article_events", "classifications", "stories", "runs", "models"]
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def theme_totals(con) -> list[tuple[str, int]]:
    return con.execute(
        "SELECT theme, count(*) FILTER (WHERE label) AS n FROM current_classifications GROUP BY theme ORDER BY n DESC"
    ).fetchall()


def run_report(home: Path, run_id: str) -> dict:
    """What one run did, from the read path: fetch outcomes, failures by kind with each failing feed named,
    new and changed articles, and the run's new articles per theme."""
    with open_read(home) as con:
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM fetches WHERE run_id = ? GROUP BY ALL",
                                    [run_id]).fetchall())
        failures = con.execute(
            "SELECT f.feed_id, coalesce(d.url, f.url), f.error_kind, f.error FROM fetches f "
            "LEFT JOIN feeds d USING (feed_id) WHERE f.run_id = ? AND f.outcome = 'error' ORDER BY f.feed_id",
            [run_id]).fetchall()
        themes = con.execute(
            "SELECT c.theme, count(DISTINCT c.article_id) FROM article_events e "
            "JOIN current_classifications c USING (article_id) "
            "WHERE e.run_id = ? AND e.event = 'first_seen' AND c.label GROUP BY ALL ORDER BY 2 DESC, 1",
            [run_id]).fetchall()
        run = con.execute("SELECT articles_new, articles_changed, outage, read_refreshed_at FROM runs "
                          "WHERE run_id = ?", [run_id]).fetchone()
    by_kind: dict[str, int] = {}
    for _, _, kind, _ in failures:
        by_kind[kind or "unknown"] = by_kind.get(kind or "unknown", 0) + 1
    return {
        "run_id": run_id,
        "fetched": outcomes.get("ok", 0) + outcomes.get("unchanged", 0),
        "not_modified": outcomes.get("not_modified", 0),
        "failed": len(failures),
        "failed_by_kind": by_kind,
        "failing_feeds": [{"feed_id": f, "url": u, "kind": k, "reason": r} for f, u, k, r in failures],
        "articles_new": run[0] if run else 0,
        "articles_changed": run[1] if run else 0,
        "outage": bool(run[2]) if run else False,
        "read_refreshed_at": run[3] if run else None,
        "new_articles_per_theme": dict(themes),
    }
