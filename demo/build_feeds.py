"""Render the demo stories (demo/stories/*.jsonl, written for newsmon) into outlet feeds under demo/feeds/.

Deterministic: the same stories give byte-identical feeds. Each variant of a story goes to a different
outlet, as syndication does. Formats cover RSS 2.0, Atom 1.0 and RSS 1.0 (RDF); one feed is declared in
windows-1252 and one is ill-formed but recoverable (raw ampersands, unclosed channel, a repeated item).

    python demo/build_feeds.py            # rewrite demo/feeds/ and demo/feeds.yaml
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HERE = Path(__file__).resolve().parent
FIRST_DAY = datetime(2026, 10, 29, tzinfo=UTC)


@dataclass(frozen=True)
class Outlet:
    feed_id: str
    title: str
    site: str
    fmt: str  # rss2 | rss2_html | atom | rdf | rss2_broken
    encoding: str = "utf-8"
    language: str = "en"


OUTLETS = {
    o.feed_id: o
    for o in [
        Outlet("northwire", "Northwire News Agency - World", "https://www.northwire.example", "rss2"),
        Outlet("kyiv-ledger", "The Kyiv Ledger", "https://kyivledger.example", "atom"),
        Outlet("continental-post", "Continental Post - Europe", "https://www.continentalpost.example", "rss2_html"),
        Outlet("baltic-monitor", "Baltic Monitor", "https://balticmonitor.example", "rdf"),
        Outlet("rheinland-courier", "Rheinland Courier (English edition)", "https://www.rheinland-courier.example",
               "rss2", encoding="windows-1252"),
        Outlet("market-street", "Market Street Journal - World Markets", "https://marketstreet.example", "atom"),
        Outlet("harbour-gazette", "Harbour Gazette", "https://harbourgazette.example", "rss2_broken"),
        Outlet("daily-courier", "The Daily Courier - Top Stories", "https://m.dailycourier.example", "rss2"),
        # Russian- and Ukrainian-language outlets: their own stories, written in their language.
        Outlet("severny-vestnik", "Северный вестник", "https://severny-vestnik.example", "rss2", language="ru"),
        Outlet("dnipro-kurier", "Дніпровський кур'єр", "https://dnipro-kurier.example", "atom", language="uk"),
    ]
}
# A topic feed of the wire agency: re-lists its on-topic items with the same GUIDs (one article, two feeds).
TOPIC_FEED = Outlet("northwire-diplomacy", "Northwire News Agency - Diplomacy", "https://www.northwire.example",
                    "rss2")

ELIGIBLE = {
    "on_topic": ["northwire", "kyiv-ledger", "continental-post", "baltic-monitor", "rheinland-courier",
                 "harbour-gazette", "daily-courier", "market-street"],
    "war_other": ["kyiv-ledger", "northwire", "baltic-monitor", "continental-post", "daily-courier",
                  "harbour-gazette"],
    "ru": ["severny-vestnik"],
    "uk": ["dnipro-kurier"],
    "off_topic": ["daily-courier", "harbour-gazette", "rheinland-courier", "market-street", "continental-post",
                  "northwire", "baltic-monitor"],
}
MARKET_THEMES = {"sanctions", "military_aid"}


def load_stories() -> list[dict]:
    stories = []
    for path in sorted((HERE / "stories").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                story = json.loads(line)
                story.setdefault("kind", "on_topic" if story.get("themes") else "off_topic")
                stories.append(story)
    return stories


def seeded(text: str) -> random.Random:
    return random.Random(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))


def eligible_outlets(story: dict) -> list[str]:
    outlets = list(ELIGIBLE[story["kind"]])
    if story["kind"] == "on_topic" and not MARKET_THEMES & set(story["themes"]):
        outlets.remove("market-street")
    return outlets


def assign(stories: list[dict]) -> dict[str, list[dict]]:
    """Give each variant of each story to a distinct outlet, with a publication time on the story's day."""
    items: dict[str, list[dict]] = {feed_id: [] for feed_id in OUTLETS}
    items[TOPIC_FEED.feed_id] = []
    for story in stories:
        rng = seeded(story["story"])
        outlets = rng.sample(eligible_outlets(story), k=min(len(story["variants"]), len(eligible_outlets(story))))
        base = FIRST_DAY + timedelta(days=story["day"], hours=rng.randint(5, 19), minutes=rng.randint(0, 59))
        for n, (feed_id, variant) in enumerate(zip(outlets, story["variants"], strict=False)):
            published = base + timedelta(minutes=n * rng.randint(20, 150))
            item = {"slug": story["story"], "title": variant["title"], "summary": variant["summary"],
                    "published": published, "outlet": OUTLETS[feed_id]}
            items[feed_id].append(item)
            if feed_id == "northwire" and story["kind"] == "on_topic":
                items[TOPIC_FEED.feed_id].append(item)
                syndicate(item, outlets, seeded(story["story"] + ":syndication"), items)
    for feed_items in items.values():
        feed_items.sort(key=lambda i: (i["published"], i["slug"]), reverse=True)
    return items


# How regional papers re-run wire copy: the same text under a lightly edited headline, sometimes cut short.
REPUBLISHERS = ["harbour-gazette", "daily-courier", "rheinland-courier", "baltic-monitor"]
HEADLINE_EDITS = [
    lambda t: t, lambda t: f"{t} - agency", lambda t: f"UPDATE 1-{t}", lambda t: f"{t} (wire)",
    lambda t: t.rstrip(".") + ", report says",
]


def syndicate(item: dict, taken: list[str], rng: random.Random, items: dict) -> None:
    """About half of the wire's on-topic stories are re-run by one or two outlets that did not cover them."""
    if rng.random() < 0.5:
        return
    free = [o for o in REPUBLISHERS if o not in taken]
    for feed_id in rng.sample(free, k=min(len(free), rng.randint(1, 2))):
        summary = item["summary"]
        if rng.random() < 0.4:  # cut after the first sentence
            summary = summary.split(". ")[0].rstrip(".") + "."
        copy = {**item, "title": rng.choice(HEADLINE_EDITS)(item["title"]), "summary": summary,
                "published": item["published"] + timedelta(minutes=rng.randint(15, 240)),
                "outlet": OUTLETS[feed_id]}
        items[feed_id].append(copy)


def link_for(item: dict) -> str:
    outlet, day = item["outlet"], item["published"].strftime("%Y/%m/%d")
    return f"{outlet.site}/news/{day}/{item['slug']}?utm_source=rss&utm_medium=feed"


def guid_for(item: dict) -> str:
    outlet = item["outlet"]
    return f"tag:{outlet.site.split('//')[1].removeprefix('www.')},2026:{item['slug']}"


def render_rss2(outlet: Outlet, items: list[dict], html_content: bool = False) -> str:
    ns = ' xmlns:content="http://purl.org/rss/1.0/modules/content/"' if html_content else ""
    out = [f'<?xml version="1.0" encoding="{outlet.encoding}"?>', f'<rss version="2.0"{ns}>', "<channel>",
           f"<title>{escape(outlet.title)}</title>", f"<link>{outlet.site}/</link>",
           f"<description>{escape(outlet.title)}: latest stories</description>",
           f"<language>{outlet.language}</language>"]
    for item in items:
        out += ["<item>", f"<title>{escape(item['title'])}</title>", f"<link>{escape(link_for(item))}</link>",
                f'<guid isPermaLink="false">{escape(guid_for(item))}</guid>',
                f"<pubDate>{format_datetime(item['published'])}</pubDate>",
                f"<description>{escape(item['summary'])}</description>"]
        if html_content:
            body = f"<p><strong>{escape(item['title'])}</strong></p><p>{escape(item['summary'])}</p>"
            out.append(f"<content:encoded><![CDATA[{body}]]></content:encoded>")
        out.append("</item>")
    out += ["</channel>", "</rss>"]
    return "\n".join(out) + "\n"


def render_broken_rss2(outlet: Outlet, items: list[dict]) -> str:
    """Raw '&' in text, one item listed twice, and the channel never closed: feedparser recovers it."""
    text = render_rss2(outlet, items[:1] + items)
    text = text.replace("&amp;", "&").replace(" and ", " & ", 40)
    return text.replace("</channel>\n</rss>\n", "")


def render_atom(outlet: Outlet, items: list[dict]) -> str:
    updated = items[0]["published"].isoformat() if items else FIRST_DAY.isoformat()
    out = [f'<?xml version="1.0" encoding="{outlet.encoding}"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.language}">',
           f"<title>{escape(outlet.title)}</title>", f"<id>{outlet.site}/</id>",
           f'<link rel="alternate" href={quoteattr(outlet.site + "/")}/>', f"<updated>{updated}</updated>"]
    for item in items:
        out += ["<entry>", f"<title>{escape(item['title'])}</title>",
                f'<link rel="alternate" href={quoteattr(link_for(item))}/>',
                f"<id>{escape(guid_for(item))}</id>",
                f"<published>{item['published'].isoformat()}</published>",
                f"<updated>{item['published'].isoformat()}</updated>",
                f"<author><name>{escape(outlet.title.split(' - ')[0])} staff</name></author>",
                f'<summary type="text">{escape(item["summary"])}</summary>', "</entry>"]
    out.append("</feed>")
    return "\n".join(out) + "\n"


def render_rdf(outlet: Outlet, items: list[dict]) -> str:
    out = [f'<?xml version="1.0" encoding="{outlet.encoding}"?>',
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
           ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
           f'<channel rdf:about="{outlet.site}/rss">', f"<title>{escape(outlet.title)}</title>",
           f"<link>{outlet.site}/</link>", f"<description>{escape(outlet.title)}</description>",
           f"<dc:language>{outlet.language}</dc:language>", "<items><rdf:Seq>"]
    out += [f'<rdf:li rdf:resource={quoteattr(link_for(i))}/>' for i in items]
    out += ["</rdf:Seq></items>", "</channel>"]
    for item in items:
        out += [f"<item rdf:about={quoteattr(link_for(item))}>", f"<title>{escape(item['title'])}</title>",
                f"<link>{escape(link_for(item))}</link>", f"<description>{escape(item['summary'])}</description>",
                f"<dc:date>{item['published'].isoformat()}</dc:date>", "</item>"]
    out.append("</rdf:RDF>")
    return "\n".join(out) + "\n"


def render(outlet: Outlet, items: list[dict]) -> bytes:
    renderers = {"rss2": render_rss2, "atom": render_atom, "rdf": render_rdf, "rss2_broken": render_broken_rss2,
                 "rss2_html": lambda o, i: render_rss2(o, i, html_content=True)}
    return renderers[outlet.fmt](outlet, items).encode(outlet.encoding, errors="xmlcharrefreplace")


def build(out_dir: Path = HERE / "feeds") -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for feed_id, items in assign(load_stories()).items():
        outlet = OUTLETS.get(feed_id, TOPIC_FEED)
        (out_dir / f"{feed_id}.xml").write_bytes(render(outlet, items))
        counts[feed_id] = len(items)
    return counts


if __name__ == "__main__":
    for feed_id, n in build().items():
        print(f"{feed_id:<22}{n:>5} items")
