-- Which actors moved together on security guarantees: pairs of parties coded in the same story, with how
-- often and what each did (the action it took most often in those shared stories).
WITH acts AS (
    SELECT DISTINCT a.story_id, x.actor, x.action
    FROM current_actions x JOIN articles a USING (article_id)
    WHERE x.theme = 'security_guarantees'
)
SELECT l.actor AS actor, r.actor AS with_actor, count(DISTINCT l.story_id) AS shared_stories,
       mode(l.action) AS actor_did, mode(r.action) AS with_actor_did
FROM acts l JOIN acts r ON l.story_id = r.story_id AND l.actor < r.actor
GROUP BY ALL
ORDER BY shared_stories DESC, actor, with_actor;
