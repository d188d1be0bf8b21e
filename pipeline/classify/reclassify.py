"""Label stored articles with another model version, beside the labels they already have.

Nothing is overwritten: `classifications` is keyed by (article, model version, theme), so a new version's
rows sit next to the old ones and `articles.model_version` (the current labels) does not move. The whole
run is one transaction, and a second run over the same range finds nothing left to do.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from pipeline.classify.events import event_rows
from pipeline.classify.model import ThemeClassifier, article_text
from pipeline.core.config import Settings
from pipeline.core.progress import Progress, silent
from pipeline.core.transactions import transaction
from pipeline.warehouse.load import register_model
from pipeline.warehouse.readpath import refresh
from pipeline.warehouse.store import open_warehouse

log = logging.getLogger("newsmon.reclassify")

RECLASSIFY_CHUNK = 5000

# Articles published in [start, end) that this version has not labelled in their present wording. Articles
# whose current labels come from this very version were labelled at load time and are left alone.
_TODO_SQL = """
SELECT a.article_id, a.title, a.summary, a.content_hash
FROM articles a
WHERE a.published_at >= $start AND a.published_at < $end
  AND a.model_version IS DISTINCT FROM $version
  AND NOT EXISTS (SELECT 1 FROM classifications c
                  WHERE c.article_id = a.article_id AND c.model_version = $version
                    AND c.content_hash = a.content_hash)
ORDER BY a.article_id
"""

ROWS_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("model_version", pa.string()), ("theme", pa.string()),
    ("score", pa.float64()), ("label", pa.bool_()), ("evidence", pa.list_(pa.string())),
    ("content_hash", pa.string()), ("classified_at", pa.timestamp("us")),
])
ACTION_ROWS_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("model_version", pa.string()), ("rank", pa.int32()), ("actor", pa.string()),
    ("action", pa.string()), ("theme", pa.string()), ("score", pa.float64()),
    ("actor_evidence", pa.list_(pa.string())), ("action_evidence", pa.list_(pa.string())),
    ("content_hash", pa.string()), ("classified_at", pa.timestamp("us")),
])


def reclassify(settings: Settings, version: str, date_from: date, date_to: date,
               chunk: int = RECLASSIFY_CHUNK, now: datetime | None = None, progress: Progress = silent) -> dict:
    """Classify the articles published from `date_from` to `date_to` (inclusive, UTC days) with `version`.

    Every theme's score is stored for each article (not only those above the loader's floor), so the
    `model_versions` view can count exactly which articles a version covered. Returns counts.
    """
    if date_from > date_to:
        raise ValueError(f"reclassify: --from {date_from} is after --to {date_to}")
    classifier = ThemeClassifier.load(settings.models_dir, version)
    classified_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    start = datetime.combine(date_from, datetime.min.time())
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time())
    counts = {"model_version": classifier.version, "from": str(date_from), "to": str(date_to),
              "articles_classified": 0, "rows_written": 0, "labels": dict.fromkeys(classifier.themes, 0)}
    with open_warehouse(settings.warehouse_path) as con:
        counts["articles_in_range"] = con.execute(
            "SELECT count(*) FROM articles WHERE published_at >= ? AND published_at < ?", [start, end]
        ).fetchone()[0]
        reader = con.cursor()  # streams the work list while `con` writes: memory stays at one chunk
        try:
            with transaction(con):
                register_model(con, classifier.card)
                params = {"start": start, "end": end, "version": classifier.version}
                todo = con.execute(f"SELECT count(*) FROM ({_TODO_SQL})", params).fetchall()[0][0]
                progress("reclassify (articles)", 0, todo)
                batches = reader.sql(_TODO_SQL, params=params).to_arrow_reader(chunk)
                for batch in batches:
                    _write_chunk(con, classifier, batch.to_pylist(), classified_at, counts)
                    progress("reclassify (articles)", counts["articles_classified"], todo)
        finally:
            reader.close()
        counts |= refresh(con, settings.home)
    log.info("reclassified", extra={"model_version": classifier.version, "articles": counts["articles_classified"]})
    return counts


def _write_chunk(con, classifier: ThemeClassifier, articles: list[dict], classified_at: datetime,
                 counts: dict) -> None:
    predictions = classifier.predict([article_text(a["title"], a["summary"]) for a in articles])
    rows, actions = [], []
    for article, prediction in zip(articles, predictions, strict=True):
        for event in event_rows(prediction.events):
            actions.append({"article_id": article["article_id"], "model_version": classifier.version, **event,
                            "content_hash": article["content_hash"], "classified_at": classified_at})
        for theme, score in prediction.scores.items():
            labelled = theme in prediction.labels
            counts["labels"][theme] += labelled
            rows.append({"article_id": article["article_id"], "model_version": classifier.version, "theme": theme,
                         "score": score, "label": labelled, "evidence": prediction.evidence.get(theme, []),
                         "content_hash": article["content_hash"], "classified_at": classified_at})
    table = pa.Table.from_pylist(rows, schema=ROWS_SCHEMA)
    con.register("reclassified_rows", table)
    con.register("reclassified_actions", pa.Table.from_pylist(actions, schema=ACTION_ROWS_SCHEMA))
    try:
        for table in ("classifications", "article_actions"):  # the read path's days: those replaced, then today
            con.execute(f"INSERT INTO read_pending SELECT DISTINCT '{table}', CAST(classified_at AS DATE) FROM {table} "
                        "WHERE model_version = ? AND article_id IN (SELECT article_id FROM reclassified_rows) "
                        "UNION SELECT ?, CAST(? AS DATE)", [classifier.version, table, classified_at])
        # Rows of this version for an older wording of the article are replaced, never duplicated.
        con.execute("DELETE FROM classifications WHERE model_version = ? AND article_id IN "
                    "(SELECT DISTINCT article_id FROM reclassified_rows)", [classifier.version])
        con.execute("INSERT INTO classifications SELECT article_id, model_version, theme, score, label, evidence, "
                    "content_hash, classified_at FROM reclassified_rows")
        con.execute("DELETE FROM article_actions WHERE model_version = ? AND article_id IN "
                    "(SELECT DISTINCT article_id FROM reclassified_rows)", [classifier.version])
        con.execute("INSERT INTO article_actions SELECT article_id, model_version, rank, actor, action, theme, score, "
                    "actor_evidence, action_evidence, content_hash, classified_at FROM reclassified_actions")
        counts["actions_written"] = counts.get("actions_written", 0) + len(actions)
    finally:
        con.unregister("reclassified_rows")
        con.unregister("reclassified_actions")
    counts["articles_classified"] += len(articles)
    counts["rows_written"] += len(rows)


def detect_stored_languages(settings: Settings, chunk: int = RECLASSIFY_CHUNK, progress: Progress = silent) -> dict:
    """Detect the language of every stored article again (rows loaded before detection existed hold the
    declared language). One transaction; only rows whose language changes are written, so a second run
    writes nothing."""
    from pipeline.classify.language import detect_languages

    counts: dict = {"articles": 0, "changed": 0, "languages": {}}
    with open_warehouse(settings.warehouse_path) as con:
        total = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        rows = con.execute("SELECT article_id, title, summary, declared_language, language FROM articles "
                           "ORDER BY article_id")  # read a chunk at a time: memory stays at one chunk
        changes = []
        progress("detect languages (articles)", 0, total)
        while part := rows.fetchmany(chunk):
            found = detect_languages([(title, summary, declared) for _, title, summary, declared, _ in part])
            for (article_id, *_, old), detected in zip(part, found, strict=True):
                counts["languages"][detected.language] = counts["languages"].get(detected.language, 0) + 1
                if detected.language != old:
                    changes.append({"article_id": article_id, "language": detected.language})
            counts["articles"] += len(part)
            progress("detect languages (articles)", counts["articles"], total)
        counts["changed"] = len(changes)
        if changes:
            con.register("detected_languages", pa.Table.from_pylist(
                changes, schema=pa.schema([("article_id", pa.string()), ("language", pa.string())])))
            try:
                with transaction(con):
                    con.execute("INSERT INTO read_pending SELECT DISTINCT 'articles', CAST(published_at AS DATE) "
                                "FROM articles SEMI JOIN detected_languages USING (article_id)")
                    con.execute("UPDATE articles SET language = d.language FROM detected_languages d "
                                "WHERE articles.article_id = d.article_id")
            finally:
                con.unregister("detected_languages")
            counts |= refresh(con, settings.home)
    log.info("languages detected", extra={"articles": counts["articles"], "changed": counts["changed"]})
    return counts
