"""store.transaction: a block's writes land together or not at all, on a real DuckDB file."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.warehouse.store import transaction


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
