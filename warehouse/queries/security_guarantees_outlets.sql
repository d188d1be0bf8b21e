-- Outlets that cover security guarantees most: labelled articles, share of the outlet's output and of its
-- on-topic articles, and the last day it did.
WITH per_feed AS (
    SELECT a.feed_id,
           count(*) AS all_articles,
           count(DISTINCT a.article_id) FILTER (WHERE c.label) AS on_topic,
           count(*) FILTER (WHERE c.label AND c.theme = 'security_guarantees') AS security_guarantees,
           max(a.published_at) FILTER (WHERE c.label AND c.theme = 'security_guarantees') AS last_one
    FROM articles a LEFT JOIN current_classifications c USING (article_id)
    GROUP BY a.feed_id
)
SELECT p.feed_id, f.title, p.security_guarantees,
       round(p.security_guarantees / (SELECT count(*) FROM articles a WHERE a.feed_id = p.feed_id), 3)
           AS share_of_outlet,
       round(p.security_guarantees / nullif(p.on_topic, 0), 3) AS share_of_on_topic,
       CAST(p.last_one AS DATE) AS last_day
FROM per_feed p JOIN feeds f USING (feed_id)
WHERE p.security_guarantees > 0
ORDER BY p.security_guarantees DESC, p.feed_id;
