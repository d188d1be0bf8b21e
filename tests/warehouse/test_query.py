"""query: every saved query in warehouse/queries runs on a warehouse loaded from the demo feeds."""

from __future__ import annotations

import pytest
from conftest import make_settings

from pipeline.core.config import REPO_ROOT
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.demo import demo_feeds
from pipeline.warehouse.query import run_query

QUERIES = sorted((REPO_ROOT / "warehouse" / "queries").glob("*.sql"))


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory, demo_server):
    broken = FeedSpec("missing", f"{demo_server}/no-such-feed.xml")  # so feed questions have an answer
    settings = make_settings(tmp_path_factory.mktemp("q"), [*demo_feeds(demo_server), broken])
    run_cycle(settings)
    return settings.home  # readers query the read path the load refreshed


def test_at_least_eight_saved_questions_each_documented_in_the_warehouse_readme():
    readme = (REPO_ROOT / "warehouse" / "README.md").read_text()
    assert len(QUERIES) >= 8
    assert [q.name for q in QUERIES if q.name not in readme] == []


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_saved_query_runs_and_returns_rows(demo_warehouse, query):
    text = query.read_text()
    assert text.startswith("--"), "each saved query starts with the question it answers"
    columns, rows = run_query(demo_warehouse, text)
    assert columns and rows


def test_theme_daily_shows_the_demo_ceasefire_spike(demo_warehouse):
    sql = "SELECT day, articles FROM theme_daily WHERE theme = 'ceasefire' AND language = 'all' ORDER BY articles DESC"
    _, rows = run_query(demo_warehouse, sql)
    top_day, top = rows[0]
    median = sorted(n for _, n in rows)[len(rows) // 2]
    assert str(top_day) in ("2026-11-15", "2026-11-16") and top >= 5 * max(median, 1)


def test_theme_trends_flags_spikes_by_the_written_rule(demo_warehouse):
    sql = ("SELECT day, theme, articles, baseline_mean, baseline_std, baseline_days, z, spike FROM theme_trends "
           "WHERE language = 'all'")
    _, rows = run_query(demo_warehouse, sql)
    spikes = {(str(day), theme) for day, theme, *_, spike in rows if spike}
    assert ("2026-11-15", "ceasefire") in spikes
    for _day, _theme, articles, mean, std, days, z, spike in rows:
        rises = (z is not None and z >= 2) or (std == 0 and articles > mean)
        assert spike == (articles >= 3 and days >= 7 and rises)
    early = [r for r in rows if str(r[0]) < "2026-11-05"]
    assert not any(r[-1] for r in early)  # under 7 days of history: never a spike


def test_theme_daily_has_a_row_per_language_whose_counts_add_up_to_the_all_row(demo_warehouse):
    _, rows = run_query(demo_warehouse, "SELECT day, theme, language, articles, total_articles FROM theme_daily")
    languages = {language for _, _, language, _, _ in rows}
    assert {"all", "en", "ru", "uk"} <= languages
    totals: dict[tuple, list[int]] = {}
    for day, theme, language, articles, total in rows:
        sums = totals.setdefault((day, theme), [0, 0, 0, 0])
        if language == "all":
            sums[0], sums[1] = articles, total
        else:
            sums[2] += articles
            sums[3] += total
    assert all(a == b and c == d for a, c, b, d in totals.values())
    ceasefire = {(str(day), language): articles for day, theme, language, articles, _ in rows if theme == "ceasefire"}
    assert ceasefire[("2026-11-15", "ru")] >= 2 and ceasefire[("2026-11-15", "uk")] >= 2


def test_theme_trends_keeps_one_baseline_per_language(demo_warehouse):
    _, rows = run_query(demo_warehouse, "SELECT language, count(*) FROM theme_trends GROUP BY language")
    counts = dict(rows)
    assert counts["all"] > counts["ru"] > 0 and counts["uk"] > 0


def test_who_reports_first_names_a_language_and_counts_each(demo_warehouse):
    text = (REPO_ROOT / "warehouse" / "queries" / "who_reports_a_theme_first_by_language.sql").read_text()
    columns, rows = run_query(demo_warehouse, text)
    assert columns[:4] == ["day", "first_language", "first_headline", "lead_hours"]
    spike = [r for r in rows if str(r[0]) == "2026-11-15"][0]
    assert spike[1] in ("en", "ru", "uk") and spike[5] >= 2 and spike[6] >= 2  # ru and uk columns
