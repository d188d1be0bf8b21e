"""maintenance: retention, checkpoint, backup and Parquet export on a real warehouse from the demo feeds."""

from __future__ import annotations

import os
import time
from datetime import date, datetime

import duckdb
import pytest
from conftest import make_settings

from pipeline.ingest.cycle import run_cycle
from pipeline.ops.demo import demo_feeds
from pipeline.warehouse.maintenance import backup, checkpoint, export_parquet, prune
from pipeline.warehouse.query import table_counts
from pipeline.warehouse.store import open_readonly

NOW = datetime(2026, 11, 25, 3, 0)


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory, demo_server):
    settings = make_settings(tmp_path_factory.mktemp("maint"), demo_feeds(demo_server))
    run_cycle(settings)
    return settings


def test_prune_removes_raw_days_and_staging_past_their_age_and_keeps_the_rest(tmp_path):
    settings = make_settings(tmp_path)
    settings.ensure_home()
    for day in ("2026-07-01", "2026-11-20"):
        (settings.raw_dir / day).mkdir()
        (settings.raw_dir / day / "x.xml.gz").write_bytes(b"x")
    (settings.raw_dir / "fulltext").mkdir()
    old_run, new_run = settings.staging_dir / "old-run", settings.staging_dir / "new-run"
    old_run.mkdir(), new_run.mkdir()
    long_ago = time.time() - 30 * 86400
    os.utime(old_run, (long_ago, long_ago))
    report = prune(settings, date(2026, 11, 25), raw_days=90, staging_days=7)
    assert report == {"raw_days_removed": 1, "staging_runs_removed": 1}
    assert sorted(p.name for p in settings.raw_dir.iterdir()) == ["2026-11-20", "fulltext"]
    assert [p.name for p in settings.staging_dir.iterdir()] == ["new-run"]


def test_backup_is_a_consistent_copy_that_opens_and_old_backups_are_rotated(demo_settings, tmp_path):
    with open_readonly(demo_settings.warehouse_path) as con:
        expected = table_counts(con)
    first = backup(demo_settings, NOW, dest=tmp_path / "b" / "warehouse-1.duckdb")
    with duckdb.connect(first["backup"], read_only=True) as copy:
        assert table_counts(copy) == expected
        assert copy.execute("SELECT count(*) FROM theme_trends").fetchone()[0] > 0  # views came along
    with pytest.raises(FileExistsError):
        backup(demo_settings, NOW, dest=tmp_path / "b" / "warehouse-1.duckdb")
    backup(demo_settings, NOW, dest=tmp_path / "b" / "warehouse-2.duckdb", keep=1)
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["warehouse-2.duckdb"]


def test_checkpoint_reports_sizes_and_keeps_the_data(demo_settings):
    report = checkpoint(demo_settings)
    assert report["bytes_after"] > 0
    with open_readonly(demo_settings.warehouse_path) as con:
        assert table_counts(con)["articles"] > 600


def test_export_is_date_partitioned_complete_and_replaced_not_appended(demo_settings, tmp_path):
    first = export_parquet(demo_settings, tmp_path / "out")
    again = export_parquet(demo_settings, tmp_path / "out")
    assert first == again
    read = duckdb.execute(
        f"SELECT count(*), count(DISTINCT day), min(day) FROM read_parquet('{tmp_path}/out/articles/*/*.parquet', "
        "hive_partitioning = true)").fetchone()
    with open_readonly(demo_settings.warehouse_path) as con:
        articles, days = con.execute("SELECT count(*), count(DISTINCT CAST(published_at AS DATE)) FROM articles"
                                     ).fetchone()
        classifications = con.execute("SELECT count(*) FROM classifications").fetchone()[0]
    assert read[:2] == (articles, days) and first["articles_rows"] == articles
    assert first["classifications_rows"] == classifications
    partial = export_parquet(demo_settings, tmp_path / "out", date(2026, 11, 20), date(2026, 11, 21))
    assert 0 < partial["articles_rows"] < articles
    assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/out/articles/*/*.parquet')").fetchone()[0] \
        == articles  # the two days were replaced, the others kept
