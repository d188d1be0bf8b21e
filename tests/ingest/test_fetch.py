"""fetch: every hostile server behaviour against a real HTTP server on 127.0.0.1, and what the warehouse stores.

No test sends a packet beyond loopback, even with the guard broken: forbidden targets are 127.0.0.2 (with
only 127.0.0.1 allowed) or spellings of 127.0.0.1 while loopback is forbidden.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import FEED_FIXTURES, Behaviour, ScriptedServer, make_settings

from pipeline.core.config import Settings
from pipeline.core.records import FeedSpec, FeedState
from pipeline.ingest.cycle import plan_batches, run_cycle
from pipeline.ingest.fetch import check_url, fetch_all, fetch_feed, make_client, retry_after_seconds
from pipeline.warehouse.store import open_readonly, open_warehouse

FEED_BYTES = (FEED_FIXTURES / "rss2_basic.xml").read_bytes()


def rss(*items: tuple[str, str], guid: str | None = None, extra: str = "") -> bytes:
    """A small RSS 2.0 feed; items are (title, link); `guid` gives every item the same GUID."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<guid>{guid or link}</guid><pubDate>Mon, 16 Nov 2026 08:00:00 GMT</pubDate></item>"
        for title, link in items
    )
    return (f'<?xml version="1.0"?>{extra}<rss version="2.0"><channel><title>Hostile</title>'
            f"{body}</channel></rss>").encode()


def fetch(settings: Settings, url: str, state: FeedState = FeedState(), resolver=None):
    client = make_client(settings, resolver) if resolver else make_client(settings)
    with client:
        return fetch_feed(client, FeedSpec("f", url), state, settings)


def cycle(tmp_path, server: ScriptedServer, path: str, force: bool = True, **overrides) -> Settings:
    """One real ingest cycle over a single feed `hostile` at `path`; returns its settings for queries."""
    settings = make_settings(tmp_path, [FeedSpec("hostile", server.url(path))], run_workers=1, **overrides)
    run_cycle(settings, force=force)
    return settings


def stored(settings: Settings, sql: str, params=None) -> list[tuple]:
    with open_readonly(settings.warehouse_path) as con:
        return con.execute(sql, params or []).fetchall()


def last_fetch(settings: Settings) -> tuple:
    return stored(settings, "SELECT outcome, error_kind, status, bytes, entries, retry_after_s FROM fetches "
                            "ORDER BY started_at DESC LIMIT 1")[0]


@pytest.fixture
def forbidden_server():
    """A server on 127.0.0.2: what a broken guard would reach; the tests assert it saw nothing."""
    server = ScriptedServer("127.0.0.2")
    server.routes["/secret"] = Behaviour(200, FEED_BYTES)
    yield server
    server.close()


def guarded(tmp_path, **overrides) -> Settings:
    return Settings(home=tmp_path, allow_private_networks=False, allowed_addresses=["127.0.0.1"], **overrides)


# --- plain fetching --------------------------------------------------------------------------------------

def test_ok_fetch_returns_body_validators_and_hash(settings, scripted_server):
    headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml"}
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES, headers)
    result = fetch(settings, scripted_server.url("/feed"))
    assert result.outcome == "ok" and result.status == 200
    assert result.body == FEED_BYTES and result.etag == '"v1"' and result.body_hash


def test_gzip_body_is_decompressed(settings, scripted_server):
    scripted_server.routes["/gz"] = Behaviour(200, FEED_BYTES, gzip_body=True)
    assert fetch(settings, scripted_server.url("/gz")).body == FEED_BYTES


def test_deflate_bodies_zlib_wrapped_or_raw_are_decoded_and_unknown_encodings_refused(settings, scripted_server):
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    bodies = {"/zlib": zlib.compress(FEED_BYTES), "/raw": raw.compress(FEED_BYTES) + raw.flush()}
    for path, body in bodies.items():
        scripted_server.routes[path] = Behaviour(200, body, {"Content-Encoding": "deflate"})
        assert fetch(settings, scripted_server.url(path)).body == FEED_BYTES
    scripted_server.routes["/br"] = Behaviour(200, b"\x1b\x00", {"Content-Encoding": "br"})
    assert fetch(settings, scripted_server.url("/br")).error_kind == "bad_encoding"
    scripted_server.routes["/junk"] = Behaviour(200, b"not gzip at all", {"Content-Encoding": "gzip"})
    assert fetch(settings, scripted_server.url("/junk")).error_kind == "bad_encoding"


def test_fetch_all_keeps_order_and_isolates_failures(settings, scripted_server):
    scripted_server.routes["/a"] = Behaviour(200, FEED_BYTES)
    scripted_server.routes["/c"] = Behaviour(200, FEED_BYTES)
    pairs = [(FeedSpec(p, scripted_server.url(f"/{p}")), FeedState()) for p in ("a", "b", "c")]
    results = fetch_all(pairs, settings)
    assert [r.feed_id for r in results] == ["a", "b", "c"]
    assert [r.outcome for r in results] == ["ok", "error", "ok"]


# --- slow, hung -------------------------------------------------------------------------------------------

def test_slow_server_within_the_timeout_is_read_and_its_duration_stored(tmp_path, scripted_server):
    scripted_server.routes["/slow"] = Behaviour(200, rss(("Slow news", "https://ex.org/1")), delay=0.4)
    settings = cycle(tmp_path, scripted_server, "/slow")
    outcome, *_ = last_fetch(settings)
    assert outcome == "ok"
    assert stored(settings, "SELECT duration_ms FROM fetches")[0][0] >= 400
    assert stored(settings, "SELECT title FROM articles") == [("Slow news",)]


def test_hung_server_is_a_soft_timeout_error_and_the_feed_backs_off(tmp_path, scripted_server):
    scripted_server.routes["/hang"] = Behaviour(hang=True)
    settings = cycle(tmp_path, scripted_server, "/hang", read_timeout_s=0.5)
    assert last_fetch(settings)[:2] == ("error", "timeout")
    score, due, fetched, poll = stored(
        settings, "SELECT error_score, next_due_at, last_fetched_at, poll_minutes FROM feeds")[0]
    assert score == 0.5 and due - fetched == timedelta(minutes=poll * 1.5)


def test_host_that_keeps_timing_out_is_skipped_for_the_rest_of_the_cycle(tmp_path, scripted_server):
    scripted_server.routes["/h1"] = scripted_server.routes["/h2"] = Behaviour(hang=True)
    scripted_server.routes["/h3"] = Behaviour(hang=True)
    settings = Settings(home=tmp_path, allow_private_networks=True, read_timeout_s=0.5, per_host_concurrency=1,
                        host_timeout_limit=1)
    pairs = [(FeedSpec(p, scripted_server.url(f"/{p}")), FeedState()) for p in ("h1", "h2", "h3")]
    kinds = [r.error_kind for r in fetch_all(pairs, settings)]
    assert kinds == ["timeout", "host_unresponsive", "host_unresponsive"]
    assert len(scripted_server.requests) == 1


# --- redirects ----------------------------------------------------------------------------------------------

def test_redirect_chain_is_followed_and_a_temporary_one_never_moves_the_feed(tmp_path, scripted_server):
    scripted_server.routes["/a"] = Behaviour(302, b"", {"Location": "/b"})
    scripted_server.routes["/b"] = Behaviour(307, b"", {"Location": "/c"})
    scripted_server.routes["/c"] = Behaviour(200, rss(("Moved news", "https://ex.org/m")))
    settings = cycle(tmp_path, scripted_server, "/a")
    for _ in range(3):
        run_cycle(settings, force=True)
    assert stored(settings, "SELECT DISTINCT url FROM fetches") == [(scripted_server.url("/c"),)]
    assert stored(settings, "SELECT url, redirect_streak FROM feeds") == [(scripted_server.url("/a"), 0)]


def test_permanent_redirect_seen_three_times_in_a_row_updates_the_stored_url(tmp_path, scripted_server):
    scripted_server.routes["/old"] = Behaviour(301, b"", {"Location": "/mid"})
    scripted_server.routes["/mid"] = Behaviour(308, b"", {"Location": "/new"})
    scripted_server.routes["/new"] = Behaviour(200, rss(("Moved news", "https://ex.org/m")))
    settings = cycle(tmp_path, scripted_server, "/old")
    run_cycle(settings, force=True)
    assert stored(settings, "SELECT url, redirect_streak FROM feeds") == [(scripted_server.url("/old"), 2)]
    run_cycle(settings, force=True)
    url, previous = stored(settings, "SELECT url, previous_url FROM feeds")[0]
    assert (url, previous) == (scripted_server.url("/new"), scripted_server.url("/old"))
    run_cycle(settings, force=True)  # the feeds file still says /old: the move is kept
    assert stored(settings, "SELECT url FROM feeds") == [(scripted_server.url("/new"),)]
    assert scripted_server.requests[-1][0] == "/new"


def test_redirect_loop_stops(settings, scripted_server):
    scripted_server.routes["/loop"] = Behaviour(302, b"", {"Location": "/loop"})
    assert fetch(settings, scripted_server.url("/loop")).error_kind == "too_many_redirects"


def test_redirect_to_a_forbidden_address_is_refused_before_any_request(tmp_path, scripted_server, forbidden_server):
    scripted_server.routes["/jump"] = Behaviour(302, b"", {"Location": forbidden_server.url("/secret")})
    settings = make_settings(tmp_path, [FeedSpec("hostile", scripted_server.url("/jump"))], run_workers=1,
                             allow_private_networks=False, allowed_addresses=["127.0.0.1"])
    run_cycle(settings, force=True)
    assert last_fetch(settings)[:2] == ("error", "forbidden_address")
    assert [p for p, _ in scripted_server.requests] == ["/jump"]
    assert forbidden_server.requests == []


# --- the address guard --------------------------------------------------------------------------------------

def test_only_http_and_https_urls_are_fetched(settings):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "/etc/passwd", "gopher://127.0.0.1/", "http:///nohost"):
        assert fetch(settings, url).error_kind == "bad_url"
    with pytest.raises(Exception, match="only http"):
        check_url("javascript:alert(1)")


@pytest.mark.parametrize("host", ["127.0.0.1", "0177.0.0.1", "0x7f.0.0.1", "2130706433", "127.1",
                                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost"])
def test_loopback_in_any_spelling_is_refused_by_default(tmp_path, scripted_server, host):
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES)
    port = scripted_server.base_url.rsplit(":", 1)[1]
    result = fetch(Settings(home=tmp_path), f"http://{host}:{port}/feed")
    assert result.error_kind in ("forbidden_address", "bad_url")  # httpx itself rejects octal IPv4
    assert scripted_server.requests == []


def test_allow_list_lets_exactly_the_listed_address_through(tmp_path, scripted_server, forbidden_server):
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES)
    assert fetch(guarded(tmp_path), scripted_server.url("/feed")).outcome == "ok"
    assert fetch(guarded(tmp_path), forbidden_server.url("/secret")).error_kind == "forbidden_address"
    assert forbidden_server.requests == []


def test_the_address_connected_is_the_address_checked_so_dns_rebinding_fails(
    tmp_path, scripted_server, forbidden_server
):
    """The host name is resolved once, at connection time; a second, rebound answer is never used."""
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES)
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    calls = []

    def rebinding_dns(host, port):
        calls.append(host)
        return [next(answers)]

    port = scripted_server.base_url.rsplit(":", 1)[1]
    first = fetch(guarded(tmp_path), f"http://feeds.rebind.test:{port}/feed", resolver=rebinding_dns)
    assert first.outcome == "ok" and calls == ["feeds.rebind.test"]
    assert scripted_server.requests[-1][1]["Host"] == f"feeds.rebind.test:{port}"
    forbidden_server.routes["/feed"] = Behaviour(200, FEED_BYTES)
    second = fetch(guarded(tmp_path), f"http://feeds.rebind.test:{forbidden_server.base_url.rsplit(':', 1)[1]}/feed",
                   resolver=rebinding_dns)
    assert second.error_kind == "forbidden_address"
    assert forbidden_server.requests == []


# --- conditional GET, change detection -------------------------------------------------------------------------

def test_conditional_get_sends_validators_and_304_is_not_modified(settings, scripted_server):
    def conditional(headers):
        if headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return 200, {"ETag": '"v1"'}, FEED_BYTES

    scripted_server.routes["/cond"] = Behaviour(conditional)
    result = fetch(settings, scripted_server.url("/cond"), FeedState(etag='"v1"'))
    assert result.outcome == "not_modified" and result.body == b""
    assert scripted_server.requests[-1][1]["If-None-Match"] == '"v1"'


def test_stale_etag_is_caught_by_the_forced_unconditional_fetch_after_12_hours(tmp_path, scripted_server):
    version = {"items": [("First story", "https://ex.org/1")]}

    def stale(headers):  # answers 304 to any validator, even after the content changed
        if headers.get("If-None-Match"):
            return 304, {}, b""
        return 200, {"ETag": '"forever"'}, rss(*version["items"])

    scripted_server.routes["/stale"] = Behaviour(stale)
    settings = cycle(tmp_path, scripted_server, "/stale")
    version["items"].append(("Second story", "https://ex.org/2"))
    run_cycle(settings, force=True)
    assert last_fetch(settings)[0] == "not_modified"
    assert stored(settings, "SELECT count(*) FROM articles") == [(1,)]
    with open_warehouse(settings.warehouse_path) as con:  # time passes
        con.execute("UPDATE feeds SET last_unconditional_at = last_unconditional_at - INTERVAL 13 HOURS")
    run_cycle(settings, force=True)
    assert "If-None-Match" not in scripted_server.requests[-1][1]
    assert stored(settings, "SELECT count(*) FROM articles") == [(2,)]


def test_unchanged_body_is_not_parsed_again(tmp_path, scripted_server):
    scripted_server.routes["/same"] = Behaviour(200, rss(("Same", "https://ex.org/s")))
    settings = cycle(tmp_path, scripted_server, "/same")
    run_cycle(settings, force=True)
    assert stored(settings, "SELECT outcome, entries FROM fetches ORDER BY started_at") == [("ok", 1), ("unchanged", 0)]
    assert stored(settings, "SELECT count(*) FROM article_events") == [(1,)]


# --- rate limits, failures, disabling ------------------------------------------------------------------------------

def test_429_with_retry_after_seconds_sets_the_next_attempt_and_is_not_ok(tmp_path, scripted_server):
    scripted_server.routes["/busy"] = Behaviour(429, b"slow down", {"Retry-After": "3600"})
    settings = cycle(tmp_path, scripted_server, "/busy")
    outcome, kind, status, _bytes, entries, retry_after = last_fetch(settings)
    assert (outcome, kind, status, entries) == ("error", "rate_limited", 429, 0)
    assert 3600 <= retry_after <= 3960  # up to 10 % jitter
    due, fetched = stored(settings, "SELECT next_due_at, last_fetched_at FROM feeds")[0]
    assert (due - fetched).total_seconds() == pytest.approx(retry_after, abs=0.01)
    assert stored(settings, "SELECT state FROM feed_health") == [("rate_limited",)]
    assert plan_batches(settings, "later") == []  # not due before the publisher's time


def test_503_with_retry_after_http_date_is_honoured_and_capped_at_24_hours(tmp_path, scripted_server):
    soon = format_datetime(datetime.now(UTC) + timedelta(minutes=30), usegmt=True)
    scripted_server.routes["/maint"] = Behaviour(503, b"maintenance", {"Retry-After": soon})
    settings = cycle(tmp_path, scripted_server, "/maint")
    _outcome, kind, status, *_rest, retry_after = last_fetch(settings)
    assert (kind, status) == ("http_5xx", 503) and 1700 <= retry_after <= 30 * 60 * 1.1
    now = datetime.now(UTC).replace(tzinfo=None)
    assert retry_after_seconds("999999", now) == 24 * 3600
    assert retry_after_seconds(format_datetime(datetime.now(UTC) + timedelta(days=9), usegmt=True), now) == 86400
    assert retry_after_seconds("not a date", now) is None


def test_410_gone_disables_the_feed_at_once_with_the_reason(tmp_path, scripted_server):
    scripted_server.routes["/gone"] = Behaviour(410, b"gone")
    settings = cycle(tmp_path, scripted_server, "/gone")
    state, reason = stored(settings, "SELECT state, disabled_reason FROM feed_health")[0]
    assert state == "gone" and "410 Gone" in reason
    assert plan_batches(settings, "again", force=True) == []


def test_graded_failures_disable_a_feed_which_is_still_probed_and_comes_back(tmp_path, scripted_server):
    scripted_server.routes["/flaky"] = Behaviour(404, b"missing")
    settings = cycle(tmp_path, scripted_server, "/flaky", disable_after_errors=2.0)
    assert stored(settings, "SELECT error_score, disabled_kind FROM feeds") == [(1.0, None)]
    run_cycle(settings, force=True)
    score, kind, due, fetched = stored(
        settings, "SELECT error_score, disabled_kind, next_due_at, last_fetched_at FROM feeds")[0]
    assert (score, kind, due - fetched) == (2.0, "failing", timedelta(hours=24))
    assert stored(settings, "SELECT state FROM feed_health") == [("disabled",)]
    assert plan_batches(settings, "soon") == []
    assert plan_batches(settings, "probe", as_of=fetched + timedelta(hours=25))  # the low-rate probe is due
    scripted_server.routes["/flaky"] = Behaviour(200, rss(("Back again", "https://ex.org/b")))
    run_cycle(settings, force=True)
    assert stored(settings, "SELECT error_score, disabled_kind, disabled_reason FROM feeds") == [(0.0, None, None)]


# --- bodies --------------------------------------------------------------------------------------------------

def gzip_bomb(decompressed_mib: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    zeros = b"\0" * (1 << 20)
    return b"".join(compressor.compress(zeros) for _ in range(decompressed_mib)) + compressor.flush()


class RawBody(Behaviour):
    """Send an already gzip-compressed body as it is."""

    def __init__(self, body: bytes):
        super().__init__(200, body, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})


def test_gzip_bomb_aborts_at_the_cap_and_stores_nothing(tmp_path, scripted_server):
    bomb = gzip_bomb(200)
    assert len(bomb) < 300_000
    scripted_server.routes["/bomb"] = RawBody(bomb)
    settings = cycle(tmp_path, scripted_server, "/bomb")
    assert last_fetch(settings)[:2] == ("error", "too_large")
    assert stored(settings, "SELECT count(*) FROM articles") == [(0,)]
    assert not list((settings.raw_dir).rglob("*.xml.gz"))


def test_20_mib_plain_body_is_refused(tmp_path, scripted_server):
    scripted_server.routes["/huge"] = Behaviour(200, rss(("Big", "https://ex.org/big")) + b" " * (20 << 20))
    settings = cycle(tmp_path, scripted_server, "/huge")
    assert last_fetch(settings)[:2] == ("error", "too_large")


def test_html_page_instead_of_a_feed_is_an_error(tmp_path, scripted_server):
    page = b"<!doctype html><html><head><title>Welcome</title></head><body><p>Our news</p></body></html>"
    scripted_server.routes["/page"] = Behaviour(200, page, {"Content-Type": "text/html"})
    settings = cycle(tmp_path, scripted_server, "/page")
    assert last_fetch(settings)[:2] == ("error", "not_a_feed")


def test_empty_body_is_an_error_not_no_news(tmp_path, scripted_server):
    scripted_server.routes["/empty"] = Behaviour(200, b"  \n")
    settings = cycle(tmp_path, scripted_server, "/empty")
    assert last_fetch(settings)[:2] == ("error", "empty_body")
    assert stored(settings, "SELECT state FROM feed_health") == [("failing",)]


# --- XML attacks -------------------------------------------------------------------------------------------------

def test_external_entities_are_never_resolved(tmp_path, scripted_server):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7731")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    scripted_server.routes["/xxe"] = Behaviour(200, rss(("Leak &xxe; here", "https://ex.org/x"), extra=doctype))
    settings = cycle(tmp_path, scripted_server, "/xxe")
    rows = stored(settings, "SELECT title || summary FROM articles")
    assert rows and not any("TOP-SECRET" in text for (text,) in rows)
    assert "entity declarations removed" in stored(settings, "SELECT bozo_reason FROM fetches")[0][0]


def test_entity_declarations_are_removed_even_behind_a_long_prolog():
    from pipeline.ingest.parse import strip_entity_declarations

    padding = b"<!-- " + b"x" * 100_000 + b" -->"
    body = b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE rss [<!ENTITY a "boom">]><rss><channel/></rss>'
    stripped, removed = strip_entity_declarations(body)
    assert removed and b"<!ENTITY" not in stripped and stripped.endswith(b"<rss><channel/></rss>")
    in_text = b"<rss><channel><title>About &lt;!DOCTYPE x [&lt;!ENTITY y]&gt;</title></channel></rss>"
    assert strip_entity_declarations(in_text) == (in_text, False)


def test_billion_laughs_fails_fast_without_expansion(tmp_path, scripted_server):
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    doctype = f"<!DOCTYPE rss [{entities}]>"
    scripted_server.routes["/lol"] = Behaviour(200, rss(("&j;", "https://ex.org/l"), extra=doctype))
    settings = cycle(tmp_path, scripted_server, "/lol")
    (longest,) = stored(settings, "SELECT max(length(title || summary)) FROM articles")[0]
    assert longest < 100


# --- entries --------------------------------------------------------------------------------------------------------

def test_duplicate_guids_still_give_distinct_articles(tmp_path, scripted_server):
    items = [("Talks resume in Geneva", "https://ex.org/a"), ("Grid repairs continue", "https://ex.org/b"),
             ("Talks resume in Geneva", "https://ex.org/a")]
    scripted_server.routes["/dup"] = Behaviour(200, rss(*items, guid="same-guid-for-all"))
    settings = cycle(tmp_path, scripted_server, "/dup")
    assert stored(settings, "SELECT title FROM articles ORDER BY title") == [
        ("Grid repairs continue",), ("Talks resume in Geneva",)]


def test_bad_dates_are_clamped_and_stored_in_utc(tmp_path, scripted_server):
    dates = {"No date": None, "Future": "Sat, 01 Jan 2039 00:00:00 GMT", "Ancient": "Mon, 01 Jan 1900 00:00:00 GMT",
             "Garbage": "yesterday-ish", "Offset": "Mon, 16 Nov 2026 10:00:00 +0300"}
    items = "".join(
        f"<item><title>{title}</title><link>https://ex.org/{n}</link>"
        + (f"<pubDate>{value}</pubDate>" if value else "") + "</item>"
        for n, (title, value) in enumerate(dates.items())
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>d</title>{items}</channel></rss>'.encode()
    scripted_server.routes["/dates"] = Behaviour(200, feed)
    settings = cycle(tmp_path, scripted_server, "/dates")
    rows = dict((t, (p, s)) for t, p, s in stored(settings, "SELECT title, published_at, first_seen_at FROM articles"))
    for title in ("No date", "Future", "Ancient", "Garbage"):
        published, first_seen = rows[title]
        assert published == first_seen
    assert rows["Offset"][0] == datetime(2026, 11, 16, 7, 0)


def test_javascript_and_data_links_are_dropped(tmp_path, scripted_server):
    items = [("Click me", "javascript:alert(document.cookie)"), ("Data", "data:text/html,<script>x</script>"),
             ("Fine", "https://ex.org/fine")]
    scripted_server.routes["/js"] = Behaviour(200, rss(*items))
    settings = cycle(tmp_path, scripted_server, "/js")
    assert stored(settings, "SELECT title, url FROM articles ORDER BY title") == [
        ("Click me", None), ("Data", None), ("Fine", "https://ex.org/fine")]


def test_hostile_titles_are_stored_as_plain_text(tmp_path, scripted_server):
    title = "&lt;script&gt;alert(1)&lt;/script&gt;Sanctions &lt;img src=x onerror=alert(2)&gt;&lt;b&gt;talk&lt;/b&gt;"
    scripted_server.routes["/xss"] = Behaviour(200, rss((title, "https://ex.org/xss")))
    settings = cycle(tmp_path, scripted_server, "/xss")
    (stored_title,) = stored(settings, "SELECT title FROM articles")[0]
    assert "<" not in stored_title and "alert" not in stored_title and "onerror" not in stored_title
    assert "Sanctions" in stored_title and "talk" in stored_title
