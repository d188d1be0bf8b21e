"""One database transaction around a block, for the DuckDB warehouse and the SQLite alert ledger alike."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any


@contextmanager
def transaction(con: Any, begin: str = "BEGIN TRANSACTION") -> Generator[Any, None, None]:
    """`begin`, then the block: committed when it ends, rolled back when it (or the commit) fails. `con` is any
    connection with `execute` (duckdb, or sqlite3 opened with isolation_level=None)."""
    con.execute(begin)
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
