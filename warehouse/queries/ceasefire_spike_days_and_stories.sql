-- Days when ceasefire coverage spiked (theme_trends rule) and the stories behind them, widest first.
SELECT t.day, t.articles, t.baseline_mean, t.z, s.outlets, s.title
FROM theme_trends t
JOIN stories s ON CAST(s.first_published_at AS DATE) = t.day AND list_contains(s.themes, t.theme)
WHERE t.theme = 'ceasefire' AND t.language = 'all' AND t.spike
QUALIFY row_number() OVER (PARTITION BY t.day ORDER BY s.outlets DESC, s.articles DESC, s.title) <= 5
ORDER BY t.day, s.outlets DESC, s.title;
