"""language: Russian, Ukrainian and their Cyrillic neighbours told apart on short headlines; mixed and unknown."""

from __future__ import annotations

import pytest

from pipeline.classify.language import MIXED, UNDETERMINED, base_language, detect_language, detect_languages


@pytest.mark.parametrize(
    "headline,language",
    [("Кремль отверг предложение о тридцатидневном перемирии", "ru"),
     ("Песков: ответ Киеву будет дан по дипломатическим каналам", "ru"),
     ("Зеленський закликав Росію погодитися на енергетичне перемир'я", "uk"),
     ("Коаліція охочих обговорила гарантії безпеки для України", "uk"),
     ("Правителството в София обсъжда новите санкции срещу Русия", "bg"),
     ("Влада Србије усвојила нове мере за подршку привреди", "sr"),
     ("Putin and Zelensky agree to meet in Istanbul next week", "en"),
     ("Die Bundesregierung beschließt neue Sanktionen gegen Russland", "de")],
)
def test_short_headlines_get_their_own_language(headline, language):
    assert detect_language(headline).language == language


def test_transliterated_names_do_not_make_english_text_slavic():
    found = detect_language("Peskov says Ushakov and Dmitriev will brief Witkoff in Moscow",
                            "Kremlin aide Yuri Ushakov told reporters that Kirill Dmitriev had met Steve Witkoff.")
    assert found.language == "en"


def test_a_headline_and_lede_in_different_languages_are_mixed():
    assert detect_language("Zelensky rejects Russian demand to withdraw from Donbas",
                           "Президент заявив, що Україна не виведе війська з Донбасу за жодних умов.").language == MIXED
    assert detect_language("Кремль ответил на вопросы о перемирии",
                           "Зеленський заявив, що Україна чекає відповіді від Москви вже тиждень.").language == MIXED


def test_too_little_text_is_undetermined_not_guessed():
    assert detect_language("F-16", "").language == UNDETERMINED
    assert detect_language("", "").language == UNDETERMINED


def test_a_plausible_declared_language_wins_a_near_tie_but_never_overrules_the_text():
    headline = "Erdogan offers to host talks on Zaporizhzhia and Kherson status"
    assert detect_language(headline, declared="en").language == "en"
    # A feed that declares English but publishes Russian copy: the text decides.
    assert detect_language("Лавров провел переговоры с главой МИД Турции", declared="en-GB").language == "ru"


def test_batch_detection_keeps_order_and_equals_one_at_a_time():
    items = [("Кремль отверг перемирие", "Песков заявил, что условия не выполнены.", None),
             ("Зеленський провів переговори з Макроном", "", "uk"),
             ("EU adopts new sanctions package", "Ministers agreed the 20th round.", None)]
    assert detect_languages(items) == [detect_language(*item) for item in items]
    assert [d.language for d in detect_languages(items)] == ["ru", "uk", "en"]


@pytest.mark.parametrize("tag,base", [("en-GB", "en"), ("uk_UA", "uk"), ("RU", "ru"), ("", None), (None, None)])
def test_declared_tags_reduce_to_their_base_language(tag, base):
    assert base_language(tag) == base


def test_detection_works_in_a_process_forked_after_the_parent_detected():
    # The cycle forks worker processes after the parent may have detected languages (a Rust thread pool
    # started before a fork deadlocks the child): the child must still answer.
    import multiprocessing

    detect_language("Кремль отверг предложение о перемирии")
    with multiprocessing.get_context("fork").Pool(1) as pool:
        found = pool.apply_async(detect_language, ("Зеленський провів переговори з Макроном у Парижі",)).get(timeout=60)
    assert found.language == "uk"


def test_the_ascii_english_shortcut_agrees_with_the_detector_on_the_english_training_texts():
    import json

    from pipeline.classify import language
    from pipeline.core.config import REPO_ROOT

    rows = [json.loads(line) for line in (REPO_ROOT / "models" / "training" / "dev.jsonl").open(encoding="utf-8")]
    items = [(r["title"], r["summary"]) for r in rows if (r["title"] + r["summary"]).isascii()][:1500]
    shortcut = [language.detect_language(title, summary, "en").language for title, summary in items]
    asked = [language._choose(language._ranked(language._detector().compute_language_confidence_values(
        f"{title}. {summary}"[:language.MAX_CHARS])), "en").language for title, summary in items]
    assert set(shortcut) == {"en"}
    assert sum(a == "en" for a in asked) >= 0.995 * len(items)
