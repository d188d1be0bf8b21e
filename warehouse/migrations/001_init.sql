-- 001: the event-log warehouse of DESIGN §3. All timestamps are UTC (TIMESTAMP without zone).

CREATE TABLE feeds (
    feed_id          VARCHAR PRIMARY KEY,
    url              VARCHAR NOT NULL,
    title            VARCHAR,
    source           VARCHAR NOT NULL,          -- 'file' (feeds.yaml) or 'cli' (feeds add / import)
    tags             VARCHAR[],
    language         VARCHAR,
    poll_minutes     INTEGER NOT NULL DEFAULT 15,
    full_text        BOOLEAN NOT NULL DEFAULT false,
    added_at         TIMESTAMP NOT NULL,
    etag             VARCHAR,
    last_modified    VARCHAR,
    body_hash        VARCHAR,
    last_fetched_at  TIMESTAMP,
    last_success_at  TIMESTAMP,
    last_status      INTEGER,
    error_count      INTEGER NOT NULL DEFAULT 0,
    last_error_kind  VARCHAR,
    last_error       VARCHAR,
    next_due_at      TIMESTAMP,
    disabled_reason  VARCHAR
);

CREATE TABLE fetches (
    run_id       VARCHAR NOT NULL,
    feed_id      VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    status       INTEGER,
    outcome      VARCHAR NOT NULL,              -- ok | not_modified | unchanged | error
    bytes        BIGINT NOT NULL DEFAULT 0,
    duration_ms  DOUBLE,
    entries      INTEGER NOT NULL DEFAULT 0,
    bozo         BOOLEAN NOT NULL DEFAULT false,
    bozo_reason  VARCHAR,
    error_kind   VARCHAR,
    error        VARCHAR,
    PRIMARY KEY (run_id, feed_id)
);

CREATE TABLE articles (
    article_id     VARCHAR PRIMARY KEY,
    feed_id        VARCHAR NOT NULL,            -- the feed it was first seen in
    guid           VARCHAR,
    url            VARCHAR,
    canonical_url  VARCHAR,
    title          VARCHAR NOT NULL,
    summary        VARCHAR NOT NULL,
    author         VARCHAR,
    language       VARCHAR,
    published_at   TIMESTAMP NOT NULL,          -- clamped: never in the future, missing -> first seen
    first_seen_at  TIMESTAMP NOT NULL,
    content_hash   VARCHAR NOT NULL,
    story_id       VARCHAR NOT NULL,
    model_version  VARCHAR,                     -- the version whose labels are current for this article
    updated_at     TIMESTAMP
);

-- Append-only. Like `classifications` and `stories` it has no PRIMARY KEY: the loader derives every row
-- from articles that are new or changed in this batch, so a replay cannot write it twice, and DuckDB's
-- index maintenance would make bulk loads several times slower (bench: load).
CREATE TABLE article_events (
    article_id    VARCHAR NOT NULL,
    event         VARCHAR NOT NULL,             -- first_seen | seen_in_feed | content_changed
    feed_id       VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    event_at      TIMESTAMP NOT NULL
);

CREATE TABLE models (
    model_version  VARCHAR PRIMARY KEY,
    registered_at  TIMESTAMP NOT NULL,
    card           JSON
);

-- One row per (article, model version, theme): old versions stay beside new ones.
CREATE TABLE classifications (
    article_id     VARCHAR NOT NULL,
    model_version  VARCHAR NOT NULL,
    theme          VARCHAR NOT NULL,
    score          DOUBLE NOT NULL,
    label          BOOLEAN NOT NULL,
    evidence       VARCHAR[],
    content_hash   VARCHAR NOT NULL,            -- the text version that was classified
    classified_at  TIMESTAMP NOT NULL           -- unique per (article_id, model_version, theme) by the loader
);

CREATE TABLE stories (
    story_id       VARCHAR NOT NULL,            -- unique by the loader
    title          VARCHAR NOT NULL,
    first_seen_at  TIMESTAMP NOT NULL,
    first_published_at TIMESTAMP NOT NULL
);

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMP,
    loaded_at       TIMESTAMP NOT NULL,
    feeds           INTEGER NOT NULL,
    feeds_failed    INTEGER NOT NULL,
    entries         INTEGER NOT NULL,
    articles_new    INTEGER NOT NULL,
    articles_changed INTEGER NOT NULL,
    code_version    VARCHAR NOT NULL,
    model_version   VARCHAR
);
