"""Write one day's digest files: Markdown, HTML, the email page, the chart and the Atom entry."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.classify.themes import load_themes
from pipeline.core.config import Settings
from pipeline.core.files import write_atomic
from pipeline.digest.collect import CHART_FILE, collect, latest_day
from pipeline.digest.render import render_html, render_markdown, subject, summary_line


def chart_cid(day: date) -> str:
    return f"chart-{day.isoformat()}@newsmon.digest"


def build_digest(settings: Settings, day: date) -> Path:
    """Write digests/<day>/{digest.md, digest.html, email.html, chart.png, digest.json}, refresh the Atom
    feed digests/feed.xml, and return the path of digest.html. Rebuilding a day replaces its files."""
    from pipeline.digest.atom import write_feed
    from pipeline.digest.chart import render_chart

    digest = collect(settings, day)
    out_dir = settings.digests_dir / day.isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / CHART_FILE, render_chart(digest, load_themes(settings.models_dir)))
    write_atomic(out_dir / "digest.md", render_markdown(digest))
    write_atomic(out_dir / "digest.html", render_html(digest, CHART_FILE))
    write_atomic(out_dir / "email.html", render_html(digest, f"cid:{chart_cid(day)}"))
    entry = {
        "day": day.isoformat(), "subject": subject(digest), "summary": summary_line(digest),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "content_html": render_html(digest, None, "atom_entry.html.j2"),
    }
    write_atomic(out_dir / "digest.json", json.dumps(entry, ensure_ascii=False, indent=1))
    write_feed(settings)
    return out_dir / "digest.html"


def build_and_send(settings: Settings, day: date | None, email: bool = False) -> tuple[Path, list[str]]:
    """`newsmon digest`: build a day's digest (default: the latest day with articles, or yesterday's empty one
    when there are none yet), and mail it when asked. Returns the HTML path and the recipients."""
    from pipeline.digest.mail import email_digest

    target = day or latest_day(settings) or datetime.now(UTC).date() - timedelta(days=1)
    path = build_digest(settings, target)
    return path, (email_digest(settings, path.parent) if email else [])
