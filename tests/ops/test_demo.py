"""demo: the bundled feeds meet their brief, are rebuilt byte for byte, and `newsmon demo` runs under Airflow."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import timedelta

import pytest

from pipeline.core.config import REPO_ROOT, Settings
from pipeline.ingest.parse import parse_feed
from pipeline.ops.demo import demo_feeds, run_demo

FEEDS_DIR = REPO_ROOT / "demo" / "feeds"


def load_builder():
    spec = importlib.util.spec_from_file_location("build_feeds", REPO_ROOT / "demo" / "build_feeds.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def parsed():
    return {path.stem: (path.read_bytes(), parse_feed(path.read_bytes())) for path in sorted(FEEDS_DIR.glob("*.xml"))}


def test_demo_feeds_cover_formats_charsets_and_a_recoverable_broken_feed(parsed):
    assert len(parsed) >= 8
    heads = {name: raw[:200] for name, (raw, _) in parsed.items()}
    assert any(b"<rss" in h for h in heads.values())
    assert any(b"http://www.w3.org/2005/Atom" in h for h in heads.values())
    assert any(b"<rdf:RDF" in h for h in heads.values())
    assert any(b'encoding="windows-1252"' in h for h in heads.values())
    bozo = [name for name, (_, feed) in parsed.items() if feed.bozo]
    assert bozo == ["harbour-gazette"] and len(parsed["harbour-gazette"][1].entries) > 50


def test_demo_feeds_span_three_weeks_with_600_items(parsed):
    entries = [e for _, feed in parsed.values() for e in feed.entries]
    assert len(entries) >= 600
    days = sorted({e.published.date() for e in entries})
    assert days[-1] - days[0] >= timedelta(days=20)
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))  # consecutive


def test_stories_are_syndicated_and_every_theme_is_present():
    stories = load_builder().load_stories()
    assert sum(len(s["variants"]) > 1 for s in stories) > 100
    themes = Counter(t for s in stories for t in s["themes"])
    assert set(themes) == {"sanctions", "ceasefire", "security_guarantees", "negotiations", "military_aid",
                           "territory", "neutrality_nato"}
    assert Counter(s["kind"] for s in stories)["off_topic"] >= 100
    ceasefire_by_day = Counter(s["day"] for s in stories if "ceasefire" in s["themes"])
    assert max(ceasefire_by_day.values()) >= 3 * (sum(ceasefire_by_day.values()) / 24)  # a visible spike


def test_builder_reproduces_the_committed_feeds(tmp_path):
    load_builder().build(tmp_path)
    for path in FEEDS_DIR.glob("*.xml"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_demo_feed_list_points_at_the_local_server():
    feeds = demo_feeds("http://127.0.0.1:9")
    assert {f.url.rsplit("/", 1)[1] for f in feeds} == {p.name for p in FEEDS_DIR.glob("*.xml")}


def test_newsmon_demo_runs_the_dag_and_writes_a_digest(tmp_path, capsys):
    result = run_demo(Settings(home=tmp_path / "home"), use_airflow=True)
    out = capsys.readouterr().out
    assert result["counts"]["articles"] >= 600 and result["counts"]["runs"] == 1
    assert set(result["themes"]) >= {"sanctions", "ceasefire", "security_guarantees"}
    assert result["digest"].exists() and "digest for 2026-11-21" in out and "newsmon sql" in out
