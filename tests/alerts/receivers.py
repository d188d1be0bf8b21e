"""What the alert tests deliver to and load from: a loopback webhook receiver, and the demo feeds with their calendar
moved so that the demo's ceasefire spike is recent.

The demo's 24 days end on 2026-11-21, so against today's clock they are history, and alerts rightly ignore them.
`build_demo_feeds(out, anchor)` renders the same stories (demo/build_feeds.py) with every date moved by whole days
so that 2026-11-17 00:00 falls on `anchor`, and drops what would be published after it: the ceasefire spike
(2026-11-15/16) lands on the two days before `anchor`, and "Russia agreed (ceasefire)" on the day before.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.core.config import REPO_ROOT

DEMO_END = datetime(2026, 11, 17, tzinfo=UTC)  # midnight after the demo's second spike day


def today_midnight() -> datetime:
    """UTC midnight that began today, naive like the warehouse: always in the past, so a load sees no future."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def build_demo_feeds(out_dir: Path, anchor: datetime) -> dict[str, int]:
    """The demo feeds as published up to `anchor` (naive UTC midnight), days moved so 2026-11-17 is `anchor`."""
    name = f"demo_build_feeds_{anchor:%Y%m%d}"  # a fresh module: moving its calendar touches nobody else's
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "demo" / "build_feeds.py")
    builder = importlib.util.module_from_spec(spec)
    sys.modules[name] = builder  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(builder)
    finally:
        del sys.modules[name]
    shift = anchor.replace(tzinfo=UTC) - DEMO_END
    assert shift % timedelta(days=1) == timedelta(0), "whole days only: a demo day stays a UTC day"
    builder.FIRST_DAY = builder.FIRST_DAY + shift
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for feed_id, items in builder.assign(builder.load_stories()).items():
        kept = [i for i in items if i["published"] < anchor.replace(tzinfo=UTC)]
        outlet = builder.OUTLETS.get(feed_id, builder.TOPIC_FEED)
        (out_dir / f"{feed_id}.xml").write_bytes(builder.render(outlet, kept))
        counts[feed_id] = len(kept)
    return counts


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1: keeps every POST (path, JSON body, arrival time) and answers from a script
    of statuses, then 200. 'hang' holds the request without answering until the test ends."""

    def __init__(self):
        self.received: list[dict] = []  # accepted with 2xx
        self.attempts: list[dict] = []  # every request, whatever the answer
        self.script: list[int | str] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - http.server's signature
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                entry = {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw or b"null"),
                         "arrived": datetime.now(UTC).replace(tzinfo=None), "arrived_s": time.time()}
                receiver.attempts.append(entry)
                answer = receiver.script.pop(0) if receiver.script else 200
                if answer == "hang":
                    receiver.release.wait(30)
                    return
                if 200 <= answer < 300:  # kept before answering: the sender may look as soon as it has the answer
                    receiver.received.append(entry)
                body = b'{"ok": true}' if answer < 300 else b"busy, try later"
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks/T1/secret-token") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def bodies(self, rule: str | None = None) -> list[dict]:
        return [e["body"] for e in self.received if rule is None or e["body"]["rule"] == rule]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
