-- Each outlet's theme mix: the share of its theme labels that go to each theme (rows sum to 1).
WITH labelled AS (
    SELECT a.feed_id, c.theme, count(*) AS labels
    FROM current_classifications c JOIN articles a USING (article_id)
    WHERE c.label
    GROUP BY a.feed_id, c.theme
),
shares AS (
    SELECT feed_id, theme, round(labels / sum(labels) OVER (PARTITION BY feed_id), 2) AS share FROM labelled
)
PIVOT shares ON theme USING any_value(share) GROUP BY feed_id ORDER BY feed_id;
