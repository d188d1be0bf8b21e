-- 002: graded feed failures, disabling and probing, permanent-redirect tracking, forced unconditional fetches.

ALTER TABLE feeds ADD COLUMN configured_url VARCHAR;          -- the URL the feeds file or CLI gave
ALTER TABLE feeds ADD COLUMN previous_url VARCHAR;            -- before the last permanent move
ALTER TABLE feeds ADD COLUMN url_changed_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN redirect_target VARCHAR;         -- where consecutive 301/308 chains pointed
ALTER TABLE feeds ADD COLUMN redirect_streak INTEGER DEFAULT 0;
ALTER TABLE feeds ADD COLUMN error_score DOUBLE DEFAULT 0;    -- hard errors weigh 1, soft 0.5
ALTER TABLE feeds ADD COLUMN disabled_kind VARCHAR;           -- removed | gone | failing (failing ones are probed)
ALTER TABLE feeds ADD COLUMN last_unconditional_at TIMESTAMP;
ALTER TABLE feeds ADD COLUMN retry_after_until TIMESTAMP;     -- the publisher asked us to wait until then

UPDATE feeds SET configured_url = url, redirect_streak = 0, error_score = error_count,
                 disabled_kind = CASE WHEN disabled_reason IS NOT NULL THEN 'removed' END;

ALTER TABLE fetches ADD COLUMN conditional BOOLEAN DEFAULT false;
ALTER TABLE fetches ADD COLUMN moved_to VARCHAR;
ALTER TABLE fetches ADD COLUMN retry_after_s DOUBLE;
ALTER TABLE fetches ADD COLUMN error_weight DOUBLE DEFAULT 0;

-- Full text of the article page, for feeds marked full_text: true (trafilatura).
ALTER TABLE articles ADD COLUMN body VARCHAR;
