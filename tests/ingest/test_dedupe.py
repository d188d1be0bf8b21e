"""dedupe: one row per (article, feed) and one article per id."""

from __future__ import annotations

from datetime import datetime

from pipeline.core.records import Article
from pipeline.ingest.dedupe import dedupe_sightings, unique_by_id


def article(article_id: str, feed_id: str, hour: int) -> Article:
    at = datetime(2026, 11, 20, hour)
    return Article(article_id, feed_id, None, None, None, "t", "s", None, None, at, at, "h", "k")


def test_same_article_twice_in_one_feed_is_kept_once_with_earliest_date():
    rows = dedupe_sightings([article("a", "f1", 9), article("a", "f1", 7), article("b", "f1", 8)])
    assert sorted((r.article_id, r.published_at.hour) for r in rows) == [("a", 7), ("b", 8)]


def test_same_article_in_two_feeds_is_two_sightings_one_article():
    rows = dedupe_sightings([article("a", "f1", 9), article("a", "f2", 10)])
    assert len(rows) == 2
    assert [a.feed_id for a in unique_by_id(rows)] == ["f1"]
