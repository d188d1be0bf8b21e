"""Fetch feeds over HTTP with httpx: timeouts, a cap on the decompressed body, conditional GET, Retry-After,
and an address guard applied to the address actually connected, on every hop. feedparser only ever gets bytes."""

from __future__ import annotations

import hashlib
import ipaddress
import random
import socket
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from pipeline.core.config import Settings
from pipeline.core.errors import FeedFetchError
from pipeline.core.records import FeedSpec, FeedState, FetchResult

REDIRECT_CODES = {301, 302, 303, 307, 308}
PERMANENT_REDIRECT_CODES = {301, 308}
RETRY_AFTER_CODES = {429, 503}
MAX_RETRY_AFTER_S = 24 * 3600
Resolver = Callable[[str, int], list[str]]
# Media Cloud's grading: a hard error (the feed or its URL is wrong) weighs 1, a soft one (the server or the
# network is having a bad moment) 0.5.
SOFT_ERRORS = frozenset({"timeout", "network", "http_5xx", "dns", "rate_limited", "host_unresponsive"})


def error_weight(kind: str | None) -> float:
    if kind is None:
        return 0.0
    return 0.5 if kind in SOFT_ERRORS else 1.0


def body_digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def is_forbidden_address(address: str) -> bool:
    """Private, loopback, link-local, reserved, multicast: anything that is not a public unicast address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def address_allowed(address: str, settings: Settings) -> bool:
    if settings.allow_private_networks:
        return True
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(allowed, strict=False) for allowed in settings.allowed_addresses):
        return True
    return not is_forbidden_address(str(ip))


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FeedFetchError("dns", f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> None:
    """Only http(s) URLs with a host are fetched; addresses are checked when the connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedFetchError("bad_url", f"only http(s) URLs are fetched: {url!r}")


class GuardedBackend(httpcore.SyncBackend):
    """Resolves each host once, refuses it if any address is forbidden, and connects to the checked address.

    The check is on the address the socket connects to, so a DNS answer that changes between a check and
    the connection (DNS rebinding) cannot slip through; redirects open new connections and pass here again.
    """

    def __init__(self, settings: Settings, resolver: Resolver = system_resolver):
        self.settings, self.resolver = settings, resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = self.resolver(host, port)
        refused = [a for a in addresses if not address_allowed(a, self.settings)]
        if refused or not addresses:
            raise FeedFetchError("forbidden_address", f"{host} resolves to non-public {', '.join(refused) or '?'}")
        stream = super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)
        peer = stream.get_extra_info("server_addr")
        if peer and not address_allowed(peer[0], self.settings):
            stream.close()
            raise FeedFetchError("forbidden_address", f"connected to non-public {peer[0]}")
        return stream


def make_client(settings: Settings, resolver: Resolver = system_resolver) -> httpx.Client:
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    limits = httpx.Limits(max_connections=settings.fetch_concurrency * 2, max_keepalive_connections=32)
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    # httpx has no public hook for the connection backend; the pool's is replaced before first use.
    transport._pool._network_backend = GuardedBackend(settings, resolver)
    return httpx.Client(
        timeout=timeout,
        transport=transport,
        follow_redirects=False,  # each hop is checked again
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, capped at 24 h; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now.replace(tzinfo=UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def with_jitter(seconds: float, rng: random.Random | None = None) -> float:
    """Up to 10 % more, so feeds told to come back at the same time do not return in one burst."""
    return min(seconds * (1 + (rng or random).uniform(0, 0.1)), MAX_RETRY_AFTER_S)


class _Inflater:
    """gzip/deflate decoding in bounded steps. httpx inflates each network chunk in one call, so 64 KiB
    of a gzip bomb would become ~64 MiB before any cap could look at it."""

    STEP = 256 * 1024

    def __init__(self, encoding: str):
        self.gzip = encoding in ("gzip", "x-gzip")
        self.raw_fallback = not self.gzip  # deflate: zlib-wrapped by the RFC, raw by some servers
        self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self.decoder.decompress(data, self.STEP)
            except zlib.error as exc:
                if not self.raw_fallback:
                    raise FeedFetchError("bad_encoding", f"body is not valid {('deflate', 'gzip')[self.gzip]}") from exc
                self.raw_fallback, self.decoder = False, zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self.raw_fallback = False
            yield out
            data = self.decoder.unconsumed_tail
            if self.decoder.eof and self.decoder.unused_data:  # concatenated gzip members
                data, self.decoder = self.decoder.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise FeedFetchError("bad_encoding", f"unsupported Content-Encoding {encoding!r}")
    inflater = _Inflater(encoding) if encoding in ("gzip", "x-gzip", "deflate") else None
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw(chunk_size=64 * 1024):
        for chunk in (inflater.feed(raw) if inflater else (raw,)):
            size += len(chunk)  # decompressed bytes: the cap bounds memory
            if size > cap:
                raise FeedFetchError("too_large", f"body exceeds {cap} bytes after decompression")
            chunks.append(chunk)
        if time.monotonic() > deadline:
            raise FeedFetchError("timeout", "body took longer than the fetch deadline")
    return b"".join(chunks)


def _status_error(response: httpx.Response, url: str, result: FetchResult) -> FeedFetchError:
    status = response.status_code
    if status in RETRY_AFTER_CODES:
        result.retry_after_s = retry_after_seconds(response.headers.get("retry-after"), result.started_at)
        if result.retry_after_s is not None:
            result.retry_after_s = with_jitter(result.retry_after_s)
    if status == 410:
        return FeedFetchError("gone", f"HTTP 410 Gone from {url}: the publisher removed this feed", status)
    if status == 429:
        return FeedFetchError("rate_limited", f"HTTP 429 Too Many Requests from {url}", status)
    kind = "http_4xx" if status < 500 else "http_5xx"
    return FeedFetchError(kind, f"HTTP {status} from {url}", status)


FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def fetch_feed(
    client: httpx.Client, feed: FeedSpec, state: FeedState, settings: Settings, accept: str = FEED_ACCEPT
) -> FetchResult:
    """One fetch attempt. Never raises: failures come back as outcome='error' with an error kind."""
    started_at = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.monotonic()
    deadline = t0 + settings.fetch_deadline_s
    result = FetchResult(feed_id=feed.feed_id, url=feed.url, started_at=started_at, status=None, outcome="error")
    headers = {"Accept": accept}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    result.conditional = len(headers) > 1
    url = feed.url
    permanent_only = True  # a URL update needs every hop of the chain to be permanent
    try:
        for hop in range(settings.max_redirects + 1):
            check_url(url)
            with client.stream("GET", url, headers=headers) as response:
                result.status = response.status_code
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    permanent_only &= response.status_code in PERMANENT_REDIRECT_CODES
                    url = urljoin(url, response.headers["location"])
                    continue
                if hop and permanent_only:
                    result.moved_to = url
                if response.status_code == 304:
                    result.outcome = "not_modified"
                    break
                if response.status_code >= 400:
                    raise _status_error(response, url, result)
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
    except httpx.InvalidURL as exc:  # e.g. octal IPv4 spellings, which httpx refuses to parse
        result.outcome, result.error_kind, result.error = "error", "bad_url", f"fetch: {exc}"
    except httpx.TimeoutException as exc:
        result.outcome, result.error_kind, result.error = "error", "timeout", f"fetch: timeout: {exc!r}"
    except httpx.HTTPError as exc:
        result.outcome, result.error_kind, result.error = "error", "network", f"fetch: {exc!r}"
    result.url = url
    result.duration_ms = (time.monotonic() - t0) * 1000
    return result


class HostBreaker:
    """Per-host slots plus a circuit breaker: after `limit` timeouts on a host in one cycle, its other feeds
    fail at once instead of each waiting out its own timeout behind the host's slots."""

    def __init__(self, per_host: int, limit: int):
        self._slots: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(per_host))
        self._timeouts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.limit = limit

    def slot(self, host: str) -> threading.Semaphore:
        with self._lock:
            return self._slots[host]

    def is_open(self, host: str) -> bool:
        with self._lock:
            return self._timeouts[host] >= self.limit

    def record(self, host: str, result: FetchResult) -> None:
        if result.error_kind == "timeout":
            with self._lock:
                self._timeouts[host] += 1


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def fetch_all(
    feeds: Iterable[tuple[FeedSpec, FeedState]], settings: Settings, client: httpx.Client | None = None,
    accept: str = FEED_ACCEPT,
) -> list[FetchResult]:
    """Fetch many feeds concurrently, at most `per_host_concurrency` at a time per host; order is kept."""
    pairs = list(feeds)
    breaker = HostBreaker(settings.per_host_concurrency, settings.host_timeout_limit)
    own_client = client is None
    client = client or make_client(settings)

    def one(pair: tuple[FeedSpec, FeedState]) -> FetchResult:
        feed, state = pair
        host = _host(feed.url)
        with breaker.slot(host):
            if breaker.is_open(host):
                return FetchResult(
                    feed_id=feed.feed_id, url=feed.url, started_at=datetime.now(UTC).replace(tzinfo=None),
                    status=None, outcome="error", error_kind="host_unresponsive",
                    error=f"fetch: skipped: {host} timed out {breaker.limit} times in this cycle",
                )
            result = fetch_feed(client, feed, state, settings, accept)
            breaker.record(host, result)
            return result

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(settings.fetch_concurrency, len(pairs) or 1))) as pool:
            return list(pool.map(one, pairs))
    finally:
        if own_client:
            client.close()
