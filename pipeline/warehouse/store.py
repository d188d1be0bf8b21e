"""Warehouse connections: the writer (creates the file, applies migrations and views) and readers, both waiting
with bounded backoff while another process holds the lock."""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline.core.config import REPO_ROOT
from pipeline.core.errors import WarehouseError
from pipeline.core.transactions import transaction

MIGRATIONS_DIR = REPO_ROOT / "warehouse" / "migrations"
VIEWS_FILE = REPO_ROOT / "warehouse" / "views.sql"
LOCK_WAIT_S = 30.0  # a load takes seconds; a writer waiting longer than this is stuck behind something
# DuckDB's default is 80 % of RAM; the loader spills to disk beyond this instead of growing the worker.
MEMORY_LIMIT = "512MB"


def lock_holder(message: str) -> str:
    """'PID 123: airflow tasks run ...' from DuckDB's lock error, with the holder's command line if readable."""
    match = re.search(r"\(PID (\d+)\)", message)
    if not match:
        return "another process"
    pid = match.group(1)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmdline = ""
    if len(cmdline) > 240:
        cmdline = f"{cmdline[:150]} ... {cmdline[-80:]}"
    return f"PID {pid}" + (f" ({cmdline})" if cmdline else "")


def _connect(path: Path, read_only: bool, lock_wait_s: float = LOCK_WAIT_S,
             external_access: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying with bounded backoff while another process holds the lock."""
    delay, waited = 0.1, 0.0
    while True:
        try:
            config = {"memory_limit": MEMORY_LIMIT}
            if not external_access:
                config["enable_external_access"] = False
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"warehouse: cannot open {path}: {exc}") from exc
            if waited >= lock_wait_s:
                raise WarehouseError(
                    f"warehouse: {path} is locked by {lock_holder(str(exc))}; gave up after {waited:.1f} s. "
                    "Only one process writes at a time: wait for it to finish or stop it."
                ) from exc
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 4.0, max(lock_wait_s - waited, 0.05))


def migrate(con: duckdb.DuckDBPyConnection, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every numbered migration not yet recorded, each in its own transaction; then the views."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    done = []
    for path in sorted(Path(migrations_dir).glob("[0-9][0-9][0-9]_*.sql")):
        version = int(path.name[:3])
        if version in applied:
            continue
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, path.stem]
            )
        done.append(path.stem)
    con.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    return done


@contextmanager
def open_warehouse(path: Path, lock_wait_s: float = LOCK_WAIT_S) -> Generator[duckdb.DuckDBPyConnection, None, None]:
    """The writer's connection: creates the file if needed and brings the schema up to date."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False, lock_wait_s=lock_wait_s)
    try:
        migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def open_readonly(
    path: Path, lock_wait_s: float = LOCK_WAIT_S, external_access: bool = True
) -> Generator[duckdb.DuckDBPyConnection, None, None]:
    """A reader's connection; `external_access=False` also refuses reading or writing any other file."""
    if not Path(path).exists():
        raise WarehouseError(f"warehouse: no warehouse at {path}; run `newsmon run` or `newsmon demo` first")
    con = _connect(path, read_only=True, lock_wait_s=lock_wait_s, external_access=external_access)
    try:
        yield con
    finally:
        con.close()
