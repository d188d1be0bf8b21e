"""stories: near-duplicate clustering on real DuckDB files, checked against the demo's known stories."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from conftest import Behaviour, make_settings

from pipeline.core.clock import utcnow
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.demo import demo_feeds
from pipeline.warehouse.store import open_readonly, open_warehouse
from pipeline.warehouse.stories import assign_stories


def demo_slug(url: str) -> str:
    """The demo writes each story's slug into every outlet's link: the ground truth of who reported what."""
    return re.search(r"/news/\d+/\d+/\d+/([^?]+)", url).group(1)


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory, demo_server):
    settings = make_settings(tmp_path_factory.mktemp("stories"), demo_feeds(demo_server))
    run_cycle(settings, force=True)
    return settings


def test_syndicated_copies_join_the_wire_story_and_different_events_never_merge(demo_warehouse):
    with open_readonly(demo_warehouse.warehouse_path) as con:
        rows = con.execute("SELECT story_id, canonical_url, feed_id, title FROM articles").fetchall()
    slugs_per_story = defaultdict(set)
    for story, url, _feed, _title in rows:
        slugs_per_story[story].add(demo_slug(url))
    assert all(len(slugs) == 1 for slugs in slugs_per_story.values())  # no two events in one story
    wire = {demo_slug(url): (story, title) for story, url, feed, title in rows if feed == "northwire"}
    copies = [(story, wire[demo_slug(url)][0]) for story, url, feed, title in rows
              if feed != "northwire" and demo_slug(url) in wire and wire[demo_slug(url)][1].rstrip(".") in title]
    assert len(copies) >= 30
    assert all(story == wire_story for story, wire_story in copies)


def test_stories_view_and_story_spread_sum_up_each_story(demo_warehouse):
    with open_readonly(demo_warehouse.warehouse_path) as con:
        top = con.execute("SELECT story_id, articles, outlets, outlet_ids, themes FROM stories "
                          "ORDER BY outlets DESC, story_id LIMIT 1").fetchone()
        spread = con.execute("SELECT outlets, hours_to_second_outlet, outlets_within_24h, outlet_order "
                             "FROM story_spread WHERE story_id = ?", [top[0]]).fetchone()
        direct = con.execute("SELECT count(DISTINCT feed_id) FROM articles WHERE story_id = ?", [top[0]]).fetchone()
    assert top[2] == direct[0] == spread[0] == len(top[3]) >= 3 and top[4]
    assert spread[1] > 0 and sorted(spread[3]) == top[3]


def wire_feed(*items: tuple[str, str, str, str]) -> bytes:
    body = "".join(f"<item><title>{t}</title><description>{s}</description><link>{link}</link>"
                   f"<pubDate>{day}</pubDate></item>" for t, s, link, day in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>w</title>{body}</channel></rss>'.encode()


ORIGINAL = ("Envoys agree on prisoner exchange mechanism after overnight session in Istanbul",
            "Negotiators from Kyiv and Moscow agreed a mechanism for regular prisoner exchanges after a session "
            "that ran past midnight, the Turkish hosts said, with the first swap expected within ten days.")
OTHER_EVENT = ("Envoys fail to agree on grain corridor inspections in Istanbul talks",
               "A separate round of talks on inspections of grain ships ended without a deal, the Turkish hosts "
               "said, and negotiators will meet again next month.")


def test_a_late_copy_joins_the_earlier_story_but_not_after_the_window_and_reruns_change_nothing(
    tmp_path, scripted_server
):
    scripted_server.routes["/wire"] = Behaviour(200, wire_feed(
        (*ORIGINAL, "https://wire.example/1", "Mon, 16 Nov 2026 08:00:00 GMT"),
        (*OTHER_EVENT, "https://wire.example/2", "Mon, 16 Nov 2026 09:00:00 GMT")))
    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire"))], run_workers=1)
    run_cycle(settings)
    copy = ("UPDATE 1-" + ORIGINAL[0], ORIGINAL[1].split(", the Turkish")[0] + ".")
    scripted_server.routes["/paper"] = Behaviour(200, wire_feed(
        (*copy, "https://paper.example/1", "Mon, 16 Nov 2026 14:00:00 GMT"),
        (*copy, "https://paper.example/late", "Sat, 21 Nov 2026 14:00:00 GMT")))
    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire")),
                                        FeedSpec("paper", scripted_server.url("/paper"))], run_workers=1)
    run_cycle(settings)
    with open_readonly(settings.warehouse_path) as con:
        story = dict(con.execute("SELECT url, story_id FROM articles").fetchall())
    assert story["https://paper.example/1"] == story["https://wire.example/1"]
    assert story["https://wire.example/2"] != story["https://wire.example/1"]
    assert story["https://paper.example/late"] != story["https://wire.example/1"]  # five days later: news again
    with open_warehouse(settings.warehouse_path) as con:
        assert assign_stories(con, utcnow()) == {"articles_clustered": 0, "stories_merged": 0}


def test_the_same_headline_weeks_apart_is_two_stories(tmp_path, scripted_server):
    headline = "Russia-Ukraine war: what we know on day"
    scripted_server.routes["/a"] = Behaviour(200, wire_feed(
        (headline, "Strikes overnight and talks in Geneva.", "https://a.example/1", "Mon, 02 Nov 2026 08:00:00 GMT")))
    scripted_server.routes["/b"] = Behaviour(200, wire_feed(
        (headline, "A different day with different news.", "https://b.example/9", "Mon, 23 Nov 2026 08:00:00 GMT")))
    feeds = [FeedSpec("a", scripted_server.url("/a")), FeedSpec("b", scripted_server.url("/b"))]
    settings = make_settings(tmp_path, feeds, run_workers=1)
    run_cycle(settings)
    with open_readonly(settings.warehouse_path) as con:
        assert con.execute("SELECT count(DISTINCT story_id), max(outlets) FROM stories").fetchone() == (2, 1)
