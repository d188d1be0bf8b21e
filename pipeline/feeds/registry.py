"""Feed registry commands: add, remove, enable, list, import and export feeds in the warehouse `feeds` table."""

from __future__ import annotations

from datetime import datetime

from pipeline.core.clock import utcnow
from pipeline.core.config import Settings
from pipeline.core.records import FeedSpec
from pipeline.feeds.lists import feed_from_mapping, parse_opml, to_opml
from pipeline.warehouse.feeds import enable_feed, list_feeds, remove_feed, upsert_feeds
from pipeline.warehouse.query import run_query
from pipeline.warehouse.readpath import refresh
from pipeline.warehouse.store import open_warehouse


def add_feeds(settings: Settings, specs: list[FeedSpec]) -> int:
    settings.ensure_home()
    with open_warehouse(settings.warehouse_path) as con:
        upsert_feeds(con, specs, "cli", utcnow())
        refresh(con, settings.home)
    return len(specs)


def remove_feeds(settings: Settings, feed_ids: list[str]) -> int:
    return _per_feed(settings, feed_ids, remove_feed)


def registered_feeds(settings: Settings) -> list[FeedSpec]:
    settings.ensure_home()
    with open_warehouse(settings.warehouse_path) as con:
        return list_feeds(con)


def enable_feeds(settings: Settings, feed_ids: list[str]) -> int:
    return _per_feed(settings, feed_ids, enable_feed)


def _per_feed(settings: Settings, feed_ids: list[str], change) -> int:
    """Apply a per-feed change of the `feeds` table, refresh the read path, and count the feeds it found."""
    with open_warehouse(settings.warehouse_path) as con:
        changed = sum(change(con, feed_id) for feed_id in feed_ids)
        refresh(con, settings.home)
        return changed


def add_feed(settings: Settings, fields: dict) -> FeedSpec:
    """One feed from the command line's fields, validated as a feeds.yaml entry would be."""
    spec = feed_from_mapping(fields, "command line")
    add_feeds(settings, [spec])
    return spec


def import_opml(settings: Settings, opml: bytes) -> list[FeedSpec]:
    specs = parse_opml(opml)
    add_feeds(settings, specs)
    return specs


def export_opml(settings: Settings) -> bytes:
    return to_opml(registered_feeds(settings))


def feed_health(settings: Settings) -> tuple[list[str], list[tuple]]:
    """Every registered feed with its state, from the `feed_health` view."""
    return run_query(settings.home,
                     "SELECT feed_id, state, url, error_score, last_error_kind, next_due_at, disabled_reason "
                     "FROM feed_health ORDER BY feed_id")


def readable_times(rows: list[tuple], now: datetime) -> list[tuple]:
    """Rows with each timestamp as a person reads it: '2026-12-07 18:40 (in 12 minutes)'."""
    import humanize

    def readable(value):
        if not isinstance(value, datetime):
            return value
        return f"{value:%Y-%m-%d %H:%M} ({humanize.naturaltime(value, when=now)})"

    return [tuple(readable(v) for v in row) for row in rows]
