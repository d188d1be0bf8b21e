-- Military aid by actor and month: stories where it was pledged (propose), delivered or approved (enact),
-- and paused or cut (withdraw).
SELECT date_trunc('month', a.published_at)::DATE AS month, x.actor,
       count(DISTINCT a.story_id) FILTER (WHERE x.action = 'propose') AS pledged,
       count(DISTINCT a.story_id) FILTER (WHERE x.action = 'enact') AS delivered,
       count(DISTINCT a.story_id) FILTER (WHERE x.action = 'withdraw') AS paused_or_cut
FROM current_actions x
JOIN articles a USING (article_id)
WHERE x.theme = 'military_aid'
GROUP BY ALL
HAVING pledged + delivered + paused_or_cut > 0
ORDER BY month, delivered + pledged DESC, x.actor;
