"""Fetch feeds over HTTP with httpx: timeouts, a cap on the decompressed body, conditional GET, redirects
re-checked against the address guard. feedparser never touches the network; it only ever gets bytes."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.config import Settings
from pipeline.errors import FeedFetchError
from pipeline.records import FeedSpec, FeedState, FetchResult

REDIRECT_CODES = {301, 302, 303, 307, 308}


def body_digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def is_forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, settings: Settings) -> None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to private or reserved addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedFetchError("bad_url", f"only http(s) URLs are fetched: {url!r}")
    if settings.allow_private_networks:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FeedFetchError("dns", f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = info[4][0]
        if is_forbidden_address(address):
            raise FeedFetchError("forbidden_address", f"{parts.hostname} resolves to non-public {address}")


def make_client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    limits = httpx.Limits(max_connections=settings.fetch_concurrency * 2, max_keepalive_connections=32)
    return httpx.Client(
        timeout=timeout,
        limits=limits,
        follow_redirects=False,  # each hop is re-checked by check_url
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(chunk_size=64 * 1024):  # decompressed bytes: the cap bounds memory
        size += len(chunk)
        if size > cap:
            raise FeedFetchError("too_large", f"body exceeds {cap} bytes after decompression")
        if time.monotonic() > deadline:
            raise FeedFetchError("timeout", "body took longer than the fetch deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_feed(client: httpx.Client, feed: FeedSpec, state: FeedState, settings: Settings) -> FetchResult:
    """One fetch attempt. Never raises: failures come back as outcome='error' with an error kind."""
    started_at = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.monotonic()
    deadline = t0 + settings.fetch_deadline_s
    result = FetchResult(feed_id=feed.feed_id, url=feed.url, started_at=started_at, status=None, outcome="error")
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    url = feed.url
    try:
        for _hop in range(settings.max_redirects + 1):
            check_url(url, settings)
            with client.stream("GET", url, headers=headers) as response:
                result.status = response.status_code
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code == 304:
                    result.outcome = "not_modified"
                    break
                if response.status_code >= 400:
                    kind = "http_4xx" if response.status_code < 500 else "http_5xx"
                    raise FeedFetchError(kind, f"HTTP {response.status_code} from {url}", response.status_code)
                body = _read_capped(response, settings.max_body_bytes, deadline)
                if not body.strip():
                    raise FeedFetchError("empty_body", f"empty body from {url}", response.status_code)
                result.body = body
                result.content_type = response.headers.get("content-type")
                result.etag = response.headers.get("etag")
                result.last_modified = response.headers.get("last-modified")
                result.body_hash = body_digest(body)
                result.outcome = "unchanged" if result.body_hash == state.body_hash else "ok"
                break
        else:
            raise FeedFetchError("too_many_redirects", f"more than {settings.max_redirects} redirects")
    except FeedFetchError as exc:
        result.outcome, result.error_kind, result.error = "error", exc.kind, str(exc)
    except httpx.TimeoutException as exc:
        result.outcome, result.error_kind, result.error = "error", "timeout", f"fetch: timeout: {exc!r}"
    except httpx.HTTPError as exc:
        result.outcome, result.error_kind, result.error = "error", "network", f"fetch: {exc!r}"
    result.url = url
    result.duration_ms = (time.monotonic() - t0) * 1000
    return result


def fetch_all(
    feeds: Iterable[tuple[FeedSpec, FeedState]], settings: Settings, client: httpx.Client | None = None
) -> list[FetchResult]:
    """Fetch many feeds concurrently, at most `per_host_concurrency` at a time per host; order is kept."""
    pairs = list(feeds)
    host_locks: dict[str, threading.Semaphore] = defaultdict(
        lambda: threading.Semaphore(settings.per_host_concurrency)
    )
    guard = threading.Lock()

    def host_slot(url: str) -> threading.Semaphore:
        with guard:
            return host_locks[urlsplit(url).netloc.lower()]

    own_client = client is None
    client = client or make_client(settings)

    def one(pair: tuple[FeedSpec, FeedState]) -> FetchResult:
        feed, state = pair
        with host_slot(feed.url):
            return fetch_feed(client, feed, state, settings)

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(settings.fetch_concurrency, len(pairs) or 1))) as pool:
            return list(pool.map(one, pairs))
    finally:
        if own_client:
            client.close()
