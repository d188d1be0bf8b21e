"""Logging for the command line: one handler on stderr, the level from -v/-q or NEWSMON_LOG_LEVEL, and the
fixed keys stages pass in `extra` (feed_url, run_id, kind, article_id, ...) on every line, as `key=value`
text or, with NEWSMON_LOG_FORMAT=json, one JSON object per line for log shippers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Attributes every LogRecord has: anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def extras(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in extras(record).items())
        line = f"{record.levelname.lower()} {record.name}: {record.getMessage()}" + (f" {fields}" if fields else "")
        return line + (f"\n{self.formatException(record.exc_info)}" if record.exc_info else "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                 **extras(record)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "WARNING", fmt: str = "text") -> None:
    """Route the `newsmon` loggers to stderr; idempotent (a second call replaces the handler)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"logging: NEWSMON_LOG_FORMAT must be text or json, not {fmt!r}")
    logger = logging.getLogger("newsmon")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
