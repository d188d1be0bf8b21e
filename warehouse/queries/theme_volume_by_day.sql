-- How did each core theme move day by day? Articles per UTC publication day and share of all articles.
SELECT day, theme, articles, share_of_all, outlets
FROM theme_daily
WHERE theme IN ('sanctions', 'ceasefire', 'security_guarantees') AND language = 'all'
ORDER BY day, theme;
