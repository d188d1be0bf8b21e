"""wordngrams: the array-based word 1-2-gram TF-IDF equals the fitted TfidfVectorizer's own transform."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.classify.fastpath.tokens import select_texts
from pipeline.classify.fastpath.wordngrams import WordNgramTfidf
from pipeline.classify.model import ThemeClassifier, article_text
from pipeline.core.config import REPO_ROOT

ODD_TEXTS = ["", "   ", "a b c", "Ceasefire ceasefire CEASEFIRE talks talks", "Café naïve Zelenskyy — Élysée's envoy",
             "Russia's 'shadow fleet' (tankers) / price-cap, 2025-11-26", "перемир'я та санкції проти Росії",
             "truce\u00a0talks\u1680resume\u3000in\tKyiv\n\u0301accent ´ ¨ ΟΔΟΣ ΣΑΣ"]


@pytest.fixture(scope="module")
def texts():
    records = [json.loads(line) for line in (REPO_ROOT / "models" / "training" / "dev.jsonl").open()]
    return [article_text(r["title"], r["summary"]) for r in records]


def assert_same_matrix(ours, reference):
    assert ours.shape == reference.shape
    difference = ours - reference
    assert (abs(difference).max() if difference.nnz else 0.0) < 1e-12
    assert ours.nnz == reference.nnz


@pytest.mark.parametrize("settings", [
    {"ngram_range": (1, 2), "sublinear_tf": True, "strip_accents": "unicode", "min_df": 2, "max_features": 3000},
    {"ngram_range": (1, 1), "sublinear_tf": False, "strip_accents": None},
    {"ngram_range": (2, 2), "sublinear_tf": True, "norm": None, "lowercase": False},
    {"ngram_range": (1, 2), "sublinear_tf": True, "strip_accents": "unicode", "stop_words": "english", "min_df": 2},
    {"ngram_range": (1, 2), "stop_words": ["talks", "the", "of"]},
], ids=["shipped_settings", "unigrams_raw_tf", "pairs_only_unnormalised_case_kept", "neighbour_settings_stop_words",
        "own_stop_word_list"])
def test_matrix_equals_the_vectorizers_transform_on_unseen_text(texts, settings):
    fitted_on, unseen = texts[::2], texts[1::2] + ODD_TEXTS
    vectorizer = TfidfVectorizer(**settings).fit(fitted_on)
    assert_same_matrix(WordNgramTfidf(vectorizer).transform(unseen), vectorizer.transform(unseen))


@pytest.mark.parametrize("settings", [
    {"ngram_range": (1, 2), "strip_accents": "ascii"},
    {"ngram_range": (1, 2), "preprocessor": lambda text: text.replace(" ", "")},
], ids=["ascii_accents_delete_unicode_spaces", "own_preprocessor"])
def test_vectorizers_whose_tokens_may_span_whitespace_are_read_whole_and_still_equal(texts, settings):
    fitted_on, unseen = texts[:300], texts[300:340] + ODD_TEXTS
    vectorizer = TfidfVectorizer(**settings).fit(fitted_on)
    fast = WordNgramTfidf(vectorizer)
    assert not fast.reads_chunks
    assert_same_matrix(fast.transform(unseen), vectorizer.transform(unseen))


def test_repeated_words_and_pairs_are_counted_like_sklearn():
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(["peace talks", "peace talks resume"])
    text = ["peace talks peace talks peace"]
    ours = WordNgramTfidf(vectorizer).transform(text)
    assert_same_matrix(ours, vectorizer.transform(text))
    assert np.count_nonzero(ours.toarray()) == 3  # peace, talks, "peace talks"; "talks peace" is not a feature


def test_selected_texts_give_the_rows_of_those_texts_alone(texts):
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english").fit(texts[:300])
    fast = WordNgramTfidf(vectorizer)
    batch = texts[300:340] + ODD_TEXTS
    rows = np.array([0, 3, 4, 39, len(batch) - 2, len(batch) - 1])
    assert_same_matrix(fast.transform_tokens(select_texts(fast.tokens(batch), rows)),
                       vectorizer.transform([batch[i] for i in rows]))
    assert fast.transform_tokens(select_texts(fast.tokens(batch), np.array([], dtype=int))).shape[0] == 0


def test_no_texts_give_an_empty_matrix(texts):
    vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(texts[:100])
    assert WordNgramTfidf(vectorizer).transform([]).shape == (0, len(vectorizer.vocabulary_))


def test_stop_words_are_dropped_before_pairing_like_sklearn():
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english").fit(["talks on a truce", "a truce holds"])
    text = ["talks on the truce"]
    ours = WordNgramTfidf(vectorizer).transform(text)
    assert_same_matrix(ours, vectorizer.transform(text))
    assert ours[0, vectorizer.vocabulary_["talks truce"]] > 0  # "on the" dropped: the two words become a pair


@pytest.mark.parametrize("settings", [{"analyzer": "char"}, {"ngram_range": (1, 3)}, {"binary": True},
                                      {"use_idf": False}, {"token_pattern": r"(?u)\b\w[\w ]*\w\b"}],
                         ids=["char_analyzer", "word_triples", "binary", "no_idf", "tokens_spanning_spaces"])
def test_settings_it_cannot_reproduce_are_refused(texts, settings):
    vectorizer = TfidfVectorizer(**settings).fit(texts[:100])
    with pytest.raises(ValueError, match="only (word 1-2-grams|token patterns of word characters)"):
        WordNgramTfidf(vectorizer)


def test_the_shipped_classifier_uses_it():
    assert isinstance(ThemeClassifier.load(REPO_ROOT / "models")._fast_words, WordNgramTfidf)
