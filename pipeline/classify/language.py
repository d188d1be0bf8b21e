"""Which language an article is written in, detected from its own words (lingua, which ships its models).

A feed's declared language is a hint, not a fact: wire feeds mix copy in several languages and many
declare none. The rules:
- fewer than MIN_LETTERS letters, or no language confident enough -> "und" (undetermined);
- a headline and a lede that are each long enough and confidently in two different languages -> "mixed"
  (checked only when their scripts or their language-specific letters disagree: Latin against Cyrillic,
  Ukrainian і/ї/є/ґ against Russian ы/э/ъ/ё);
- otherwise the language of headline and lede together, when it is at least CONFIDENT and LEAD times the
  runner-up. A declared language the detector finds plausible wins a near-tie: short English headlines
  full of names read as Dutch or French to character statistics.
Shortcut: text in ASCII alone from a feed that declares English is English without asking the detector (ten
times the speed; on the English training texts the detector agrees on 99.9 %, and where it does not it is
wrong: "Volkswagen to close plant in Dresden" is not German). Its confidence is recorded as 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MIXED = "mixed"
UNDETERMINED = "und"
MIN_LETTERS = 12  # fewer letters than this say nothing reliable about a language
MIXED_PART_LETTERS = 20  # each part of a "mixed" article must be at least this long on its own
CONFIDENT = 0.3  # the detector's relative confidence needed to name a language (its values sum to 1 over LANGUAGES)
LEAD = 1.5  # ...and how far ahead of the runner-up it must be
PLAUSIBLE = 0.15  # a declared language at least this likely wins over the detector's first choice
MAX_CHARS = 300  # the first 300 characters tell the language as well as the whole text, at a fraction of the cost

# The languages newsmon tells apart: the three it classifies, the Cyrillic languages it must not mistake for
# them, and the commonest languages of news feeds (so a German feed is German, not undetermined English).
LANGUAGES = ("en", "ru", "uk", "be", "bg", "sr", "mk", "de", "fr", "es", "pt", "it", "nl", "pl", "cs",
             "ro", "tr", "ar", "zh", "ja")
_LETTER = re.compile(r"[^\W\d_]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")


@dataclass(frozen=True)
class Detected:
    language: str  # ISO 639-1 code, "mixed" or "und"
    confidence: float  # the detector's confidence in that language (0 for "mixed" and "und")


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_preloaded_language_models().build()


def letters(text: str) -> int:
    return len(_LETTER.findall(text))


def base_language(tag: str | None) -> str | None:
    """'en-GB', 'uk_UA', 'RU' -> 'en', 'uk', 'ru'; None or '' -> None."""
    if not tag:
        return None
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower() or None


def _ranked(values) -> list[tuple[str, float]]:
    return [(value.language.iso_code_639_1.name.lower(), value.value) for value in values]


def _choose(ranked: list[tuple[str, float]], declared: str | None) -> Detected:
    if not ranked:
        return Detected(UNDETERMINED, 0.0)
    if declared:
        for language, value in ranked:
            if language == declared and value >= PLAUSIBLE:
                return Detected(declared, round(value, 4))
    best, value = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if value < CONFIDENT or value < LEAD * runner_up:
        return Detected(UNDETERMINED, 0.0)
    return Detected(best, round(value, 4))


def is_cyrillic(text: str) -> bool:
    """More Cyrillic than Latin letters (names like NATO or F-16 stay Latin in Russian and Ukrainian copy)."""
    if text.isascii() or not _CYRILLIC.search(text):
        return False
    return len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text))


def letter_language(text: str) -> str | None:
    """'uk' or 'ru' when the text has letters only that one of the two uses (і ї є ґ against ы э ъ ё)."""
    uk, ru = bool(_UKRAINIAN_ONLY.search(text)), bool(_RUSSIAN_ONLY.search(text))
    return None if uk == ru else "uk" if uk else "ru"


def _signature(text: str) -> str:
    """A cheap fingerprint of the language family a text's letters allow."""
    if is_cyrillic(text):
        return letter_language(text) or "cyrillic"
    return "latin"


def may_be_mixed(title: str, summary: str) -> bool:
    """Headline and lede long enough, with letters that cannot belong to one language."""
    if letters(title) < MIXED_PART_LETTERS or letters(summary) < MIXED_PART_LETTERS:
        return False
    first, second = _signature(title), _signature(summary)
    if first == second:
        return False
    return {first, second} != {"cyrillic", "uk"} and {first, second} != {"cyrillic", "ru"}


def detect_languages(items: Sequence[tuple[str, str, str | None]]) -> list[Detected]:
    """(title, summary, declared language) per article -> its detected language, in order."""
    detector = _detector()
    results: list[Detected | None] = [None] * len(items)
    whole_texts, whole_at = [], []
    for i, (title, summary, declared) in enumerate(items):
        title, summary = title or "", summary or ""
        text = f"{title}. {summary}" if title and summary else title or summary
        if letters(text) < MIN_LETTERS:
            results[i] = Detected(UNDETERMINED, 0.0)
        elif text.isascii() and base_language(declared) == "en":
            results[i] = Detected("en", 1.0)
        elif may_be_mixed(title, summary):
            parts = [_choose(_ranked(detector.compute_language_confidence_values(part[:MAX_CHARS])),
                             base_language(declared)) for part in (title, summary)]
            if parts[0].language != parts[1].language and UNDETERMINED not in (parts[0].language, parts[1].language):
                results[i] = Detected(MIXED, 0.0)
        if results[i] is None:
            whole_texts.append(text[:MAX_CHARS])
            whole_at.append(i)
    # One text at a time: lingua's batch call runs a Rust thread pool, which deadlocks in a process forked
    # after it started (the cycle's worker processes, Airflow's task runners).
    for i, text in zip(whole_at, whole_texts, strict=True):
        results[i] = _choose(_ranked(detector.compute_language_confidence_values(text)), base_language(items[i][2]))
    return results


def detect_language(title: str, summary: str = "", declared: str | None = None) -> Detected:
    """The language of one headline and its lede (see the module docstring for the rules)."""
    return detect_languages([(title, summary, declared)])[0]
