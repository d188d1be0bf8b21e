"""Read-only SQL on the warehouse for `newsmon sql` and the other readers."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.errors import WarehouseError
from pipeline.warehouse import open_readonly


def run_query(warehouse_path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of one query; bad SQL and any attempt to write (the warehouse, or a file through COPY)
    give a one-line WarehouseError."""
    with open_readonly(warehouse_path, external_access=False) as con:
        try:
            relation = con.execute(sql)
            columns = [d[0] for d in relation.description or []]
            return columns, relation.fetchall()
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise WarehouseError(f"sql: {first_line}") from exc
