"""digest: stories from Russian- and Ukrainian-language outlets appear with their original headline and a tag."""

from __future__ import annotations

import json
from datetime import date

from conftest import system_tool
from test_build import chromium

from pipeline.digest.build import build_digest
from pipeline.digest.collect import Story, collect
from pipeline.digest.render import render_markdown

SPIKE_DAY = date(2026, 11, 15)  # the demo's ceasefire spike; both demo outlets in Cyrillic report it


def cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def test_non_english_stories_keep_their_headline_and_carry_a_language_tag(demo_settings):
    digest = collect(demo_settings, SPIKE_DAY)
    stories = [s for theme in digest.themes for s in theme.stories] + digest.new_stories
    tagged = {s.language_tag for s in stories if s.language_tag}
    assert {"RU", "UK"} <= tagged
    for story in stories:
        assert (story.language_tag is not None) == cyrillic(story.headline)  # English stories carry no tag
    ukrainian = next(s for s in stories if s.language_tag == "UK")
    assert f"[UK] [{ukrainian.headline}]" in render_markdown(digest).replace("\\", "")


def test_language_tag_shows_only_real_language_codes():
    def story(language):
        return Story("s", "h", None, [], None, None, 0.5, [], False, language=language)

    assert [story(x).language_tag for x in ("en", "ru", "uk", "mixed", "und", None)] == [
        None, "RU", "UK", None, None, None]


PROBE = """<script>
window.addEventListener('load', () => {
  const tags = [...document.querySelectorAll('span[title="headline in its original language"]')];
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify(tags.map(t => ({tag: t.innerText, headline: t.nextElementSibling
    ? t.nextElementSibling.innerText : '', lang: t.nextElementSibling ? t.nextElementSibling.lang : ''})));
  document.body.appendChild(out);
});
</script>"""


def test_tagged_headlines_render_in_headless_chromium_in_their_own_script(demo_settings):
    system_tool("chromium")
    page = build_digest(demo_settings, SPIKE_DAY)
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    tags = json.loads(dom.split('<pre id="probe">')[1].split("</pre>")[0].replace("&quot;", '"'))
    assert {t["tag"] for t in tags} >= {"RU", "UK"}
    for t in tags:
        assert cyrillic(t["headline"]) and t["lang"] == t["tag"].lower()
