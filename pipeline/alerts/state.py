"""The sent-ledger: which (rule, key, channel) went out, in a small SQLite file of its own,
NEWSMON_HOME/alerts/ledger.sqlite. Not the warehouse: that has one writer, the load task (DESIGN §3), and an
alert check must never wait for a load or hold one up.

A delivery is claimed before it is sent and marked sent after, each in its own transaction; the UNIQUE
(rule, key, channel) key lets one check claim it at most once. So:
- a rerun, a replay, a reclassification or a restart finds the key and sends nothing again;
- a delivery that failed after its retries is marked `failed` and claimed again by the next check;
- a process killed between claim and mark leaves a `claimed` row. It is reported (`newsmon alerts list`, the
  check's `stuck` count), never resent: the message may have gone out just before the crash, and an alert sent
  twice is worse than one that a person has to look at. Set its state to 'failed' to send it again.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.core.transactions import transaction

LEDGER_FILE = "ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts_sent (
    rule        TEXT NOT NULL,
    key         TEXT NOT NULL,   -- spike:<theme>:<day> or story:<story_id>
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'failed')),
    title       TEXT,            -- what fired, as the message said it
    day         TEXT,            -- the digest day it belongs to
    fired_at    TEXT NOT NULL,   -- the check (its `now`) that first claimed it
    claimed_at  TEXT NOT NULL,   -- the check that claimed it last
    sent_at     TEXT,            -- when the channel accepted it (wall clock, UTC)
    attempts    INTEGER NOT NULL DEFAULT 1,   -- checks that tried to deliver it
    last_error  TEXT,
    batch       TEXT,            -- the message it went out in
    UNIQUE (rule, key, channel)
);
CREATE INDEX IF NOT EXISTS alerts_sent_rule ON alerts_sent (rule, channel, state);
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def _connect(self, write: bool = False):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as con:
            con.executescript(_SCHEMA)
            if not write:
                yield con
                return
            # BEGIN IMMEDIATE: one claimer at a time; a concurrent check waits, then sees the rows.
            with transaction(con, "BEGIN IMMEDIATE"):
                yield con

    def states(self, rule: str, channel: str) -> dict[str, str]:
        """key -> state for one rule and channel."""
        with self._connect() as con:
            return dict(con.execute("SELECT key, state FROM alerts_sent WHERE rule = ? AND channel = ?",
                                    [rule, channel]).fetchall())

    def last_sent(self, rule: str, channel: str) -> datetime | None:
        """The check time of the rule's last message on this channel (the quiet window counts from it)."""
        with self._connect() as con:
            row = con.execute("SELECT max(claimed_at) FROM alerts_sent WHERE rule = ? AND channel = ? "
                              "AND state = 'sent'", [rule, channel]).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def claim(self, rule: str, channel: str, items: Iterable[tuple[str, str, str]], now: datetime) -> list[str]:
        """Claim (key, title, day) items that are new or failed before; returns the keys this call claimed
        (a key another check holds or sent is left alone)."""
        batch = uuid.uuid4().hex
        with self._connect(write=True) as con:
            for key, title, day in items:
                con.execute(
                    "INSERT INTO alerts_sent (rule, key, channel, state, title, day, fired_at, claimed_at, batch) "
                    "VALUES (?, ?, ?, 'claimed', ?, ?, ?, ?, ?) "
                    "ON CONFLICT (rule, key, channel) DO UPDATE SET state = 'claimed', "
                    "claimed_at = excluded.claimed_at, batch = excluded.batch, attempts = attempts + 1, "
                    "title = excluded.title WHERE alerts_sent.state = 'failed'",
                    [rule, key, channel, title, day, _iso(now), _iso(now), batch])
            claimed = [row[0] for row in con.execute(
                "SELECT key FROM alerts_sent WHERE batch = ? AND rule = ? AND channel = ?", [batch, rule, channel])]
        return claimed

    def mark(self, rule: str, channel: str, keys: list[str], sent_at: datetime | None, error: str | None) -> None:
        """After the attempt: sent (with the time the channel accepted it) or failed (with why)."""
        state = "failed" if error else "sent"
        with self._connect(write=True) as con:
            con.executemany(
                "UPDATE alerts_sent SET state = ?, sent_at = coalesce(?, sent_at), last_error = ? "
                "WHERE rule = ? AND key = ? AND channel = ? AND state = 'claimed'",
                [[state, _iso(sent_at), error, rule, key, channel] for key in keys])

    def stuck(self) -> list[dict]:
        """Claimed and never marked: a check died between claiming and marking (or is running right now)."""
        with self._connect() as con:
            rows = con.execute("SELECT rule, key, channel, title, claimed_at FROM alerts_sent "
                               "WHERE state = 'claimed' ORDER BY claimed_at, rule, key").fetchall()
        return [dict(zip(("rule", "key", "channel", "title", "claimed_at"), r, strict=True)) for r in rows]

    def per_rule(self) -> dict[str, dict]:
        """Per rule: when it last fired (a message went out), its sent, failed and stuck deliveries, and the
        newest failure's reason."""
        out: dict[str, dict] = {}
        for row in self.rows():  # oldest claim first
            entry = out.setdefault(row["rule"], {"last_fired": None, "sent": 0, "failed": 0, "stuck": 0,
                                                 "last_error": None})
            state = row["state"]
            entry[{"sent": "sent", "failed": "failed", "claimed": "stuck"}[state]] += 1
            if state == "sent":
                entry["last_fired"] = max(filter(None, (entry["last_fired"], row["sent_at"])), default=None)
            elif state == "failed":
                entry["last_error"] = row["last_error"]
        return out

    def rows(self, rule: str | None = None) -> list[dict]:
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute("SELECT * FROM alerts_sent" + (" WHERE rule = ?" if rule else "") +
                               " ORDER BY fired_at, rule, key, channel", [rule] if rule else []).fetchall()
        return [dict(r) for r in rows]
