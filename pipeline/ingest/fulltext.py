"""Full text for feeds marked `full_text: true`: the article page is fetched with the same guard, limits and
per-host politeness as feeds, and its main text is extracted with trafilatura. Pages are cached under
NEWSMON_HOME/raw/fulltext/ so a page is fetched once, however often its feed lists it."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

from pipeline.core.config import Settings
from pipeline.core.files import write_atomic
from pipeline.core.records import Article, FeedSpec, FeedState
from pipeline.ingest.fetch import fetch_all
from pipeline.ingest.normalize import stable_hash

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def _cache_path(settings: Settings, url: str) -> Path:
    key = stable_hash("page", url, size=16)
    return settings.raw_dir / "fulltext" / key[:2] / f"{key}.txt.gz"


def extract_main_text(html: bytes, url: str, max_chars: int) -> str:
    import trafilatura  # heavy (lxml, dateparser): only where full text is asked for

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_precision=True)
    return (text or "").strip()[:max_chars]


def add_full_text(articles: list[Article], full_text_feeds: set[str], settings: Settings) -> list[Article]:
    """Articles of full-text feeds get `body`; a page that fails to fetch or extract leaves the body empty."""
    wanted: dict[str, list[int]] = {}
    per_feed: dict[str, int] = {}
    for index, article in enumerate(articles):
        if article.feed_id not in full_text_feeds or not article.url:
            continue
        if per_feed.get(article.feed_id, 0) >= settings.fulltext_per_feed and article.url not in wanted:
            continue
        if article.url not in wanted:
            per_feed[article.feed_id] = per_feed.get(article.feed_id, 0) + 1
        wanted.setdefault(article.url, []).append(index)
    bodies: dict[str, str] = {}
    to_fetch = []
    for url in wanted:
        cached = _cache_path(settings, url)
        if cached.exists():
            bodies[url] = gzip.decompress(cached.read_bytes()).decode("utf-8")
        else:
            to_fetch.append((FeedSpec(feed_id=f"page:{stable_hash(url)}", url=url), FeedState()))
    for (spec, _state), result in zip(to_fetch, fetch_all(to_fetch, settings, accept=PAGE_ACCEPT), strict=True):
        if result.outcome != "ok":
            continue  # not cached: the next cycle tries again
        text = extract_main_text(result.body, spec.url, settings.fulltext_max_chars)
        bodies[spec.url] = text
        write_atomic(_cache_path(settings, spec.url), gzip.compress(text.encode("utf-8")))
    out = list(articles)
    for url, indexes in wanted.items():
        for index in indexes:
            if bodies.get(url):
                out[index] = dataclasses.replace(out[index], body=bodies[url])
    return out
