"""The digest rendered: Markdown (feed text escaped by md_escape) and HTML through Jinja2 templates that
autoescape every value; the subject and summary lines for mail and Atom."""

from __future__ import annotations

import re
from datetime import date

from jinja2 import Environment, PackageLoader

from pipeline.digest.collect import CHART_DAYS, CHART_FILE, Digest, Story

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_escape(text: str) -> str:
    """Plain text safe inside Markdown: HTML characters become entities, Markdown syntax is backslashed."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")  # no tags; a bare & is harmless and reads better
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_link(title: str, url: str | None) -> str:
    if not url:
        return md_escape(title)
    url = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"[{md_escape(title)}](<{url}>)"


def _tag(story: Story) -> str:
    """'[RU] ' before a headline in another language than English."""
    return f"[{story.language_tag}] " if story.language_tag else ""


def _when(story: Story, day: date) -> str:
    label = "published" if story.backlog else "first seen"
    stamp = "%H:%M" if story.first_seen_at.date() == day else "%d %b %H:%M"
    return f"{label} {story.first_seen_at.strftime(stamp)} UTC"


NOT_MONITORED = ("newsmon did not fetch any feed on this day: what follows was found by later runs (a feed's "
                 "back catalogue, or a catch-up after an outage), so stories may be missing.")


def render_markdown(digest: Digest) -> str:
    day = digest.day
    lines = [f"# newsmon digest — {day:%A %d %B %Y}", ""]
    if digest.ingest_runs == 0 and not digest.warehouse_empty:
        lines += [f"> {NOT_MONITORED}", ""]
    if digest.quiet:
        reason = ("The warehouse holds no articles yet." if digest.warehouse_empty
                  else "A quiet day: no new articles were seen in the monitored feeds on this day (UTC).")
        return "\n".join(lines + [reason, ""])
    lines += [
        f"**{digest.articles}** articles read from **{digest.outlets}** outlets; **{digest.on_topic}** "
        f"({digest.on_topic_share:.0%}) on the monitored themes; {digest.new_story_count} new on-topic stories.",
        "",
    ]
    for spike in digest.spikes:
        lines.append(f"> **Spike: {spike.name}** — {spike.count} articles against {spike.baseline_mean:.1f} "
                     "a day over the previous 14 days.")
    lines += ["", f"![Theme volumes, last {CHART_DAYS} days]({CHART_FILE})", "",
              "| theme | articles | previous 14 days (mean/day) | change | |",
              "| --- | ---: | ---: | ---: | --- |"]
    for row in digest.themes:
        flag = "**spike**" if row.spike else ""
        lines.append(f"| {row.name} | {row.count} | {row.baseline_mean:.1f} | {row.change:+.1f} | {flag} |")
    lines.append("")
    for row in digest.themes:
        if not row.stories:
            continue
        more = f" (top {len(row.stories)} of {row.story_count} stories)" if row.story_count > len(row.stories) else ""
        lines += [f"## {row.name}{' — spike' if row.spike else ''}{more}", ""]
        if row.moves:
            lines += ["**What moved**", ""]
            for m in row.moves:
                mark = f" **{m.mark}**" if m.mark else ""
                links = "; ".join(_md_link(h, u) for h, u in m.stories[:3])
                words = ", ".join(md_escape(w) for w in m.evidence)
                lines.append(f"- {md_escape(m.sentence)}{mark} — {links}" + (f" (words: {words})" if words else ""))
            lines.append("")
        for s in row.stories:
            new = "**new** · " if s.new else ""
            lines.append(f"- {_tag(s)}{_md_link(s.headline, s.url)}  ")
            lines.append(f"  {new}{s.spread} outlet{'s' if s.spread != 1 else ''}: "
                         f"{', '.join(md_escape(o) for o in s.outlets)} · {_when(s, day)}  ")
            evidence = ", ".join(md_escape(e) for e in s.evidence) or "model score only"
            lines.append(f"  why: {evidence} (score {s.score:.2f})")
        lines.append("")
    if digest.new_stories:
        lines += ["## New since yesterday", "",
                  f"{digest.new_story_count} on-topic stories did not exist before; those not listed above:", ""]
        for s in digest.new_stories:
            lines.append(f"- {_tag(s)}{_md_link(s.headline, s.url)} — {', '.join(md_escape(t) for t in s.themes)}; "
                         f"{', '.join(md_escape(o) for o in s.outlets)}")
        lines.append("")
    return "\n".join(lines)


_ENV = Environment(
    loader=PackageLoader("pipeline.digest", "templates"),
    autoescape=True,  # every template renders untrusted feed text
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(digest: Digest, chart_src: str | None, template: str = "digest.html.j2") -> str:
    """The HTML digest; `chart_src` is the chart's file name for the browser or a cid: URL for email."""
    return _ENV.get_template(template).render(d=digest, chart_src=chart_src, when=_when,
                                              summary=summary_line(digest), chart_days=CHART_DAYS,
                                              not_monitored=NOT_MONITORED)


def subject(digest: Digest) -> str:
    if digest.quiet:
        return f"newsmon digest {digest.day.isoformat()}: a quiet day"
    spikes = ", ".join(t.name for t in digest.spikes)
    return (f"newsmon digest {digest.day.isoformat()}: {digest.on_topic} on-topic articles"
            + (f", spike in {spikes}" if spikes else ""))


def summary_line(digest: Digest) -> str:
    if digest.quiet:
        return "A quiet day: no new articles."
    top = ", ".join(f"{t.name} {t.count}" for t in digest.themes if t.count)
    spikes = "; spike: " + ", ".join(t.name for t in digest.spikes) if digest.spikes else ""
    return (f"{digest.articles} articles from {digest.outlets} outlets, {digest.on_topic_share:.0%} on topic "
            f"({top}){spikes}.")
