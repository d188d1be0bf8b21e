"""One message per rule and channel: the alerts of that rule found by a check (or held in its quiet window),
as plain text for people and as structured JSON for programs.

Headlines, outlet names and evidence come from feeds, so they are untrusted. E-mail is plain text (nothing in it
is markup). The webhook's `text` field is read by Slack (mrkdwn) and Mattermost (Markdown): there `&`, `<` and
`>` are escaped as Slack asks (Mattermost shows the entities as the characters), so a headline cannot become a
link or a `<!channel>` ping, and an `@` is followed by a zero-width space, so `@channel` or `@here` in a headline
notifies no one. The structured fields beside it carry the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipeline.alerts.evaluate import Alert, StoryRef
from pipeline.alerts.rules import Rule

SUBJECT_CHARS = 180


@dataclass
class Message:
    rule: Rule
    alerts: list[Alert]
    test: bool = False

    @property
    def subject(self) -> str:
        first = _one_line(self.alerts[0].title) if self.alerts else self.rule.describe()
        more = f" (+{len(self.alerts) - 1} more)" if len(self.alerts) > 1 else ""
        prefix = "newsmon TEST alert" if self.test else "newsmon alert"
        subject = f"{prefix}: {self.rule.name}: {first}"
        if len(subject) + len(more) > SUBJECT_CHARS:
            subject = subject[:SUBJECT_CHARS - len(more) - 1].rstrip() + "…"
        return subject + more


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def plain(text: str) -> str:
    return _one_line(text)


def chat_escape(text: str) -> str:
    """For Slack's and Mattermost's `text`: no links, pings or markup out of feed text."""
    text = _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u200b")


def _story_lines(story: StoryRef, esc: Callable[[str], str], indent: str) -> list[str]:
    n = len(story.outlets)
    lines = [f"{indent}- {esc(story.headline)}",
             f"{indent}  {n} outlet{'s' * (n != 1)}: {esc(', '.join(story.outlets))}"]
    if story.url:
        lines.append(f"{indent}  {esc(story.url)}")
    return lines


def _why(alert: Alert, esc: Callable[[str], str]) -> str:
    e = alert.evidence
    if "sample" in e:
        return e["sample"]
    if alert.kind == "spike":
        parts = []
        for m in e["measures"]:
            window = f"day {m['start'][:10]}" if m["measure"] == "day" else f"24 h to {m['end'].replace('T', ' ')}"
            z = f", z {m['z']}" if m["z"] is not None else ", flat history"
            unit = "days" if m["measure"] == "day" else "windows of 24 h"
            parts.append(f"{window}: {m['articles']} articles vs mean {m['baseline_mean']}, sd {m['baseline_std']} "
                         f"over {m['baseline_windows']} {unit}{z}")
        terms = ", ".join(f"{t} ({n})" for t, n in e["terms"])
        return "; ".join(parts) + (f"; terms: {esc(terms)}" if terms else "")
    if alert.kind == "event":
        ev = e["event"]
        main = "main event" if ev["rank"] == 1 else f"event #{ev['rank']}"
        return (f"{e['outlets_reporting']} outlet(s) reported it in the window (rule: {e['min_outlets']}+): "
                f"{esc(', '.join(e['reported_by']))}; actor words: {esc(', '.join(e['actor_words']))}; "
                f"action words: {esc(', '.join(e['action_words']))}; score {ev['score']} ({main})")
    order = ", ".join(f"{o} ({t[11:16]})" for o, t in e["outlet_order"])
    return (f"{e['outlets_within']} outlets within {e['within_hours']:g} h of its first publication "
            f"({e['first_published_at'].replace('T', ' ')}; the {e['outlets_needed']}th after "
            f"{e['hours_to_reach']:g} h): {esc(order)}; themes: {', '.join(e['themes'])}")


def render_text(message: Message, esc: Callable[[str], str] = plain) -> str:
    """The message as text: what fired, the stories (headline, outlets, link), the evidence, the digest."""
    rule = message.rule
    head = "newsmon TEST alert" if message.test else "newsmon alert"
    lines = [f"{head}: {rule.name} ({rule.describe()})"]
    if message.test:
        lines.append("This is a sample sent by `newsmon alerts test`; nothing is recorded as sent.")
    for alert in message.alerts:
        lines += ["", esc(alert.title), f"  why: {_why(alert, esc)}"]
        if alert.kind == "spike":
            total = alert.evidence.get("stories", len(alert.stories))
            lines.append(f"  stories ({len(alert.stories)} of {total}, widest first):")
        else:
            lines.append("  story:")
        for story in alert.stories:
            lines += _story_lines(story, esc, "  ")
        if alert.digest_url:
            lines.append(f"  digest of {alert.day.isoformat()}: {esc(alert.digest_url)}")
    return "\n".join(lines) + "\n"


def payload(message: Message, sent_at: datetime | None = None) -> dict:
    """The webhook's JSON (and the file channel's line): Slack/Mattermost `text` beside the structured fields."""
    sent_at = sent_at or datetime.now(UTC)
    return {
        "text": render_text(message, chat_escape),
        "source": "newsmon",
        "test": message.test,
        "rule": message.rule.name,
        "kind": message.rule.kind,
        "watches": message.rule.describe(),
        "subject": message.subject,
        "sent_at": sent_at.isoformat(timespec="seconds"),
        "alerts": [alert.as_dict() for alert in message.alerts],
    }


def email_message(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=f"alert-{message.rule.name}", domain="newsmon.alerts")
    msg["X-Newsmon-Rule"] = message.rule.name
    msg.set_content(render_text(message))
    return msg
