"""reclassify: another version's labels beside the old ones, idempotent, on a real DuckDB warehouse."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import pytest
from conftest import make_settings

from pipeline.classify.model import CARD_FILE, current_version
from pipeline.classify.reclassify import reclassify
from pipeline.core.config import REPO_ROOT
from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle

SECOND = "lexlr-second-opinion"


@pytest.fixture
def two_versions(tmp_path):
    """The shipped model plus the same weights under a second version id (what a retrain would add)."""
    models = tmp_path / "models"
    models.mkdir()
    shipped = current_version(REPO_ROOT / "models")
    shutil.copy(REPO_ROOT / "models" / "themes.yaml", models / "themes.yaml")
    (models / "CURRENT").write_text(shipped + "\n")
    shutil.copytree(REPO_ROOT / "models" / shipped, models / shipped)
    shutil.copytree(REPO_ROOT / "models" / shipped, models / SECOND)
    card = json.loads((models / SECOND / CARD_FILE).read_text())
    (models / SECOND / CARD_FILE).write_text(json.dumps({**card, "model_version": SECOND}))
    return models, shipped


def counts(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("articles", "classifications", "models")}


def test_reclassify_adds_a_version_beside_the_current_labels_once(tmp_path, fixture_server, two_versions):
    models, shipped = two_versions
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")], models_dir=models)
    run_cycle(settings)
    before = counts(settings.warehouse_path)

    outside = reclassify(settings, SECOND, date(2020, 1, 1), date(2020, 12, 31))
    assert outside["articles_in_range"] == 0 and outside["rows_written"] == 0

    first = reclassify(settings, SECOND, date(2026, 1, 1), date(2026, 12, 31))
    after = counts(settings.warehouse_path)
    assert first["articles_classified"] == before["articles"] == first["articles_in_range"]
    assert after["classifications"] == before["classifications"] + 7 * before["articles"]  # all seven scores
    assert after["models"] == 2

    again = reclassify(settings, SECOND, date(2026, 1, 1), date(2026, 12, 31))
    assert again["articles_classified"] == 0 and counts(settings.warehouse_path) == after

    same_as_current = reclassify(settings, shipped, date(2026, 1, 1), date(2026, 12, 31))
    assert same_as_current["articles_classified"] == 0  # the loader already labelled them with it

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT model_version, current_for_articles, articles_covered, agreement, labels_per_theme "
            "FROM model_versions").fetchall()}
        current = con.execute("SELECT count(*) FROM current_classifications WHERE label").fetchone()[0]
        unchanged = con.execute("SELECT count(*) FROM articles WHERE model_version = ?", [shipped]).fetchone()[0]
    assert rows[shipped][:2] == (before["articles"], before["articles"])
    assert rows[SECOND][:3] == (0, before["articles"], 1.0)  # same weights: same labels as the current ones
    assert sum(rows[SECOND][3].values()) == current == sum(first["labels"].values())
    assert unchanged == before["articles"]  # current labels did not move


def test_reclassify_refuses_a_reversed_range_and_an_unknown_version(tmp_path, two_versions):
    models, _ = two_versions
    settings = make_settings(tmp_path, models_dir=models)
    with pytest.raises(ValueError, match="after"):
        reclassify(settings, SECOND, date(2026, 2, 1), date(2026, 1, 1))
    from pipeline.core.errors import ModelError
    with pytest.raises(ModelError, match="not found"):
        reclassify(settings, "no-such-version", date(2026, 1, 1), date(2026, 1, 2))


def test_reclassify_codes_the_events_of_the_new_version_beside_the_old_once(tmp_path, fixture_server, two_versions):
    models, shipped = two_versions
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")], models_dir=models)
    run_cycle(settings)

    def actions_of(version):
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute("SELECT article_id, rank, actor, action, theme, score FROM article_actions "
                               "WHERE model_version = ? ORDER BY ALL", [version]).fetchall()

    loaded = actions_of(shipped)
    assert loaded, "the loader codes events for the themed fixture articles"
    counts = reclassify(settings, SECOND, date(2026, 1, 1), date(2026, 12, 31))
    assert counts["actions_written"] == len(loaded)
    assert [r[1:] for r in actions_of(SECOND)] == [r[1:] for r in loaded]  # same weights, same events
    assert actions_of(shipped) == loaded  # the current version's events are kept
    reclassify(settings, SECOND, date(2026, 1, 1), date(2026, 12, 31))
    assert len(actions_of(SECOND)) == len(loaded)  # a second run writes nothing twice
