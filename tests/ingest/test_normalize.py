"""normalize: canonical URLs, plain text, clamped dates and stable ids."""

from __future__ import annotations

from datetime import datetime

from conftest import FEED_FIXTURES

from pipeline.core.records import RawEntry
from pipeline.ingest.normalize import (
    canonical_url,
    clamp_published,
    clean_text,
    normalize_entries,
    safe_link,
    story_key,
)
from pipeline.ingest.parse import parse_feed

FETCHED = datetime(2026, 11, 20, 12, 0, 0)


def test_canonical_url_drops_tracking_fragment_and_host_variants():
    assert canonical_url("HTTP://WWW.Example.com/News/a/?utm_source=rss&b=2&a=1#top") == \
        "https://example.com/News/a?a=1&b=2"
    assert canonical_url("https://m.example.com/news/a/amp") == canonical_url("https://example.com/news/a")
    assert canonical_url("https://example.com/x?fbclid=abc&gclid=1") == "https://example.com/x"


def test_canonical_url_refuses_non_http():
    assert canonical_url("javascript:alert(1)") is None
    assert safe_link("javascript:alert(1)") is None
    assert safe_link(" https://example.com/a ") == "https://example.com/a"


def test_clean_text_removes_markup_and_script_content():
    assert clean_text("<p>Talks <b>resume</b></p><script>alert(1)</script> &amp; go on") == "Talks resume & go on"
    assert clean_text('<img src=x onerror="alert(1)">Truce') == "Truce"


def test_dates_missing_future_and_absurdly_old_are_clamped():
    entries = parse_feed((FEED_FIXTURES / "rss2_missing_and_future_dates.xml").read_bytes()).entries
    articles = normalize_entries(entries, "clock", FETCHED)
    assert [a.published_at for a in articles] == [FETCHED, FETCHED, FETCHED]
    assert clamp_published(datetime(2026, 11, 19), FETCHED, 3650) == datetime(2026, 11, 19)


def test_reused_guid_still_gives_distinct_articles_and_true_repeats_collapse():
    entries = parse_feed((FEED_FIXTURES / "rss2_duplicate_guids.xml").read_bytes()).entries
    articles = normalize_entries(entries, "lazy", FETCHED)
    ids = [a.article_id for a in articles]
    assert len(ids) == 4 and len(set(ids)) == 3  # two distinct "same-guid" items, one repeated item


def test_ids_are_stable_across_runs_and_feeds():
    entries = parse_feed((FEED_FIXTURES / "rss2_basic.xml").read_bytes()).entries
    first = normalize_entries(entries, "a", FETCHED)
    again = normalize_entries(entries, "b", datetime(2026, 11, 21))
    assert [a.article_id for a in first] == [a.article_id for a in again]
    assert [a.content_hash for a in first] == [a.content_hash for a in again]


def test_hostile_markup_becomes_plain_text_and_bad_links_are_dropped():
    entries = parse_feed((FEED_FIXTURES / "rss2_hostile_titles.xml").read_bytes()).entries
    first = normalize_entries(entries, "hostile", FETCHED)[0]
    assert "<" not in first.title and "<" not in first.summary and "onerror" not in first.summary
    assert first.url is None and first.canonical_url is None
    assert first.summary.startswith("Mediators proposed a truce")


def test_story_key_ignores_case_punctuation_and_stopwords():
    assert story_key("EU agrees new sanctions on Russia") == story_key("EU agrees new sanctions on Russia!")
    assert story_key("The EU agrees sanctions, Russia") == story_key("eu AGREES sanctions russia")
    assert story_key("EU agrees sanctions") != story_key("EU delays sanctions")


def test_opaque_guids_of_unrelated_sites_do_not_collide_but_url_like_guids_are_global():
    def entry(guid, link, title):
        return RawEntry(guid=guid, link=link, title=title, summary="", author=None, published=None, language=None)

    one = normalize_entries([entry("1", "https://alpha.example/a", "Alpha's first post")], "alpha", FETCHED)
    other = normalize_entries([entry("1", "https://beta.example/b", "Beta's first post")], "beta", FETCHED)
    assert one[0].article_id != other[0].article_id
    tag = "tag:wire.example,2026:story-9"
    wire = normalize_entries([entry(tag, "https://wire.example/9", "Story nine")], "wire", FETCHED)
    topic = normalize_entries([entry(tag, "https://wire.example/9?ref=topic", "Story nine")], "wire-topic", FETCHED)
    assert wire[0].article_id == topic[0].article_id


def test_each_article_gets_the_language_of_its_text_beside_the_declared_one():
    def entry(title, summary, language):
        return RawEntry(guid=None, link=f"https://x.example/{len(title)}", title=title, summary=summary, author=None,
                        published=None, language=language)

    articles = normalize_entries(
        [entry("Кремль отверг предложение о перемирии", "Песков заявил, что условия не выполнены.", "en"),
         entry("Сибіга провів переговори з колегами з ЄС", "Міністр обговорив гарантії безпеки.", None),
         entry("EU adopts new sanctions package on Russia", "Ministers agreed the 20th round of measures.", "en-GB"),
         entry("OK", "", "de")],
        "feed", FETCHED, feed_language="en")
    assert [(a.language, a.declared_language) for a in articles] == [
        ("ru", "en"), ("uk", "en"), ("en", "en-GB"), ("und", "de")]
