"""The feed registry table: upsert from feeds.yaml or the CLI, remove, re-enable, and which feeds are due."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from pipeline.core.records import FeedSpec, FeedState

# A feed's next attempt is counted from when its fetch started, a little after the run that planned it; a
# run planned up to this much earlier still takes it, or a 15-minute feed would wait for every other run.
DUE_SLACK_S = 120


def upsert_feeds(con, specs: list[FeedSpec], source: str, now: datetime) -> None:
    specs = list({s.feed_id: s for s in specs}.values())  # one row per key, or the upsert keeps an arbitrary one
    if not specs:
        return
    incoming = pa.table({  # one set-based statement: executemany is row by row in DuckDB
        "feed_id": [s.feed_id for s in specs], "url": [s.url for s in specs], "title": [s.title for s in specs],
        "source": [source] * len(specs), "tags": [list(s.tags) for s in specs],
        "language": [s.language for s in specs], "poll_minutes": [s.poll_minutes for s in specs],
        "full_text": [s.full_text for s in specs], "added_at": [now] * len(specs),
    })
    con.register("incoming_feeds", incoming)
    # A feed moved by permanent redirects keeps its new URL until the configured URL itself changes.
    con.execute(
        """
        INSERT INTO feeds (feed_id, url, configured_url, title, source, tags, language, poll_minutes, full_text,
                           added_at, redirect_streak, error_score)
        SELECT feed_id, url, url, title, source, tags, language, poll_minutes, full_text, added_at, 0, 0
        FROM incoming_feeds
        ON CONFLICT (feed_id) DO UPDATE SET
            url = CASE WHEN excluded.url IS DISTINCT FROM feeds.configured_url THEN excluded.url ELSE feeds.url END,
            configured_url = excluded.url,
            title = coalesce(excluded.title, feeds.title), tags = excluded.tags,
            language = excluded.language, poll_minutes = excluded.poll_minutes,
            full_text = excluded.full_text, source = excluded.source,
            disabled_kind = CASE WHEN feeds.disabled_reason = 'removed from feeds file'
                                 THEN NULL ELSE feeds.disabled_kind END,
            disabled_reason = CASE WHEN feeds.disabled_reason = 'removed from feeds file'
                                   THEN NULL ELSE feeds.disabled_reason END
        """,
    )
    con.unregister("incoming_feeds")


def sync_feeds_file(con, specs: list[FeedSpec], now: datetime) -> None:
    """feeds.yaml is the truth for file feeds: listed ones are upserted, unlisted ones are disabled."""
    upsert_feeds(con, specs, "file", now)
    listed = [s.feed_id for s in specs] or [""]
    con.execute(
        "UPDATE feeds SET disabled_reason = 'removed from feeds file', disabled_kind = 'removed' "
        "WHERE source = 'file' AND coalesce(disabled_kind, '') <> 'removed' AND NOT list_contains(?, feed_id)",
        [listed],
    )


def remove_feed(con, feed_id: str) -> bool:
    """CLI feeds are deleted; feeds.yaml feeds are disabled, or the next sync would bring them back."""
    disabled = con.execute(
        "UPDATE feeds SET disabled_reason = 'removed with newsmon feeds remove', disabled_kind = 'removed' "
        "WHERE feed_id = ? AND source = 'file' RETURNING feed_id", [feed_id]
    ).fetchall()
    deleted = con.execute(
        "DELETE FROM feeds WHERE feed_id = ? AND source <> 'file' RETURNING feed_id", [feed_id]
    ).fetchall()
    return bool(disabled or deleted)


def enable_feed(con, feed_id: str) -> bool:
    """Clear any disabling (gone, failing or removed) and the error score; the feed is due at once."""
    return bool(con.execute(
        "UPDATE feeds SET disabled_kind = NULL, disabled_reason = NULL, error_score = 0, error_count = 0, "
        "next_due_at = NULL WHERE feed_id = ? RETURNING feed_id", [feed_id]
    ).fetchall())


def list_feeds(con) -> list[FeedSpec]:
    rows = con.execute(
        "SELECT feed_id, url, title, tags, language, poll_minutes, full_text FROM feeds ORDER BY feed_id"
    ).fetchall()
    return [FeedSpec(r[0], r[1], r[2], tuple(r[3] or ()), r[4], r[5], r[6]) for r in rows]


def due_feeds(
    con, as_of: datetime, force: bool = False, unconditional_every_h: float = 12.0
) -> list[tuple[FeedSpec, FeedState]]:
    """Feeds to fetch now: enabled ones that are due, and failing-disabled ones whose low-rate probe is due.

    Validators are withheld when the last unconditional fetch is older than `unconditional_every_h`, so a
    server that keeps answering 304 to stale validators is still read now and then.
    """
    rows = con.execute(
        """
        SELECT feed_id, url, title, tags, language, poll_minutes, full_text,
               CASE WHEN fresh THEN etag END, CASE WHEN fresh THEN last_modified END, body_hash
        FROM (SELECT *, coalesce(last_unconditional_at > ? - to_microseconds(CAST(? * 3.6e9 AS BIGINT)), false)
                        AS fresh FROM feeds)
        WHERE coalesce(disabled_kind, 'failing') = 'failing'
          AND (? OR next_due_at IS NULL OR next_due_at <= ? + to_seconds(?))
        ORDER BY feed_id
        """,
        [as_of, unconditional_every_h, force, as_of, DUE_SLACK_S],
    ).fetchall()
    return [
        (FeedSpec(r[0], r[1], r[2], tuple(r[3] or ()), r[4], r[5], r[6]), FeedState(r[7], r[8], r[9]))
        for r in rows
    ]
