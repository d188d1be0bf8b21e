"""article_actions: who did what, loaded with the classifications, versioned, and read through the views."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime

import duckdb
import pytest
from conftest import FEED_FIXTURES

from pipeline.classify.events import ACTIONS
from pipeline.classify.model import Prediction
from pipeline.core.records import FetchResult
from pipeline.ingest.normalize import normalize_entries
from pipeline.ingest.parse import parse_feed
from pipeline.ingest.stage import articles_table, fetch_row, fetches_table, write_parquet_atomic
from pipeline.warehouse.load import load_staged, register_model
from pipeline.warehouse.store import open_readonly, open_warehouse

FETCHED = datetime(2026, 11, 20, 12, 0)
EVENTS = [{"actor": "russia", "action": "reject", "theme": "ceasefire", "score": 0.8,
           "evidence": {"actor": ["Kremlin"], "action": ["rejects"]}},
          {"actor": "ukraine", "action": "propose", "theme": "ceasefire", "score": 0.5,
           "evidence": {"actor": ["Kyiv"], "action": ["offer"]}}]


def stage(tmp_path, run_id: str, edit=None):
    articles = normalize_entries(parse_feed((FEED_FIXTURES / "rss2_basic.xml").read_bytes()).entries, "wire", FETCHED)
    if edit:
        articles = [edit(a) for a in articles]
    predictions = {a.article_id: Prediction(["ceasefire"], {"ceasefire": 0.9}, {"ceasefire": ["truce"]}, EVENTS)
                   for a in articles}
    path = write_parquet_atomic(articles_table(articles, predictions, run_id, "test-model"),
                                tmp_path / f"{run_id}.articles.parquet")
    fetch = FetchResult("wire", "https://x.example/wire", FETCHED, 200, "ok", body=b"x", body_hash="h1")
    fpath = write_parquet_atomic(fetches_table([fetch_row(fetch, run_id, len(articles), False, None)]),
                                 tmp_path / f"{run_id}.fetches.parquet")
    return [str(path)], [str(fpath)], len(articles)


def actions(con) -> list[tuple]:
    return con.execute("SELECT article_id, rank, actor, action, theme, score, actor_evidence, action_evidence "
                       "FROM article_actions ORDER BY article_id, rank").fetchall()


def test_actions_load_with_the_classifications_once_and_follow_an_edit(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO feeds (feed_id, url, source, added_at) VALUES ('wire', 'https://x.example/wire', "
                    "'file', ?)", [FETCHED])
        register_model(con, {"model_version": "test-model"})
        files, fetches, n = stage(tmp_path, "run1")
        load_staged(con, "run1", files, fetches)
        first = actions(con)
        assert len(first) == 2 * n
        assert first[0][1:] == (1, "russia", "reject", "ceasefire", 0.8, ["Kremlin"], ["rejects"])

        load_staged(con, "run1", files, fetches)  # the same batch again
        assert actions(con) == first

        files, fetches, _ = stage(tmp_path, "run2", edit=lambda a: replace(a, summary=a.summary + " (updated)",
                                                                         content_hash=a.content_hash + "x"))
        load_staged(con, "run2", files, fetches)  # changed wording: this version's events are replaced
        assert len(actions(con)) == 2 * n
        assert con.execute("SELECT count(DISTINCT content_hash) FROM article_actions").fetchone()[0] == n


def test_a_failed_load_leaves_no_actions(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        files, fetches, _ = stage(tmp_path, "run1")
        with pytest.raises(duckdb.Error):
            load_staged(con, "run1", files, [*fetches, str(tmp_path / "missing.parquet")])
        assert actions(con) == []
        assert con.execute("SELECT count(*) FROM classifications").fetchone()[0] == 0


def test_actions_daily_and_positions_on_the_demo_warehouse(demo_warehouse, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_warehouse, path)
    with open_readonly(path) as con:
        coded = con.execute("SELECT count(*) FROM current_actions").fetchone()[0]
        themed = con.execute("SELECT count(DISTINCT article_id) FROM current_classifications WHERE label") \
            .fetchone()[0]
        assert coded >= themed > 0  # every themed article has at least its main event
        assert con.execute("SELECT count(*) FROM current_actions WHERE rank = 1").fetchone()[0] == themed
        daily = con.execute("SELECT day, theme, actor, action, articles, stories, outlets FROM actions_daily") \
            .fetchall()
        distinct = "SELECT count(*) FROM (SELECT DISTINCT article_id, theme, actor, action FROM current_actions)"
        assert sum(r[4] for r in daily) == con.execute(distinct).fetchone()[0]
        assert all(r[4] >= r[5] >= 1 and r[6] >= 1 and r[3] in ACTIONS for r in daily)

        positions = con.execute("SELECT actor, theme, latest_action, latest_at, most_frequent_action, stories, "
                                "story_links FROM positions").fetchall()
        assert positions
        for actor, theme, latest, latest_at, frequent, stories, links in positions:
            expected = con.execute(
                """SELECT x.action FROM current_actions x JOIN articles a USING (article_id)
                   WHERE x.actor = ? AND x.theme = ? AND a.published_at = ? ORDER BY x.action LIMIT 1""",
                [actor, theme, latest_at]).fetchone()[0]
            assert latest == expected and frequent in ACTIONS and stories >= 1
            assert links and len(links) <= 5 and all(link.startswith("http") for link in links)
