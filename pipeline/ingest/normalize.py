"""Normalize raw entries into articles: canonical URL, plain text, UTC dates, stable ids."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

from pipeline.classify.language import detect_languages
from pipeline.core.records import Article, RawEntry

TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref", "ref_src",
    "cmpid", "ocid", "sr_share", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
}
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_WS_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but as is are was were be been it its this that "
    "after over into amid says said say will would could has have had not no new".split()
)


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme and host, no www./m./amp. prefix, no fragment, no tracking parameters, sorted query."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    for prefix in HOST_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix):]
            break
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/amp/?$", "", parts.path) or "/"
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    return urlunsplit(("https", host, path, urlencode(query), ""))


def safe_link(url: str | None) -> str | None:
    """Keep only http(s) links; `javascript:` and friends are dropped."""
    if not url:
        return None
    url = url.strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def clean_text(value: str | None) -> str:
    """Plain text: tags and script/style content removed by nh3, entities decoded, whitespace collapsed."""
    if not value:
        return ""
    stripped = nh3.clean(value, tags=set(), attributes={}) if ("<" in value or "&" in value) else value
    return _WS_RE.sub(" ", html.unescape(stripped)).strip()


def stable_hash(*parts: str, size: int = 10) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=size).hexdigest()


_GLOBAL_GUID_RE = re.compile(r"^[a-z][a-z0-9+.-]*:\S{4,}$", re.IGNORECASE)  # URLs, tag:, urn:uuid:...


def guid_key(guid: str, canonical_link: str | None, feed_id: str) -> str:
    """What a GUID identifies: URL-like GUIDs (http:, tag:, urn:) name the item everywhere; short opaque
    ones ("1", "post-42") only within a site, so they are scoped by the link's host (the same outlet's
    feeds share it), or by the feed when there is no link."""
    guid = guid.strip()
    if _GLOBAL_GUID_RE.match(guid):
        return guid
    scope = urlsplit(canonical_link).hostname if canonical_link else None
    return f"{guid}@{scope or 'feed:' + feed_id}"


def story_key(title: str) -> str:
    """Exact-duplicate key for the same headline across outlets: accents, case, punctuation, stopwords out."""
    text = unicodedata.normalize("NFKD", title.lower())
    words = [w for w in _WORD_RE.findall(text) if w not in STOPWORDS]
    return stable_hash(" ".join(words), size=8)


def clamp_published(published: datetime | None, fetched_at: datetime, max_age_days: int) -> datetime:
    """Missing or absurdly old dates become the first-seen time; future dates are clamped to it."""
    if published is None or published < fetched_at - timedelta(days=max_age_days):
        return fetched_at
    return min(published, fetched_at)


def normalize_entries(
    entries: list[RawEntry],
    feed_id: str,
    fetched_at: datetime,
    *,
    feed_language: str | None = None,
    max_age_days: int = 3650,
) -> list[Article]:
    """Turn one fetch's entries into articles with ids: GUID, else link, else title+summary.

    A GUID shared by entries with different links or titles in one fetch cannot identify them, so those
    fall back to the link (or text) and distinct items stay distinct; true repeats keep the GUID id.
    """
    cleaned = [
        (e, clean_text(e.title), clean_text(e.summary), safe_link(e.link))
        for e in entries
    ]
    guid_variants: dict[str, set] = defaultdict(set)
    for entry, title, _summary, link in cleaned:
        if entry.guid:
            guid_variants[entry.guid].add((canonical_url(link), title))
    articles: list[Article] = []
    for entry, title, summary, link in cleaned:
        if not title and not summary:
            continue
        canon = canonical_url(link)
        if entry.guid and len(guid_variants[entry.guid]) == 1:
            article_id = stable_hash("guid", guid_key(entry.guid, canon, feed_id))
        elif canon:
            article_id = stable_hash("url", canon)
        else:
            article_id = stable_hash("text", title, summary)
        articles.append(
            Article(
                article_id=article_id,
                feed_id=feed_id,
                guid=entry.guid,
                url=link,
                canonical_url=canon,
                title=title,
                summary=summary,
                author=clean_text(entry.author) or None,
                language=None,
                declared_language=entry.language or feed_language,
                published_at=clamp_published(entry.published, fetched_at, max_age_days),
                first_seen_at=fetched_at,
                content_hash=stable_hash(title, summary, size=8),
                story_key=story_key(title),
            )
        )
    found = detect_languages([(a.title, a.summary, a.declared_language) for a in articles])
    for article, detected in zip(articles, found, strict=True):
        article.language = detected.language
    return articles
