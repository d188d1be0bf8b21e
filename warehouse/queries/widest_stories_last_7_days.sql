-- The stories carried by the most outlets in the last 7 days of data, with their themes.
SELECT CAST(first_published_at AS DATE) AS day, outlets, articles, themes, title, url
FROM stories
WHERE first_published_at >= (SELECT max(published_at) FROM articles) - INTERVAL 7 DAY
ORDER BY outlets DESC, articles DESC, first_published_at
LIMIT 15;
