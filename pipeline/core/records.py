"""Plain records passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedSpec:
    feed_id: str
    url: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    poll_minutes: int = 15
    full_text: bool = False


@dataclass(frozen=True)
class FeedState:
    """What the registry remembers between fetches (conditional GET and change detection)."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class FetchResult:
    feed_id: str
    url: str
    started_at: datetime
    status: int | None
    outcome: str  # ok | not_modified | unchanged | error
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    duration_ms: float = 0.0
    error_kind: str | None = None
    error: str | None = None
    conditional: bool = False  # validators were sent
    moved_to: str | None = None  # final URL of a redirect chain made only of 301/308
    retry_after_s: float | None = None  # from a 429/503 Retry-After, jitter included


@dataclass
class RawEntry:
    """One entry as feedparser gave it, reduced to the fields newsmon uses."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    author: str | None
    published: datetime | None
    language: str | None


@dataclass
class ParsedFeed:
    title: str | None
    language: str | None
    entries: list[RawEntry] = field(default_factory=list)
    bozo: bool = False
    bozo_reason: str | None = None


@dataclass
class Article:
    article_id: str
    feed_id: str
    guid: str | None
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    author: str | None
    language: str | None  # detected from the text (pipeline.classify.language): a code, "mixed" or "und"
    published_at: datetime
    first_seen_at: datetime
    content_hash: str
    story_key: str
    body: str = ""  # full text of the page, only for feeds with full_text: true
    declared_language: str | None = None  # what the entry or its feed says
