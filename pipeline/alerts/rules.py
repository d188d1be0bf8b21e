"""alerts.yaml: channels and named rules, validated one by one.

    quiet_minutes: 0                       # optional; a rule's own quiet_minutes wins
    channels:
      desk: {webhook: "https://hooks.example.org/T1"}
      me: {email: ["analyst@example.org"]}
      outbox: {file: outbox.jsonl}         # JSON Lines under NEWSMON_HOME/alerts/ (or an absolute path)
    rules:
      - {name: ceasefire-spike, spike: {theme: ceasefire}, channels: [desk, me]}
      - {name: russia-agrees, event: {actor: russia, action: agree, theme: ceasefire}, min_outlets: 2,
         channels: [desk]}
      - {name: wide-story, story: {outlets: 3, within_hours: 6, theme: ceasefire}, channels: [me]}

A file that is not YAML, or whose top level is not that shape, is one error and nothing runs. Otherwise every
channel and every rule is checked on its own against the taxonomy (themes, actors, actions): a bad one gives one
line naming it and its field, and the rest run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from pipeline.classify.events import ACTIONS, ACTORS
from pipeline.classify.themes import load_themes
from pipeline.core.errors import NewsmonError

MAX_QUIET_MINUTES = 24 * 60  # held alerts must go out while they are still in the 48 hours a check reads
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$")


class AlertRulesError(NewsmonError):
    """alerts.yaml cannot be read at all (not YAML, or not a mapping of channels and rules)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known(value: str | None, info: ValidationInfo, kind: str) -> str | None:
    known = (info.context or {}).get(kind)
    if value is not None and known is not None and value not in known:
        raise ValueError(f"unknown {kind[:-1]} {value!r} (known: {', '.join(known)})")
    return value


class SpikeWatch(_Strict):
    """A theme spike by the warehouse's rule: per publication day (theme_trends), in the rolling last 24 hours
    (theme_window_trends), or both."""

    theme: str
    measure: Literal["day", "rolling", "both"] = "both"

    @field_validator("theme")
    @classmethod
    def _theme(cls, value, info):
        return _known(value, info, "themes")


class EventWatch(_Strict):
    """Who did what: any of actor, action, theme (the event coder's ids)."""

    actor: str | None = None
    action: str | None = None
    theme: str | None = None

    @field_validator("actor")
    @classmethod
    def _actor(cls, value, info):
        return _known(value, info, "actors")

    @field_validator("action")
    @classmethod
    def _action(cls, value, info):
        return _known(value, info, "actions")

    @field_validator("theme")
    @classmethod
    def _theme(cls, value, info):
        return _known(value, info, "themes")

    @model_validator(mode="after")
    def _something(self):
        if self.actor is None and self.action is None and self.theme is None:
            raise ValueError("give at least one of actor, action, theme")
        return self


class StoryWatch(_Strict):
    """A new story carried by `outlets` outlets within `within_hours` of its first publication."""

    outlets: int = Field(ge=2)
    within_hours: float = Field(gt=0, le=48)
    theme: str | None = None  # None: a story with any theme label (off-topic news never alerts)

    @field_validator("theme")
    @classmethod
    def _theme(cls, value, info):
        return _known(value, info, "themes")


class Rule(_Strict):
    name: str
    spike: SpikeWatch | None = None
    event: EventWatch | None = None
    story: StoryWatch | None = None
    min_outlets: int | None = Field(default=None, ge=1, description="event rules: outlets reporting the event")
    channels: list[str] = Field(min_length=1)
    quiet_minutes: int | None = Field(default=None, ge=0, le=MAX_QUIET_MINUTES)

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        if not _NAME.match(value):
            raise ValueError("letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value, info):
        known = (info.context or {}).get("channels")
        unknown = [c for c in value if known is not None and c not in known]
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(map(repr, unknown))} "
                             f"(defined: {', '.join(known) or 'none'})")
        if len(set(value)) != len(value):
            raise ValueError("a channel is named twice")
        return value

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("spike", "event", "story") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of spike, event, story (got {', '.join(kinds) or 'none'})")
        if self.min_outlets is not None and self.event is None:
            raise ValueError("min_outlets is for event rules (story rules say story.outlets)")
        return self

    @property
    def kind(self) -> str:
        return "spike" if self.spike else "event" if self.event else "story"

    @property
    def outlets_needed(self) -> int:
        return self.min_outlets or 1

    def describe(self) -> str:
        """What the rule watches, in a few words (for messages and `newsmon alerts list`)."""
        if self.spike:
            measure = {"day": "by day", "rolling": "in the last 24 h", "both": "by day or in the last 24 h"}
            return f"{self.spike.theme} spike {measure[self.spike.measure]}"
        if self.event:
            parts = [f"{k}={v}" for k in ("actor", "action", "theme") if (v := getattr(self.event, k))]
            return f"event {' '.join(parts)}, {self.outlets_needed}+ outlet(s)"
        theme = f"{self.story.theme} " if self.story.theme else ""
        return f"new {theme}story in {self.story.outlets}+ outlets within {self.story.within_hours:g} h"


class Channel(_Strict):
    webhook: str | None = None
    email: list[str] | None = None
    file: str | None = None

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value):
        if value is not None and not re.match(r"^https?://[^/\s?#]+", value):
            raise ValueError(f"a webhook is an http(s) URL, not {value!r}")
        return value

    @field_validator("email", mode="before")
    @classmethod
    def _emails(cls, value):
        if isinstance(value, str):
            value = [value]
        return value

    @field_validator("email")
    @classmethod
    def _valid_emails(cls, value):
        if value is not None:
            bad = [v for v in value if not _EMAIL.match(v)]
            if bad or not value:
                raise ValueError(f"not an e-mail address: {', '.join(map(repr, bad))}" if bad else "no addresses")
        return value

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("webhook", "email", "file") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of webhook, email, file (got {', '.join(kinds) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return "webhook" if self.webhook else "email" if self.email else "file"

    @property
    def target(self) -> str:
        return self.webhook or (", ".join(self.email) if self.email else self.file or "")


@dataclass(frozen=True)
class Problem:
    """One invalid channel or rule: where it is and what is wrong, as one line."""

    what: str  # "rule 'russia-agrees' (#2)" or "channel 'desk'"
    name: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.what}: {self.message}"


@dataclass
class AlertsConfig:
    path: Path
    rules: list[Rule] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    quiet_minutes: int = 0
    problems: list[Problem] = field(default_factory=list)
    invalid_rules: list[str] = field(default_factory=list)  # names (or '#n') of the rules that will not run

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def quiet_for(self, rule: Rule) -> int:
        return self.quiet_minutes if rule.quiet_minutes is None else rule.quiet_minutes


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(rule)"


def _explain(exc: ValidationError) -> str:
    """'event.actor: unknown actor ...; channels: ...' (pydantic's 'Value error, ' prefix dropped)."""
    parts = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{_where(error['loc'])}: {message}")
    return "; ".join(parts)


def taxonomy(models_dir: Path) -> dict[str, list[str]]:
    """The ids a rule may name: themes from models/themes.yaml, actors and actions of the event coder."""
    return {"themes": [t.id for t in load_themes(models_dir)], "actors": list(ACTORS), "actions": list(ACTIONS)}


def parse_config(text: str, path: Path, known: dict[str, list[str]]) -> AlertsConfig:
    """Parse alerts.yaml text; per-channel and per-rule problems are collected, not raised."""
    try:
        raw = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise AlertRulesError(f"alerts: {path}: not valid YAML: {exc}") from exc
    raw = raw or {}
    if not isinstance(raw, dict):
        raise AlertRulesError(f"alerts: {path}: expected a mapping with channels and rules, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"channels", "rules", "quiet_minutes"})
    if unknown:
        raise AlertRulesError(f"alerts: {path}: unknown top-level key(s) {', '.join(map(str, unknown))} "
                              "(expected channels, rules, quiet_minutes)")
    channels_raw, rules_raw = raw.get("channels") or {}, raw.get("rules") or []
    if not isinstance(channels_raw, dict):
        raise AlertRulesError(f"alerts: {path}: channels must be a mapping of name -> channel")
    if not isinstance(rules_raw, list):
        raise AlertRulesError(f"alerts: {path}: rules must be a list")
    quiet = raw.get("quiet_minutes", 0)
    if not isinstance(quiet, int) or isinstance(quiet, bool) or not 0 <= quiet <= MAX_QUIET_MINUTES:
        raise AlertRulesError(f"alerts: {path}: quiet_minutes must be a whole number from 0 to {MAX_QUIET_MINUTES}")

    config = AlertsConfig(path=path, quiet_minutes=quiet)
    bad_channels: dict[str, str] = {}
    for name, spec in channels_raw.items():
        if not isinstance(spec, dict):
            message = f"expected a mapping such as {{webhook: URL}}, got {type(spec).__name__}"
        else:
            try:
                config.channels[str(name)] = Channel.model_validate(spec)
                continue
            except ValidationError as exc:
                message = _explain(exc)
        bad_channels[str(name)] = message
        config.problems.append(Problem(f"channel {str(name)!r}", str(name), message))

    context = {**known, "channels": sorted(config.channels) + sorted(bad_channels)}
    for number, spec in enumerate(rules_raw, start=1):
        name = spec.get("name") if isinstance(spec, dict) else None
        label = f"rule {name!r} (#{number})" if isinstance(name, str) else f"rule #{number}"
        try:
            if not isinstance(spec, dict):
                raise ValueError(f"expected a mapping, got {type(spec).__name__}")
            rule = Rule.model_validate(spec, context=context)
            broken = [c for c in rule.channels if c in bad_channels]
            if broken:
                raise ValueError(f"channels: channel {broken[0]!r} is invalid ({bad_channels[broken[0]]})")
            if config.rule(rule.name):
                raise ValueError(f"name: {rule.name!r} is already the name of an earlier rule")
        except ValidationError as exc:
            message = _explain(exc)
        except ValueError as exc:
            message = str(exc)
        else:
            config.rules.append(rule)
            continue
        config.problems.append(Problem(label, name if isinstance(name, str) else None, message))
        config.invalid_rules.append(name if isinstance(name, str) else f"#{number}")
    return config


def load_config(path: Path, models_dir: Path) -> AlertsConfig:
    """alerts.yaml at `path`; a missing file means no rules (alerts are optional)."""
    path = Path(path)
    if not path.exists():
        return AlertsConfig(path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertRulesError(f"alerts: cannot read {path}: {exc}") from exc
    return parse_config(text, path, taxonomy(models_dir))
