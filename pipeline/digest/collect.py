"""The daily digest: what moved, which stories, and why each article is there.

One UTC day [00:00, 24:00) by first-seen time. An article published before its feed was added to the registry
(a new feed's backlog, or the demo's single load) is filed under its publication day instead: we could not
have seen it earlier, and it must not pile into the digest of the day the feed was added.

Theme volumes, the 14-day baseline and the spike flag come from the warehouse view `theme_trends` (one rule,
in SQL, counted by publication day); stories are grouped by `articles.story_id` and ranked by spread (distinct
outlets). Feed text is untrusted: Jinja2 escapes it in HTML, `md_escape` in Markdown, links are http(s) only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pipeline.classify.themes import load_themes
from pipeline.core.config import Settings
from pipeline.ingest.normalize import safe_link
from pipeline.warehouse.query import fetch_coverage
from pipeline.warehouse.readpath import open_read, read_db_path

CHART_DAYS = 30
CHART_FILE = "chart.png"
# Colour-blind-safe (Okabe-Ito), shared by the chart and the pages; the core three get the strongest colours.
CORE_COLOURS = ["#D55E00", "#0072B2", "#009E73"]
OTHER_COLOURS = ["#CC79A7", "#E69F00", "#56B4E9", "#7f7f7f"]

# Each article's place in time for the digest (see the module docstring).
_SEEN_CTE = """
seen AS (
    SELECT a.article_id, a.story_id, a.feed_id, coalesce(f.title, a.feed_id) AS outlet, a.title, a.url,
           a.published_at, a.first_seen_at, a.model_version, a.language,
           coalesce(a.published_at < f.added_at, false) AS backlog,
           CASE WHEN a.published_at < f.added_at THEN a.published_at ELSE a.first_seen_at END AS seen_at
    FROM articles a LEFT JOIN feeds f USING (feed_id)
)"""
SEEN_CTE = _SEEN_CTE  # the same place in time for the alerts (pipeline.alerts), so both agree on "seen when"


@dataclass
class Story:
    story_id: str
    headline: str
    url: str | None  # http(s) only
    outlets: list[str]
    first_seen_at: datetime
    published_at: datetime
    score: float
    evidence: list[str]
    new: bool  # no article of the story was seen before this day
    backlog: bool = False  # only known from a feed's backlog: its time is the publication time
    themes: list[str] = field(default_factory=list)  # theme names, for the "new since yesterday" list
    language: str | None = None  # the headline's detected language, shown as a tag when not English

    @property
    def language_tag(self) -> str | None:
        """'RU', 'UK'... beside a headline in another language than English ('mixed' and 'und' are not shown)."""
        if self.language and len(self.language) == 2 and self.language != "en":
            return self.language.upper()
        return None

    @property
    def spread(self) -> int:
        return len(self.outlets)


ACTOR_NAMES = {"russia": "Russia", "ukraine": "Ukraine", "united_states": "The United States",
               "europe": "The EU and European states", "united_kingdom": "The United Kingdom", "france": "France",
               "germany": "Germany", "nato": "NATO", "turkey": "Turkey", "china": "China", "other": "Others"}
ACTION_WORDS = {"propose": "proposed", "demand": "demanded", "agree": "agreed", "reject": "rejected",
                "threaten": "threatened", "enact": "acted", "withdraw": "withdrew or paused",
                "violate": "was accused of a breach", "meet": "met or talked", "other": "was in the news"}
MOVE_BASELINE_DAYS = 14
MOVES_PER_THEME = 5


@dataclass
class Move:
    """One (actor, action) pair of a theme on the digest day: its stories, evidence and how it compares with
    the previous 14 days (new: no story then; rising: at least twice the daily mean and two stories)."""

    actor: str
    action: str
    stories: list[tuple[str, str | None]]  # (headline, http(s) link or None), strongest first
    score: float  # the strongest event's score
    evidence: list[str]
    baseline_mean: float

    @property
    def story_count(self) -> int:
        return len(self.stories)

    @property
    def mark(self) -> str | None:
        if self.baseline_mean == 0:
            return "new"
        if self.story_count >= 2 and self.story_count >= 2 * self.baseline_mean:
            return "rising"
        return None

    @property
    def sentence(self) -> str:
        n = self.story_count
        return f"{ACTOR_NAMES.get(self.actor, self.actor)} {ACTION_WORDS.get(self.action, self.action)}: " \
               f"{n} stor{'y' if n == 1 else 'ies'}"


@dataclass
class ThemeDay:
    """One theme on the digest day: volume, baseline and spike flag from `theme_trends`, top stories."""

    theme: str
    name: str
    core: bool
    count: int
    baseline_mean: float
    baseline_days: int
    z: float | None
    spike: bool
    story_count: int = 0
    stories: list[Story] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.count - self.baseline_mean


@dataclass
class Digest:
    day: date
    articles: int = 0
    outlets: int = 0
    on_topic: int = 0
    story_count: int = 0
    model_versions: list[str] = field(default_factory=list)
    themes: list[ThemeDay] = field(default_factory=list)
    new_stories: list[Story] = field(default_factory=list)
    new_story_count: int = 0
    # 30 days of (day, theme, articles, spike) for the chart, from theme_trends
    series: list[tuple[date, str, int, bool]] = field(default_factory=list)
    warehouse_empty: bool = False
    ingest_runs: int | None = None  # runs that fetched feeds during the day; 0: the day was not monitored live
    colours: dict[str, str] = field(default_factory=dict)  # theme id -> colour, as in the chart

    @property
    def quiet(self) -> bool:
        return self.articles == 0

    @property
    def on_topic_share(self) -> float:
        return self.on_topic / self.articles if self.articles else 0.0

    @property
    def spikes(self) -> list[ThemeDay]:
        return [t for t in self.themes if t.spike]


def digest_day_for_run(interval_start, interval_end, logical_date) -> date:
    """The UTC day a digest run covers. With a real data interval [start, end) it is the start's day;
    a trigger-style run (start == end, Airflow 3's default for cron) or a manual run covers the day
    before its logical date, or yesterday when it has none."""
    if interval_start is not None and interval_end is not None and interval_end > interval_start:
        return interval_start.astimezone(UTC).date()
    anchor = logical_date or interval_end or datetime.now(UTC)
    return anchor.astimezone(UTC).date() - timedelta(days=1)


def latest_day(settings: Settings) -> date | None:
    """The last day that has articles in it (in the digest's sense of an article's day), if any."""
    if not read_db_path(settings.home).exists():
        return None
    with open_read(settings.home) as con:
        row = con.execute(f"WITH {_SEEN_CTE} SELECT CAST(max(seen_at) AS DATE) FROM seen").fetchone()
    return row[0] if row else None


def theme_colours(themes) -> dict[str, str]:
    core = [t.id for t in themes if t.core]
    other = [t.id for t in themes if not t.core]
    colours = {t: CORE_COLOURS[i % len(CORE_COLOURS)] for i, t in enumerate(core)}
    colours.update({t: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, t in enumerate(other)})
    return colours


def _window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time())  # the warehouse stores naive UTC
    return start, start + timedelta(days=1)


def _ordered_unique(values) -> list:
    return list(dict.fromkeys(v for v in values if v))


def _moves(con, start: datetime, end: datetime) -> dict[str, list[Move]]:
    """The day's (actor, action) pairs per theme from `current_actions`, most stories first, then score."""
    rows = con.execute(
        f"""WITH {_SEEN_CTE}
        SELECT x.theme, x.actor, x.action, s.story_id, s.title, s.url, x.score, x.actor_evidence, x.action_evidence
        FROM seen s JOIN current_actions x USING (article_id)
        WHERE s.seen_at >= ? AND s.seen_at < ?
        ORDER BY x.score DESC, s.seen_at""",
        [start, end],
    ).fetchall()
    baseline = {
        (theme, actor, action): stories / MOVE_BASELINE_DAYS
        for theme, actor, action, stories in con.execute(
            f"""WITH {_SEEN_CTE}
            SELECT x.theme, x.actor, x.action, count(DISTINCT s.story_id)
            FROM seen s JOIN current_actions x USING (article_id)
            WHERE s.seen_at >= ? AND s.seen_at < ? GROUP BY ALL""",
            [start - timedelta(days=MOVE_BASELINE_DAYS), start],
        ).fetchall()
    }
    grouped: dict[tuple[str, str, str], dict] = {}
    for theme, actor, action, story_id, title, url, score, actor_words, action_words in rows:
        entry = grouped.setdefault((theme, actor, action), {"stories": {}, "score": float(score), "words": Counter()})
        entry["stories"].setdefault(story_id, (title, safe_link(url)))  # rows come strongest first
        entry["words"].update((actor_words or [])[:1] + list(action_words or []))
    out: dict[str, list[Move]] = {}
    for (theme, actor, action), entry in grouped.items():
        out.setdefault(theme, []).append(Move(actor, action, list(entry["stories"].values()), entry["score"],
                                              [w for w, _ in entry["words"].most_common(5)],
                                              baseline.get((theme, actor, action), 0.0)))
    for moves in out.values():
        moves.sort(key=lambda m: (-m.story_count, -m.score, m.actor, m.action))
    return out


def collect(settings: Settings, day: date) -> Digest:
    """Everything the digest shows for `day`, read from the warehouse (read-only)."""
    themes = load_themes(settings.models_dir)
    digest = Digest(day=day, colours=theme_colours(themes))
    if not read_db_path(settings.home).exists():
        digest.warehouse_empty = True
        return digest
    start, end = _window(day)
    with open_read(settings.home) as con:
        totals = con.execute(
            f"""WITH {_SEEN_CTE}
            SELECT count(*), count(DISTINCT feed_id),
                   count(*) FILTER (WHERE article_id IN (SELECT article_id FROM current_classifications WHERE label)),
                   count(DISTINCT story_id), list(DISTINCT model_version) FILTER (WHERE model_version IS NOT NULL)
            FROM seen WHERE seen_at >= ? AND seen_at < ?""",
            [start, end],
        ).fetchone()
        digest.warehouse_empty = con.execute("SELECT count(*) = 0 FROM articles").fetchone()[0]
        digest.ingest_runs = fetch_coverage(con, start, end)["runs"]
        trends = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT theme, articles, coalesce(baseline_mean, 0), coalesce(baseline_days, 0), z, spike "
                "FROM theme_trends WHERE day = ? AND language = 'all'", [day],
            ).fetchall()
        }
        labelled = con.execute(
            f"""WITH {_SEEN_CTE},
            day_labels AS (
                SELECT s.story_id, c.theme, s.title, s.url, s.published_at, c.score, c.evidence, s.language
                FROM seen s JOIN current_classifications c USING (article_id)
                WHERE c.label AND s.seen_at >= ? AND s.seen_at < ?
            ),
            story_facts AS (  -- every article of those stories up to the end of the day, not only today's
                SELECT story_id, min(seen_at) AS first_seen, list(outlet ORDER BY seen_at) AS outlets,
                       bool_and(backlog) AS backlog
                FROM seen WHERE story_id IN (SELECT story_id FROM day_labels) AND seen_at < ?
                GROUP BY story_id
            )
            SELECT d.theme, d.story_id, d.title, d.url, d.published_at, d.score, d.evidence, f.first_seen, f.outlets,
                   f.backlog, d.language
            FROM day_labels d JOIN story_facts f USING (story_id)
            ORDER BY d.score DESC, d.published_at""",
            [start, end, end],
        ).fetchall()
        moves = _moves(con, start, end)
        series = con.execute(
            "SELECT day, theme, articles, spike FROM theme_trends WHERE day > ? AND day <= ? AND language = 'all' "
            "ORDER BY day",
            [day - timedelta(days=CHART_DAYS), day],
        ).fetchall()
    digest.articles, digest.outlets, digest.on_topic, digest.story_count = (int(v or 0) for v in totals[:4])
    digest.model_versions = sorted(totals[4] or [])
    digest.series = [(d, t, int(n), bool(s)) for d, t, n, s in series]

    # One Story per (theme, story): the best-scoring article of the day leads it; evidence from all of them.
    by_theme: dict[str, dict[str, Story]] = {}
    evidence: dict[tuple[str, str], Counter] = {}
    for theme, story_id, title, url, published_at, score, terms, first_seen, outlets, backlog, language in labelled:
        stories = by_theme.setdefault(theme, {})
        if story_id not in stories:  # rows come best score first
            stories[story_id] = Story(story_id, title, safe_link(url), _ordered_unique(outlets), first_seen,
                                      published_at, float(score), [], new=first_seen >= start, backlog=backlog,
                                      language=language)
        evidence.setdefault((theme, story_id), Counter()).update(terms or [])
    for (theme, story_id), counts in evidence.items():
        by_theme[theme][story_id].evidence = [term for term, _ in counts.most_common(6)]

    def rank(story: Story):
        return (-story.spread, -story.score, story.first_seen_at)

    names = {t.id: t.name for t in themes}
    for t in themes:
        count, mean, days, z, spike = trends.get(t.id, (0, 0.0, 0, None, False))
        stories = sorted(by_theme.get(t.id, {}).values(), key=rank)
        top = settings.digest_top_per_theme if t.core else settings.digest_top_per_other_theme
        digest.themes.append(ThemeDay(t.id, t.name, t.core, int(count), float(mean), int(days),
                                      None if z is None else float(z), bool(spike), len(stories), stories[:top],
                                      moves.get(t.id, [])[:MOVES_PER_THEME]))
    digest.themes.sort(key=lambda row: (not row.core, -row.count))  # core three first, then by volume

    new: dict[str, Story] = {}
    for t in themes:  # taxonomy order, so a story's theme list reads core first
        for story in by_theme.get(t.id, {}).values():
            if story.new:
                kept = new.setdefault(story.story_id, Story(**{**asdict(story), "themes": []}))
                kept.themes.append(names[t.id])
                if story.score > kept.score:
                    kept.headline, kept.url, kept.score = story.headline, story.url, story.score
                    kept.language = story.language
    digest.new_story_count = len(new)
    shown = {s.story_id for row in digest.themes for s in row.stories}  # already above, marked new there
    digest.new_stories = sorted((s for s in new.values() if s.story_id not in shown), key=rank)[
        : settings.digest_new_stories]
    return digest
