"""lemmas: inflected Russian and Ukrainian words meet in one dictionary form; Latin words stay as written."""

from __future__ import annotations

from pipeline.classify.lemmas import dictionaries, lemmatize_text


def test_case_forms_of_one_russian_word_share_a_lemma():
    forms = ["перемирие", "перемирия", "перемирии", "перемирием"]
    assert {lemmatize_text(form) for form in forms} == {"перемирие"}


def test_case_forms_of_one_ukrainian_word_share_a_lemma():
    assert {lemmatize_text(form) for form in ("санкції", "санкцій", "санкціями")} == {"санкція"}


def test_latin_words_and_numbers_stay_as_written_in_lower_case():
    assert lemmatize_text("Поставки F-16 и ATACMS") .split()[-3:] == ["f-16", "и", "atacms"]


def test_the_ukrainian_apostrophe_is_read_the_same_in_all_its_spellings():
    assert lemmatize_text("перемир’я") == lemmatize_text("перемирʼя") == lemmatize_text("перемир'я")


def test_letters_only_one_language_uses_choose_its_dictionary():
    assert dictionaries("гарантії безпеки") == ("uk",)
    assert dictionaries("объявлено перемирие") == ("ru",)
    assert dictionaries("переговоры") == ("ru",)  # ы: Russian only
    assert dictionaries("мирний план") == ("ru", "uk")  # no letter decides


def test_word_by_word_lemmatizing_equals_a_plain_regex_substitution_on_every_cyrillic_example():
    """lemmatize_text splits once and remembers lemmas per word; the plain definition substitutes every word."""
    import json
    import re

    from pipeline.classify.lemmas import _APOSTROPHES, lemma
    from pipeline.core.config import REPO_ROOT

    word = re.compile(r"[\w'’ʼ-]+")

    def plain(text: str) -> str:
        text = text.lower().translate(_APOSTROPHES)
        languages = dictionaries(text)
        return word.sub(lambda m: lemma(m.group(0), languages) if re.search("[\u0400-\u04ff]", m.group(0))
                        else m.group(0), text)

    texts = ["", "НАТО's F-16 — «мир»!\nУкраїна’s ʼ ' -", "Київ-Москва: не-а"]
    for name in ("dev_ru.jsonl", "dev_uk.jsonl"):
        for line in (REPO_ROOT / "models" / "training" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.append(f"{record['title']}. {record['summary']}")
    for text in texts * 2:  # the second pass reads remembered lemmas
        assert lemmatize_text(text) == plain(text)
