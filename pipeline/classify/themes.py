"""The theme taxonomy and its lexicon (models/themes.yaml), validated on load.

Every problem is reported with where it is (`theme 'ceasefire': terms[0].uk[3]`) so a lexicon edit that
breaks the file fails loudly at load time, not as a silently weaker classifier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.classify.lexicon import parse_pattern
from pipeline.core.errors import NewsmonError

THEMES_FILE = "themes.yaml"
LANGUAGES = ("en", "ru", "uk")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ThemesError(NewsmonError):
    """models/themes.yaml is missing or invalid."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (plain YAML keeps the last one silently,
    which would drop a whole language's word list without a word)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
        if repeated:
            raise yaml.constructor.ConstructorError(None, None, f"key(s) {repeated} given twice", node.start_mark)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class ThemeLexicon:
    terms: tuple[tuple[str, float, str], ...]  # (pattern, weight, language)
    anchored: tuple[tuple[str, str], ...]  # (pattern, language)
    veto: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    core: bool
    description: str
    lexicon: ThemeLexicon


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    context: tuple[tuple[str, str], ...]
    elsewhere: tuple[tuple[str, str], ...]
    min_score: float
    sha256: str


def _fail(path: Path, where: str, message: str) -> None:
    raise ThemesError(f"themes: {path}: {where}: {message}")


def _patterns(path: Path, where: str, block, allow_missing=True) -> list[tuple[str, str]]:
    """{en: [...], ru: [...], uk: [...]} -> [(pattern, language)], each pattern parsed once to validate it."""
    if block is None and allow_missing:
        return []
    if not isinstance(block, dict) or not block:
        _fail(path, where, f"expected a mapping of languages {list(LANGUAGES)} to lists of patterns")
    out = []
    for language, patterns in block.items():
        if language not in LANGUAGES:
            _fail(path, where, f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
        if not isinstance(patterns, list) or not patterns:
            _fail(path, f"{where}.{language}", "expected a non-empty list of patterns")
        for i, pattern in enumerate(patterns):
            try:
                parse_pattern(pattern)
            except ValueError as exc:
                _fail(path, f"{where}.{language}[{i}] {pattern!r}", str(exc))
            out.append((pattern, language))
    return out


def _theme(path: Path, i: int, raw) -> Theme:
    where = f"themes[{i}]"
    if not isinstance(raw, dict):
        _fail(path, where, "expected a mapping")
    for key in ("id", "name", "description", "lexicon"):
        if key not in raw:
            _fail(path, where, f"missing {key!r}")
    theme_id = raw["id"]
    if not isinstance(theme_id, str) or not _ID.match(theme_id):
        _fail(path, where, f"id {theme_id!r} must be lower_snake_case")
    where = f"theme {theme_id!r}"
    lexicon = raw["lexicon"]
    if not isinstance(lexicon, dict) or not isinstance(lexicon.get("terms"), list) or not lexicon["terms"]:
        _fail(path, where, "lexicon needs a non-empty 'terms' list of weighted groups")
    unknown = set(lexicon) - {"terms", "anchored", "veto"}
    if unknown:
        _fail(path, where, f"unknown lexicon keys {sorted(unknown)}")
    terms: list[tuple[str, float, str]] = []
    for g, group in enumerate(lexicon["terms"]):
        if not isinstance(group, dict) or "weight" not in group:
            _fail(path, f"{where}: terms[{g}]", "each group needs a 'weight' and language lists")
        weight = group["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 2:
            _fail(path, f"{where}: terms[{g}]", f"weight must be a number in (0, 2], got {weight!r}")
        languages = {k: v for k, v in group.items() if k != "weight"}
        terms += [(p, float(weight), lang)
                  for p, lang in _patterns(path, f"{where}: terms[{g}]", languages, allow_missing=False)]
    anchored = _patterns(path, f"{where}: anchored", lexicon.get("anchored"))
    veto = _patterns(path, f"{where}: veto", lexicon.get("veto"))
    # The same word may serve two languages (санкц* is Russian and Ukrainian) but must mean one thing.
    seen: dict[tuple, tuple[str, float]] = {}
    for pattern, weight, language in terms + [(p, 1.0, lang) for p, lang in anchored]:
        key = parse_pattern(pattern)
        if key in seen:
            first_language, first_weight = seen[key]
            if first_weight != weight:
                _fail(path, where, f"pattern {pattern!r} is listed with weights {first_weight} and {weight}")
            if first_language == language:
                _fail(path, where, f"pattern {pattern!r} is listed twice for {language!r}")
        seen[key] = (language, weight)
    return Theme(id=theme_id, name=str(raw["name"]), core=bool(raw.get("core", False)),
                 description=str(raw["description"]).strip(),
                 lexicon=ThemeLexicon(tuple(terms), tuple(anchored), tuple(veto)))


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Taxonomy:
    try:
        raw_bytes = path.read_bytes()
        data = yaml.load(raw_bytes.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise ThemesError(f"themes: {path} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ThemesError(f"themes: {path}: not valid YAML: {exc}") from None
    unknown = set(data) - {"min_score", "context", "elsewhere", "themes"} if isinstance(data, dict) else set()
    if unknown:
        _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    if not isinstance(data, dict) or not isinstance(data.get("themes"), list) or not data["themes"]:
        _fail(path, "top level", "expected 'themes' (a non-empty list) and 'context'")
    themes = tuple(_theme(path, i, raw) for i, raw in enumerate(data["themes"]))
    ids = [t.id for t in themes]
    if len(set(ids)) != len(ids):
        _fail(path, "themes", f"duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    context = _patterns(path, "context", data.get("context"), allow_missing=False)
    elsewhere = _patterns(path, "elsewhere", data.get("elsewhere"))
    min_score = data.get("min_score", 1.0)
    if isinstance(min_score, bool) or not isinstance(min_score, int | float) or min_score <= 0:
        _fail(path, "min_score", f"must be a positive number, got {min_score!r}")
    return Taxonomy(themes, tuple(context), tuple(elsewhere), float(min_score), hashlib.sha256(raw_bytes).hexdigest())


def load_taxonomy(models_dir: Path) -> Taxonomy:
    path = (Path(models_dir) / THEMES_FILE).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ThemesError(f"themes: {path} not found") from None
    return _load(path, mtime)


def load_themes(models_dir: Path) -> tuple[Theme, ...]:
    return load_taxonomy(models_dir).themes


def theme_ids(models_dir: Path) -> list[str]:
    return [t.id for t in load_themes(models_dir)]


def lexicon_spec(taxonomy: Taxonomy) -> dict:
    """Plain data for pipeline.classify.lexicon.Lexicon and for storing inside a model artifact."""
    return {
        "min_score": taxonomy.min_score,
        "context": [p for p, _ in taxonomy.context],
        "elsewhere": [p for p, _ in taxonomy.elsewhere],
        "themes": [
            {"id": t.id,
             "terms": [[p, w] for p, w, _ in t.lexicon.terms],
             "anchored": [p for p, _ in t.lexicon.anchored],
             "veto": [p for p, _ in t.lexicon.veto]}
            for t in taxonomy.themes
        ],
    }
