-- Which outlets carry each theme most? Labelled articles per feed and theme, with their share of the feed.
SELECT c.theme, a.feed_id, count(*) AS articles,
       round(count(*) / any_value(t.feed_articles), 3) AS share_of_feed
FROM current_classifications c
JOIN articles a USING (article_id)
JOIN (SELECT feed_id, count(*) AS feed_articles FROM articles GROUP BY feed_id) t USING (feed_id)
WHERE c.label
GROUP BY c.theme, a.feed_id
QUALIFY row_number() OVER (PARTITION BY c.theme ORDER BY count(*) DESC) <= 3
ORDER BY c.theme, articles DESC;
