"""The Atom feed of digests, NEWSMON_HOME/digests/feed.xml, for any feed reader.

The feed is rebuilt from every day's digest.json each time a digest is written, so rebuilding a day replaces
its entry and never duplicates it. A lock keeps two digest builds (an Airflow backfill) from interleaving.
"""

from __future__ import annotations

import fcntl
import json
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from feedgen.feed import FeedGenerator

from pipeline.core.config import Settings
from pipeline.core.files import replaced_atomically

FEED_FILE = "feed.xml"


@contextmanager
def _locked(directory: Path):
    with (directory / ".feed.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _base(settings: Settings) -> str:
    """Where readers find the digests: the configured public URL, else this machine's directory."""
    if settings.digest_base_url:
        return settings.digest_base_url.rstrip("/") + "/"
    return settings.digests_dir.resolve().as_uri() + "/"


def digest_url(settings: Settings, day: str) -> str:
    """Where a reader finds the digest of `day` (YYYY-MM-DD): the feed's links, and the alerts'."""
    return f"{_base(settings)}{day}/digest.html"


def feed_entries(settings: Settings) -> list[dict]:
    """The newest `digest_feed_entries` digests, newest first (one per day directory)."""
    entries = []
    for path in settings.digests_dir.glob("*/digest.json"):
        try:
            entries.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a half-deleted day must not break the feed of the others
    entries.sort(key=lambda e: e["day"], reverse=True)
    return entries[: settings.digest_feed_entries]


def write_feed(settings: Settings) -> Path:
    directory = settings.digests_dir
    directory.mkdir(parents=True, exist_ok=True)
    base = _base(settings)
    feed_uuid = uuid.uuid5(uuid.NAMESPACE_URL, base)  # stable for the same place of publication
    with _locked(directory):
        entries = feed_entries(settings)
        fg = FeedGenerator()
        fg.id(feed_uuid.urn)
        fg.title("newsmon daily digest")
        fg.subtitle("Russia-Ukraine war diplomacy: what moved, which stories, and why each article is there")
        fg.author({"name": "newsmon"})
        fg.link(href=base + FEED_FILE, rel="self", type="application/atom+xml")
        fg.link(href=base, rel="alternate")
        fg.language("en")
        fg.generator("newsmon")
        updated = [datetime.fromisoformat(e["updated"]) for e in entries]
        fg.updated(max(updated) if updated else datetime.fromisoformat("1970-01-01T00:00:00+00:00"))
        for entry in reversed(entries):  # feedgen prepends: add oldest first, newest ends on top
            fe = fg.add_entry()
            fe.id(uuid.uuid5(feed_uuid, entry["day"]).urn)
            fe.title(entry["subject"])
            fe.updated(datetime.fromisoformat(entry["updated"]))
            fe.link(href=digest_url(settings, entry["day"]), rel="alternate", type="text/html")
            fe.summary(entry["summary"])
            fe.content(entry["content_html"], type="html")
        path = directory / FEED_FILE
        with replaced_atomically(path) as tmp:
            fg.atom_file(str(tmp), pretty=True)
    return path
