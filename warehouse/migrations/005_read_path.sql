-- 005: the read path (pipeline/warehouse/readpath.py). A write marks the (table, day) pairs it touched, in
-- its own transaction; the refresh after the commit writes those days' Parquet files and clears the marks,
-- so a crash between commit and refresh is repaired by the next refresh. Runs record when their load
-- became visible to readers.
CREATE TABLE read_pending (
    table_name VARCHAR NOT NULL,
    day        DATE NOT NULL
);
ALTER TABLE runs ADD COLUMN read_refreshed_at TIMESTAMP;
