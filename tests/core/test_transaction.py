"""core.transactions: a block's writes land together or not at all, on a real DuckDB file and a real SQLite one."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.core.transactions import transaction


def test_a_failing_block_leaves_nothing_and_a_finished_one_commits_everything(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(duckdb.ConstraintException):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1), (2)")
            con.execute("INSERT INTO t VALUES (2)")  # a duplicate key: the whole block goes
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0

    def write_and_return() -> int:
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1), (2)")
            return 2  # leaving the block by return commits

    assert write_and_return() == 2
    con.close()
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as again:  # committed to the file
        assert again.execute("SELECT count(*) FROM t").fetchone()[0] == 2


def test_sqlite_with_its_own_begin_rolls_back_a_failing_block_too(tmp_path):
    import sqlite3

    con = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)  # the alert ledger's way: explicit BEGIN
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(sqlite3.IntegrityError):
        with transaction(con, "BEGIN IMMEDIATE"):
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("INSERT INTO t VALUES (1)")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    with transaction(con, "BEGIN IMMEDIATE"):
        con.execute("INSERT INTO t VALUES (1)")
    con.close()
    assert sqlite3.connect(tmp_path / "t.sqlite").execute("SELECT count(*) FROM t").fetchone()[0] == 1
