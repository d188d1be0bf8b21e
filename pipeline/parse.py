"""Parse feed bytes with feedparser. Ill-formed feeds keep what can be recovered; the bozo reason is kept."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import feedparser

from pipeline.errors import FeedParseError
from pipeline.records import ParsedFeed, RawEntry


def _struct_to_datetime(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).replace(tzinfo=None)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_text(entry) -> str:
    """The longest text feedparser found: content:encoded or Atom content beats a short summary."""
    candidates = [entry.get("summary") or ""]
    candidates += [c.get("value") or "" for c in entry.get("content") or []]
    return max(candidates, key=len)


def _language(tag: str | None) -> str | None:
    if not tag:
        return None
    return tag.strip().split("-")[0].split("_")[0].lower()[:8] or None


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes bytes: feedparser must never be handed a URL or a path")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "no feed elements found")
        raise FeedParseError("not_a_feed", f"body is not an RSS or Atom feed ({reason})")
    feed_language = _language(parsed.feed.get("language"))
    entries = [
        RawEntry(
            guid=(e.get("id") or None),
            link=(e.get("link") or None),
            title=e.get("title") or "",
            summary=_entry_text(e),
            author=e.get("author") or None,
            published=_struct_to_datetime(e.get("published_parsed") or e.get("updated_parsed")),
            language=_language(e.get("language")) or feed_language,
        )
        for e in parsed.entries
    ]
    bozo = bool(parsed.get("bozo"))
    return ParsedFeed(
        title=parsed.feed.get("title"),
        language=feed_language,
        entries=entries,
        bozo=bozo,
        bozo_reason=str(parsed.get("bozo_exception"))[:500] if bozo else None,
    )
