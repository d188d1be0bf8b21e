"""ingest: whole cycles over feeds served on 127.0.0.1, into a real DuckDB file."""

from __future__ import annotations

from conftest import make_settings

from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import plan_batches, run_cycle
from pipeline.ops.demo import demo_feeds
from pipeline.warehouse.query import table_counts
from pipeline.warehouse.store import open_readonly, open_warehouse

STABLE_TABLES = ("articles", "article_events", "classifications", "stories", "feeds", "models")


def fixture_feeds(base_url: str) -> list[FeedSpec]:
    names = ["rss2_basic", "atom_basic", "rdf_basic", "rss2_illformed_recoverable", "rss2_declared_windows1251",
             "rss2_duplicate_guids"]
    return [FeedSpec(n, f"{base_url}/{n}.xml") for n in names] + [
        FeedSpec("gone", f"{base_url}/no-such-feed.xml"), FeedSpec("html", f"{base_url}/not_a_feed.html")]


def counts(settings) -> dict[str, int]:
    with open_readonly(settings.warehouse_path) as con:
        return table_counts(con)


def test_cycle_loads_every_recoverable_feed_and_records_broken_ones(tmp_path, fixture_server):
    settings = make_settings(tmp_path, fixture_feeds(fixture_server))
    result = run_cycle(settings)
    assert result["feeds"] == 8 and result["failed"] == 2
    with open_readonly(settings.warehouse_path) as con:
        kinds = dict(con.execute("SELECT feed_id, coalesce(error_kind, outcome) FROM fetches").fetchall())
        assert kinds["gone"] == "http_4xx" and kinds["html"] == "not_a_feed" and kinds["rss2_basic"] == "ok"
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3 + 2 + 2 + 2 + 1 + 3
        health = dict(con.execute("SELECT feed_id, state FROM feed_health").fetchall())
        assert health["gone"] == "failing" and health["atom_basic"] == "ok"


def test_rerun_of_the_same_cycle_leaves_the_same_rows(tmp_path, demo_server):
    settings = make_settings(tmp_path, demo_feeds(demo_server), batch_size=3)
    first = run_cycle(settings, force=True)
    after_first = counts(settings)
    second = run_cycle(settings, force=True)
    after_second = counts(settings)
    assert first["articles_new"] > 600 and second["articles_new"] == 0
    assert {t: after_second[t] for t in STABLE_TABLES} == {t: after_first[t] for t in STABLE_TABLES}
    assert after_second["fetches"] == 2 * after_first["fetches"]  # every attempt is logged
    with open_readonly(settings.warehouse_path) as con:
        outcomes = con.execute("SELECT DISTINCT outcome FROM fetches WHERE run_id = ?", [second["run_id"]]).fetchall()
    assert {o for (o,) in outcomes} <= {"not_modified", "unchanged"}  # same bytes: nothing re-parsed


def test_full_reparse_of_unchanged_feeds_adds_nothing(tmp_path, demo_server):
    settings = make_settings(tmp_path, demo_feeds(demo_server))
    run_cycle(settings, force=True)
    before = counts(settings)
    with open_warehouse(settings.warehouse_path) as con:  # forget validators: the bytes are parsed again
        con.execute("UPDATE feeds SET etag = NULL, last_modified = NULL, body_hash = NULL")
    third = run_cycle(settings, force=True)
    assert third["entries"] > 600 and third["articles_new"] == 0 and third["articles_changed"] == 0
    assert {t: counts(settings)[t] for t in STABLE_TABLES} == {t: before[t] for t in STABLE_TABLES}


def test_feeds_not_yet_due_are_not_planned(tmp_path, fixture_server):
    settings = make_settings(tmp_path, fixture_feeds(fixture_server)[:2])
    run_cycle(settings)
    assert plan_batches(settings, "later") == []
    assert len(plan_batches(settings, "forced", force=True)[0]["feeds"]) == 2


def test_batches_carry_only_small_plain_values(tmp_path, fixture_server):
    settings = make_settings(tmp_path, fixture_feeds(fixture_server), batch_size=3)
    batches = plan_batches(settings, "r1")
    assert [len(b["feeds"]) for b in batches] == [3, 3, 2]
    assert set(batches[0]["feeds"][0]) == {"feed_id", "url", "language", "full_text", "etag", "last_modified",
                                           "body_hash"}


def test_feed_dropped_from_the_file_is_disabled_not_deleted(tmp_path, fixture_server):
    feeds = fixture_feeds(fixture_server)[:2]
    settings = make_settings(tmp_path, feeds)
    run_cycle(settings)
    settings = make_settings(tmp_path, feeds[:1])
    plan_batches(settings, "r2", force=True)
    with open_readonly(settings.warehouse_path) as con:
        reason = con.execute("SELECT disabled_reason FROM feeds WHERE feed_id = ?", [feeds[1].feed_id]).fetchone()[0]
        assert reason == "removed from feeds file"
        assert con.execute("SELECT count(*) FROM articles WHERE feed_id = ?", [feeds[1].feed_id]).fetchone()[0] == 2


def test_load_registers_the_model_from_its_card_without_loading_it(tmp_path, fixture_server):
    import shutil

    from pipeline.classify.model import CARD_FILE, current_version
    from pipeline.core.config import REPO_ROOT
    from pipeline.ingest.cycle import load_run, process_batch

    settings = make_settings(tmp_path, fixture_feeds(fixture_server)[:1])
    [batch] = plan_batches(settings, "r1")
    staged = process_batch(settings, batch)
    version = current_version(REPO_ROOT / "models")
    cards_only = tmp_path / "cards-only"  # no model.skops: the writer must not need it
    (cards_only / version).mkdir(parents=True)
    shutil.copy(REPO_ROOT / "models" / version / CARD_FILE, cards_only / version / CARD_FILE)
    counts = load_run(make_settings(tmp_path, fixture_feeds(fixture_server)[:1], models_dir=cards_only),
                      "r1", [staged])
    assert counts["articles_new"] == 3 and staged["model_version"] == version
    with open_readonly(settings.warehouse_path) as con:
        assert con.execute("SELECT model_version FROM models").fetchall() == [(version,)]


def test_replay_rebuilds_lost_articles_from_kept_raw_bytes_and_a_second_replay_adds_nothing(tmp_path, fixture_server):
    from pipeline.core.clock import utcnow
    from pipeline.ingest.cycle import replay

    settings = make_settings(tmp_path, fixture_feeds(fixture_server))
    run_cycle(settings)
    with open_readonly(settings.warehouse_path) as con:
        before = con.execute("SELECT article_id, title, content_hash FROM articles ORDER BY 1").fetchall()
    settings.warehouse_path.unlink()  # the warehouse is lost; the raw bytes are not
    today = utcnow().date()
    first = replay(settings, today, today)
    assert first["raw_bodies"] == 7  # six feeds and the HTML page, kept though it did not parse
    assert first["articles_new"] == len(before)
    with open_readonly(settings.warehouse_path) as con:
        assert con.execute("SELECT article_id, title, content_hash FROM articles ORDER BY 1").fetchall() == before
    again = replay(settings, today, today)
    assert again["articles_new"] == 0 and again["articles_changed"] == 0


ARTICLE_PAGE = b"""<!doctype html><html><head><title>Envoys meet again</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Envoys meet again in Geneva</h1>
<p>Negotiators from both delegations sat down for a third round on Tuesday, aides said, with a draft on
prisoner exchanges and a monitoring mission for the front line on the table.</p>
<p>One diplomat described the mood as businesslike. Neither side expected a signed text this week, but both
agreed to keep a working group on the maritime corridor meeting after the envoys leave.</p>
<p>The next session is planned for early December, according to a schedule shared with reporters.</p>
</article><footer>Copyright newsmon test fixture</footer></body></html>"""


def test_full_text_feed_gets_the_page_text_fetched_once_under_the_same_guard(tmp_path, scripted_server):
    from conftest import Behaviour

    def feed(*paths):
        items = "".join(f"<item><title>Story {p}</title><link>{scripted_server.url(p)}</link></item>" for p in paths)
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()

    scripted_server.routes["/feed"] = Behaviour(200, feed("/story/1"))
    scripted_server.routes["/story/1"] = Behaviour(200, ARTICLE_PAGE, {"Content-Type": "text/html"})
    scripted_server.routes["/story/2"] = Behaviour(200, ARTICLE_PAGE.replace(b"third", b"fourth"))
    settings = make_settings(tmp_path, [FeedSpec("ft", scripted_server.url("/feed"), full_text=True)], run_workers=1)
    run_cycle(settings, force=True)
    scripted_server.routes["/feed"] = Behaviour(200, feed("/story/1", "/story/2"))
    run_cycle(settings, force=True)
    with open_readonly(settings.warehouse_path) as con:
        bodies = dict(con.execute("SELECT title, body FROM articles").fetchall())
    assert "third round" in bodies["Story /story/1"] and "fourth round" in bodies["Story /story/2"]
    assert "Home" not in bodies["Story /story/1"]  # boilerplate stays out
    pages = [path for path, _ in scripted_server.requests if path.startswith("/story")]
    assert sorted(pages) == ["/story/1", "/story/2"]  # the cached page is not fetched again


def test_a_feed_fetched_just_after_planning_is_due_again_at_the_next_scheduled_run(tmp_path, fixture_server):
    from datetime import timedelta

    settings = make_settings(tmp_path, fixture_feeds(fixture_server)[:2])
    run_cycle(settings)
    with open_readonly(settings.warehouse_path) as con:
        fetched = con.execute("SELECT min(last_fetched_at) FROM feeds").fetchone()[0]
    # The next Airflow run plans 15 minutes after this one did, a few seconds before the fetch started.
    next_plan = fetched - timedelta(seconds=5) + timedelta(minutes=15)
    assert len(plan_batches(settings, "next", as_of=next_plan)[0]["feeds"]) == 2
    assert plan_batches(settings, "too-early", as_of=fetched + timedelta(minutes=10)) == []


def test_one_hosts_feeds_are_planned_into_the_same_batch(tmp_path):
    feeds = [FeedSpec(f"{host}-{n}", f"https://{host}.example/feed{n}.xml") for n in range(3)
             for host in ("alpha", "beta")]  # interleaved by host
    settings = make_settings(tmp_path, feeds, batch_size=3)
    batches = plan_batches(settings, "r1")
    assert [{f["url"].split("/")[2] for f in b["feeds"]} for b in batches] == [{"alpha.example"}, {"beta.example"}]
