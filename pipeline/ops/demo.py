"""`newsmon demo`: serve the bundled demo feeds on 127.0.0.1, run news_ingest once under real Airflow
(SQLite metadata under NEWSMON_HOME), build the digest of the latest demo day, print what happened."""

from __future__ import annotations

import time

import typer

from pipeline.core.config import REPO_ROOT, Settings, load_settings
from pipeline.core.records import FeedSpec
from pipeline.digest.build import build_digest
from pipeline.digest.collect import latest_day
from pipeline.feeds.lists import load_feeds_file, write_feeds_file
from pipeline.ingest.cycle import run_cycle
from pipeline.ops.airflow_local import dags_test
from pipeline.ops.feedserver import serve_directory
from pipeline.warehouse.query import table_counts, theme_totals
from pipeline.warehouse.readpath import open_read

DEMO_DIR = REPO_ROOT / "demo"


def demo_feeds(base_url: str) -> list[FeedSpec]:
    """demo/feeds.yaml lists the bundled feeds by file name; point each at the local server."""
    return [
        FeedSpec(feed_id=s.feed_id, url=f"{base_url}/{s.url.rsplit('/', 1)[-1]}", title=s.title, tags=s.tags,
                 language=s.language, poll_minutes=s.poll_minutes)
        for s in load_feeds_file(DEMO_DIR / "feeds.yaml")
    ]


def run_demo(settings: Settings, use_airflow: bool = True) -> dict:
    settings.ensure_home()
    feeds_file = settings.home / "demo" / "feeds.yaml"
    feeds_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with serve_directory(DEMO_DIR / "feeds") as base_url:
        write_feeds_file(demo_feeds(base_url), feeds_file)
        typer.echo(f"demo: serving {DEMO_DIR / 'feeds'} at {base_url}")
        env = {"NEWSMON_FEEDS_FILE": str(feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true"}
        if use_airflow:
            log_path = settings.home / "demo" / "airflow.log"
            typer.echo(f"demo: running the news_ingest DAG under Airflow (log: {log_path})")
            dags_test(settings, "news_ingest", extra_env=env, log_path=log_path, conf={"force": True})
        else:
            run_cycle(load_settings(home=settings.home, feeds_file=feeds_file, allow_private_networks=True),
                      force=True)
    day = latest_day(settings)
    digest_path = build_digest(settings, day) if day else None
    with open_read(settings.home) as con:
        counts, themes = table_counts(con), theme_totals(con)
    typer.echo(f"\ndemo: done in {time.monotonic() - started:.0f} s; warehouse {settings.warehouse_path}")
    typer.echo(f"articles loaded: {counts['articles']}  (rows: " +
               ", ".join(f"{t}={n}" for t, n in counts.items()) + ")")
    typer.echo("articles per theme: " + ", ".join(f"{t}={n}" for t, n in themes))
    typer.echo(f"digest for {day}: {digest_path}")
    typer.echo('try: .venv/bin/newsmon sql "SELECT day, theme, articles, share_of_all FROM theme_daily '
               "WHERE theme = 'ceasefire' AND language = 'all' ORDER BY day\"")
    return {"counts": counts, "themes": dict(themes), "digest": digest_path}
