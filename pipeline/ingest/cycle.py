"""One ingest cycle, split the way the news_ingest DAG runs it: plan -> process batches -> load.

Only plain, small values cross between the three steps (ids, URLs, paths, counts), so Airflow can pass
them through XCom and run process_batch on any worker.
"""

from __future__ import annotations

import gzip
import json
import logging
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.classify.model import Prediction, ThemeClassifier, article_text, read_card
from pipeline.core.clock import utcnow
from pipeline.core.config import Settings
from pipeline.core.errors import FeedParseError
from pipeline.core.files import write_atomic
from pipeline.core.progress import Progress, silent
from pipeline.core.records import Article, FeedSpec, FeedState, FetchResult, ParsedFeed
from pipeline.feeds.lists import load_feeds_file
from pipeline.ingest.dedupe import dedupe_sightings, unique_by_id
from pipeline.ingest.fetch import fetch_all
from pipeline.ingest.fulltext import add_full_text
from pipeline.ingest.normalize import normalize_entries
from pipeline.ingest.parse import parse_feed
from pipeline.ingest.stage import articles_table, fetch_row, fetches_table, run_dir, write_parquet_atomic
from pipeline.warehouse.feeds import due_feeds, sync_feeds_file
from pipeline.warehouse.load import FeedPolicy, load_staged, register_model
from pipeline.warehouse.query import fetch_coverage, run_report
from pipeline.warehouse.readpath import open_read, read_db_path, refresh
from pipeline.warehouse.store import open_warehouse
from pipeline.warehouse.stories import assign_stories

log = logging.getLogger("newsmon.ingest")


def new_run_id(as_of: datetime | None = None) -> str:
    return "newsmon__" + (as_of or utcnow()).strftime("%Y%m%dT%H%M%S%f")


def plan_batches(settings: Settings, run_id: str, as_of: datetime | None = None, force: bool = False) -> list[dict]:
    """Sync feeds.yaml into the registry and split the due feeds into batches of `batch_size`."""
    as_of = as_of or utcnow()
    settings.ensure_home()
    specs = load_feeds_file(settings.feeds_file) if settings.feeds_file.exists() else []
    with open_warehouse(settings.warehouse_path) as con:
        sync_feeds_file(con, specs, as_of)
        due = due_feeds(con, as_of, force=force, unconditional_every_h=settings.unconditional_every_h)
        refresh(con, settings.home)  # the registry as feeds.yaml now says
    feeds = [
        {"feed_id": f.feed_id, "url": f.url, "language": f.language, "full_text": f.full_text,
         "etag": s.etag, "last_modified": s.last_modified, "body_hash": s.body_hash}
        for f, s in due
    ]
    # One host's feeds go to the same batch where they fit, so the per-host limit of one batch's fetcher is
    # the limit the publisher sees, not multiplied by the number of mapped tasks.
    feeds.sort(key=lambda f: (urlsplit(f["url"]).hostname or "", f["feed_id"]))
    size = settings.batch_size
    return [
        {"run_id": run_id, "batch": i // size, "feeds": feeds[i:i + size]}
        for i in range(0, len(feeds), size)
    ]


def _keep_raw(settings: Settings, result: FetchResult, language: str | None) -> None:
    """Fetched bytes, gzip-compressed, with what a re-parse needs beside them, so any day can be replayed."""
    day_dir = settings.raw_dir / result.started_at.strftime("%Y-%m-%d")
    stem = f"{result.started_at:%H%M%S%f}-{result.feed_id}-{result.body_hash}"
    meta = {"feed_id": result.feed_id, "url": result.url, "fetched_at": result.started_at.isoformat(),
            "content_type": result.content_type, "language": language, "body_hash": result.body_hash}
    write_atomic(day_dir / f"{stem}.xml.gz", gzip.compress(result.body, compresslevel=6))
    write_atomic(day_dir / f"{stem}.json", json.dumps(meta))  # last: replay reads only bodies with metadata


def articles_from_body(
    body: bytes, content_type: str | None, feed_id: str, language: str | None, fetched_at: datetime,
    settings: Settings,
) -> tuple[list[Article], ParsedFeed]:
    """Parse one fetched body and normalize its entries (raises FeedParseError when it is not a feed)."""
    parsed = parse_feed(body, content_type)
    articles = normalize_entries(
        parsed.entries, feed_id, fetched_at,
        feed_language=language or parsed.language, max_age_days=settings.max_article_age_days,
    )
    return articles, parsed


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
        (FeedSpec(feed_id=f["feed_id"], url=f["url"], language=f.get("language"), full_text=bool(f.get("full_text"))),
         FeedState(f.get("etag"), f.get("last_modified"), f.get("body_hash")))
        for f in batch["feeds"]
    ]
    results = fetch_all(pairs, settings)
    articles, fetch_rows = [], []
    for (feed, _state), result in zip(pairs, results, strict=True):
        entries, bozo, bozo_reason = 0, False, None
        if result.outcome == "ok":
            _keep_raw(settings, result, feed.language)
            try:
                found, parsed = articles_from_body(
                    result.body, result.content_type, feed.feed_id, feed.language, result.started_at, settings
                )
            except FeedParseError as exc:
                result.outcome, result.error_kind, result.error = "error", exc.kind, str(exc)
            else:
                entries, bozo, bozo_reason = len(parsed.entries), parsed.bozo, parsed.bozo_reason
                articles += found
        if result.outcome == "error":
            log.info("feed failed", extra={"feed_url": feed.url, "feed_id": feed.feed_id, "run_id": run_id,
                                           "kind": result.error_kind, "reason": result.error})
        fetch_rows.append(fetch_row(result, run_id, entries, bozo, bozo_reason))

    full_text_feeds = {f["feed_id"] for f in batch["feeds"] if f.get("full_text")}
    if full_text_feeds:
        articles = add_full_text(articles, full_text_feeds, settings)
    return _stage(settings, run_id, batch["batch"], articles, fetch_rows) | {"feeds": len(pairs)}


def _stage(settings: Settings, run_id: str, batch_no: int, articles: list[Article], fetch_rows: list[dict]) -> dict:
    """Dedupe, classify and write one batch's Parquet; the small dict that crosses XCom."""
    articles = dedupe_sightings(articles)
    classifier = ThemeClassifier.load(settings.models_dir, settings.model_version)
    predictions = classify_articles(classifier, articles)
    out_dir = run_dir(settings.staging_dir, run_id)
    name = f"batch-{batch_no:05d}"
    articles_path = write_parquet_atomic(
        articles_table(articles, predictions, run_id, classifier.version), out_dir / f"{name}.articles.parquet"
    )
    fetches_path = write_parquet_atomic(fetches_table(fetch_rows), out_dir / f"{name}.fetches.parquet")
    return {
        "run_id": run_id,
        "batch": batch_no,
        "articles_path": str(articles_path),
        "fetches_path": str(fetches_path),
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
        counts = load_staged(con, run_id, article_files, fetch_files, started_at, FeedPolicy.from_settings(settings))
        # A crash between the two leaves articles unclustered, and the next load clusters them.
        stories = assign_stories(con, utcnow())
        con.execute("UPDATE runs SET stories_merged = ? WHERE run_id = ? AND stories_merged IS NULL",
                    [stories["stories_merged"], run_id])
        # Readers see the load before this task ends; a crash before this line is repaired by the next refresh.
        counts |= refresh(con, settings.home)
    counts |= stories
    counts["run_id"] = run_id
    return counts


def _map_batches(settings: Settings, work, batches: list, progress: Progress = silent, step: str = "feeds",
                 size=lambda batch: len(batch["feeds"])) -> list[dict]:
    """Each batch through `work`, results in batch order; progress counts `size` of each finished batch."""
    total = sum(size(b) for b in batches)
    done = 0
    progress(step, done, total)
    workers = min(settings.run_workers, len(batches))
    if workers <= 1:
        results = []
        for batch in batches:
            results.append(work(settings, batch))
            done += size(batch)
            progress(step, done, total)
        return results
    results: list[dict | None] = [None] * len(batches)
    # parsing is CPU-bound: one process per core, as Airflow's mapped tasks would run
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(work, settings, batch): i for i, batch in enumerate(batches)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            done += size(batches[i])
            progress(step, done, total)
    return results


def run_cycle(settings: Settings, run_id: str | None = None, force: bool = False,
              progress: Progress = silent) -> dict:
    """What `newsmon run` does: the whole cycle in this process, without Airflow."""
    started_at = utcnow()
    run_id = run_id or new_run_id(started_at)
    batches = plan_batches(settings, run_id, as_of=started_at, force=force)
    staged = _map_batches(settings, process_batch, batches, progress, "fetch, parse, classify (feeds)")
    progress("load", 0, 1)
    counts = load_run(settings, run_id, staged, started_at)
    progress("load", 1, 1)
    return counts


def raw_bodies(settings: Settings, first: date, last: date) -> list[Path]:
    """Metadata files of the raw bodies kept for fetch days first..last (UTC, inclusive), in fetch order."""
    found: list[Path] = []
    day = first
    while day <= last:
        found += sorted((settings.raw_dir / day.isoformat()).glob("*.json"))
        day += timedelta(days=1)
    return found


def replay_batch(settings: Settings, batch: dict) -> dict:
    """Re-parse and re-classify kept raw bodies; a body that does not parse is skipped, not fatal."""
    articles: list[Article] = []
    for meta_path in batch["files"]:
        meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
        body = gzip.decompress(Path(meta_path).with_suffix(".xml.gz").read_bytes())
        fetched_at = datetime.fromisoformat(meta["fetched_at"])
        try:
            found, _parsed = articles_from_body(
                body, meta.get("content_type"), meta["feed_id"], meta.get("language"), fetched_at, settings
            )
        except FeedParseError as exc:
            log.warning("replay: skipped %s: %s", meta_path, exc)
            continue
        articles += found
    return _stage(settings, batch["run_id"], batch["batch"], articles, fetch_rows=[])


def replay(settings: Settings, first: date, last: date, progress: Progress = silent) -> dict:
    """`newsmon replay`: rebuild articles from the raw bodies of days first..last and load them as one run.

    Articles already in the warehouse with the same text change nothing; text that now parses differently is
    recorded as a content change and classified again; articles the warehouse lost come back.
    """
    if last < first:
        raise ValueError(f"replay: --to {last} is before --from {first}")
    started_at = utcnow()
    run_id = "replay__" + started_at.strftime("%Y%m%dT%H%M%S%f")
    files = [str(p) for p in raw_bodies(settings, first, last)]
    size = settings.batch_size
    batches = [{"run_id": run_id, "batch": i // size, "files": files[i:i + size]} for i in range(0, len(files), size)]
    staged = _map_batches(settings, replay_batch, batches, progress, "re-parse, classify (raw bodies)",
                          size=lambda batch: len(batch["files"]))
    progress("load", 0, 1)
    counts = load_run(settings, run_id, staged, started_at)
    progress("load", 1, 1)
    return counts | {"raw_bodies": len(files)}


def ingest_coverage(settings: Settings, day: date) -> dict:
    """How ingest covered one UTC day: loaded runs that fetched feeds that day, fetches, distinct hours.

    news_digest calls it to say when a day's digest rests on no (or partial) ingest. Read-only.
    """
    coverage = {"day": day.isoformat(), "runs": 0, "fetches": 0, "hours_covered": 0}
    if not read_db_path(settings.home).exists():
        return coverage
    start = datetime(day.year, day.month, day.day)
    with open_read(settings.home) as con:
        return coverage | fetch_coverage(con, start, start + timedelta(days=1))


def run_and_report(settings: Settings, force: bool = False, progress: Progress = silent) -> tuple[dict, dict]:
    """`newsmon run`: one cycle, then what it did as its readers see it (pipeline.warehouse.query.run_report)."""
    counts = run_cycle(settings, force=force, progress=progress)
    return counts, run_report(settings.home, counts["run_id"])
