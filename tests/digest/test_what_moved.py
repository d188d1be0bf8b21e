"""digest: "What moved" in each theme section, who did what that day, from the demo warehouse's events."""

from __future__ import annotations

import json
from datetime import date

from conftest import system_tool
from test_build import chromium

from pipeline.digest.build import build_digest
from pipeline.digest.collect import ACTION_WORDS, ACTOR_NAMES, Move, collect
from pipeline.digest.render import render_markdown

SPIKE_DAY = date(2026, 11, 15)  # the demo's ceasefire spike


def test_each_theme_section_lists_the_days_actor_action_pairs_strongest_first(demo_settings):
    digest = collect(demo_settings, SPIKE_DAY)
    ceasefire = next(t for t in digest.themes if t.theme == "ceasefire")
    assert ceasefire.moves, "the spike day's ceasefire stories carry events"
    counts = [m.story_count for m in ceasefire.moves]
    assert counts == sorted(counts, reverse=True)
    for theme in digest.themes:
        for move in theme.moves:
            assert move.sentence.startswith(ACTOR_NAMES[move.actor] + " " + ACTION_WORDS[move.action] + ": ")
            assert "_" not in move.sentence  # plain words, never the codes
            assert move.stories and all(url is None or url.startswith("http") for _, url in move.stories)
    markdown = render_markdown(digest)
    assert "**What moved**" in markdown and ceasefire.moves[0].sentence in markdown


def test_a_pair_is_new_without_baseline_stories_and_rising_at_twice_its_daily_mean():
    def move(stories: int, baseline: float) -> Move:
        return Move("russia", "reject", [("h", None)] * stories, 0.9, [], baseline)

    assert move(1, 0.0).mark == "new"
    assert move(3, 1.0).mark == "rising" and move(2, 1.0).mark == "rising"
    assert move(1, 0.4).mark is None  # one story is never 'rising'
    assert move(3, 2.0).mark is None
    assert move(1, 0.0).sentence == "Russia rejected: 1 story" and move(3, 1.0).sentence == "Russia rejected: 3 stories"


PROBE = """<script>
window.addEventListener('load', () => {
  const blocks = [...document.querySelectorAll('.what-moved')];
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify({blocks: blocks.length,
    text: blocks.map(b => b.innerText), right: Math.max(...blocks.map(b => b.getBoundingClientRect().right)),
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth});
  document.body.appendChild(out);
});
</script>"""


def test_what_moved_renders_in_headless_chromium_as_plain_sentences(demo_settings):
    system_tool("chromium")
    page = build_digest(demo_settings, SPIKE_DAY)
    assert "<script" not in page.read_text()
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    measured = json.loads(dom.split('<pre id="probe">')[1].split("</pre>")[0].replace("&quot;", '"'))
    assert measured["blocks"] >= 1
    first = measured["text"][0]
    assert first.upper().startswith("WHAT MOVED") and ": " in first and " stor" in first
    assert measured["right"] <= measured["innerWidth"] and measured["scrollWidth"] <= measured["innerWidth"]
