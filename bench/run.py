"""newsmon benchmarks: each figure measured beside its baseline (or the library limit) in the same run.

    python -m bench.run [--scale 0.1] [--only parse,load]      (make bench SCALE=0.1 ONLY=load)

Writes bench/results.json and prints a table. Benchmarks never run in `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results.json"
PY = sys.executable
NEWSMON = [PY, "-m", "pipeline.cli"]


def result(name: str, figure: float, unit: str, *, baseline: float | None = None, baseline_label: str = "",
           ratio: float | None = None, ratio_label: str = "", aim: str = "", met: bool | None = None, **details):
    return {"name": name, "figure": round(figure, 3), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 3), "baseline_label": baseline_label,
            "ratio": None if ratio is None else round(ratio, 3), "ratio_label": ratio_label, "aim": aim,
            "met": met, "details": details}


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


# --- 1. parse -----------------------------------------------------------------------------------------

def bench_parse(scale: float, work: Path) -> list[dict]:
    import feedparser

    from bench.generate import feed_bodies
    from pipeline.ingest.normalize import normalize_entries
    from pipeline.ingest.parse import parse_feed

    items = 500
    feeds = max(4, round(200 * scale))
    bodies = feed_bodies(seed=11, feeds=feeds, items_per_feed=items)
    fetched_at = datetime(2026, 11, 1)

    def limit():
        return sum(len(feedparser.parse(b).entries) for b in bodies)

    def ours():
        n = 0
        for i, body in enumerate(bodies):
            parsed = parse_feed(body)
            n += len(normalize_entries(parsed.entries, f"feed-{i}", fetched_at))
        return n

    t_limit, n_limit = timed(limit)
    t_ours, n_ours = timed(ours)
    assert n_limit == n_ours, (n_limit, n_ours)
    ratio = t_limit / t_ours
    return [result("parse", n_ours / t_ours, "entries/s", baseline=n_limit / t_limit,
                   baseline_label="feedparser.parse(bytes) alone", ratio=ratio,
                   ratio_label="newsmon / feedparser throughput", aim=">= 0.7", met=ratio >= 0.7,
                   entries=n_ours, seconds_newsmon=round(t_ours, 2), seconds_feedparser=round(t_limit, 2))]


# --- 2. classify ----------------------------------------------------------------------------------------

def bench_classify(scale: float, work: Path) -> list[dict]:
    from bench.generate import ArticleGenerator
    from pipeline.classify.model import ThemeClassifier, article_text
    from pipeline.core.config import REPO_ROOT

    count = max(10_000, round(100_000 * scale))
    texts = [article_text(a.title, a.summary) for a in ArticleGenerator(seed=5).articles(count)]
    models = REPO_ROOT / "models"
    classifier = ThemeClassifier.load(models)
    others = [ThemeClassifier.load(models, card.parent.name) for card in sorted(models.glob("*/model_card.json"))
              if card.parent.name != classifier.version]
    chunk = 1000

    def predict_all(model: ThemeClassifier, batch: list[str]):
        for i in range(0, len(batch), chunk):
            model.predict(batch[i:i + chunk])

    def bare(batch: list[str]):  # scikit-learn's own path: the Pipeline, then the second stage on its output
        for i in range(0, len(batch), chunk):
            outputs = classifier.pipeline.predict_proba(batch[i:i + chunk])
            if classifier.stack is not None:
                classifier.stack.predict_proba(batch[i:i + chunk], outputs)

    import copy

    themes_only = copy.copy(classifier)  # the same model with its event coder switched off
    themes_only.events = None
    mixed = mixed_language_stream(texts)
    for model in [classifier, *others]:
        predict_all(model, texts[:chunk])  # warm-up: caches, lazily built fast paths
    predict_all(classifier, mixed[:chunk])  # ...and the Cyrillic model's (its lemma dictionaries load on first use)
    # Every contender runs on each tenth of the texts in turn, so a noisy neighbour on a shared host slows
    # them alike: the ratios compare like with like even when the absolute figures drift.
    contenders = {"bare": (bare, texts), classifier.version: (lambda batch: predict_all(classifier, batch), texts),
                  "themes only": (lambda batch: predict_all(themes_only, batch), texts),
                  "mixed languages": (lambda batch: predict_all(classifier, batch), mixed),
                  **{other.version: (lambda batch, m=other: predict_all(m, batch), texts) for other in others}}
    seconds = dict.fromkeys(contenders, 0.0)
    step = -(-count // 10)
    for start in range(0, count, step):
        for name, (run, stream) in contenders.items():
            seconds[name] += timed(run, stream[start:start + step])[0]
    t_bare, t_ours = seconds["bare"], seconds[classifier.version]
    # Every other model kept in models/, timed in this same run: what a model change costs, on the same machine.
    other_versions = {other.version: round(count / seconds[other.version], 1) for other in others}
    rate = count / t_ours
    themed = sum(1 for p in classifier.predict(texts[:chunk]) if p.labels) / chunk
    mixed_rate = count / seconds["mixed languages"]
    return [result("classify_mixed_languages", mixed_rate, "articles/s", baseline=rate,
                   baseline_label="English only (the classify row, same run)", ratio=mixed_rate / rate,
                   ratio_label="mixed / English-only throughput", aim=">= 3000 articles/s with events",
                   met=mixed_rate >= 3000, articles=count,
                   mix="50 % English (generated), 25 % Russian, 25 % Ukrainian (the training and development texts"
                       " written for newsmon, cycled)", model_version=classifier.version),
            result("classify", rate, "articles/s", baseline=count / t_bare,
                   baseline_label="bare Pipeline.predict_proba, then the second stage (no thresholds, no evidence)",
                   ratio=t_bare / t_ours, ratio_label="newsmon / bare throughput",
                   aim=">= 3000 articles/s with events; >= 5000 themes only",
                   met=rate >= 3000 and count / seconds["themes only"] >= 5000, articles=count,
                   model_version=classifier.version, other_versions_articles_per_s=other_versions,
                   themes_only_articles_per_s=round(count / seconds["themes only"], 1),
                   themed_share=round(themed, 3))]


def mixed_language_stream(english: list[str]) -> list[str]:
    """Half the English texts, a quarter Russian and a quarter Ukrainian (newsmon's own written examples, cycled),
    interleaved as a multilingual feed set delivers them."""
    from itertools import cycle

    from pipeline.classify.model import article_text
    from pipeline.core.config import REPO_ROOT

    def texts(language: str) -> cycle:
        rows = []
        for name in (f"train_{language}.jsonl", f"dev_{language}.jsonl"):
            rows += [json.loads(line) for line in (REPO_ROOT / "models" / "training" / name).open(encoding="utf-8")]
        return cycle([article_text(r["title"], r["summary"]) for r in rows])

    russian, ukrainian = texts("ru"), texts("uk")
    stream = []
    for i, text in enumerate(english):
        stream.append(text if i % 2 == 0 else next(russian) if i % 4 == 1 else next(ukrainian))
    return stream


# --- 3. load --------------------------------------------------------------------------------------------

def stage_generated(work: Path, count: int, seed: int = 3, day_span: int | None = None) -> tuple[str, str]:
    """Generated articles -> normalize -> classify -> staged Parquet, exactly as process_batch writes it."""
    from bench.generate import ArticleGenerator
    from pipeline.classify.model import ThemeClassifier
    from pipeline.core.config import REPO_ROOT
    from pipeline.core.records import FetchResult, RawEntry
    from pipeline.ingest.cycle import classify_articles
    from pipeline.ingest.normalize import normalize_entries
    from pipeline.ingest.stage import articles_table, fetch_row, fetches_table, write_parquet_atomic

    fetched_at = datetime(2026, 11, 1)
    raw = [RawEntry(a.guid, a.link, a.title, a.summary, None,
                    fetched_at - timedelta(hours=1) if day_span else a.published.replace(tzinfo=None), "en")
           for a in ArticleGenerator(seed=seed).articles(count)]
    work.mkdir(parents=True, exist_ok=True)
    articles = normalize_entries(raw, "bench-feed", fetched_at)
    classifier = ThemeClassifier.load(REPO_ROOT / "models")
    predictions = classify_articles(classifier, articles)
    path = write_parquet_atomic(articles_table(articles, predictions, "bench-run", classifier.version),
                                work / "load.articles.parquet")
    fetch = FetchResult("bench-feed", "https://bench.example/feed", fetched_at, 200, "ok", body=b"x", body_hash="h")
    fpath = write_parquet_atomic(fetches_table([fetch_row(fetch, "bench-run", count, False, None)]),
                                 work / "load.fetches.parquet")
    return str(path), str(fpath)


def bench_load(scale: float, work: Path) -> list[dict]:
    import duckdb
    import pyarrow.parquet as pq

    from pipeline.warehouse.load import load_staged
    from pipeline.warehouse.readpath import refresh
    from pipeline.warehouse.store import open_warehouse

    count = max(10_000, round(100_000 * scale))
    articles_path, fetches_path = stage_generated(work, count)
    staged = pq.read_table(articles_path)

    bare_db = work / "bare.duckdb"
    con = duckdb.connect(str(bare_db))
    con.register("arrow_batch", staged)
    con.execute("CREATE TABLE staged AS SELECT * FROM arrow_batch LIMIT 0")
    t_bare, _ = timed(con.execute, "INSERT INTO staged SELECT * FROM arrow_batch")
    con.close()

    with open_warehouse(work / "load.duckdb") as wh:
        wh.execute("INSERT INTO feeds (feed_id, url, source, added_at) VALUES "
                   "('bench-feed', 'https://bench.example/feed', 'file', now()::TIMESTAMP)")
        refresh(wh, work / "load-home")  # the read path exists before the load, as after any earlier load
        t_ours, counts = timed(load_staged, wh, "bench-run", [articles_path], [fetches_path])
        days_marked = wh.execute("SELECT count(*) FROM (SELECT DISTINCT * FROM read_pending)").fetchone()[0]
        t_refresh, refreshed = timed(refresh, wh, work / "load-home")
        t_again, again = timed(load_staged, wh, "bench-run", [articles_path], [fetches_path])
        # A later load that touches one day of each table: the refresh writes that day only.
        small_path, small_fetches = stage_generated(work / "small", 1_000, seed=4, day_span=1)
        t_small, _ = timed(load_staged, wh, "bench-small", [small_path], [small_fetches])
        small_days = wh.execute("SELECT count(*) FROM (SELECT DISTINCT * FROM read_pending)").fetchone()[0]
        t_small_refresh, _ = timed(refresh, wh, work / "load-home")
        classification_rows = wh.execute("SELECT count(*) FROM classifications").fetchone()[0]
    assert counts["articles_new"] == staged.num_rows and again["articles_new"] == 0
    ratio = t_bare / t_ours
    return [result("load", count / t_ours, "articles/s", baseline=count / t_bare,
                   baseline_label="bare DuckDB INSERT of the same Arrow table", ratio=ratio,
                   ratio_label="bare time / newsmon time", aim=">= 0.5", met=ratio >= 0.5, articles=count,
                   seconds_newsmon=round(t_ours, 3), seconds_bare=round(t_bare, 3),
                   seconds_reload_same_batch=round(t_again, 3), classification_rows=classification_rows,
                   read_refresh_seconds=round(t_refresh, 3), read_refresh_day_files=days_marked,
                   read_refresh_per_load=round(t_refresh / t_ours, 3),
                   small_load_seconds=round(t_small, 3), small_load_refresh_seconds=round(t_small_refresh, 3),
                   small_load_day_files=small_days, read_days_written=refreshed["read_days_written"])]


# --- 4. fetch cycle -------------------------------------------------------------------------------------

class SlowFeedServers:
    """`hosts` loopback servers (one port each); every request waits `delay` s; `hung` paths never answer."""

    def __init__(self, bodies: list[bytes], hosts: int, delay: float, hung: set[int]):
        self.release = threading.Event()
        self.servers, self.urls = [], []
        release = self.release

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_GET(self):  # noqa: N802
                index = int(self.path.strip("/").split(".")[0].split("-")[1])
                if index in hung:
                    release.wait(120)
                    return
                time.sleep(delay)
                body = bodies[index]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for _ in range(hosts):
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            server.request_queue_size = 256
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        for i in range(len(bodies)):
            port = self.servers[i % hosts].server_address[1]
            self.urls.append(f"http://127.0.0.1:{port}/feed-{i}.xml")

    def close(self):
        self.release.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()


def bench_fetch(scale: float, work: Path) -> list[dict]:
    import feedparser

    from bench.generate import feed_bodies
    from pipeline.core.config import Settings
    from pipeline.core.records import FeedSpec, FeedState
    from pipeline.ingest.fetch import fetch_all

    feeds = max(50, round(500 * scale))
    bodies = feed_bodies(seed=7, feeds=feeds, items_per_feed=20)
    # 2 % hung, spread at random over the hosts (all on one host would measure the per-host limit instead)
    hung = set(random.Random(3).sample(range(feeds), k=max(1, feeds // 50)))
    servers = SlowFeedServers(bodies, hosts=25, delay=0.2, hung=hung)
    try:
        settings = Settings(home=work / "fetch-home", allow_private_networks=True)
        pairs = [(FeedSpec(f"feed-{i}", url), FeedState()) for i, url in enumerate(servers.urls)]
        t_ours, results = timed(fetch_all, pairs, settings)
        ok = sum(r.outcome == "ok" for r in results)

        def one(url: str) -> bool:
            try:
                return bool(feedparser.parse(url).entries)
            except OSError:  # the socket timeout surfaces as an exception
                return False

        def sequential():
            previous = socket.getdefaulttimeout()
            socket.setdefaulttimeout(10)  # feedparser has no timeout of its own
            try:
                return sum(one(url) for url in servers.urls)
            finally:
                socket.setdefaulttimeout(previous)

        t_base, ok_base = timed(sequential)
    finally:
        servers.close()
    ratio = t_base / t_ours
    return [result("fetch_cycle", t_ours, "s", baseline=t_base,
                   baseline_label="sequential feedparser.parse(url), 10 s socket timeout", ratio=ratio,
                   ratio_label="speed-up", aim=">= 5x (ingestion aims: cycle <= 20 s at 500 feeds)",
                   met=ratio >= 5 and (feeds < 500 or t_ours <= 20), feeds=feeds, hung=len(hung),
                   hung_hosts=len({i % 25 for i in hung}),
                   ok=ok, ok_baseline=ok_base, latency_s=0.2, hosts=25,
                   concurrency=settings.fetch_concurrency, read_timeout_s=settings.read_timeout_s)]


# --- 4b. gzip bomb ------------------------------------------------------------------------------------------

def serve_once(body: bytes, headers: dict[str, str]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the client hung up at its cap
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/bomb.xml"


def bench_gzip_bomb(scale: float, work: Path) -> list[dict]:
    """Peak RSS of a fresh process fetching a gzip bomb: newsmon's fetch against feedparser.parse(url)."""
    import zlib

    mib = max(64, round(1024 * scale))
    compressor, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), b"\0" * (1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(mib)) + compressor.flush()
    server, url = serve_once(bomb, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
    ours = (
        "import resource, sys\n"
        "from pipeline.core.config import Settings\nfrom pipeline.ingest.fetch import fetch_feed, make_client\n"
        "from pipeline.core.records import FeedSpec, FeedState\n"
        "s = Settings(home=sys.argv[2], allow_private_networks=True)\n"
        "r = fetch_feed(make_client(s), FeedSpec('bomb', sys.argv[1]), FeedState(), s)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, r.error_kind)\n"
    )
    theirs = (
        "import resource, sys\nimport feedparser\n"
        "feedparser.parse(sys.argv[1])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'parsed')\n"
    )
    idle = "import resource\nimport feedparser, httpx, pipeline.ingest.fetch\n" \
           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'idle')\n"
    try:
        measured = {}
        for name, code in (("idle", idle), ("ours", ours), ("feedparser", theirs)):
            out = subprocess.run([PY, "-c", code, url, str(work / "bomb-home")], capture_output=True, text=True,
                                 check=True, cwd=REPO).stdout.split()
            measured[name] = (int(out[0]), out[1])
    finally:
        server.shutdown()
        server.server_close()
    peak, base, idle_rss = measured["ours"][0], measured["feedparser"][0], measured["idle"][0]
    return [result("gzip_bomb_peak_rss", peak / 2**20, "MiB", baseline=base / 2**20,
                   baseline_label="feedparser.parse(url) on the same bomb", ratio=base / peak,
                   ratio_label="feedparser peak / newsmon peak",
                   aim="memory bounded: peak - idle well under the 15 MiB cap + buffers",
                   met=(peak - idle_rss) < 64 * 2**20, compressed_kib=round(len(bomb) / 1024),
                   decompressed_mib=mib, idle_mib=round(idle_rss / 2**20, 1), outcome=measured["ours"][1])]


# --- 5. end to end ----------------------------------------------------------------------------------------

def run_measured(cmd: list[str], env: dict, log: Path) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one command, measured in a fresh wrapper process."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.call(sys.argv[1:], stdout=sys.stderr)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, code)\n"
    )
    with log.open("w") as err:
        out = subprocess.run([PY, "-c", wrapper, *cmd], env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                             check=True, cwd=REPO)
    seconds, rss, code = out.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"bench: {' '.join(cmd)} failed; see {log}")
    return float(seconds), int(rss)


def serve_generated(work: Path, feeds: int, items: int, seed: int):
    from bench.generate import write_feeds
    from pipeline.core.records import FeedSpec
    from pipeline.feeds.lists import write_feeds_file
    from pipeline.ops.feedserver import serve_directory

    paths = write_feeds(work / f"feeds-{seed}", seed, feeds, items)
    server = serve_directory(work / f"feeds-{seed}")
    base = server.__enter__()
    feeds_file = work / f"feeds-{seed}.yaml"
    write_feeds_file([FeedSpec(p.stem, f"{base}/{p.name}") for p in paths], feeds_file)
    return server, feeds_file


def bench_e2e(scale: float, work: Path) -> list[dict]:
    feeds, items = 200, max(50, round(500 * scale))
    server, feeds_file = serve_generated(work, feeds, items, seed=21)
    home = work / "e2e-home"
    env = {**os.environ, "NEWSMON_HOME": str(home), "NEWSMON_FEEDS_FILE": str(feeds_file),
           "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true"}
    try:
        seconds, rss = run_measured([*NEWSMON, "run"], env, work / "e2e.log")
        # The same feeds, served the same way, through the script a user would write (bench/plain_baseline.py).
        plain_seconds, plain_rss = run_measured([PY, "-m", "bench.plain_baseline", str(feeds_file),
                                                 str(work / "plain.duckdb")], env, work / "plain.log")
    finally:
        server.__exit__(None, None, None)
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    con.close()
    con = duckdb.connect(str(work / "plain.duckdb"), read_only=True)
    plain_articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    con.close()
    rate, plain_rate = articles / seconds, plain_articles / plain_seconds
    return [result("end_to_end", rate, "articles/s", baseline=plain_rate,
                   baseline_label="plain script: httpx get, feedparser.parse, model.predict, DuckDB executemany",
                   ratio=rate / plain_rate, ratio_label="newsmon / plain script throughput",
                   aim=">= 2000 articles/s, peak RSS < 1 GiB", met=rate >= 2000 and rss < 2**30, feeds=feeds,
                   items_per_feed=items, articles=articles, seconds=round(seconds, 2),
                   peak_rss_mib=round(rss / 2**20, 1), plain_articles=plain_articles,
                   plain_seconds=round(plain_seconds, 2), plain_peak_rss_mib=round(plain_rss / 2**20, 1))]


# --- 6. trend queries ---------------------------------------------------------------------------------------

def synthetic_warehouse(path: Path, articles: int) -> None:
    """A warehouse of the real schema filled in SQL: 200 feeds, 365 days, about 2.8 stored scores per article
    and 12 % of articles labelled with some theme (the share a general news mix shows)."""
    from pipeline.warehouse.store import open_warehouse

    with open_warehouse(path) as con:
        con.execute("INSERT INTO models VALUES ('bench-model', now()::TIMESTAMP, '{}')")
        con.execute("""
            INSERT INTO feeds (feed_id, url, source, added_at)
            SELECT 'feed-' || i, 'https://f' || i || '.example/rss', 'file', TIMESTAMP '2025-01-01' FROM range(200) t(i)
        """)
        con.execute(f"""
            INSERT INTO articles
            SELECT 'a' || i, 'feed-' || (hash(i) % 200), NULL, 'https://x.example/' || i, NULL,
                   'Generated headline ' || i, 'Generated summary', NULL, 'en',
                   TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i * 7) % (365 * 86400) AS BIGINT)),
                   TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i * 7) % (365 * 86400) AS BIGINT)),
                   'h', 's' || (i // 3), 'bench-model', NULL, NULL,
                   TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i * 7) % (365 * 86400) AS BIGINT))
            FROM range({articles}) t(i)
        """)
        con.execute(f"""
            INSERT INTO classifications
            SELECT 'a' || i, 'bench-model', theme,
                   (hash(i, theme) % 1000) / 1000.0 AS score, (hash(i, theme) % 1000) >= 955, [],
                   'h', TIMESTAMP '2025-01-01'
            FROM range({articles}) t(i)
            CROSS JOIN (VALUES ('sanctions'), ('ceasefire'), ('security_guarantees'), ('negotiations'),
                               ('military_aid'), ('territory'), ('neutrality_nato')) th(theme)
            WHERE hash(i * 31, theme) % 100 < 40  -- about 2.8 stored scores per article, as the loader keeps
        """)
        con.execute("CHECKPOINT")


def bench_trends(scale: float, work: Path) -> list[dict]:
    import duckdb

    queries = {"theme_trends": "SELECT * FROM theme_trends ORDER BY day, theme"}
    for path in sorted((REPO / "warehouse" / "queries").glob("*.sql")):
        queries[path.stem] = path.read_text()
    sizes = [max(10_000, round(n * scale)) for n in (100_000, 1_000_000, 5_000_000)]
    timings: dict[str, dict[int, float]] = {q: {} for q in queries}
    build_seconds = {}
    for size in sizes:
        path = work / f"trends-{size}.duckdb"
        build_seconds[size], _ = timed(synthetic_warehouse, path, size)
        con = duckdb.connect(str(path), read_only=True)
        for name, sql in queries.items():
            con.execute(sql).fetchall()  # warm: the first read pulls the file into the buffer pool
            best = min(timed(lambda c=con, s=sql: c.execute(s).fetchall())[0] for _ in range(3))
            timings[name][size] = best
        con.close()
        path.unlink()
    out = []
    small, mid, large = sizes
    for name, by_size in timings.items():
        growth = by_size[large] / by_size[mid]
        linear = large / mid
        out.append(result(f"trends:{name}", by_size[mid], f"s at {mid:,} articles",
                          ratio=growth, ratio_label=f"time growth {mid:,} -> {large:,} (linear = {linear:.1f})",
                          aim="< 1 s at 1M; growth no worse than linear",
                          met=by_size[mid] < 1.0 and growth <= linear * 1.1,
                          seconds={str(k): round(v, 4) for k, v in by_size.items()},
                          build_seconds={str(k): round(v, 1) for k, v in build_seconds.items()}))
    return out


# --- 7. Airflow overhead ------------------------------------------------------------------------------------

def bench_airflow(scale: float, work: Path) -> list[dict]:
    from pipeline.core.config import Settings
    from pipeline.feeds.lists import write_feeds_file
    from pipeline.ops.airflow_local import airflow_env, init_airflow
    from pipeline.ops.demo import demo_feeds
    from pipeline.ops.feedserver import serve_directory

    with serve_directory(REPO / "demo" / "feeds") as base:
        feeds_file = work / "demo-feeds.yaml"
        write_feeds_file(demo_feeds(base), feeds_file)
        extra = {"NEWSMON_FEEDS_FILE": str(feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true"}
        cli_env = {**os.environ, **extra, "NEWSMON_HOME": str(work / "cli-home")}
        t_cli, _ = run_measured([*NEWSMON, "run"], cli_env, work / "cli-run.log")
        settings = Settings(home=work / "airflow-home")
        env = airflow_env(settings, extra)
        init_airflow(settings, env, work / "af-init.log")  # one-off set-up, not part of a run
        from pipeline.ops.airflow_local import airflow_executable

        t_airflow, _ = run_measured([airflow_executable(), "dags", "test", "news_ingest"], env, work / "af.log")
    return [result("airflow_overhead", t_airflow, "s", baseline=t_cli, baseline_label="newsmon run, same feeds",
                   ratio=t_airflow / t_cli, ratio_label="airflow dags test / newsmon run",
                   aim="(measured, no aim)", met=None, feeds=9)]


BENCHES: dict[str, Callable[[float, Path], list[dict]]] = {
    "parse": bench_parse, "classify": bench_classify, "load": bench_load, "fetch": bench_fetch,
    "gzip_bomb": bench_gzip_bomb,
    "e2e": bench_e2e, "trends": bench_trends, "airflow": bench_airflow,
}


def machine() -> dict:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 2**30, 1), "platform": platform.platform(),
            "python": platform.python_version()}


def host_probe_s() -> float:
    """Seconds for a plain Python loop of 10 million additions: this shared host's speed drifts up to 2x within a
    day, so each benchmark row says how fast the host was just before it."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return round(time.perf_counter() - started, 2)


def versions() -> dict:
    import pipeline

    names = ["apache-airflow", "duckdb", "feedparser", "scikit-learn", "httpx", "pyarrow", "numpy"]
    return {"newsmon": pipeline.__version__, **{n: version(n) for n in names}}


def print_table(results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("benchmark", "figure", "baseline", "ratio", "aim", "met")
    for r in results:
        baseline = "" if r["baseline"] is None else f"{r['baseline']:,} ({r['baseline_label']})"
        ratio = "" if r["ratio"] is None else f"{r['ratio']} ({r['ratio_label']})"
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        table.add_row(r["name"], f"{r['figure']:,} {r['unit']}", baseline, ratio, r["aim"], met)
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description="newsmon benchmarks")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHES))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or list(BENCHES)
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    results, started = [], time.perf_counter()
    try:
        for name in chosen:
            probe = host_probe_s()
            t0 = time.perf_counter()
            print(f"bench: {name} ... (host probe {probe} s)", flush=True)
            for r in BENCHES[name](args.scale, work):
                r["bench"], r["wall_s"], r["host_probe_s"] = name, round(time.perf_counter() - t0, 1), probe
                results.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "scale": args.scale,
              "total_s": round(time.perf_counter() - started, 1), "machine": machine(), "versions": versions(),
              "peak_rss_mib_bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "results": results}
    if args.out.exists() and set(chosen) != set(BENCHES):
        previous = json.loads(args.out.read_text())
        if previous.get("scale") == args.scale:  # a partial run replaces only its own rows
            report["results"] = [r for r in previous["results"] if r.get("bench") not in chosen] + results
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(results)
    print(f"bench: {len(results)} figures in {report['total_s']} s -> {args.out}")


if __name__ == "__main__":
    main()
