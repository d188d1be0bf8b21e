"""The single-writer load: one run's staged Parquet applied in one transaction, idempotently."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

from pipeline import __version__
from pipeline.core.transactions import transaction


def register_model(con, card: dict) -> None:
    con.execute(
        "INSERT INTO models VALUES (?, now()::TIMESTAMP, ?) ON CONFLICT DO NOTHING",
        [card["model_version"], json.dumps(card)],
    )


# Failures that say the network is missing, not that a feed is broken.
NETWORK_ERRORS = "('dns', 'network', 'timeout', 'host_unresponsive')"


@dataclass(frozen=True)
class FeedPolicy:
    """When failing feeds back off, get disabled and probed, and when permanent redirects move them."""

    disable_after_errors: float = 10.0
    disabled_probe_h: float = 24.0
    moved_after_redirects: int = 3
    max_backoff_h: float = 24.0
    # A run is an outage of this machine when at least this share of at least this many feeds failed at the
    # network level (DNS, connect, TLS, timeouts): with fewer feeds one cannot tell the machine from the feeds.
    outage_share: float = 0.9
    outage_min_feeds: int = 3

    @classmethod
    def from_settings(cls, settings) -> FeedPolicy:
        return cls(settings.disable_after_errors, settings.disabled_probe_h, settings.moved_after_redirects,
                   settings.max_backoff_h)


def load_staged(
    con, run_id: str, article_files: list[str], fetch_files: list[str], started_at: datetime | None = None,
    policy: FeedPolicy = FeedPolicy(),
) -> dict:
    """Apply one run's staged Parquet in a single transaction. Loading the same files again changes nothing.

    Duplicates inside the batch are removed before any upsert (DuckDB keeps only one of two rows with
    the same key in one statement, silently). Feed state only moves for fetch rows not loaded before.
    """
    with transaction(con):
        return _load_in_transaction(con, run_id, article_files, fetch_files, started_at, policy)


# Only `articles` has a key; the other tables get rows derived from new_articles / changed_articles, which
# no earlier load can have produced, so no upsert (and no index to maintain) is needed. Stories are assigned
# after the load (pipeline.warehouse.stories), from the articles whose clustered_at is still NULL.
_APPLY_SQL = """
UPDATE articles SET title = c.title, summary = c.summary, content_hash = c.content_hash, language = c.language,
                    body = coalesce(nullif(c.body, ''), articles.body),
                    model_version = c.model_version, updated_at = c.first_seen_at
FROM changed_articles c WHERE articles.article_id = c.article_id;
INSERT INTO article_events
    SELECT article_id, 'content_changed', feed_id, content_hash, run_id, first_seen_at FROM changed_articles;
INSERT INTO articles (article_id, feed_id, guid, url, canonical_url, title, summary, author, language,
                      published_at, first_seen_at, content_hash, story_id, model_version, updated_at, body,
                      clustered_at, declared_language)
    SELECT article_id, feed_id, guid, url, canonical_url, title, summary, author, language, published_at,
           first_seen_at, content_hash, article_id, model_version, NULL, nullif(body, ''), NULL, declared_language
    FROM new_articles;
INSERT INTO article_events
    SELECT article_id, 'first_seen', feed_id, content_hash, run_id, first_seen_at FROM new_articles;
-- Full text fetched on a later cycle (the page failed the first time) for an article already stored.
UPDATE articles SET body = s.body
FROM (SELECT article_id, body FROM stage_articles WHERE body <> '') s
WHERE articles.article_id = s.article_id AND articles.body IS NULL;
INSERT INTO article_events
    SELECT s.article_id, 'seen_in_feed', s.feed_id, s.content_hash, s.run_id, s.first_seen_at
    FROM stage_rows s JOIN articles a USING (article_id)
    WHERE s.feed_id <> a.feed_id
      AND NOT EXISTS (SELECT 1 FROM article_events e WHERE e.event = 'seen_in_feed'
                      AND e.article_id = s.article_id AND e.feed_id = s.feed_id)
    QUALIFY row_number() OVER (PARTITION BY s.article_id, s.feed_id ORDER BY s.first_seen_at) = 1;
DELETE FROM classifications c USING changed_articles ch
    WHERE c.article_id = ch.article_id AND c.model_version = ch.model_version;
INSERT INTO classifications
    SELECT article_id, model_version, t.theme, t.score, t.label, t.evidence, content_hash, first_seen_at
    FROM (SELECT article_id, model_version, content_hash, first_seen_at, unnest(themes) AS t
          FROM (SELECT * FROM new_articles UNION ALL SELECT * FROM changed_articles));
"""


# The read path's marks (pipeline.warehouse.readpath): the days whose rows this load replaces or writes.
_MARK_REPLACED_SQL = """
INSERT INTO read_pending SELECT DISTINCT 'classifications', CAST(c.classified_at AS DATE)
    FROM classifications c JOIN changed_articles ch ON c.article_id = ch.article_id
                                                  AND c.model_version = ch.model_version;
INSERT INTO read_pending SELECT DISTINCT 'article_actions', CAST(x.classified_at AS DATE)
    FROM article_actions x JOIN changed_articles ch ON x.article_id = ch.article_id
                                                  AND x.model_version = ch.model_version;
"""
_MARK_WRITTEN_SQL = """
INSERT INTO read_pending SELECT DISTINCT 'articles', CAST(a.published_at AS DATE)
    FROM articles a
    WHERE a.article_id IN (SELECT article_id FROM new_ids UNION ALL SELECT article_id FROM changed_articles
                           UNION ALL SELECT article_id FROM stage_articles WHERE body <> '');
INSERT INTO read_pending SELECT DISTINCT t.name, CAST(w.first_seen_at AS DATE)
    FROM (SELECT first_seen_at FROM new_articles UNION ALL SELECT first_seen_at FROM changed_articles) w,
         (VALUES ('classifications'), ('article_actions')) t(name);
INSERT INTO read_pending SELECT DISTINCT 'article_events', CAST(first_seen_at AS DATE) FROM stage_rows;
"""


# Who did what, beside the classifications of the same model version (batches staged before event coding
# have no `events` column and skip this).
_ACTIONS_SQL = """
DELETE FROM article_actions x USING changed_articles ch
    WHERE x.article_id = ch.article_id AND x.model_version = ch.model_version;
INSERT INTO article_actions
    SELECT article_id, model_version, e.rank, e.actor, e.action, e.theme, e.score, e.actor_evidence,
           e.action_evidence, content_hash, first_seen_at
    FROM (SELECT article_id, model_version, content_hash, first_seen_at, unnest(events) AS e
          FROM (SELECT * FROM new_articles UNION ALL SELECT * FROM changed_articles)
          WHERE len(events) > 0);
"""


def _drop_temp(con, names: tuple[str, ...]) -> None:
    """Drop what an earlier load on this connection left; stage_articles is a table or a view."""
    existing = con.execute(
        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary "
        "UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary"
    ).fetchall()
    for name, kind in existing:
        if name in names:
            con.execute(f"DROP {kind} {name}")


def run_kind(run_id: str) -> str:
    return "replay" if run_id.startswith("replay__") else "ingest"


# Columns a batch staged by an older newsmon lacks, and what such rows get (NULL: not known then).
LATER_STAGE_COLUMNS = {"declared_language": "VARCHAR"}


def _add_missing_columns(con) -> None:
    """Let stage_articles show every column the load reads, also for a batch staged before one was added."""
    have = {row[0] for row in con.execute("DESCRIBE stage_articles").fetchall()}
    missing = {name: kind for name, kind in LATER_STAGE_COLUMNS.items() if name not in have}
    if not missing:
        return
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'stage_articles'"
                       ).fetchone()[0]
    con.execute(f"ALTER {'VIEW' if kind == 'VIEW' else 'TABLE'} stage_articles RENAME TO stage_articles_as_staged")
    added = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in missing.items())
    con.execute(f"CREATE TEMP VIEW stage_articles AS SELECT *, {added} FROM stage_articles_as_staged")


def _load_in_transaction(con, run_id, article_files, fetch_files, started_at, policy) -> dict:
    t0 = time.monotonic()
    _drop_temp(con, ("stage_rows", "stage_articles", "stage_articles_as_staged", "changed_articles", "new_articles",
                     "new_ids", "new_fetches"))
    new = changed = staged = 0
    model_version = None
    if article_files:
        # Every sighting goes to a narrow table; wide rows are read once and only the few ids seen more
        # than once in the batch go through the (costly, wide) window that keeps the earliest.
        con.execute(
            """
            CREATE TEMP TABLE stage_rows AS
            SELECT article_id, feed_id, content_hash, run_id, first_seen_at
            FROM read_parquet(?, union_by_name = true)
            """,
            [article_files],
        )
        repeats = con.execute("SELECT count(*) - count(DISTINCT article_id) FROM stage_rows").fetchone()[0]
        if repeats:
            con.execute(
                """
                CREATE TEMP TABLE stage_articles AS
                WITH staged AS (SELECT * FROM read_parquet($files, union_by_name = true)),
                     repeated AS (SELECT article_id FROM stage_rows GROUP BY article_id HAVING count(*) > 1)
                SELECT * FROM staged WHERE article_id NOT IN (SELECT article_id FROM repeated)
                UNION ALL
                SELECT * FROM (SELECT * FROM staged WHERE article_id IN (SELECT article_id FROM repeated))
                QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY published_at, feed_id) = 1
                """,
                {"files": article_files},
            )
        else:  # the usual batch: nothing to deduplicate, so the wide rows are not copied into a temp table
            files_sql = ", ".join("'" + f.replace("'", "''") + "'" for f in article_files)
            con.execute(f"CREATE TEMP VIEW stage_articles AS "
                        f"SELECT * FROM read_parquet([{files_sql}], union_by_name = true)")
        _add_missing_columns(con)
        con.execute(
            """
            CREATE TEMP TABLE changed_articles AS
            SELECT s.* FROM stage_articles s JOIN articles a USING (article_id)
            WHERE a.content_hash <> s.content_hash
              AND s.feed_id = a.feed_id;  -- another feed's wording of it is a sighting, not an edit
            -- only the ids are materialised: the wide rows go from the staged Parquet straight to their tables
            CREATE TEMP TABLE new_ids AS
                SELECT DISTINCT article_id FROM stage_rows ANTI JOIN articles USING (article_id);
            CREATE TEMP VIEW new_articles AS
                SELECT s.* FROM stage_articles s SEMI JOIN new_ids USING (article_id);
            """
        )
        new, changed, staged = (_count(con, t) for t in ("new_ids", "changed_articles", "stage_rows"))
        con.execute(_MARK_REPLACED_SQL)
        con.execute(_APPLY_SQL)
        con.execute(_MARK_WRITTEN_SQL)
        if "events" in {row[0] for row in con.execute("DESCRIBE stage_articles").fetchall()}:
            con.execute(_ACTIONS_SQL)
        model_version = con.execute("SELECT any_value(model_version) FROM stage_articles").fetchone()[0]
    fetch_stats = _load_fetches(con, fetch_files, policy)
    con.execute(
        """
        INSERT INTO runs (run_id, started_at, loaded_at, feeds, feeds_failed, entries, articles_new,
                          articles_changed, code_version, model_version, kind, rows_staged, load_seconds, outage)
        VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
        """,
        [run_id, started_at, fetch_stats["feeds"], fetch_stats["failed"], fetch_stats["entries"],
         new, changed, __version__, model_version, run_kind(run_id), staged, time.monotonic() - t0,
         fetch_stats["outage"]],
    )
    return {"articles_new": new, "articles_changed": changed, "rows_staged": staged, **fetch_stats}


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _load_fetches(con, fetch_files: list[str], policy: FeedPolicy) -> dict:
    if not fetch_files:
        return {"feeds": 0, "failed": 0, "entries": 0, "outage": False}
    con.execute(
        """
        CREATE TEMP TABLE new_fetches AS
        SELECT s.* FROM read_parquet(?, union_by_name = true) s
        ANTI JOIN fetches f ON f.run_id = s.run_id AND f.feed_id = s.feed_id
        QUALIFY row_number() OVER (PARTITION BY s.run_id, s.feed_id ORDER BY s.started_at DESC) = 1
        """,
        [fetch_files],
    )
    con.execute(
        """
        INSERT INTO fetches (run_id, feed_id, url, started_at, status, outcome, bytes, duration_ms, entries, bozo,
                             bozo_reason, error_kind, error, conditional, moved_to, retry_after_s, error_weight)
        SELECT run_id, feed_id, url, started_at, status, outcome, bytes, duration_ms, entries, bozo,
               bozo_reason, error_kind, error, conditional, moved_to, retry_after_s, error_weight
        FROM new_fetches
        """
    )
    con.execute("INSERT INTO read_pending SELECT DISTINCT 'fetches', CAST(started_at AS DATE) FROM new_fetches")
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'error'), coalesce(sum(entries), 0), "
        f"count(*) FILTER (WHERE error_kind IN {NETWORK_ERRORS}) FROM new_fetches"
    ).fetchone()
    outage = row[0] >= policy.outage_min_feeds and row[3] >= policy.outage_share * row[0]
    if outage:  # the attempts stay in `fetches`; the feeds' state does not move for this machine's outage
        con.execute(f"DELETE FROM new_fetches WHERE error_kind IN {NETWORK_ERRORS}")
    con.execute(_FEED_STATE_SQL, {
        "disable_after": policy.disable_after_errors, "probe_min": int(policy.disabled_probe_h * 60),
        "moved_after": policy.moved_after_redirects, "max_backoff_min": int(policy.max_backoff_h * 60),
    })
    return {"feeds": row[0], "failed": row[1], "entries": int(row[2]), "outage": outage}


# How one attempt moves a feed's state (Media Cloud's rules): errors add their weight to the score and back
# off linearly (one poll interval per point, capped); a success clears the score. A score over the limit
# disables the feed but it is still probed every `probe_min`; 410 disables at once and is not probed.
# Retry-After wins over the backoff. `moved_after` permanent-redirect chains in a row to the same place
# move the stored URL; anything else in between resets the streak.
_FEED_STATE_SQL = """
UPDATE feeds SET
    last_fetched_at = n.started_at,
    last_status = n.status,
    last_success_at = CASE WHEN n.ok THEN n.started_at ELSE feeds.last_success_at END,
    etag = CASE WHEN n.outcome IN ('ok', 'unchanged') THEN n.etag ELSE feeds.etag END,
    last_modified = CASE WHEN n.outcome IN ('ok', 'unchanged') THEN n.last_modified ELSE feeds.last_modified END,
    body_hash = CASE WHEN n.outcome IN ('ok', 'unchanged') THEN n.body_hash ELSE feeds.body_hash END,
    last_unconditional_at = CASE WHEN n.outcome IN ('ok', 'unchanged') AND NOT coalesce(n.conditional, false)
                                 THEN n.started_at ELSE feeds.last_unconditional_at END,
    error_count = CASE WHEN n.ok THEN 0 ELSE feeds.error_count + 1 END,
    error_score = n.new_score,
    last_error_kind = CASE WHEN n.ok THEN NULL ELSE n.error_kind END,
    last_error = CASE WHEN n.ok THEN NULL ELSE n.error END,
    retry_after_until = n.started_at + to_microseconds(CAST(n.retry_after_s * 1e6 AS BIGINT)),
    disabled_kind = n.new_disabled_kind,
    disabled_reason = CASE
        WHEN n.new_disabled_kind IS NULL THEN NULL
        WHEN n.new_disabled_kind = feeds.disabled_kind THEN feeds.disabled_reason
        WHEN n.new_disabled_kind = 'gone' THEN n.error
        ELSE 'failing: error score ' || n.new_score || ' reached ' || $disable_after || '; last: ' || n.error END,
    next_due_at = n.started_at + CASE
        WHEN n.retry_after_s IS NOT NULL THEN to_microseconds(CAST(n.retry_after_s * 1e6 AS BIGINT))
        WHEN n.new_disabled_kind = 'failing' THEN to_minutes(CAST($probe_min AS BIGINT))
        WHEN NOT n.ok THEN
            to_seconds(CAST(60 * least(feeds.poll_minutes * (1 + n.new_score), $max_backoff_min) AS BIGINT))
        ELSE to_minutes(CAST(feeds.poll_minutes AS BIGINT)) END,
    redirect_target = CASE WHEN n.moves THEN NULL ELSE n.moved_to_ok END,
    redirect_streak = CASE WHEN n.moves THEN 0 ELSE n.streak END,
    previous_url = CASE WHEN n.moves THEN feeds.url ELSE feeds.previous_url END,
    url_changed_at = CASE WHEN n.moves THEN n.started_at ELSE feeds.url_changed_at END,
    url = CASE WHEN n.moves THEN n.moved_to_ok ELSE feeds.url END
FROM (
    SELECT *, streak >= $moved_after AS moves,
           CASE WHEN error_kind = 'gone' THEN 'gone'
                WHEN ok AND cur_kind = 'failing' THEN NULL
                WHEN NOT ok AND new_score >= $disable_after THEN coalesce(cur_kind, 'failing')
                ELSE cur_kind END AS new_disabled_kind
    FROM (
        SELECT n.*, f.disabled_kind AS cur_kind, n.outcome <> 'error' AS ok,
               CASE WHEN n.outcome <> 'error' THEN 0 ELSE f.error_score + coalesce(n.error_weight, 1) END
                   AS new_score,
               CASE WHEN n.outcome <> 'error' THEN n.moved_to END AS moved_to_ok,
               CASE WHEN n.outcome = 'error' OR n.moved_to IS NULL THEN 0
                    WHEN n.moved_to = f.redirect_target THEN f.redirect_streak + 1 ELSE 1 END AS streak
        FROM new_fetches n JOIN feeds f USING (feed_id)
    )
) n
WHERE feeds.feed_id = n.feed_id
"""
