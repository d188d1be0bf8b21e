"""One ingest cycle, split the way the news_ingest DAG runs it: plan -> process batches -> load.

Only plain, small values cross between the three steps (ids, URLs, paths, counts), so Airflow can pass
them through XCom and run process_batch on any worker.
"""

from __future__ import annotations

import gzip
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.classify import Prediction, ThemeClassifier, article_text, read_card
from pipeline.config import Settings
from pipeline.dedupe import dedupe_sightings, unique_by_id
from pipeline.errors import FeedParseError
from pipeline.feeds import load_feeds_file
from pipeline.fetch import fetch_all
from pipeline.normalize import normalize_entries
from pipeline.parse import parse_feed
from pipeline.records import Article, FeedSpec, FeedState, FetchResult
from pipeline.stage import articles_table, fetch_row, fetches_table, run_dir, write_parquet_atomic
from pipeline.warehouse import (
    due_feeds,
    load_staged,
    open_readonly,
    open_warehouse,
    register_model,
    sync_feeds_file,
)

log = logging.getLogger("newsmon.ingest")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(as_of: datetime | None = None) -> str:
    return "newsmon__" + (as_of or utcnow()).strftime("%Y%m%dT%H%M%S%f")


def plan_batches(settings: Settings, run_id: str, as_of: datetime | None = None, force: bool = False) -> list[dict]:
    """Sync feeds.yaml into the registry and split the due feeds into batches of `batch_size`."""
    as_of = as_of or utcnow()
    settings.ensure_home()
    specs = load_feeds_file(settings.feeds_file) if settings.feeds_file.exists() else []
    with open_warehouse(settings.warehouse_path) as con:
        sync_feeds_file(con, specs, as_of)
        due = due_feeds(con, as_of, force=force)
    feeds = [
        {"feed_id": f.feed_id, "url": f.url, "language": f.language,
         "etag": s.etag, "last_modified": s.last_modified, "body_hash": s.body_hash}
        for f, s in due
    ]
    size = settings.batch_size
    return [
        {"run_id": run_id, "batch": i // size, "feeds": feeds[i:i + size]}
        for i in range(0, len(feeds), size)
    ]


def _keep_raw(settings: Settings, result: FetchResult) -> None:
    """Fetched bytes, gzip-compressed, so any day can be re-parsed later."""
    day_dir = settings.raw_dir / result.started_at.strftime("%Y-%m-%d")
    day_dir.mkdir(parents=True, exist_ok=True)
    path = day_dir / f"{result.feed_id}-{result.body_hash}.xml.gz"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(gzip.compress(result.body, compresslevel=6))
        os.replace(tmp, path)


def classify_articles(classifier: ThemeClassifier, articles: list[Article]) -> dict[str, Prediction]:
    """One prediction per article id (an article seen in two feeds is classified once)."""
    unique = unique_by_id(articles)
    texts = [article_text(a.title, a.summary) for a in unique]
    return dict(zip((a.article_id for a in unique), classifier.predict(texts), strict=True))


def process_batch(settings: Settings, batch: dict) -> dict:
    """Fetch, parse, normalize, dedupe and classify one batch of feeds; stage it; return paths and counts.

    A broken feed becomes an error row for that feed; it never fails the batch.
    """
    run_id = batch["run_id"]
    pairs = [
        (FeedSpec(feed_id=f["feed_id"], url=f["url"], language=f.get("language")),
         FeedState(f.get("etag"), f.get("last_modified"), f.get("body_hash")))
        for f in batch["feeds"]
    ]
    results = fetch_all(pairs, settings)
    articles, fetch_rows = [], []
    for (feed, _state), result in zip(pairs, results, strict=True):
        entries, bozo, bozo_reason = 0, False, None
        if result.outcome == "ok":
            _keep_raw(settings, result)
            try:
                parsed = parse_feed(result.body, result.content_type)
            except FeedParseError as exc:
                result.outcome, result.error_kind, result.error = "error", exc.kind, str(exc)
            else:
                entries, bozo, bozo_reason = len(parsed.entries), parsed.bozo, parsed.bozo_reason
                articles += normalize_entries(
                    parsed.entries, feed.feed_id, result.started_at,
                    feed_language=feed.language or parsed.language, max_age_days=settings.max_article_age_days,
                )
        if result.outcome == "error":
            log.warning("feed failed", extra={"feed_url": feed.url, "run_id": run_id, "kind": result.error_kind})
        fetch_rows.append(fetch_row(result, run_id, entries, bozo, bozo_reason))

    articles = dedupe_sightings(articles)
    classifier = ThemeClassifier.load(settings.models_dir, settings.model_version)
    predictions = classify_articles(classifier, articles)
    out_dir = run_dir(settings.staging_dir, run_id)
    name = f"batch-{batch['batch']:05d}"
    articles_path = write_parquet_atomic(
        articles_table(articles, predictions, run_id, classifier.version), out_dir / f"{name}.articles.parquet"
    )
    fetches_path = write_parquet_atomic(fetches_table(fetch_rows), out_dir / f"{name}.fetches.parquet")
    return {
        "run_id": run_id,
        "batch": batch["batch"],
        "articles_path": str(articles_path),
        "fetches_path": str(fetches_path),
        "feeds": len(pairs),
        "feeds_failed": sum(r["outcome"] == "error" for r in fetch_rows),
        "articles": len(articles),
        "model_version": classifier.version,
    }


def load_run(settings: Settings, run_id: str, staged: list[dict], started_at: datetime | None = None) -> dict:
    """The single writer: register the model and apply every staged batch of the run in one transaction."""
    article_files = sorted(s["articles_path"] for s in staged if Path(s["articles_path"]).exists())
    fetch_files = sorted(s["fetches_path"] for s in staged if Path(s["fetches_path"]).exists())
    missing = len(staged) * 2 - len(article_files) - len(fetch_files)
    if missing:
        raise FileNotFoundError(f"load: {missing} staged file(s) of run {run_id} are missing")
    versions = {s["model_version"] for s in staged}  # the card is enough: the model itself is not loaded
    with open_warehouse(settings.warehouse_path) as con:
        for version in sorted(versions):
            register_model(con, read_card(settings.models_dir, version))
        counts = load_staged(con, run_id, article_files, fetch_files, started_at)
    counts["run_id"] = run_id
    return counts


def run_cycle(settings: Settings, run_id: str | None = None, force: bool = False) -> dict:
    """What `newsmon run` does: the whole cycle in this process, without Airflow."""
    started_at = utcnow()
    run_id = run_id or new_run_id(started_at)
    batches = plan_batches(settings, run_id, as_of=started_at, force=force)
    workers = min(settings.run_workers, len(batches))
    if workers > 1:  # parsing is CPU-bound: one process per core, as Airflow's mapped tasks would run
        with ProcessPoolExecutor(max_workers=workers) as pool:
            staged = list(pool.map(process_batch, [settings] * len(batches), batches))
    else:
        staged = [process_batch(settings, batch) for batch in batches]
    return load_run(settings, run_id, staged, started_at)


def ingest_coverage(settings: Settings, day: date) -> dict:
    """How ingest covered one UTC day: loaded runs that fetched feeds that day, fetches, distinct hours.

    news_digest calls it to say when a day's digest rests on no (or partial) ingest. Read-only.
    """
    coverage = {"day": day.isoformat(), "runs": 0, "fetches": 0, "hours_covered": 0}
    if not settings.warehouse_path.exists():
        return coverage
    start = datetime(day.year, day.month, day.day)
    with open_readonly(settings.warehouse_path) as con:
        runs, fetches, hours = con.execute(
            "SELECT count(DISTINCT run_id), count(*), count(DISTINCT date_trunc('hour', started_at)) "
            "FROM fetches WHERE started_at >= ? AND started_at < ?",
            [start, start + timedelta(days=1)],
        ).fetchone()
    return {**coverage, "runs": runs, "fetches": fetches, "hours_covered": hours}
