-- 006: a cycle in which (nearly) every feed failed at the network level is this machine's outage, not the
-- feeds' fault: the run says so, and no feed's error score, backoff or disabled state moved for it.
ALTER TABLE runs ADD COLUMN outage BOOLEAN DEFAULT false;
