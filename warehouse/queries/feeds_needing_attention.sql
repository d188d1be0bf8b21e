-- Feeds that are not healthy: state, last error, when newsmon tries again, and why a feed is disabled.
SELECT feed_id, state, error_score, last_error_kind, last_status, last_success_at, next_due_at,
       coalesce(disabled_reason, last_error) AS detail
FROM feed_health
WHERE state <> 'ok'
ORDER BY CASE state WHEN 'gone' THEN 0 WHEN 'disabled' THEN 1 WHEN 'broken' THEN 2 ELSE 3 END, feed_id;
