-- Views are recreated on every open, so a change here never needs a migration.

-- Each article's labels from its current model version (`articles.model_version`); other versions stay
-- queryable in `classifications`.
CREATE OR REPLACE VIEW current_classifications AS
SELECT c.*
FROM classifications c
JOIN articles a ON a.article_id = c.article_id AND a.model_version = c.model_version;

-- Articles and the share labelled with each theme, per UTC publication day (clamped publication time) and
-- language: one row per detected language (articles.language: a code, 'mixed' or 'und') and one row with
-- language = 'all' that counts every article. Filter on language = 'all' for the overall figures.
CREATE OR REPLACE VIEW theme_daily AS
WITH tagged AS (
    SELECT article_id, feed_id, CAST(published_at AS DATE) AS day, coalesce(language, 'und') AS language
    FROM articles
    UNION ALL
    SELECT article_id, feed_id, CAST(published_at AS DATE) AS day, 'all' AS language FROM articles
),
days AS (
    SELECT day, language, count(*) AS total_articles, count(DISTINCT feed_id) AS total_outlets
    FROM tagged GROUP BY ALL
),
on_topic AS (
    SELECT t.day, t.language, count(DISTINCT t.article_id) AS on_topic_articles
    FROM tagged t JOIN current_classifications c USING (article_id)
    WHERE c.label GROUP BY ALL
),
themes AS (SELECT DISTINCT theme FROM current_classifications),
labelled AS (
    SELECT t.day, t.language, c.theme, count(*) AS articles, count(DISTINCT t.feed_id) AS outlets
    FROM current_classifications c JOIN tagged t USING (article_id)
    WHERE c.label GROUP BY ALL
)
SELECT d.day, t.theme, d.language,
       coalesce(l.articles, 0) AS articles,
       coalesce(l.outlets, 0) AS outlets,
       d.total_articles,
       d.total_outlets,
       coalesce(o.on_topic_articles, 0) AS on_topic_articles,
       round(coalesce(l.articles, 0) / d.total_articles, 4) AS share_of_all,
       round(coalesce(l.articles, 0) / nullif(o.on_topic_articles, 0), 4) AS share_of_on_topic
FROM days d
CROSS JOIN themes t
LEFT JOIN labelled l ON l.day = d.day AND l.language = d.language AND l.theme = t.theme
LEFT JOIN on_topic o ON o.day = d.day AND o.language = d.language;

-- Each feed's state at a glance, with its last 20 attempts. States: ok, failing (some errors, backing off),
-- broken (error score >= 3), rate_limited (the publisher asked us to wait), disabled (too many failures,
-- still probed now and then), gone (410), removed (by the user or the feeds file).
CREATE OR REPLACE VIEW feed_health AS
WITH recent AS (
    SELECT feed_id, outcome, entries,
           row_number() OVER (PARTITION BY feed_id ORDER BY started_at DESC) AS n
    FROM fetches
)
SELECT f.feed_id, f.title, f.url,
       CASE WHEN f.disabled_kind = 'failing' THEN 'disabled'
            WHEN f.disabled_kind IS NOT NULL THEN f.disabled_kind
            WHEN f.last_error_kind = 'rate_limited' THEN 'rate_limited'
            WHEN coalesce(f.error_score, 0) = 0 THEN 'ok'
            WHEN f.error_score < 3 THEN 'failing'
            ELSE 'broken' END AS state,
       f.last_status, f.error_count, f.error_score, f.last_error_kind, f.last_error,
       f.last_fetched_at, f.last_success_at, f.next_due_at, f.retry_after_until, f.disabled_reason,
       f.configured_url, f.previous_url, f.url_changed_at,
       count(r.feed_id) FILTER (WHERE r.n <= 20) AS recent_attempts,
       round(avg(CASE WHEN r.outcome <> 'error' THEN 1.0 ELSE 0.0 END) FILTER (WHERE r.n <= 20), 3)
           AS recent_success_rate,
       (SELECT count(*) FROM articles a WHERE a.feed_id = f.feed_id) AS articles
FROM feeds f
LEFT JOIN recent r USING (feed_id)
GROUP BY ALL;

-- The spike rule, in one place: at least 3 articles, at least 7 days of history, and z >= 2 (or any rise over
-- a flat history, where the standard deviation is 0). theme_trends applies it per publication day and
-- theme_window_trends per window of 24 hours.
CREATE OR REPLACE MACRO spike_rule(articles, baseline_mean, baseline_std, baseline_days) AS
    coalesce(articles >= 3 AND baseline_days >= 7
             AND ((articles - baseline_mean) / nullif(baseline_std, 0) >= 2
                  OR (baseline_std = 0 AND articles > baseline_mean)), false);

-- Each theme, language and day against the previous 14 calendar days (days with no articles at all in that
-- language are absent), with the spike rule above; language = 'all' is the overall trend, the one the digest
-- and alerts use.
CREATE OR REPLACE VIEW theme_trends AS
WITH history AS (
    SELECT day, theme, language, articles, share_of_all, outlets,
           avg(articles) OVER w AS baseline_mean,
           stddev_samp(articles) OVER w AS baseline_std,
           count(*) OVER w AS baseline_days
    FROM theme_daily
    WINDOW w AS (PARTITION BY theme, language ORDER BY day
                 RANGE BETWEEN INTERVAL 14 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING)
)
SELECT day, theme, language, articles, share_of_all, outlets,
       round(baseline_mean, 3) AS baseline_mean,
       round(baseline_std, 3) AS baseline_std,
       baseline_days,
       round((articles - baseline_mean) / nullif(baseline_std, 0), 3) AS z,
       spike_rule(articles, baseline_mean, baseline_std, baseline_days) AS spike
FROM history;

-- theme_trends over the 24 hours before `window_end` instead of a calendar day (the alerts' rolling rule):
-- per theme, the articles published in [window_end - 24 h, window_end) against the 14 windows of 24 hours
-- before it, counted as theme_daily counts a day (current labels, by publication time; a window with no
-- articles at all is absent from the baseline), with the same spike rule. A parameter, not now(): the same
-- window_end gives the same answer however late it is asked.
--   SELECT * FROM theme_window_trends(TIMESTAMP '2026-11-16 12:00') WHERE spike
CREATE OR REPLACE MACRO theme_window_trends(window_end) AS TABLE
WITH recent AS (  -- back 0: the last 24 hours; 1..14: the windows before it
    SELECT article_id,
           CAST(floor((epoch_us(CAST(window_end AS TIMESTAMP)) - epoch_us(published_at)) / 86400e6) AS BIGINT)
               AS back
    FROM articles
    WHERE published_at >= CAST(window_end AS TIMESTAMP) - INTERVAL 15 DAY
      AND published_at < CAST(window_end AS TIMESTAMP)
),
windows AS (SELECT DISTINCT back FROM recent),
themes AS (SELECT DISTINCT theme FROM current_classifications),
labelled AS (
    SELECT r.back, c.theme, count(*) AS articles, count(DISTINCT a.feed_id) AS outlets
    FROM recent r JOIN current_classifications c USING (article_id) JOIN articles a USING (article_id)
    WHERE c.label GROUP BY ALL
),
grid AS (
    SELECT w.back, t.theme, coalesce(l.articles, 0) AS articles, coalesce(l.outlets, 0) AS outlets
    FROM windows w CROSS JOIN themes t LEFT JOIN labelled l ON l.back = w.back AND l.theme = t.theme
),
history AS (
    SELECT theme, avg(articles) AS baseline_mean, stddev_samp(articles) AS baseline_std,
           count(*) AS baseline_days
    FROM grid WHERE back BETWEEN 1 AND 14 GROUP BY theme
)
SELECT t.theme,
       CAST(window_end AS TIMESTAMP) - INTERVAL 24 HOUR AS window_start,
       CAST(window_end AS TIMESTAMP) AS window_end,
       coalesce(g.articles, 0) AS articles,
       coalesce(g.outlets, 0) AS outlets,
       round(h.baseline_mean, 3) AS baseline_mean,
       round(h.baseline_std, 3) AS baseline_std,
       coalesce(h.baseline_days, 0) AS baseline_days,
       round((coalesce(g.articles, 0) - h.baseline_mean) / nullif(h.baseline_std, 0), 3) AS z,
       spike_rule(coalesce(g.articles, 0), h.baseline_mean, h.baseline_std, coalesce(h.baseline_days, 0)) AS spike
FROM themes t
LEFT JOIN grid g ON g.theme = t.theme AND g.back = 0
LEFT JOIN history h ON h.theme = t.theme;

-- One row per story (articles grouped by `articles.story_id`, see pipeline/stories.py): its headline (the
-- earliest article's), when it was first published and first seen, how many articles and outlets carried
-- it, and the themes any of its articles is labelled with under their current model.
CREATE OR REPLACE VIEW stories AS
WITH labels AS (
    SELECT a.story_id, list(DISTINCT c.theme ORDER BY c.theme) AS themes
    FROM current_classifications c JOIN articles a USING (article_id)
    WHERE c.label GROUP BY ALL
)
SELECT a.story_id,
       arg_min(a.title, a.published_at) AS title,
       arg_min(a.url, a.published_at) AS url,
       min(a.published_at) AS first_published_at,
       max(a.published_at) AS last_published_at,
       min(a.first_seen_at) AS first_seen_at,
       count(*) AS articles,
       count(DISTINCT a.feed_id) AS outlets,
       list(DISTINCT a.feed_id ORDER BY a.feed_id) AS outlet_ids,
       coalesce(any_value(l.themes), []) AS themes
FROM articles a LEFT JOIN labels l USING (story_id)
GROUP BY a.story_id;

-- How fast each story spread: when each outlet first carried it, hours until the second and the last
-- outlet, and how many outlets had it within 6 and 24 hours of the first publication.
CREATE OR REPLACE VIEW story_spread AS
WITH outlet_first AS (
    SELECT story_id, feed_id, min(published_at) AS carried_at FROM articles GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY story_id ORDER BY carried_at, feed_id) AS n,
           min(carried_at) OVER (PARTITION BY story_id) AS story_first
    FROM outlet_first
)
SELECT story_id,
       count(*) AS outlets,
       story_first AS first_published_at,
       max(carried_at) AS last_outlet_at,
       round(date_diff('second', story_first, max(carried_at) FILTER (WHERE n = 2)) / 3600, 2)
           AS hours_to_second_outlet,
       round(date_diff('second', story_first, max(carried_at)) / 3600, 2) AS hours_to_last_outlet,
       count(*) FILTER (WHERE carried_at <= story_first + INTERVAL 6 HOUR) AS outlets_within_6h,
       count(*) FILTER (WHERE carried_at <= story_first + INTERVAL 24 HOUR) AS outlets_within_24h,
       list(feed_id ORDER BY carried_at, feed_id) AS outlet_order
FROM ranked
GROUP BY story_id, story_first;
-- What each model version said: the articles it labelled (at load time, when it was current, or later with
-- `newsmon reclassify`), its labels per theme, and how often its labels match the current ones.
-- agreement: share of covered articles whose set of labels equals their current set of labels.
CREATE OR REPLACE VIEW model_versions AS
WITH covered AS (
    SELECT DISTINCT model_version, article_id FROM classifications
    UNION
    SELECT model_version, article_id FROM articles WHERE model_version IS NOT NULL
),
version_labels AS (
    SELECT model_version, article_id, list_sort(list(theme)) AS themes
    FROM classifications WHERE label GROUP BY ALL
),
current_labels AS (
    SELECT article_id, list_sort(list(theme)) AS themes FROM current_classifications WHERE label GROUP BY ALL
),
per_article AS (
    SELECT v.model_version, v.article_id,
           coalesce(l.themes, []) AS themes,
           coalesce(c.themes, []) AS current_themes
    FROM covered v
    LEFT JOIN version_labels l USING (model_version, article_id)
    LEFT JOIN current_labels c USING (article_id)
),
per_theme AS (
    SELECT model_version, map_from_entries(list({'key': theme, 'value': n} ORDER BY theme)) AS labels_per_theme
    FROM (SELECT model_version, theme, count(*) FILTER (WHERE label) AS n FROM classifications GROUP BY ALL)
    GROUP BY model_version
)
SELECT p.model_version,
       m.registered_at,
       (SELECT count(*) FROM articles a WHERE a.model_version = p.model_version) AS current_for_articles,
       count(*) AS articles_covered,
       count(*) FILTER (WHERE len(p.themes) > 0) AS articles_labelled,
       t.labels_per_theme,
       round(avg(CASE WHEN p.themes = p.current_themes THEN 1.0 ELSE 0.0 END), 4) AS agreement,
       count(*) FILTER (WHERE p.themes <> p.current_themes) AS articles_changed
FROM per_article p
LEFT JOIN models m USING (model_version)
LEFT JOIN per_theme t USING (model_version)
GROUP BY p.model_version, m.registered_at, t.labels_per_theme;

-- Who did what (article_actions) by each article's current model version, as current_classifications.
CREATE OR REPLACE VIEW current_actions AS
SELECT x.*
FROM article_actions x
JOIN articles a ON a.article_id = x.article_id AND a.model_version = x.model_version;

-- Per UTC publication day, theme, actor and action: how many articles, stories and outlets reported it,
-- and in how many articles it was the main event.
CREATE OR REPLACE VIEW actions_daily AS
SELECT CAST(a.published_at AS DATE) AS day, x.theme, x.actor, x.action,
       count(DISTINCT x.article_id) AS articles,
       count(DISTINCT a.story_id) AS stories,
       count(DISTINCT a.feed_id) AS outlets,
       count(*) FILTER (WHERE x.rank = 1) AS main_events
FROM current_actions x JOIN articles a USING (article_id)
GROUP BY ALL;

-- Each actor's position per theme over the 30 days up to the newest article (not now(): a warehouse read
-- later, or a replayed past, shows the same positions): the latest action with its story, the most frequent
-- action by stories, the whole mix, and links to the latest five stories.
CREATE OR REPLACE VIEW positions AS
WITH recent AS (
    SELECT x.actor, x.theme, x.action, a.story_id, a.title, a.url, a.published_at
    FROM current_actions x JOIN articles a USING (article_id)
    WHERE a.published_at > (SELECT max(published_at) FROM articles) - INTERVAL 30 DAY
),
per_action AS (
    SELECT actor, theme, action, count(DISTINCT story_id) AS stories FROM recent GROUP BY ALL
),
mix AS (
    SELECT actor, theme,
           first(action ORDER BY stories DESC, action) AS most_frequent_action,
           max(stories) AS most_frequent_stories,
           list(action || ': ' || stories ORDER BY stories DESC, action) AS action_mix
    FROM per_action GROUP BY ALL
),
latest AS (
    SELECT actor, theme,
           first(action ORDER BY published_at DESC, action) AS latest_action,
           max(published_at) AS latest_at,
           first(title ORDER BY published_at DESC, action) AS latest_headline,
           first(url ORDER BY published_at DESC, action) AS latest_url,
           count(DISTINCT story_id) AS stories
    FROM recent GROUP BY ALL
),
links AS (
    SELECT actor, theme, list(url ORDER BY published_at DESC)[1:5] AS story_links
    FROM (SELECT actor, theme, story_id, first(url ORDER BY published_at DESC) AS url,
                 max(published_at) AS published_at
          FROM recent WHERE url IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
)
SELECT l.actor, l.theme, l.latest_action, l.latest_at, l.latest_headline, l.latest_url,
       m.most_frequent_action, m.most_frequent_stories, l.stories, m.action_mix, k.story_links
FROM latest l JOIN mix m USING (actor, theme) LEFT JOIN links k USING (actor, theme);
