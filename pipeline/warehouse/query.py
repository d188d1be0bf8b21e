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
