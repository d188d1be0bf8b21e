-- Themes that rise together: correlation of daily article counts for every pair of themes, strongest first.
SELECT a.theme AS theme, b.theme AS with_theme, round(corr(a.articles, b.articles), 3) AS correlation,
       count(*) AS days
FROM theme_daily a JOIN theme_daily b ON a.day = b.day AND a.theme < b.theme
WHERE a.language = 'all' AND b.language = 'all'
GROUP BY ALL
HAVING count(*) >= 7
ORDER BY correlation DESC;
