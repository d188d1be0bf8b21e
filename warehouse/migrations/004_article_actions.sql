-- Who did what (../shared/EVENTS.md): up to three (actor, action, theme) events per themed article, coded by
-- the model version that labelled its themes. Versioned like `classifications` (reclassifying adds a version
-- beside the old ones) and, like it, without a PRIMARY KEY: the loader writes rows only for articles new or
-- changed in the batch and deletes a changed article's rows of that version first.
CREATE TABLE article_actions (
    article_id     VARCHAR NOT NULL,
    model_version  VARCHAR NOT NULL,
    rank           INTEGER NOT NULL,             -- 1 = the main event
    actor          VARCHAR NOT NULL,             -- russia, ukraine, united_states, ... other
    action         VARCHAR NOT NULL,             -- propose, demand, agree, reject, threaten, enact, withdraw, ...
    theme          VARCHAR NOT NULL,
    score          DOUBLE NOT NULL,              -- P(event) x P(action)
    actor_evidence VARCHAR[],                    -- the words that named the actor, as written
    action_evidence VARCHAR[],                   -- the words near it that weighed most for the action
    content_hash   VARCHAR NOT NULL,
    classified_at  TIMESTAMP NOT NULL
);
