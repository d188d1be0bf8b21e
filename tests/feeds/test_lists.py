"""feeds: feeds.yaml, OPML import and export."""

from __future__ import annotations

import pytest

from pipeline.core.config import REPO_ROOT
from pipeline.core.errors import FeedRegistryError
from pipeline.core.records import FeedSpec
from pipeline.feeds.lists import load_feeds_file, parse_opml, to_opml, write_feeds_file

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="Ukraine">
    <outline text="Ledger" title="The Ledger" type="rss" xmlUrl="https://ledger.example/rss"/>
    <outline text="Bad" xmlUrl="file:///etc/passwd"/>
  </outline>
  <outline text="Wire" type="rss" xmlUrl="https://wire.example/feed.xml"/>
  <outline text="Vestnik" type="rss" language="ru" xmlUrl="https://vestnik.example/rss"/>
</body></opml>"""


def test_shipped_feeds_file_lists_real_https_feeds():
    specs = load_feeds_file(REPO_ROOT / "feeds.yaml")
    assert len(specs) >= 8
    assert all(s.url.startswith("https://") for s in specs)
    assert len({s.feed_id for s in specs}) == len(specs)


def test_shipped_feeds_include_russian_and_ukrainian_outlets_with_their_language():
    by_language: dict[str, int] = {}
    for spec in load_feeds_file(REPO_ROOT / "feeds.yaml"):
        by_language[spec.language] = by_language.get(spec.language, 0) + 1
    assert by_language.get("ru", 0) >= 4 and by_language.get("uk", 0) >= 4


def test_feeds_file_round_trip(tmp_path):
    specs = [FeedSpec("a", "https://a.example/rss", "A", ("x", "y"), "en", 30, True), FeedSpec("b", "http://b.example/")]
    write_feeds_file(specs, tmp_path / "feeds.yaml")
    assert load_feeds_file(tmp_path / "feeds.yaml") == specs


@pytest.mark.parametrize(
    "text,message",
    [("feeds: 3", "list under 'feeds'"), ("feeds: [{title: x}]", "needs at least a 'url'"),
     ("feeds: [{url: 'ftp://x/'}]", "only http"), ("feeds: [{url: 'https://a/', poll_minutes: 0}]", "at least 1"),
     ("feeds: [{id: a, url: 'https://a/'}, {id: a, url: 'https://b/'}]", "duplicate feed id"),
     ("feeds: [", "not valid YAML")],
)
def test_invalid_feeds_file_gets_a_clear_error(tmp_path, text, message):
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    with pytest.raises(FeedRegistryError, match=message):
        load_feeds_file(path)


def test_opml_import_keeps_http_feeds_and_folder_tags():
    specs = parse_opml(OPML)
    assert [(s.url, s.title, s.tags) for s in specs] == [
        ("https://ledger.example/rss", "The Ledger", ("Ukraine",)),
        ("https://wire.example/feed.xml", "Wire", ()),
        ("https://vestnik.example/rss", "Vestnik", ()),
    ]


def test_opml_import_and_export_keep_each_feeds_language():
    specs = parse_opml(OPML)
    assert [s.language for s in specs] == [None, None, "ru"]
    assert [s.language for s in parse_opml(to_opml(specs))] == [None, None, "ru"]


def test_opml_export_round_trips():
    specs = parse_opml(OPML)
    again = parse_opml(to_opml(specs))
    assert [(s.url, s.title, s.tags) for s in again] == [(s.url, s.title, s.tags) for s in specs]
    assert any(s.tags for s in specs)  # the folder tags survive export and import


def test_opml_with_entity_expansion_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><opml><body>&b;</body></opml>'
    with pytest.raises(FeedRegistryError):
        parse_opml(bomb)
