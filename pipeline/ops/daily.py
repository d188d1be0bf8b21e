"""What the news_digest DAG's task calls: check that ingest covered the day, then build its digest."""

from __future__ import annotations

import logging
from datetime import date

from pipeline.core.config import Settings
from pipeline.digest.build import build_digest
from pipeline.ingest.cycle import ingest_coverage

log = logging.getLogger("newsmon.daily")


def build_daily_digest(settings: Settings, day: date) -> dict:
    """Build the digest of one UTC day; warn (log and result) when no ingest run fetched feeds that day,
    since the digest then shows only what later runs happened to pick up."""
    coverage = ingest_coverage(settings, day)
    coverage["ingest_ran"] = coverage["runs"] > 0
    if not coverage["ingest_ran"]:
        log.warning("digest: no ingest run fetched feeds on %s; its digest rests only on articles "
                    "published that day and fetched later", day.isoformat())
    elif coverage["hours_covered"] < 24:
        log.warning("digest: ingest fetched feeds in only %d of 24 hours on %s",
                    coverage["hours_covered"], day.isoformat())
    return {**coverage, "path": str(build_digest(settings, day))}
