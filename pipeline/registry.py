"""Feed registry commands: add, remove and list feeds in the warehouse `feeds` table."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.ingest import utcnow
from pipeline.records import FeedSpec
from pipeline.warehouse import enable_feed, list_feeds, open_warehouse, remove_feed, upsert_feeds


def add_feeds(settings: Settings, specs: list[FeedSpec]) -> int:
    settings.ensure_home()
    with open_warehouse(settings.warehouse_path) as con:
        upsert_feeds(con, specs, "cli", utcnow())
    return len(specs)


def remove_feeds(settings: Settings, feed_ids: list[str]) -> int:
    with open_warehouse(settings.warehouse_path) as con:
        return sum(remove_feed(con, feed_id) for feed_id in feed_ids)


def registered_feeds(settings: Settings) -> list[FeedSpec]:
    settings.ensure_home()
    with open_warehouse(settings.warehouse_path) as con:
        return list_feeds(con)


def enable_feeds(settings: Settings, feed_ids: list[str]) -> int:
    with open_warehouse(settings.warehouse_path) as con:
        return sum(enable_feed(con, feed_id) for feed_id in feed_ids)
