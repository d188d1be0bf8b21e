"""Keeping the warehouse healthy: checkpoint, retention of raw bytes and staging, backups, Parquet export."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.core.config import Settings
from pipeline.core.progress import Progress, silent
from pipeline.warehouse.store import open_readonly, open_warehouse


def checkpoint(settings: Settings) -> dict:
    """Fold the WAL into the file and give freed blocks back."""
    path = settings.warehouse_path
    before = _size(path) + _size(path.with_suffix(".duckdb.wal"))
    with open_warehouse(path) as con:
        con.execute("FORCE CHECKPOINT")
    return {"bytes_before": before, "bytes_after": _size(path) + _size(path.with_suffix(".duckdb.wal"))}


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def prune(settings: Settings, today: date, raw_days: int, staging_days: int) -> dict:
    """Delete raw bodies whose fetch day is more than `raw_days` old and staging of runs older than
    `staging_days` (by modification time). Raw bytes younger than that can still be replayed."""
    removed_raw = 0
    if settings.raw_dir.exists():
        for day_dir in settings.raw_dir.iterdir():
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError:
                continue  # e.g. raw/fulltext: a cache, kept
            if day < today - timedelta(days=raw_days):
                shutil.rmtree(day_dir)
                removed_raw += 1
    removed_staging = 0
    cutoff = time.time() - staging_days * 86400
    if settings.staging_dir.exists():
        for run in settings.staging_dir.iterdir():
            if run.is_dir() and run.stat().st_mtime < cutoff:
                shutil.rmtree(run)
                removed_staging += 1
    return {"raw_days_removed": removed_raw, "staging_runs_removed": removed_staging}


def backup(settings: Settings, now: datetime, dest: Path | None = None, keep: int | None = None) -> dict:
    """A consistent copy of the warehouse (one transaction of the writer) as a new DuckDB file.

    Default destination: NEWSMON_HOME/backups/warehouse-<timestamp>.duckdb, keeping the newest `keep`.
    """
    dest = Path(dest) if dest else settings.home / "backups" / f"warehouse-{now:%Y%m%dT%H%M%S}.duckdb"
    if dest.exists():
        raise FileExistsError(f"backup: {dest} exists; choose another name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with open_warehouse(settings.warehouse_path) as con:
        source = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ATTACH '{_sql_path(tmp)}' AS backup_copy")
        try:
            con.execute(f'COPY FROM DATABASE "{source}" TO backup_copy')
        finally:
            con.execute("DETACH backup_copy")
    os.replace(tmp, dest)
    pruned = []
    if keep:
        older = sorted(dest.parent.glob("warehouse-*.duckdb"))[:-keep]
        for path in older:
            path.unlink()
            pruned.append(path.name)
    return {"backup": str(dest), "bytes": dest.stat().st_size, "backups_removed": len(pruned)}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


EXPORTS = {
    "articles": "SELECT a.*, CAST(a.published_at AS DATE) AS day FROM articles a",
    "classifications": (
        "SELECT c.*, c.model_version = a.model_version AS is_current, CAST(a.published_at AS DATE) AS day "
        "FROM classifications c JOIN articles a USING (article_id)"
    ),
}


def export_parquet(settings: Settings, dest: Path, first: date | None = None, last: date | None = None,
                   progress: Progress = silent) -> dict:
    """Date-partitioned Parquet (`<table>/day=YYYY-MM-DD/*.parquet`) of articles and classifications, by UTC
    publication day, for Spark, Trino or pandas. Each table is written beside the old export and swapped in,
    so readers never see half an export; a day range exports only those days."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    where = []
    if first:
        where.append(f"day >= DATE '{first.isoformat()}'")
    if last:
        where.append(f"day <= DATE '{last.isoformat()}'")
    counts = {}
    with open_readonly(settings.warehouse_path) as con:
        for done, (table, select) in enumerate(EXPORTS.items()):
            progress("export (tables)", done, len(EXPORTS))
            staging = dest / f".{table}.{os.getpid()}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            query = f"SELECT * FROM ({select})" + (f" WHERE {' AND '.join(where)}" if where else "")
            counts[table] = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
            con.execute(
                f"COPY ({query}) TO '{_sql_path(staging)}' "
                "(FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, FILENAME_PATTERN 'part-{i}')"
            )
            target = dest / table
            if first or last:  # replace only the exported days
                target.mkdir(exist_ok=True)
                for day_dir in staging.iterdir() if staging.exists() else []:
                    shutil.rmtree(target / day_dir.name, ignore_errors=True)
                    os.replace(day_dir, target / day_dir.name)
                shutil.rmtree(staging, ignore_errors=True)
            else:
                old = dest / f".{table}.old.{os.getpid()}"
                if target.exists():
                    os.replace(target, old)
                if staging.exists():
                    os.replace(staging, target)
                else:
                    target.mkdir()
                shutil.rmtree(old, ignore_errors=True)
    progress("export (tables)", len(EXPORTS), len(EXPORTS))
    return {"dest": str(dest), **{f"{t}_rows": n for t, n in counts.items()}}


def run_maintenance(settings: Settings, now: datetime, progress: Progress = silent) -> dict:
    """What the warehouse_maintenance DAG does daily: prune, checkpoint, back up, export."""
    steps = [lambda: prune(settings, now.date(), settings.raw_retention_days, settings.staging_retention_days),
             lambda: checkpoint(settings), lambda: backup(settings, now, keep=settings.backups_keep),
             lambda: export_parquet(settings, settings.home / "export")]
    report: dict = {}
    progress("prune, checkpoint, back up, export", 0, len(steps))
    for done, step in enumerate(steps, start=1):
        report |= step()
        progress("prune, checkpoint, back up, export", done, len(steps))
    return report
