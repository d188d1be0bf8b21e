"""The read path: what readers open instead of the write file, refreshed by the writer after each commit.

DuckDB lets one process hold a file while it writes, and no other process may keep it open meanwhile, so an
analyst's client left open on `warehouse.duckdb` would stop every load. Readers (`newsmon sql`, the digest,
any outside client or notebook) open `NEWSMON_HOME/read/newsmon.duckdb` instead: a small DuckDB file of views
only, over Parquet files under `NEWSMON_HOME/read/parquet/`, which any number of processes may keep open for
days. A view reads its Parquet files when it is queried, so a client that stays open sees each new load.

- Tables with a day (articles by publication day, classifications and article_actions by classified_at,
  article_events by event_at, fetches by started_at) are split into one file per day,
  `<table>/day=YYYY-MM-DD/data.parquet`. A write marks the (table, day) pairs it touched in `read_pending`
  in its own transaction; the refresh rewrites those days only, each file written aside and renamed over
  the old one, so a reader sees a day either before or after a load, never half of it. A crash between the
  commit and the refresh leaves the marks, and the next refresh writes those days too.
- Small tables (feeds, runs, models) are written whole at every refresh.
- The views file is rebuilt (aside, then renamed) only when the schema or `views.sql` changes; a client
  holding the old one keeps working, as both read the same Parquet files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Generator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from pipeline.core.errors import WarehouseError
from pipeline.core.transactions import transaction
from pipeline.warehouse.store import LOCK_WAIT_S, VIEWS_FILE, open_readonly

READ_DB = "newsmon.duckdb"
PARQUET_DIR = "parquet"
# Table -> the timestamp column whose UTC day names its partition.
PARTITIONED = {"articles": "published_at", "classifications": "classified_at", "article_actions": "classified_at",
               "article_events": "event_at", "fetches": "started_at"}
WHOLE = ("feeds", "runs", "models")
EMPTY = "day=none"  # every table keeps an empty file with its columns, so its view works before any data


def read_dir(home: Path) -> Path:
    return Path(home) / "read"


def read_db_path(home: Path) -> Path:
    return read_dir(home) / READ_DB


def _day_dir(root: Path, table: str, day: date | None) -> Path:
    return root / PARQUET_DIR / table / (EMPTY if day is None else f"day={day.isoformat()}")


def _copy_atomic(con, select_sql: str, params: list, target: Path) -> None:
    """COPY a query to Parquet beside the target, then rename over it: a reader sees old or new, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    con.execute(f"COPY ({select_sql}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)", params)
    os.replace(tmp, target)


def _write_days(con, root: Path, table: str, days: list[date]) -> None:
    """One scan of the table writes every marked day (PARTITION_BY), then each day's file is renamed into
    place; a marked day with no rows left gets an empty file, so a reader never sees its old rows."""
    column = PARTITIONED[table]
    staging = root / ".staging" / table  # outside parquet/: no reader's glob reaches a half-written file
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    con.execute("CREATE OR REPLACE TEMP TABLE refresh_days AS SELECT unnest(?::DATE[]) AS day", [days])
    con.execute(f"COPY (SELECT t.*, CAST(t.{column} AS DATE) AS read_day FROM {table} t "
                f"WHERE CAST(t.{column} AS DATE) IN (SELECT day FROM refresh_days)) "
                f"TO '{staging.as_posix()}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (read_day), "
                "FILENAME_PATTERN 'data_{i}')")
    for day in days:
        written = sorted((staging / f"read_day={day.isoformat()}").glob("*.parquet"))
        target = _day_dir(root, table, day) / "data.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        if len(written) == 1:
            os.replace(written[0], target)
        elif written:  # DuckDB split a big day: merge its pieces into the one file readers glob
            _copy_atomic(con, "SELECT * FROM read_parquet(?, hive_partitioning = false)", [[str(w) for w in written]],
                         target)
        else:
            _copy_atomic(con, f"SELECT * FROM {table} LIMIT 0", [], target)
    shutil.rmtree(staging, ignore_errors=True)


def mark_all(con) -> None:
    """Mark every day of every partitioned table: the first build, or a rebuild of a lost read path."""
    for table, column in PARTITIONED.items():
        con.execute(f"INSERT INTO read_pending SELECT DISTINCT '{table}', CAST({column} AS DATE) FROM {table} "
                    f"WHERE {column} IS NOT NULL")


def refresh(con, home: Path) -> dict:
    """Write the marked days and the small tables to the read path, then clear the marks (the writer's
    connection, after its commit). Returns how many day files and tables were written."""
    root = read_dir(home)
    if not read_db_path(home).exists():
        mark_all(con)  # a new (or deleted) read path starts from everything
    pending = con.execute("SELECT DISTINCT table_name, day FROM read_pending ORDER BY ALL").fetchall()
    for table in PARTITIONED:
        empty = _day_dir(root, table, None) / "data.parquet"
        if not empty.exists():
            _copy_atomic(con, f"SELECT * FROM {table} LIMIT 0", [], empty)
    for table in PARTITIONED:
        days = [day for name, day in pending if name == table]
        if days:
            _write_days(con, root, table, days)
    with transaction(con):
        if pending:
            con.execute("DELETE FROM read_pending")  # the single writer: nothing marked since the read above
        con.execute("UPDATE runs SET read_refreshed_at = now()::TIMESTAMP WHERE read_refreshed_at IS NULL")
    # After the marks are cleared, so `runs` on the read path shows when its loads became visible; a crash
    # here leaves only these small files behind, and every refresh writes them again.
    for table in WHOLE:
        _copy_atomic(con, f"SELECT * FROM {table}", [], root / PARQUET_DIR / table / "all" / "data.parquet")
    _ensure_views(con, root)
    return {"read_days_written": len(pending), "read_tables_written": len(WHOLE)}


def _views_sql(root: Path) -> str:
    """The read file's schema: one view per table over its Parquet files, then views.sql on top."""
    parts = []
    for table in (*PARTITIONED, *WHOLE):
        glob = (root / PARQUET_DIR / table / "*" / "*.parquet").as_posix()
        parts.append(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM "
                     f"read_parquet('{glob}', union_by_name = true, hive_partitioning = false);")
    return "\n".join(parts) + "\n" + VIEWS_FILE.read_text(encoding="utf-8")


def _ensure_views(con, root: Path) -> None:
    sql = _views_sql(root)
    # The writer's schema is part of the fingerprint: a migration's new column needs the views redone.
    columns = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                          "WHERE table_schema = 'main' ORDER BY ALL").fetchall()
    fingerprint = hashlib.sha256((sql + repr(columns)).encode()).hexdigest()
    stamp = root / "views.sha256"
    target = root / READ_DB
    if target.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        return
    tmp = root / f".{READ_DB}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    views = duckdb.connect(str(tmp))
    try:
        views.execute(sql)
    finally:
        views.close()
    os.replace(tmp, target)
    stamp.write_text(fingerprint + "\n")


@contextmanager
def open_read(home: Path, lock_wait_s: float = LOCK_WAIT_S,
              writes_refused: bool = False) -> Generator[duckdb.DuckDBPyConnection, None, None]:
    """A reader's connection to the read path. `writes_refused` also refuses any file outside it (COPY TO,
    ATTACH): what `newsmon sql` runs for whoever types the query."""
    path = read_db_path(home)
    if not path.exists():
        raise WarehouseError(f"warehouse: no warehouse to read at {path}; run `newsmon run` or `newsmon demo` first"
                             " (each load writes this read path)")
    with open_readonly(path, lock_wait_s=lock_wait_s) as con:
        if writes_refused:
            con.execute(f"SET allowed_directories = ['{(read_dir(home) / PARQUET_DIR).as_posix()}/']")
            con.execute("SET enable_external_access = false")
        yield con


def rebuild(warehouse_path: Path, home: Path) -> dict:
    """Write the whole read path again from the warehouse (the writer's lock is taken): after NEWSMON_HOME moved
    or `read/` was deleted, or for a warehouse copied into a new home."""
    from pipeline.warehouse.store import open_warehouse

    with open_warehouse(warehouse_path) as con:
        mark_all(con)
        return refresh(con, home)
