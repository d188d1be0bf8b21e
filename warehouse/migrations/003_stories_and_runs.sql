-- 003: stories become near-duplicate clusters kept on the articles themselves (the `stories` view sums
-- them up, so a reclassification or a late article never leaves a stale story row); runs record more.

DROP TABLE stories;
ALTER TABLE articles ADD COLUMN clustered_at TIMESTAMP;      -- NULL: not yet compared with recent articles
UPDATE articles SET clustered_at = first_seen_at;            -- earlier loads: exact-title stories stand

ALTER TABLE runs ADD COLUMN kind VARCHAR DEFAULT 'ingest';   -- ingest | replay
ALTER TABLE runs ADD COLUMN rows_staged BIGINT;
ALTER TABLE runs ADD COLUMN load_seconds DOUBLE;
ALTER TABLE runs ADD COLUMN stories_merged INTEGER;
