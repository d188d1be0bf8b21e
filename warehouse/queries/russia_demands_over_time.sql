-- Russia's demands, week by week and theme by theme: how many stories carried one, and the widest of them.
SELECT date_trunc('week', a.published_at)::DATE AS week, x.theme,
       count(DISTINCT a.story_id) AS stories,
       first(s.title ORDER BY s.outlets DESC, s.title) AS widest_story
FROM current_actions x
JOIN articles a USING (article_id)
JOIN stories s USING (story_id)
WHERE x.actor = 'russia' AND x.action = 'demand'
GROUP BY ALL
ORDER BY week, stories DESC, x.theme;
