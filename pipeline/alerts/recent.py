"""What the rules look at, read from the read path (never the write file) as plain rows.

An article's time is the digest's (`SEEN_CTE`): when newsmon first saw it, or its publication time for a new
feed's backlog. So a new install, whose first load is all backlog, files its history under the days it was
published, and the last 48 hours hold only what is recent: alerts never replay history.

Everything is read as of `now`: articles seen later are left out, and the rolling spike window ends at `now`.
The day rule is the `theme_trends` row of a calendar day, which counts the whole day (with a `now` in the past,
as in a test, that includes the rest of that day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.digest.collect import SEEN_CTE
from pipeline.warehouse.readpath import open_read


@dataclass(frozen=True)
class ArticleRow:
    article_id: str
    story_id: str
    feed_id: str
    outlet: str  # the feed's title, else its id
    title: str
    url: str | None
    published_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class LabelRow:
    article_id: str
    theme: str
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class EventRow:
    article_id: str
    actor: str
    action: str
    theme: str
    rank: int
    score: float
    actor_evidence: tuple[str, ...]
    action_evidence: tuple[str, ...]


@dataclass(frozen=True)
class TrendRow:
    """A theme's count against its 14-window baseline: a calendar day (`day`) or the 24 h before `end`
    (`rolling`, filed under the day of its last instant)."""

    measure: str  # day | rolling
    theme: str
    day: date
    start: datetime
    end: datetime
    articles: int
    outlets: int
    baseline_mean: float | None
    baseline_std: float | None
    baseline_days: int
    z: float | None
    spike: bool


@dataclass
class Recent:
    now: datetime
    start: datetime  # now - lookback
    articles: list[ArticleRow] = field(default_factory=list)  # every article (seen by now) of a recent story
    labels: list[LabelRow] = field(default_factory=list)  # their labels under the current model
    events: list[EventRow] = field(default_factory=list)  # their events under the current model
    trends: list[TrendRow] = field(default_factory=list)  # day rows of the days in the window, rolling rows


# Stories with an article seen in [start, now], or published since the first day of the window (the day rule
# counts that whole day); every article of those stories seen by `now`.
_ARTICLES_CTE = SEEN_CTE + """,
visible AS (SELECT * FROM seen WHERE seen_at <= $now),
recent_stories AS (
    SELECT DISTINCT story_id FROM visible WHERE seen_at >= $start OR published_at >= $first_day
),
recent AS (SELECT * FROM visible WHERE story_id IN (SELECT story_id FROM recent_stories))"""


def _tuple(values) -> tuple[str, ...]:
    return tuple(values or ())


def read_recent(home: Path, now: datetime, lookback_h: float) -> Recent:
    """The rows of the last `lookback_h` hours before `now` (naive UTC)."""
    start = now - timedelta(hours=lookback_h)
    first_day = datetime.combine(start.date(), datetime.min.time())
    params = {"now": now, "start": start, "first_day": first_day}
    recent = Recent(now=now, start=start)
    with open_read(home) as con:
        recent.articles = [ArticleRow(*row) for row in con.execute(
            f"WITH {_ARTICLES_CTE} SELECT article_id, story_id, feed_id, outlet, title, url, published_at, seen_at "
            "FROM recent ORDER BY seen_at, article_id", params).fetchall()]
        recent.labels = [LabelRow(a, t, float(s), _tuple(e)) for a, t, s, e in con.execute(
            f"WITH {_ARTICLES_CTE} SELECT c.article_id, c.theme, c.score, c.evidence "
            "FROM current_classifications c SEMI JOIN recent r USING (article_id) WHERE c.label "
            "ORDER BY c.article_id, c.theme", params).fetchall()]
        recent.events = [EventRow(a, actor, action, theme, int(rank), float(score), _tuple(ae), _tuple(xe))
                         for a, actor, action, theme, rank, score, ae, xe in con.execute(
            f"WITH {_ARTICLES_CTE} SELECT x.article_id, x.actor, x.action, x.theme, x.rank, x.score, "
            "x.actor_evidence, x.action_evidence FROM current_actions x SEMI JOIN recent r USING (article_id) "
            "ORDER BY x.article_id, x.rank", params).fetchall()]
        last_day = (now - timedelta(microseconds=1)).date()  # the day `now` falls in (a midnight ends a day)
        for theme, day, articles, outlets, mean, std, days, z, spike in con.execute(
                "SELECT theme, day, articles, outlets, baseline_mean, baseline_std, baseline_days, z, spike "
                "FROM theme_trends WHERE language = 'all' AND day >= ? AND day <= ? ORDER BY day, theme",
                [start.date(), last_day]).fetchall():
            day_start = datetime.combine(day, datetime.min.time())
            recent.trends.append(TrendRow("day", theme, day, day_start, day_start + timedelta(days=1), int(articles),
                                          int(outlets), mean, std, int(days or 0), z, bool(spike)))
        for theme, window_start, window_end, articles, outlets, mean, std, days, z, spike in con.execute(
                "SELECT theme, window_start, window_end, articles, outlets, baseline_mean, baseline_std, "
                "baseline_days, z, spike FROM theme_window_trends(?) ORDER BY theme", [now]).fetchall():
            recent.trends.append(TrendRow("rolling", theme, last_day, window_start, window_end, int(articles),
                                          int(outlets), mean, std, int(days or 0), z, bool(spike)))
    return recent
