"""fetch: every case against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from conftest import FEED_FIXTURES, Behaviour

from pipeline.config import Settings
from pipeline.fetch import check_url, fetch_all, fetch_feed, make_client
from pipeline.records import FeedSpec, FeedState

FEED_BYTES = (FEED_FIXTURES / "rss2_basic.xml").read_bytes()


def fetch(settings: Settings, url: str, state: FeedState = FeedState()):
    with make_client(settings) as client:
        return fetch_feed(client, FeedSpec("f", url), state, settings)


def test_ok_fetch_returns_body_validators_and_hash(settings, scripted_server):
    headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml"}
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES, headers)
    result = fetch(settings, scripted_server.url("/feed"))
    assert result.outcome == "ok" and result.status == 200
    assert result.body == FEED_BYTES and result.etag == '"v1"' and result.body_hash


def test_gzip_body_is_decompressed(settings, scripted_server):
    scripted_server.routes["/gz"] = Behaviour(200, FEED_BYTES, gzip_body=True)
    assert fetch(settings, scripted_server.url("/gz")).body == FEED_BYTES


def test_conditional_get_sends_validators_and_304_is_not_modified(settings, scripted_server):
    def conditional(headers):
        if headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return 200, {"ETag": '"v1"'}, FEED_BYTES

    scripted_server.routes["/cond"] = Behaviour(conditional)
    result = fetch(settings, scripted_server.url("/cond"), FeedState(etag='"v1"'))
    assert result.outcome == "not_modified" and result.body == b""
    assert scripted_server.requests[-1][1]["If-None-Match"] == '"v1"'


def test_same_body_as_last_time_is_unchanged(settings, scripted_server):
    scripted_server.routes["/same"] = Behaviour(200, FEED_BYTES)
    first = fetch(settings, scripted_server.url("/same"))
    second = fetch(settings, scripted_server.url("/same"), FeedState(body_hash=first.body_hash))
    assert (first.outcome, second.outcome) == ("ok", "unchanged")


def test_http_error_is_an_error_with_kind(settings, scripted_server):
    result = fetch(settings, scripted_server.url("/missing"))
    assert (result.outcome, result.error_kind, result.status) == ("error", "http_4xx", 404)
    scripted_server.routes["/boom"] = Behaviour(503, b"busy")
    assert fetch(settings, scripted_server.url("/boom")).error_kind == "http_5xx"


def test_empty_body_is_an_error_not_no_news(settings, scripted_server):
    scripted_server.routes["/empty"] = Behaviour(200, b"  \n")
    assert fetch(settings, scripted_server.url("/empty")).error_kind == "empty_body"


def test_body_over_the_cap_after_decompression_is_refused(tmp_path, scripted_server):
    settings = Settings(home=tmp_path, allow_private_networks=True, max_body_bytes=100_000)
    scripted_server.routes["/bomb"] = Behaviour(200, b"<rss>" + b" " * 5_000_000, gzip_body=True)
    result = fetch(settings, scripted_server.url("/bomb"))
    assert result.error_kind == "too_large" and result.body == b""


def test_hung_server_times_out(tmp_path, scripted_server):
    settings = Settings(home=tmp_path, allow_private_networks=True, read_timeout_s=0.5)
    scripted_server.routes["/hang"] = Behaviour(hang=True)
    result = fetch(settings, scripted_server.url("/hang"))
    assert result.error_kind == "timeout"


def test_redirect_is_followed_and_final_url_kept(settings, scripted_server):
    scripted_server.routes["/old"] = Behaviour(301, b"", {"Location": "/new"})
    scripted_server.routes["/new"] = Behaviour(200, FEED_BYTES)
    result = fetch(settings, scripted_server.url("/old"))
    assert result.outcome == "ok" and result.url.endswith("/new")


def test_redirect_loop_stops(settings, scripted_server):
    scripted_server.routes["/loop"] = Behaviour(302, b"", {"Location": "/loop"})
    assert fetch(settings, scripted_server.url("/loop")).error_kind == "too_many_redirects"


def test_loopback_refused_unless_private_networks_allowed(tmp_path, scripted_server):
    guarded = Settings(home=tmp_path, allow_private_networks=False)
    scripted_server.routes["/feed"] = Behaviour(200, FEED_BYTES)
    result = fetch(guarded, scripted_server.url("/feed"))
    assert result.error_kind == "forbidden_address"
    assert scripted_server.requests == []  # the guard stopped it before any packet


def test_non_http_schemes_are_never_fetched(settings):
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "/etc/passwd"):
        assert fetch(settings, url).error_kind == "bad_url"


def test_check_url_refuses_ipv4_mapped_loopback(tmp_path):
    import pytest

    from pipeline.errors import FeedFetchError

    with pytest.raises(FeedFetchError):
        check_url("http://[::ffff:127.0.0.1]/", Settings(home=tmp_path))


def test_fetch_all_keeps_order_and_isolates_failures(settings, scripted_server):
    scripted_server.routes["/a"] = Behaviour(200, FEED_BYTES)
    scripted_server.routes["/c"] = Behaviour(200, FEED_BYTES)
    pairs = [(FeedSpec(p, scripted_server.url(f"/{p}")), FeedState()) for p in ("a", "b", "c")]
    results = fetch_all(pairs, settings)
    assert [r.feed_id for r in results] == ["a", "b", "c"]
    assert [r.outcome for r in results] == ["ok", "error", "ok"]
