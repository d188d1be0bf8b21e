"""digest: built from a real warehouse; untrusted text never reaches the page as markup."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from conftest import make_settings

from pipeline.digest import ThemeDay, build_digest, collect, md_escape, render_markdown
from pipeline.ingest import run_cycle
from pipeline.records import FeedSpec
from pipeline.warehouse import open_readonly, open_warehouse


def test_digest_of_a_day_lists_themes_articles_and_evidence(tmp_path, fixture_server):
    feeds = [FeedSpec(n, f"{fixture_server}/{n}.xml") for n in ("rss2_basic", "atom_basic", "rss2_hostile_titles")]
    settings = make_settings(tmp_path, feeds)
    run_cycle(settings)
    path = build_digest(settings, date(2026, 11, 20))
    text = path.read_text()
    assert path == settings.digests_dir / "2026-11-20" / "digest.md"
    assert "# newsmon digest — 2026-11-20" in text and "| Ceasefire |" in text
    lowered = text.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<iframe" not in lowered
    assert "](javascript" not in lowered and "(<javascript" not in lowered  # never an active link
    assert "\\[click\\]\\(javascript" in lowered  # the hostile title survives only as escaped text
    assert "why: " in text


def test_hostile_text_is_escaped_in_markdown():
    day = ThemeDay("ceasefire", "Ceasefire", True, 1, 0.0, False, [{
        "title": "<script>alert(1)</script> [click](javascript:alert(1))", "url": None,
        "outlet": "<img src=x onerror=alert(1)>", "published_at": datetime(2026, 11, 20, 8), "score": 0.9,
        "evidence": ["<b>truce</b>"]}])
    text = render_markdown({"day": date(2026, 11, 20), "articles": 1, "outlets": 1, "on_topic": 1, "themes": [day]})
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "\\[click\\]\\(javascript:alert\\(1\\)\\)" in text
    assert md_escape("a*b_c") == "a\\*b\\_c"


def test_quiet_day_and_empty_warehouse_give_a_short_digest(settings):
    with open_warehouse(settings.warehouse_path):
        pass
    text = build_digest(settings, date(2026, 1, 1)).read_text()
    assert "quiet day" in text


def test_collect_flags_the_demo_ceasefire_spike_against_the_previous_fourteen_days(tmp_path, demo_server):
    from pipeline.demo import demo_feeds

    settings = make_settings(tmp_path, demo_feeds(demo_server))
    run_cycle(settings)
    data = collect(settings, date(2026, 11, 15))
    ceasefire = next(t for t in data["themes"] if t.theme == "ceasefire")
    assert data["articles"] > 10 and ceasefire.count >= 10 and ceasefire.spike
    with open_readonly(settings.warehouse_path) as con:
        direct = con.execute(
            "SELECT count(*), count(DISTINCT feed_id), count(*) FILTER (WHERE article_id IN "
            "(SELECT article_id FROM current_classifications WHERE label)) FROM articles "
            "WHERE CAST(published_at AS DATE) = DATE '2026-11-15'").fetchone()
    assert (data["articles"], data["outlets"], data["on_topic"]) == direct
    assert ceasefire.baseline_mean < ceasefire.count / 5
    assert [t.core for t in data["themes"]][:3] == [True, True, True]


def test_digest_day_of_scheduled_and_manual_runs():
    from pipeline.digest import digest_day_for_run

    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    assert digest_day_for_run(start, end, start) == date(2026, 11, 20)  # data interval: its first day
    assert digest_day_for_run(end, end, end) == date(2026, 11, 20)  # cron trigger at midnight: the day before
    assert digest_day_for_run(None, None, end) == date(2026, 11, 20)  # manual run with a logical date
    assert digest_day_for_run(None, None, None) == datetime.now(UTC).date() - timedelta(days=1)
