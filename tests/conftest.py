"""Shared fixtures: real HTTP servers on 127.0.0.1, real DuckDB files under tmp_path, real settings."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.config import REPO_ROOT, Settings
from pipeline.feeds import write_feeds_file
from pipeline.feedserver import serve_directory
from pipeline.records import FeedSpec

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
