"""Rules against the recent rows: pure functions, no I/O. Each alert carries a key that a rerun, a replay or a
reclassification reproduces exactly, so the ledger can tell it was sent:

- spike rules: `spike:<theme>:<day>`: the spike's publication day for the day rule, and for the rolling rule
  the publication day that holds most of the window's articles on the theme (so a spike running past midnight
  is not alerted again at 01:00 as the next day's); both measures on the same day make one alert. A rule sends
  at most one spike alert per theme and UTC day.
- event and story rules: `story:<story_id>`. A story keeps its id (an article joins a story already decided,
  never the other way round), and a replay loads the same article ids, so it finds the same stories.

Event rules count the outlets that reported the watched event in the window, across stories (two outlets
wording the same agreement differently are two stories but one event); once there are enough, each story
carrying the event is an alert. Story rules want a story first seen in the window that `outlets` outlets
published within `within_hours` of its first publication.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pipeline.alerts.recent import ArticleRow, Recent, TrendRow
from pipeline.alerts.rules import Rule
from pipeline.digest.collect import ACTION_WORDS, ACTOR_NAMES
from pipeline.ingest.normalize import safe_link

STORIES_PER_ALERT = 5
TERMS_PER_ALERT = 8


@dataclass(frozen=True)
class StoryRef:
    story_id: str
    headline: str
    url: str | None  # http(s) only
    outlets: tuple[str, ...]  # every outlet that carried the story by now, in the order they were seen
    first_seen_at: datetime

    def as_dict(self) -> dict:
        return {"story_id": self.story_id, "headline": self.headline, "url": self.url, "outlets": list(self.outlets),
                "first_seen_at": self.first_seen_at.isoformat(timespec="seconds")}


@dataclass
class Alert:
    rule: str
    kind: str  # spike | event | story
    key: str
    day: date  # the digest it belongs to
    title: str  # what fired, one line
    stories: list[StoryRef]
    evidence: dict
    digest_url: str = ""

    def as_dict(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "key": self.key, "day": self.day.isoformat(),
                "title": self.title, "stories": [s.as_dict() for s in self.stories], "evidence": self.evidence,
                "digest_url": self.digest_url}


@dataclass
class Index:
    """The recent rows by article and story."""

    recent: Recent
    articles: dict[str, ArticleRow] = field(default_factory=dict)
    stories: dict[str, list[ArticleRow]] = field(default_factory=lambda: defaultdict(list))
    labels: dict[str, dict] = field(default_factory=lambda: defaultdict(dict))  # article -> theme -> LabelRow
    events: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # article -> EventRows

    @classmethod
    def build(cls, recent: Recent) -> Index:
        index = cls(recent)
        for article in recent.articles:  # ordered by seen time
            index.articles[article.article_id] = article
            index.stories[article.story_id].append(article)
        for label in recent.labels:
            index.labels[label.article_id][label.theme] = label
        for event in recent.events:
            index.events[event.article_id].append(event)
        return index

    def in_window(self, article: ArticleRow) -> bool:
        return self.recent.start <= article.seen_at <= self.recent.now

    def story_ref(self, story_id: str, lead: ArticleRow | None = None) -> StoryRef:
        """The story's headline and link from `lead` (the article that matched), else its earliest article."""
        articles = self.stories[story_id]
        lead = lead or min(articles, key=lambda a: (a.published_at, a.article_id))
        outlets = tuple(dict.fromkeys(a.outlet for a in articles))
        return StoryRef(story_id, lead.title, safe_link(lead.url) or _first_link(articles), outlets,
                        min(a.seen_at for a in articles))


def _first_link(articles: list[ArticleRow]) -> str | None:
    return next((link for a in articles if (link := safe_link(a.url))), None)


def _num(value) -> float | None:
    return None if value is None else round(float(value), 3)


def _measure(row: TrendRow) -> dict:
    return {"measure": row.measure, "start": row.start.isoformat(timespec="minutes"),
            "end": row.end.isoformat(timespec="minutes"), "articles": row.articles, "outlets": row.outlets,
            "baseline_mean": _num(row.baseline_mean), "baseline_std": _num(row.baseline_std),
            "baseline_windows": row.baseline_days, "z": _num(row.z)}


def _ranked_stories(index: Index, articles: list[ArticleRow], theme: str) -> tuple[list[StoryRef], Counter]:
    """Stories of the theme's labelled articles, widest first, then by the best score; the labels' terms."""
    best: dict[str, tuple[float, ArticleRow]] = {}
    terms: Counter = Counter()
    for article in articles:
        label = index.labels[article.article_id].get(theme)
        if label is None:
            continue
        terms.update(label.evidence)
        if article.story_id not in best or label.score > best[article.story_id][0]:
            best[article.story_id] = (label.score, article)
    refs = [(index.story_ref(sid, lead), score) for sid, (score, lead) in best.items()]
    refs.sort(key=lambda pair: (-len(pair[0].outlets), -pair[1], pair[0].first_seen_at, pair[0].story_id))
    return [ref for ref, _ in refs], terms


def _main_day(index: Index, row: TrendRow) -> date:
    """The publication day holding most of a rolling window's articles on its theme (the later one on a tie).
    A spike that runs past midnight is still that day's spike an hour later, not a new one; once the new day
    holds most of the window, it is the new day's spike."""
    days = Counter(a.published_at.date() for a in index.articles.values()
                   if row.start <= a.published_at < row.end and row.theme in index.labels[a.article_id])
    return max(days, key=lambda d: (days[d], d)) if days else row.day


def spike_alerts(rule: Rule, index: Index, names: dict[str, str]) -> list[Alert]:
    watch = rule.spike
    measures = {"day": ("day",), "rolling": ("rolling",), "both": ("day", "rolling")}[watch.measure]
    fired: dict[date, list[TrendRow]] = defaultdict(list)
    for row in index.recent.trends:
        if row.spike and row.theme == watch.theme and row.measure in measures:
            fired[row.day if row.measure == "day" else _main_day(index, row)].append(row)
    name = names.get(watch.theme, watch.theme)
    alerts = []
    for day, rows in sorted(fired.items()):
        in_rows = [a for a in index.articles.values()
                   if any(r.start <= a.published_at < r.end for r in rows) and a.seen_at <= index.recent.now]
        stories, terms = _ranked_stories(index, in_rows, watch.theme)
        lead = next((r for r in rows if r.measure == "day"), rows[0])
        when = f"on {day.isoformat()}" if lead.measure == "day" else \
            f"in the 24 h to {lead.end:%Y-%m-%d %H:%M} UTC"
        title = (f"{name} spike {when}: {lead.articles} articles in {lead.outlets} outlets, "
                 f"{lead.baseline_mean or 0:.1f} a day before" + (f" (z {lead.z:.1f})" if lead.z is not None else
                                                                  " (up from a flat history)"))
        if len(rows) > 1:
            other = next(r for r in rows if r is not lead)
            title += f"; last 24 h: {other.articles} articles"
        evidence = {"theme": watch.theme, "rule": "spike_rule: >= 3 articles, >= 7 windows of history, z >= 2 "
                                                  "(or any rise over a flat history)",
                    "measures": [_measure(r) for r in rows],
                    "terms": [[t, n] for t, n in terms.most_common(TERMS_PER_ALERT)],
                    "stories": len(stories)}
        alerts.append(Alert(rule.name, "spike", f"spike:{watch.theme}:{day.isoformat()}", day, title,
                            stories[:STORIES_PER_ALERT], evidence))
    return alerts


def event_name(actor: str | None, action: str | None, theme: str | None, names: dict[str, str]) -> str:
    """'Russia agreed (Ceasefire)'; a rule without an actor or action says so in words."""
    who = ACTOR_NAMES.get(actor, actor) if actor else "Anyone"
    did = ACTION_WORDS.get(action, action) if action else "acted"
    return f"{who} {did}" + (f" ({names.get(theme, theme)})" if theme else "")


def event_alerts(rule: Rule, index: Index, names: dict[str, str]) -> list[Alert]:
    watch = rule.event
    matches = []  # (article, event) seen in the window
    for article_id, events in index.events.items():
        article = index.articles[article_id]
        if not index.in_window(article):
            continue
        for event in events:
            if all(getattr(watch, k) in (None, getattr(event, k)) for k in ("actor", "action", "theme")):
                matches.append((article, event))
    reporting = list(dict.fromkeys(a.outlet for a, _ in sorted(matches, key=lambda m: m[0].seen_at)))
    if len({a.feed_id for a, _ in matches}) < rule.outlets_needed:
        return []
    by_story: dict[str, list] = defaultdict(list)
    for article, event in matches:
        by_story[article.story_id].append((article, event))
    alerts = []
    for story_id, pairs in by_story.items():
        pairs.sort(key=lambda p: (-p[1].score, p[1].rank, p[0].seen_at))
        lead_article, lead_event = pairs[0]
        ref = index.story_ref(story_id, lead_article)
        actor_words, action_words = Counter(), Counter()
        for _, event in pairs:
            actor_words.update(event.actor_evidence)
            action_words.update(event.action_evidence)
        coded = event_name(lead_event.actor, lead_event.action, lead_event.theme, names)
        title = f"{coded}: {ref.headline}"
        evidence = {
            "watched": {k: getattr(watch, k) for k in ("actor", "action", "theme")},
            "watched_as": event_name(watch.actor, watch.action, watch.theme, names),
            "event": {"actor": lead_event.actor, "action": lead_event.action, "theme": lead_event.theme,
                      "rank": lead_event.rank, "score": round(lead_event.score, 3)},
            "actor_words": [w for w, _ in actor_words.most_common(TERMS_PER_ALERT)],
            "action_words": [w for w, _ in action_words.most_common(TERMS_PER_ALERT)],
            "outlets_reporting": len(reporting), "reported_by": reporting, "min_outlets": rule.outlets_needed,
            "story_articles_with_event": len(pairs),
        }
        day = max(a.seen_at for a, _ in pairs).date()
        alerts.append(Alert(rule.name, "event", f"story:{story_id}", day, title, [ref], evidence))
    alerts.sort(key=lambda a: (a.stories[0].first_seen_at, a.key))
    return alerts


def story_alerts(rule: Rule, index: Index, names: dict[str, str]) -> list[Alert]:
    watch = rule.story
    alerts = []
    for story_id, articles in index.stories.items():
        if min(a.seen_at for a in articles) < index.recent.start:
            continue  # not a new story
        themes = sorted({t for a in articles for t in index.labels[a.article_id]})
        if (watch.theme not in themes) if watch.theme else not themes:
            continue
        first_by_outlet: dict[str, datetime] = {}
        for article in sorted(articles, key=lambda a: a.published_at):
            first_by_outlet.setdefault(article.outlet, article.published_at)
        first = min(first_by_outlet.values())
        deadline = first + timedelta(hours=watch.within_hours)
        within = [(o, t) for o, t in sorted(first_by_outlet.items(), key=lambda p: p[1]) if t <= deadline]
        if len(within) < watch.outlets:
            continue
        ref = index.story_ref(story_id)
        reached = within[watch.outlets - 1][1]
        hours = (reached - first).total_seconds() / 3600
        title = f"New story in {len(within)} outlets within {watch.within_hours:g} h: {ref.headline}"
        evidence = {"outlets_within": len(within), "outlets_needed": watch.outlets,
                    "within_hours": watch.within_hours, "first_published_at": first.isoformat(timespec="minutes"),
                    "hours_to_reach": round(hours, 2),
                    "outlet_order": [[o, t.isoformat(timespec="minutes")] for o, t in within],
                    "themes": [names.get(t, t) for t in themes]}
        alerts.append(Alert(rule.name, "story", f"story:{story_id}", ref.first_seen_at.date(), title, [ref],
                            evidence))
    alerts.sort(key=lambda a: (a.stories[0].first_seen_at, a.key))
    return alerts


KINDS = {"spike": spike_alerts, "event": event_alerts, "story": story_alerts}


def evaluate(rules: list[Rule], recent: Recent, names: dict[str, str],
             digest_url: Callable[[date], str] = lambda day: "") -> list[Alert]:
    """Every alert the rules find in the recent rows, rule by rule, each with its digest link."""
    index = Index.build(recent)
    alerts = []
    for rule in rules:
        for alert in KINDS[rule.kind](rule, index, names):
            alert.digest_url = digest_url(alert.day)
            alerts.append(alert)
    return alerts
