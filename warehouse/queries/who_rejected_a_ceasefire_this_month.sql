-- Who rejected a ceasefire in the 30 days up to the newest article, and in which stories (widest first).
SELECT x.actor, s.title AS story, s.outlets, CAST(min(a.published_at) AS DATE) AS first_day,
       list(DISTINCT e ORDER BY e) FILTER (WHERE e IS NOT NULL) AS words
FROM current_actions x
JOIN articles a USING (article_id)
JOIN stories s USING (story_id)
LEFT JOIN LATERAL (SELECT unnest(x.actor_evidence || x.action_evidence) AS e) ON true
WHERE x.theme = 'ceasefire' AND x.action = 'reject'
  AND a.published_at > (SELECT max(published_at) FROM articles) - INTERVAL 30 DAY
GROUP BY x.actor, s.story_id, s.title, s.outlets
ORDER BY s.outlets DESC, first_day, x.actor, story;
