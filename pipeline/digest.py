"""The daily digest: per theme, the day's volume against the previous 14 days and the top articles, with
the evidence that put each article there. Feed text is untrusted: it is escaped before it reaches a page."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.config import Settings
from pipeline.normalize import safe_link
from pipeline.themes import load_themes
from pipeline.warehouse import open_readonly

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_escape(text: str) -> str:
    """Plain text safe inside Markdown: HTML characters become entities, Markdown syntax is backslashed."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass
class ThemeDay:
    """One theme on one day, with its baseline and spike flag from the warehouse view `theme_trends`."""

    theme: str
    name: str
    core: bool
    count: int
    baseline_mean: float
    spike: bool
    articles: list[dict] = field(default_factory=list)


def digest_day_for_run(interval_start, interval_end, logical_date) -> date:
    """The UTC day a digest run covers. With a real data interval [start, end) it is the start's day;
    a trigger-style run (start == end, Airflow 3's default for cron) or a manual run covers the day
    before its logical date, or yesterday when it has none."""
    if interval_start is not None and interval_end is not None and interval_end > interval_start:
        return interval_start.astimezone(UTC).date()
    anchor = logical_date or interval_end or datetime.now(UTC)
    return anchor.astimezone(UTC).date() - timedelta(days=1)


def latest_day(settings: Settings) -> date | None:
    with open_readonly(settings.warehouse_path) as con:
        row = con.execute("SELECT max(CAST(published_at AS DATE)) FROM articles").fetchone()
    return row[0] if row else None


def collect(settings: Settings, day: date) -> dict:
    themes = load_themes(settings.models_dir)
    with open_readonly(settings.warehouse_path) as con:
        totals = con.execute(  # the day's headline numbers, from the same view the trends are built on
            "SELECT any_value(total_articles), any_value(total_outlets), any_value(on_topic_articles) "
            "FROM theme_daily WHERE day = ?", [day]
        ).fetchone()
        trends = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT theme, articles, coalesce(baseline_mean, 0), spike FROM theme_trends WHERE day = ?", [day]
            ).fetchall()
        }
        top = con.execute(
            """
            SELECT c.theme, a.title, a.url, f.title AS outlet, a.feed_id, a.published_at, c.score, c.evidence,
                   row_number() OVER (PARTITION BY c.theme ORDER BY c.score DESC, a.published_at) AS rank
            FROM current_classifications c
            JOIN articles a USING (article_id)
            LEFT JOIN feeds f ON f.feed_id = a.feed_id
            WHERE c.label AND CAST(a.published_at AS DATE) = ?
            QUALIFY rank <= ?
            ORDER BY c.theme, rank
            """,
            [day, settings.digest_top_per_theme],
        ).fetchall()
    rows = []
    for t in themes:
        count, mean, spike = trends.get(t.id, (0, 0.0, False))
        articles = [
            {"title": r[1], "url": safe_link(r[2]), "outlet": r[3] or r[4], "published_at": r[5],
             "score": r[6], "evidence": list(r[7] or [])}
            for r in top if r[0] == t.id
        ]
        rows.append(ThemeDay(t.id, t.name, t.core, count, mean, spike, articles))
    rows.sort(key=lambda r: (not r.core, -r.count))
    total, outlets, on_topic = (value or 0 for value in totals)
    return {"day": day, "articles": total, "outlets": outlets, "on_topic": on_topic, "themes": rows}


def render_markdown(data: dict) -> str:
    day, total, on_topic = data["day"], data["articles"], data["on_topic"]
    lines = [f"# newsmon digest — {day.isoformat()}", ""]
    if total == 0:
        lines += ["A quiet day: no articles were published in the monitored feeds on this day.", ""]
        return "\n".join(lines)
    share = on_topic / total if total else 0.0
    lines += [f"**{total}** articles from **{data['outlets']}** outlets; **{on_topic}** on the monitored themes "
              f"({share:.0%}).", "", "| theme | articles | previous 14 days (mean/day) | change | |",
              "| --- | ---: | ---: | ---: | --- |"]
    for row in data["themes"]:
        change = row.count - row.baseline_mean
        flag = "**spike**" if row.spike else ""
        lines.append(f"| {row.name} | {row.count} | {row.baseline_mean:.1f} | {change:+.1f} | {flag} |")
    lines.append("")
    for row in data["themes"]:
        if not row.articles:
            continue
        lines += [f"## {row.name}{' — spike' if row.spike else ''}", ""]
        for a in row.articles:
            title = md_escape(a["title"])
            url = (a["url"] or "").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
            headline = f"[{title}](<{url}>)" if url else title
            evidence = ", ".join(md_escape(e) for e in a["evidence"]) or "model score only"
            lines.append(f"- {headline} — {md_escape(a['outlet'])}, {a['published_at']:%H:%M} UTC  ")
            lines.append(f"  why: {evidence} (score {a['score']:.2f})")
        lines.append("")
    return "\n".join(lines)


def build_digest(settings: Settings, day: date) -> Path:
    """Write NEWSMON_HOME/digests/<day>/digest.md and return its path."""
    data = collect(settings, day)
    out_dir = settings.digests_dir / day.isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "digest.md"
    tmp = path.with_name(f".digest.md.{os.getpid()}.tmp")
    tmp.write_text(render_markdown(data), encoding="utf-8")
    os.replace(tmp, path)
    return path
