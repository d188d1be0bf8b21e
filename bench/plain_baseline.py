"""The end-to-end benchmark's baseline: the script a user would write without newsmon. For each feed of a
feeds.yaml: fetch it (httpx, one after another), feedparser.parse the body, classify every entry with the
shipped model, insert the rows into DuckDB with executemany. No dedupe, no staging, no feed state, no events
beyond what predict does, no stories, no read path.

    python -m bench.plain_baseline FEEDS_YAML WAREHOUSE_FILE      (prints the number of articles stored)
"""

from __future__ import annotations

import sys

import duckdb
import feedparser
import httpx
import yaml

from pipeline.classify.model import ThemeClassifier, article_text
from pipeline.core.config import REPO_ROOT


def main(feeds_yaml: str, warehouse: str) -> int:
    urls = [f["url"] for f in yaml.safe_load(open(feeds_yaml, encoding="utf-8"))["feeds"]]
    model = ThemeClassifier.load(REPO_ROOT / "models")
    con = duckdb.connect(warehouse)
    con.execute("CREATE TABLE IF NOT EXISTS articles (link VARCHAR, title VARCHAR, summary VARCHAR, "
                "published VARCHAR, labels VARCHAR[])")
    stored = 0
    with httpx.Client(timeout=30) as client:
        for url in urls:
            feed = feedparser.parse(client.get(url).content)
            entries = feed.entries
            predictions = model.predict([article_text(e.get("title", ""), e.get("summary", "")) for e in entries])
            con.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
                            [[e.get("link"), e.get("title"), e.get("summary"), e.get("published"), p.labels]
                             for e, p in zip(entries, predictions, strict=True)])
            stored += len(entries)
    con.close()
    return stored


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2]))
