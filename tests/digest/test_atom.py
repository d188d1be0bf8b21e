"""digest_feed: the Atom feed of digests is valid, parsed by feedparser, and one entry per day however often
a day is rebuilt."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import feedparser

from pipeline.digest.build import build_digest

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_has_one_entry_per_day_and_a_rebuild_replaces_it(demo_settings):
    days = [date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16)]
    for day in days:
        build_digest(demo_settings, day)
    feed_path = demo_settings.digests_dir / "feed.xml"
    before = feedparser.parse(feed_path.read_bytes())
    build_digest(demo_settings, days[1])  # rebuild the middle day
    after = feedparser.parse(feed_path.read_bytes())

    assert not after.bozo and after.version == "atom10"
    assert [e.id for e in after.entries] == [e.id for e in before.entries]  # same ids, nothing duplicated
    assert len({e.id for e in after.entries}) == 3
    assert [e.link.rsplit("/", 2)[-2] for e in after.entries] == ["2026-11-16", "2026-11-15", "2026-11-14"]
    middle = {e.id: e for e in after.entries}[before.entries[1].id]
    assert middle.updated_parsed >= before.entries[1].updated_parsed
    assert "Ceasefire" in middle.title and "spike" in middle.title and "<a href=\"http" in middle.content[0].value
    assert after.feed.links[0].rel == "self" and after.feed.links[0].href.endswith("/digests/feed.xml")


def test_feed_has_the_elements_atom_requires(demo_settings):
    demo_settings.digest_base_url = "https://news.example.org/digests"
    build_digest(demo_settings, date(2026, 11, 21))
    root = ElementTree.parse(demo_settings.digests_dir / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{element}") is not None, element
    entry = root.find(f"{ATOM}entry")
    for element in ("id", "title", "updated", "summary", "content"):
        assert entry.find(f"{ATOM}{element}") is not None, element
    assert entry.find(f"{ATOM}id").text.startswith("urn:uuid:")
    assert entry.find(f"{ATOM}link").get("href") == "https://news.example.org/digests/2026-11-21/digest.html"
    assert entry.find(f"{ATOM}content").get("type") == "html"
