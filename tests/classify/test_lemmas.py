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
