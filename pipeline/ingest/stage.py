"""Stage a batch as Parquet under NEWSMON_HOME/staging/<run_id>/ (write to a temp name, then rename)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.classify.events import event_rows
from pipeline.classify.model import Prediction
from pipeline.core.files import replaced_atomically
from pipeline.core.records import Article, FetchResult
from pipeline.ingest.fetch import error_weight

THEME_TYPE = pa.struct(
    [("theme", pa.string()), ("score", pa.float64()), ("label", pa.bool_()), ("evidence", pa.list_(pa.string()))]
)
EVENT_TYPE = pa.struct(
    [("rank", pa.int32()), ("actor", pa.string()), ("action", pa.string()), ("theme", pa.string()),
     ("score", pa.float64()), ("actor_evidence", pa.list_(pa.string())), ("action_evidence", pa.list_(pa.string()))]
)
ARTICLE_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()), ("feed_id", pa.string()), ("guid", pa.string()), ("url", pa.string()),
        ("canonical_url", pa.string()), ("title", pa.string()), ("summary", pa.string()),
        ("author", pa.string()), ("language", pa.string()), ("published_at", pa.timestamp("us")),
        ("first_seen_at", pa.timestamp("us")), ("content_hash", pa.string()), ("story_key", pa.string()),
        ("run_id", pa.string()), ("model_version", pa.string()), ("themes", pa.list_(THEME_TYPE)),
        ("body", pa.string()), ("events", pa.list_(EVENT_TYPE)), ("declared_language", pa.string()),
    ]
)
FETCH_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()), ("feed_id", pa.string()), ("url", pa.string()),
        ("started_at", pa.timestamp("us")), ("status", pa.int32()), ("outcome", pa.string()),
        ("bytes", pa.int64()), ("duration_ms", pa.float64()), ("entries", pa.int32()), ("bozo", pa.bool_()),
        ("bozo_reason", pa.string()), ("error_kind", pa.string()), ("error", pa.string()),
        ("etag", pa.string()), ("last_modified", pa.string()), ("body_hash", pa.string()),
        ("conditional", pa.bool_()), ("moved_to", pa.string()), ("retry_after_s", pa.float64()),
        ("error_weight", pa.float64()),
    ]
)


# Scores below this are not stored (an article's themes under 5 % carry no information for trends and
# make most classification rows); `articles.model_version` still records that the article was classified.
STORED_SCORE_FLOOR = 0.05


def safe_run_id(run_id: str) -> str:
    """Airflow run ids hold ':' and '+'; keep directory names portable."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id)


def run_dir(staging_dir: Path, run_id: str) -> Path:
    return Path(staging_dir) / safe_run_id(run_id)


def write_parquet_atomic(table: pa.Table, path: Path) -> Path:
    with replaced_atomically(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def articles_table(
    articles: list[Article], predictions: dict[str, Prediction], run_id: str, model_version: str
) -> pa.Table:
    rows = []
    for article in articles:
        prediction = predictions[article.article_id]
        row = dict(vars(article))  # shallow: the fields are plain values (asdict deep-copies, 5x slower)
        row["run_id"], row["model_version"] = run_id, model_version
        row["themes"] = [
            {"theme": theme, "score": score, "label": theme in prediction.labels,
             "evidence": prediction.evidence.get(theme, [])}
            for theme, score in prediction.scores.items()
            if score >= STORED_SCORE_FLOOR or theme in prediction.labels
        ]
        row["events"] = event_rows(prediction.events)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA)


def fetches_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=FETCH_SCHEMA)


def fetch_row(result: FetchResult, run_id: str, entries: int, bozo: bool, bozo_reason: str | None) -> dict:
    return {
        "run_id": run_id, "feed_id": result.feed_id, "url": result.url, "started_at": result.started_at,
        "status": result.status, "outcome": result.outcome, "bytes": len(result.body),
        "duration_ms": result.duration_ms, "entries": entries, "bozo": bozo, "bozo_reason": bozo_reason,
        "error_kind": result.error_kind, "error": result.error, "etag": result.etag,
        "last_modified": result.last_modified, "body_hash": result.body_hash,
        "conditional": result.conditional, "moved_to": result.moved_to, "retry_after_s": result.retry_after_s,
        "error_weight": error_weight(result.error_kind),
    }
