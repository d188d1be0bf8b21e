"""Shared fixtures: real HTTP servers on 127.0.0.1, real DuckDB files under tmp_path, real settings."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.core.config import REPO_ROOT, Settings
from pipeline.core.records import FeedSpec
from pipeline.feeds.lists import write_feeds_file
from pipeline.ops.feedserver import serve_directory

FIXTURES = Path(__file__).parent / "fixtures"
FEED_FIXTURES = FIXTURES / "feeds"
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[str]:
    with serve_directory(FEED_FIXTURES) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def demo_server() -> Iterator[str]:
    with serve_directory(REPO_ROOT / "demo" / "feeds") as base_url:
        yield base_url


def make_settings(tmp_path: Path, feeds: list[FeedSpec] | None = None, **overrides) -> Settings:
    feeds_file = tmp_path / "feeds.yaml"
    write_feeds_file(feeds or [], feeds_file)
    values = {"home": tmp_path / "home", "feeds_file": feeds_file, "allow_private_networks": True, **overrides}
    return Settings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


class Behaviour:
    """What the scripted server answers on one path."""

    def __init__(self, status=200, body=b"", headers=None, delay=0.0, hang=False, gzip_body=False):
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.delay, self.hang, self.gzip_body = delay, hang, gzip_body


class ScriptedServer:
    """A loopback HTTP server whose paths play scripted behaviours; it records every request it gets."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                server.requests.append((self.path, dict(self.headers)))
                behaviour = server.routes.get(self.path, Behaviour(404, b"not found"))
                if behaviour.hang:
                    server.release.wait(30)
                    return
                time.sleep(behaviour.delay)
                if callable(behaviour.status):
                    status, headers, body = behaviour.status(self.headers)
                else:
                    status, headers, body = behaviour.status, behaviour.headers, behaviour.body
                if behaviour.gzip_body:
                    body = gzip.compress(body)
                    headers = {**headers, "Content-Encoding": "gzip"}
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory, demo_server) -> Path:
    """The demo feeds ingested once (24 days, ceasefire spike on 2026-11-15/16); copy it, don't write to it."""
    from pipeline.ingest.cycle import run_cycle
    from pipeline.ops.demo import demo_feeds

    settings = make_settings(tmp_path_factory.mktemp("demo-warehouse"), demo_feeds(demo_server))
    run_cycle(settings)
    return settings.warehouse_path


@pytest.fixture
def demo_settings(tmp_path, demo_warehouse) -> Settings:
    """Settings whose own home starts with a copy of the demo warehouse."""
    import shutil

    from pipeline.warehouse.readpath import rebuild

    settings = make_settings(tmp_path)
    settings.ensure_home()
    shutil.copyfile(demo_warehouse, settings.warehouse_path)
    rebuild(settings.warehouse_path, settings.home)  # the read path names its home's files
    return settings


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives; AUTH LOGIN/PLAIN with the
    credentials below, allowed without TLS on loopback."""

    user, password = "digest", "s3cret-pass"

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.received: list = []  # aiosmtpd Envelopes
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
                sink.received.append(envelope)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (self.user, self.password)
            return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

        with socket.socket() as probe:  # the Controller needs a concrete port to check it is up
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_require_tls=False)
        self.controller.start()

    def configure(self, settings: Settings, **extra) -> Settings:
        """A validated copy of `settings` that sends to this server."""
        return Settings(**{**settings.model_dump(), **self.settings_overrides(**extra)})

    def settings_overrides(self, **extra) -> dict:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_starttls": False, "smtp_user": self.user,
                "smtp_password": self.password, "smtp_sender": "newsmon <digest@newsmon.test>",
                "smtp_recipients": ["analyst@newsmon.test", "desk@newsmon.test"], **extra}


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.controller.stop()


def system_tool(name: str) -> str:
    """A Debian tool some tests drive (chromium, docker-compose). `make test` installs it where it can (root
    and apt-get); elsewhere those tests are skipped with the reason, and NEWSMON_REQUIRE_SYSTEM_TOOLS=1 (set
    by `make test` where it can install, as in CI) turns a missing tool into a failure instead."""
    import os
    import shutil

    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed, and `make test` cannot install it here (that needs root and apt-get)"
    if os.environ.get("NEWSMON_REQUIRE_SYSTEM_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
