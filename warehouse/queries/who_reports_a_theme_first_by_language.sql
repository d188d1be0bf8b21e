-- Who reports ceasefire news first, by language: per UTC day, the language of the earliest article labelled
-- ceasefire, its headline as published, how many hours it led the next language, and the day's articles per
-- language. Stories are clustered within a language (titles are compared word by word), so the comparison is
-- by day and theme, not by story.
WITH firsts AS (
    SELECT CAST(a.published_at AS DATE) AS day, coalesce(a.language, 'und') AS language, count(*) AS articles,
           min(a.published_at) AS first_at, arg_min(a.title, a.published_at) AS first_title
    FROM articles a JOIN current_classifications c USING (article_id)
    WHERE c.theme = 'ceasefire' AND c.label
    GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY day ORDER BY first_at, language) AS n FROM firsts
)
SELECT day,
       any_value(language) FILTER (WHERE n = 1) AS first_language,
       any_value(first_title) FILTER (WHERE n = 1) AS first_headline,
       round(date_diff('minute', min(first_at), any_value(first_at) FILTER (WHERE n = 2)) / 60, 1) AS lead_hours,
       coalesce(sum(articles) FILTER (WHERE language = 'en'), 0) AS en,
       coalesce(sum(articles) FILTER (WHERE language = 'ru'), 0) AS ru,
       coalesce(sum(articles) FILTER (WHERE language = 'uk'), 0) AS uk,
       coalesce(sum(articles) FILTER (WHERE language NOT IN ('en', 'ru', 'uk')), 0) AS other
FROM ranked
GROUP BY day
ORDER BY day;
