-- Why articles matched: the evidence terms most often behind each theme's labels over the last 30 days.
WITH terms AS (
    SELECT c.theme, unnest(c.evidence) AS term
    FROM current_classifications c JOIN articles a USING (article_id)
    WHERE c.label AND a.published_at >= (SELECT max(published_at) FROM articles) - INTERVAL 30 DAY
),
counted AS (SELECT theme, term, count(*) AS articles FROM terms GROUP BY theme, term)
SELECT theme, term, articles
FROM counted
QUALIFY row_number() OVER (PARTITION BY theme ORDER BY articles DESC, term) <= 5
ORDER BY theme, articles DESC, term;
