"""Exact deduplication before staging: the same article (id) seen twice in one batch is kept once per feed."""

from __future__ import annotations

from pipeline.core.records import Article


def dedupe_sightings(articles: list[Article]) -> list[Article]:
    """One row per (article_id, feed_id); the earliest publication wins, ties keep feed order."""
    best: dict[tuple[str, str], Article] = {}
    for article in articles:
        key = (article.article_id, article.feed_id)
        kept = best.get(key)
        if kept is None or article.published_at < kept.published_at:
            best[key] = article
    return list(best.values())


def unique_by_id(articles: list[Article]) -> list[Article]:
    """The articles to classify: one per article_id, first occurrence wins."""
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.article_id, article)
    return list(seen.values())
