"""themes: the shipped taxonomy is complete, and a broken themes.yaml fails loudly with where it broke."""

from __future__ import annotations

import shutil

import pytest

from pipeline.classify.themes import LANGUAGES, ThemesError, lexicon_spec, load_taxonomy
from pipeline.core.config import REPO_ROOT

MODELS = REPO_ROOT / "models"
DESIGN_IDS = ["sanctions", "ceasefire", "security_guarantees", "negotiations", "military_aid", "territory",
              "neutrality_nato"]


def test_shipped_taxonomy_has_the_design_themes_with_terms_in_three_languages():
    taxonomy = load_taxonomy(MODELS)
    assert [t.id for t in taxonomy.themes] == DESIGN_IDS
    assert [t.id for t in taxonomy.themes if t.core] == DESIGN_IDS[:3]
    for theme in taxonomy.themes:
        assert {language for _, _, language in theme.lexicon.terms} == set(LANGUAGES), theme.id
        assert theme.lexicon.veto, theme.id
    assert {language for _, language in taxonomy.context} == set(LANGUAGES)
    spec = lexicon_spec(taxonomy)
    assert [t["id"] for t in spec["themes"]] == DESIGN_IDS and spec["min_score"] == taxonomy.min_score


def broken_copy(tmp_path, old: str, new: str):
    text = (MODELS / "themes.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "themes.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("en: [sanction*,", "en: [s*,", r"theme 'sanctions': terms\[0\]\.en\[0\] 's\*': stem 's\*' is shorter"),
    ("- weight: 1.0\n          en: [sanction*", "- weight: 3\n          en: [sanction*", r"weight must be a number"),
    ("min_score: 1.0", "min_score: 1.0\nmin_score: 2.0", r"key\(s\) \['min_score'\] given twice"),
    ("  - id: ceasefire\n", "  - id: Ceasefire\n", r"must be lower_snake_case"),
    ("  - id: ceasefire\n", "  - id: sanctions\n", r"duplicate ids \['sanctions'\]"),
    ("context:\n  en:", "context:\n  de:", r"unknown language 'de'"),
    ("en: [sanction*,", "en: [sanction* ~,", r"'~' must stand between two words"),
])
def test_broken_themes_file_names_the_place_and_the_problem(tmp_path, old, new, message):
    with pytest.raises(ThemesError, match=message):
        load_taxonomy(broken_copy(tmp_path, old, new))


def test_missing_themes_file_is_a_clear_error(tmp_path):
    with pytest.raises(ThemesError, match="not found"):
        load_taxonomy(tmp_path)


def test_edited_file_is_reloaded(tmp_path):
    shutil.copy(MODELS / "themes.yaml", tmp_path / "themes.yaml")
    before = load_taxonomy(tmp_path)
    broken_copy(tmp_path, "min_score: 1.0", "min_score: 1.5")
    assert load_taxonomy(tmp_path).min_score == 1.5 != before.min_score
