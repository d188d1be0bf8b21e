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


def test_detect_languages_relabels_rows_stored_with_the_declared_language_once(tmp_path, scripted_server):
    """Rows loaded before detection hold the feed's declared language; detection reads them a chunk at a time,
    writes only the changes, and the read path shows them."""
    from conftest import Behaviour

    from pipeline.classify.reclassify import detect_stored_languages
    from pipeline.warehouse.query import run_query

    items = [("r1", "Песков: Кремль готов обсудить перемирие на встрече в Стамбуле",
              "Представитель Кремля сказал, что Москва ждёт ответа Киева на свои условия."),
             ("u1", "Зеленський: Україна готова до припинення вогню в повітрі та на морі",
              "Президент заявив, що Київ чекає на відповідь Москви щодо пропозиції партнерів."),
             ("e1", "Envoys meet in Geneva to discuss a ceasefire on energy sites",
              "Delegations from both sides spent the day on a list of plants and substations."),
             ("r2", "Минфин отчитался о росте доходов бюджета в ноябре",
              "Ненефтегазовые доходы выросли на восемь процентов за месяц, сообщило ведомство.")]
    body = "".join(f"<item><title>{t}</title><link>https://w.example/{g}</link><guid>{g}</guid>"
                   f"<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate><description>{d}</description></item>"
                   for g, t, d in items)
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>W</title>'
            f"<link>https://w.example/</link><description>d</description><language>en</language>{body}"
            "</channel></rss>").encode()
    scripted_server.routes["/wire.xml"] = Behaviour(200, feed)
    settings = make_settings(tmp_path, [FeedSpec("wire", scripted_server.url("/wire.xml"))])
    run_cycle(settings)
    with duckdb.connect(str(settings.warehouse_path)) as con:  # as a load before detection existed left them
        con.execute("UPDATE articles SET language = declared_language")

    first = detect_stored_languages(settings, chunk=3)  # two chunks
    assert first["articles"] == 4 and first["changed"] == 3
    assert first["languages"] == {"ru": 2, "uk": 1, "en": 1}
    _, rows = run_query(settings.home, "SELECT guid, language FROM articles ORDER BY guid")
    assert rows == [("e1", "en"), ("r1", "ru"), ("r2", "ru"), ("u1", "uk")]
    assert detect_stored_languages(settings, chunk=3)["changed"] == 0
