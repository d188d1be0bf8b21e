"""parse: fixture feeds named by case, plus real published feeds from ../shared/realfeeds."""

from __future__ import annotations

import pytest
from conftest import FEED_FIXTURES, SHARED

from pipeline.core.errors import FeedParseError
from pipeline.ingest.parse import parse_feed


def parse_fixture(name: str):
    return parse_feed((FEED_FIXTURES / name).read_bytes())


def test_rss2_entries_fields_and_language():
    feed = parse_fixture("rss2_basic.xml")
    assert feed.title == "Fixture Wire" and feed.language == "en" and not feed.bozo
    first = feed.entries[0]
    assert first.guid == "fixturewire-0001" and "ceasefire" in first.title
    assert first.published.isoformat() == "2026-11-16T09:15:00"


def test_timezone_offsets_become_utc():
    second = parse_fixture("rss2_basic.xml").entries[1]
    assert second.published.isoformat() == "2026-11-15T16:40:00"


def test_atom_prefers_full_content_over_summary():
    feed = parse_fixture("atom_basic.xml")
    assert len(feed.entries) == 2
    assert "second one is expected" in feed.entries[1].summary
    assert feed.entries[0].published.isoformat() == "2026-11-16T06:00:00"


def test_rss1_rdf_is_parsed():
    feed = parse_fixture("rdf_basic.xml")
    assert [e.link for e in feed.entries] == ["https://fixturerdf.example/a", "https://fixturerdf.example/b"]


def test_illformed_feed_keeps_what_it_can_and_records_bozo():
    feed = parse_fixture("rss2_illformed_recoverable.xml")
    assert feed.bozo and feed.bozo_reason
    assert [e.guid for e in feed.entries] == ["fixturegazette-a", "fixturegazette-b"]
    assert "Troops & tanks" in feed.entries[0].title


def test_declared_windows1251_decodes_correctly():
    feed = parse_fixture("rss2_declared_windows1251.xml")
    assert feed.entries[0].title.startswith("Переговори про перемир")
    assert feed.language == "uk"


def test_html_page_is_not_a_feed():
    with pytest.raises(FeedParseError, match="not an RSS or Atom feed"):
        parse_fixture("not_a_feed.html")


def test_parse_refuses_anything_but_bytes():
    with pytest.raises(TypeError):
        parse_feed(str(FEED_FIXTURES / "rss2_basic.xml"))  # a path must never reach feedparser


@pytest.mark.parametrize(
    "name,min_entries",
    [("bbc_news_frontpage_2024-08-08.xml", 20), ("bbc_world_2019-02-24.xml", 10),
     ("uol_noticias_2018-09-24.xml", 10), ("heise_developer_2016-02-01.atom.xml", 5)],
)
def test_real_published_feeds_parse(name, min_entries):
    path = SHARED / "realfeeds" / name
    if not path.exists():
        pytest.skip(f"{path} is not present on this machine")
    feed = parse_feed(path.read_bytes())
    assert len(feed.entries) >= min_entries
    assert all(e.title for e in feed.entries)
    assert sum(e.published is not None for e in feed.entries) >= min_entries // 2


def test_localized_month_names_are_understood():
    feed = parse_feed(
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><pubDate>Ter, 03 Fev 2026 10:00:00 -0300</pubDate></item>"
        b"<item><title>b</title><pubDate>Mi, 18 Dez 2025 08:30:00 +0100</pubDate></item></channel></rss>"
    )
    assert [e.published.isoformat() for e in feed.entries] == ["2026-02-03T13:00:00", "2025-12-18T07:30:00"]


def test_wrongly_declared_charset_is_detected_and_decoded():
    text = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новини</title><item>'
            "<title>Переговори про перемир'я тривають у Женеві</title><link>https://x.example/1</link>"
            "<description>Делегації зустрілися вдруге за тиждень.</description></item></channel></rss>")
    parsed = parse_feed(text.encode("cp1251"))  # the declaration says utf-8, the bytes are windows-1251
    assert parsed.entries[0].title == "Переговори про перемир'я тривають у Женеві"
    assert "declared charset was wrong" in parsed.bozo_reason
    assert parse_feed(text.encode("utf-8")).bozo is False  # a true declaration is left alone


def test_broken_xml_that_yields_no_entry_is_a_parse_error_but_a_valid_empty_feed_is_not():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<rss version="2.0"><channel><title>&b;</title><description>&b;</description></channel></rss>')
    with pytest.raises(FeedParseError) as caught:
        parse_feed(bomb)
    assert caught.value.kind == "parse" and "broken" in str(caught.value)
    empty = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet wire</title>'
             b"<link>https://w.example/</link><description>nothing today</description></channel></rss>")
    parsed = parse_feed(empty)
    assert parsed.entries == [] and not parsed.bozo
