"""Realistic feeds and articles at any size, deterministic for a seed.

The text comes from the demo stories written for newsmon (demo/stories/*.jsonl). Each generated article
takes a story variant and varies it the way a day of wire copy varies: other places and people, other
figures, a closing sentence from the pool below, a dateline. Kinds come in realistic proportions (most of
a general feed is off-topic), and a share of items is syndicated: the same item, same GUID, in a second
feed.

    python -m bench.generate --feeds 20 --items 100 --out /tmp/feeds --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parent.parent
KIND_WEIGHTS = {"off_topic": 0.62, "war_other": 0.18, "on_topic": 0.20}
SYNDICATED_SHARE = 0.08
EPOCH = datetime(2026, 6, 1, tzinfo=UTC)

PLACES = ["Kyiv", "Kharkiv", "Odesa", "Dnipro", "Zaporizhzhia", "Kherson", "Sumy", "Lviv", "Mykolaiv",
          "Poltava", "Chernihiv", "Brussels", "Berlin", "Warsaw", "Paris", "London", "Ankara", "Geneva",
          "Vilnius", "Riga", "Tallinn", "Helsinki", "Bucharest", "Prague", "Rome", "Madrid", "Oslo"]
PEOPLE = ["the foreign minister", "a senior official", "the defence minister", "the prime minister",
          "a presidential adviser", "the EU's foreign policy chief", "a NATO spokesperson", "the finance minister",
          "a government spokeswoman", "the regional governor", "an opposition leader", "the central bank governor"]
CLOSERS = [
    "Officials declined to give further details.",
    "The ministry said more information would follow later in the day.",
    "Reporters were not allowed to attend the closed session.",
    "Markets showed little immediate reaction to the announcement.",
    "A spokesperson did not respond to a request for comment.",
    "The statement was published shortly after midnight local time.",
    "Both sides are expected to return to the issue next week.",
    "Analysts cautioned that the details remained unclear.",
    "Local media carried the news first, citing people familiar with the matter.",
    "The figures could not be independently verified.",
    "It was not immediately clear when the measures would take effect.",
    "Parliament is due to debate the matter before the end of the month.",
]
DATELINES = ["", "", "", "UPDATE 1-", "UPDATE 2-", "Analysis: ", "Explainer: ", "LIVE: "]
_NUMBER = re.compile(r"\b\d+\b")
_PLACE = re.compile(r"\b(" + "|".join(PLACES) + r")\b")


@dataclass(frozen=True)
class GenArticle:
    guid: str
    link: str
    title: str
    summary: str
    published: datetime
    themes: tuple[str, ...]
    kind: str


def load_pools() -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    pools: dict[str, list] = {kind: [] for kind in KIND_WEIGHTS}
    for path in sorted((REPO / "demo" / "stories").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            story = json.loads(line)
            kind = story.get("kind") or ("on_topic" if story.get("themes") else "off_topic")
            if kind not in pools:  # the Russian and Ukrainian demo outlets' stories: the stream is English
                continue
            for variant in story["variants"]:
                pools[kind].append((variant["title"], variant["summary"], tuple(story.get("themes", []))))
    return pools


class ArticleGenerator:
    """`article(n)` is a pure function of (seed, n): the same seed gives the same stream at any size."""

    def __init__(self, seed: int = 0, days: int = 90):
        self.seed, self.days = seed, days
        self.pools = load_pools()
        self.kinds = list(KIND_WEIGHTS)
        self.weights = [KIND_WEIGHTS[k] for k in self.kinds]

    def article(self, n: int) -> GenArticle:
        rng = random.Random(self.seed * 1_000_003 + n)
        kind = rng.choices(self.kinds, self.weights)[0]
        title, summary, themes = rng.choice(self.pools[kind])
        place = rng.choice(PLACES)
        summary = _PLACE.sub(lambda _m: place, summary, count=1)
        summary = _NUMBER.sub(lambda m: str(max(1, int(m.group()) + rng.randint(-3, 9))), summary)
        if rng.random() < 0.5:
            summary = f"{summary} {rng.choice(CLOSERS)}"
        if rng.random() < 0.3:
            summary = f"{summary} The remarks were made by {rng.choice(PEOPLE)} in {rng.choice(PLACES)}."
        title = rng.choice(DATELINES) + title
        published = EPOCH + timedelta(seconds=rng.randrange(self.days * 86400))
        slug = f"{self.seed}-{n}"
        return GenArticle(guid=f"tag:bench.example,2026:{slug}", link=f"https://news{n % 97}.example/a/{slug}",
                          title=title, summary=summary, published=published, themes=themes, kind=kind)

    def articles(self, count: int, start: int = 0) -> list[GenArticle]:
        return [self.article(n) for n in range(start, start + count)]


def render_rss2(title: str, items: list[GenArticle]) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0">', "<channel>",
           f"<title>{escape(title)}</title>", "<link>https://bench.example/</link>",
           "<description>generated</description>", "<language>en</language>"]
    for a in items:
        out += ["<item>", f"<title>{escape(a.title)}</title>", f"<link>{escape(a.link)}</link>",
                f'<guid isPermaLink="false">{escape(a.guid)}</guid>',
                f"<pubDate>{format_datetime(a.published)}</pubDate>",
                f"<description>{escape(a.summary)}</description>", "</item>"]
    out += ["</channel>", "</rss>"]
    return ("\n".join(out) + "\n").encode("utf-8")


def render_atom(title: str, items: list[GenArticle]) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
           f"<title>{escape(title)}</title>", "<id>https://bench.example/</id>",
           f"<updated>{EPOCH.isoformat()}</updated>"]
    for a in items:
        out += ["<entry>", f"<title>{escape(a.title)}</title>", f"<link href={quoteattr(a.link)}/>",
                f"<id>{escape(a.guid)}</id>", f"<updated>{a.published.isoformat()}</updated>",
                f"<summary>{escape(a.summary)}</summary>", "</entry>"]
    out.append("</feed>")
    return ("\n".join(out) + "\n").encode("utf-8")


def feed_items(generator: ArticleGenerator, feeds: int, items_per_feed: int) -> list[list[GenArticle]]:
    """Items per feed; SYNDICATED_SHARE of them repeat an item of another feed (same GUID and text)."""
    rng = random.Random(generator.seed)
    out: list[list[GenArticle]] = []
    n = 0
    for f in range(feeds):
        items = []
        for _ in range(items_per_feed):
            if f and rng.random() < SYNDICATED_SHARE:
                items.append(rng.choice(out[rng.randrange(f)]))
            else:
                items.append(generator.article(n))
                n += 1
        out.append(items)
    return out


def feed_bodies(seed: int, feeds: int, items_per_feed: int) -> list[bytes]:
    """Feed documents in memory, alternating RSS 2.0 and Atom."""
    generator = ArticleGenerator(seed)
    bodies = []
    for f, items in enumerate(feed_items(generator, feeds, items_per_feed)):
        render = render_rss2 if f % 2 == 0 else render_atom
        bodies.append(render(f"Bench Outlet {f}", items))
    return bodies


def write_feeds(out_dir: Path, seed: int, feeds: int, items_per_feed: int) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for f, body in enumerate(feed_bodies(seed, feeds, items_per_feed)):
        path = out_dir / f"feed-{f:04d}.xml"
        path.write_bytes(body)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    paths = write_feeds(args.out, args.seed, args.feeds, args.items)
    print(f"wrote {len(paths)} feeds to {args.out}")


if __name__ == "__main__":
    main()
