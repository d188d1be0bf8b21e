"""The alert check: rules from alerts.yaml against the last 48 hours of the read path, each new (rule, key) sent
once per channel. `check_alerts` is what `newsmon alerts check` and the news_alerts DAG (after every load) run.

Per rule and channel, the alerts not yet sent (or failed before) go out as one message. With a quiet window
(`quiet_minutes`, per rule or for the whole file), a rule that sent a message on a channel less than that long
ago holds its new alerts; they stay in the 48 hours the next checks read, and the first check after the window
sends them together. Times are the check's `now` (naive UTC), so a test can pass its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pipeline.alerts.channels import Deliverer, DeliveryError
from pipeline.alerts.evaluate import Alert, StoryRef, evaluate
from pipeline.alerts.message import Message
from pipeline.alerts.recent import read_recent
from pipeline.alerts.rules import AlertsConfig, Rule, load_config
from pipeline.alerts.state import LEDGER_FILE, Ledger
from pipeline.classify.themes import load_themes
from pipeline.core.clock import utcnow
from pipeline.core.config import Settings
from pipeline.core.errors import NewsmonError
from pipeline.digest.atom import digest_url
from pipeline.warehouse.readpath import read_db_path

log = logging.getLogger("newsmon.alerts")


def ledger_for(settings: Settings) -> Ledger:
    return Ledger(settings.alerts_dir / LEDGER_FILE)


def load_rules(settings: Settings) -> AlertsConfig:
    """alerts.yaml, each invalid channel or rule logged as one line naming it and its field."""
    config = load_config(settings.alerts_path, settings.models_dir)
    for problem in config.problems:
        log.warning("alerts: %s: %s", config.path, problem, extra={"rule": problem.name})
    return config


def find_alerts(settings: Settings, rules: list[Rule], now: datetime) -> list[Alert]:
    """What the rules find in the read path as of `now` (nothing before the first load)."""
    if not rules or not read_db_path(settings.home).exists():
        return []
    names = {t.id: t.name for t in load_themes(settings.models_dir)}
    recent = read_recent(settings.home, now, settings.alerts_lookback_h)
    return evaluate(rules, recent, names, lambda day: digest_url(settings, day.isoformat()))


def check_alerts(settings: Settings, now: datetime | None = None, smtp_conn_id: str | None = None) -> dict[str, int]:
    """Evaluate every valid rule and deliver what is new. Returns counts only:
    rules, invalid_rules, alerts (found), sent and failed (deliveries, one per alert and channel), messages,
    already_sent, held (quiet window), stuck (claimed by a check that never finished: reported, not resent)."""
    now = now or utcnow()
    config = load_rules(settings)
    counts = dict.fromkeys(("rules", "invalid_rules", "alerts", "sent", "failed", "messages", "already_sent",
                            "held", "stuck"), 0)
    counts["rules"], counts["invalid_rules"] = len(config.rules), len(config.invalid_rules)
    alerts = find_alerts(settings, config.rules, now)
    counts["alerts"] = len(alerts)
    ledger = ledger_for(settings)
    with Deliverer(settings, smtp_conn_id) as deliverer:
        for rule in config.rules:
            found = [a for a in alerts if a.rule == rule.name]
            for channel_name in rule.channels if found else []:
                _deliver_rule(config, rule, channel_name, found, now, ledger, deliverer, counts)
    for row in ledger.stuck() if ledger.path.exists() else []:
        counts["stuck"] += 1
        log.warning("alerts: %s on %s (%s) was claimed at %s and never marked sent: not resent; check whether it "
                    "arrived, then set its state to 'failed' in %s to send it again", row["key"], row["channel"],
                    row["rule"], row["claimed_at"], ledger.path, extra={"rule": row["rule"]})
    log.info("alerts: checked", extra={"now": now.isoformat(timespec="seconds"), **counts})
    return counts


def _deliver_rule(config: AlertsConfig, rule: Rule, channel_name: str, found: list[Alert], now: datetime,
                  ledger: Ledger, deliverer: Deliverer, counts: dict[str, int]) -> None:
    states = ledger.states(rule.name, channel_name)
    counts["already_sent"] += sum(states.get(a.key) == "sent" for a in found)
    due = [a for a in found if states.get(a.key) in (None, "failed")]
    if not due:
        return
    quiet = config.quiet_for(rule)
    last = ledger.last_sent(rule.name, channel_name)
    if quiet and last and now < last + timedelta(minutes=quiet):
        counts["held"] += len(due)
        log.info("alerts: held in the quiet window", extra={"rule": rule.name, "channel": channel_name,
                                                           "held": len(due), "until": last + timedelta(minutes=quiet)})
        return
    claimed = set(ledger.claim(rule.name, channel_name, [(a.key, a.title, a.day.isoformat()) for a in due], now))
    batch = [a for a in due if a.key in claimed]
    if not batch:
        return  # another check took them
    keys = [a.key for a in batch]
    try:
        deliverer.deliver(config.channels[channel_name], Message(rule, batch))
    except Exception as exc:  # any error before the channel took it: failed, and tried again by the next check
        kind = exc.kind if isinstance(exc, DeliveryError) else "unexpected"
        reason = str(exc) if isinstance(exc, DeliveryError) else f"alerts: {type(exc).__name__}: {exc}"
        ledger.mark(rule.name, channel_name, keys, None, reason)
        counts["failed"] += len(batch)
        log.warning("%s", reason, exc_info=kind == "unexpected",
                    extra={"rule": rule.name, "channel": channel_name, "kind": kind})
        return
    ledger.mark(rule.name, channel_name, keys, utcnow(), None)
    counts["sent"] += len(batch)
    counts["messages"] += 1
    log.info("alerts: sent", extra={"rule": rule.name, "channel": channel_name, "alerts": len(batch)})


def sample_alert(settings: Settings, rule: Rule, now: datetime) -> Alert:
    """The rule's newest real alert in the last 48 hours if it has one (ledger ignored), else a made-up one."""
    try:
        found = find_alerts(settings, [rule], now)
    except NewsmonError as exc:
        log.info("alerts: no data for a real sample: %s", exc)
        found = []
    if found:
        return found[-1]
    today = now.date()
    story = StoryRef("sample", "Sample headline: a story that matched would be here", None, ("Sample Outlet",), now)
    return Alert(rule.name, rule.kind, "test", today, f"Sample alert of rule {rule.name}: {rule.describe()}",
                 [story], {"sample": "nothing in the last 48 hours matches this rule; a made-up story shows the "
                                     "layout"}, digest_url(settings, today.isoformat()))


def send_test(settings: Settings, rule_name: str, now: datetime | None = None,
              smtp_conn_id: str | None = None) -> dict[str, str]:
    """`newsmon alerts test RULE`: a sample of the rule through each of its channels; the ledger is not touched.
    Returns channel -> 'sent' or the reason it failed."""
    now = now or utcnow()
    config = load_rules(settings)
    rule = config.rule(rule_name)
    if rule is None:
        invalid = next((p for p in config.problems if p.name == rule_name), None)
        known = ", ".join(r.name for r in config.rules) or "none"
        raise NewsmonError(f"alerts: {invalid}" if invalid else
                           f"alerts: no rule {rule_name!r} in {config.path} (rules: {known})")
    message = Message(rule, [sample_alert(settings, rule, now)], test=True)
    results = {}
    with Deliverer(settings, smtp_conn_id) as deliverer:
        for channel_name in rule.channels:
            try:
                deliverer.deliver(config.channels[channel_name], message)
                results[channel_name] = "sent"
            except DeliveryError as exc:
                results[channel_name] = str(exc)
    return results


LIST_COLUMNS = ["rule", "kind", "watches", "channels", "quiet_minutes", "last_fired", "sent", "failed", "stuck",
                "status"]


def list_rules(settings: Settings) -> tuple[list[str], list[tuple]]:
    """`newsmon alerts list`: every rule, when it last fired and its deliveries; invalid rules with their error."""
    config = load_rules(settings)
    fired = ledger_for(settings).per_rule() if (settings.alerts_dir / LEDGER_FILE).exists() else {}
    rows = []
    for rule in config.rules:
        f = fired.get(rule.name, {})
        status = f"last error: {f['last_error']}" if f.get("failed") else "ok"
        rows.append((rule.name, rule.kind, rule.describe(), ", ".join(rule.channels), config.quiet_for(rule),
                     f.get("last_fired"), f.get("sent", 0), f.get("failed", 0), f.get("stuck", 0), status))
    for problem in config.problems:
        if problem.what.startswith("rule"):
            f = fired.get(problem.name or "", {}) if problem.name and not config.rule(problem.name) else {}
            rows.append((problem.name or problem.what, None, None, None, None, f.get("last_fired"), f.get("sent", 0),
                         f.get("failed", 0), f.get("stuck", 0), f"invalid: {problem}"))
    return LIST_COLUMNS, rows
