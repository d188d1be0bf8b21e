"""Serve a directory of feed files on 127.0.0.1 (the demo, the tests and the benchmarks use it)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Generator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".xml": "application/xml"}

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
        pass


@contextmanager
def serve_directory(directory: Path, host: str = "127.0.0.1", port: int = 0) -> Generator[str, None, None]:
    """Yield the base URL (no trailing slash) of a threaded HTTP server over `directory`."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="newsmon-feedserver", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
