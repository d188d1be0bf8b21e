"""charngrams: the chunk-memoised character n-gram TF-IDF equals scikit-learn's char_wb TF-IDF, and saves lean."""

import json

import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.classify.fastpath.charngrams import CharNgramTfidf
from pipeline.classify.model import article_text
from pipeline.core.config import REPO_ROOT


@pytest.fixture(scope="module")
def texts():
    records = [json.loads(line) for line in (REPO_ROOT / "models" / "training" / "dev.jsonl").open()]
    return [article_text(r["title"], r["summary"]) for r in records]


def test_matrix_equals_sklearn_char_wb_tfidf_on_unseen_text(texts):
    fitted_on, unseen = texts[::2], texts[1::2] + ["", "   ", "Ceasefire!! Ceasefire — café, naïve Zelenskyy"]
    ours = CharNgramTfidf(ngram_range=(2, 5), min_df=2, max_features=5000).fit(fitted_on)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=5000,
                                sublinear_tf=True, strip_accents="unicode").fit(fitted_on)
    assert ours.vocabulary_ == reference.vocabulary_
    difference = ours.transform(unseen) - reference.transform(unseen)
    assert ours.transform(unseen).shape == (len(unseen), 5000)
    assert (abs(difference).max() if difference.nnz else 0.0) < 1e-12
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())


def test_chunk_columns_stay_bounded_and_give_the_same_matrix(texts):
    model = CharNgramTfidf(min_df=1).fit(texts[:200])
    expected = model.transform(texts[:50]).toarray()
    model._chunks.limit = 10  # the numbering this transform splits with: it holds more, so starts afresh
    assert np.allclose(model.transform(texts[:50]).toarray(), expected)  # made again from scratch
    assert model._chunks.epoch == 1 and len(model._chunks.strings) > 10
    assert np.allclose(model.transform(texts[:50]).toarray(), expected)
    assert np.allclose(model.transform(texts[:1]).toarray(), expected[:1])
    assert model._chunks.epoch == 3 and len(model._chunks.strings) <= len(texts[0].split())
    assert len(model._chunk_columns(model._chunks)) == len(model._chunks.strings)  # kept only for these


def test_no_texts_give_an_empty_matrix(texts):
    model = CharNgramTfidf().fit(texts[:100])
    assert model.transform([]).shape == (0, model.n_features_out_)


def test_skops_round_trip_drops_the_cache_and_keeps_the_matrix(texts, tmp_path):
    model = CharNgramTfidf().fit(texts[:300])
    expected = model.transform(texts[300:350]).toarray()
    # Filled by transform (asked without calling the cache, which would fill it itself).
    assert hasattr(model, "_chunk_columns") and model._chunks.strings
    sio.dump(model, tmp_path / "chars.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "chars.skops")
    assert "pipeline.classify.fastpath.charngrams.CharNgramTfidf" in untrusted
    loaded = sio.load(tmp_path / "chars.skops", trusted=untrusted)
    assert not hasattr(loaded, "_chunk_columns")
    assert np.allclose(loaded.transform(texts[300:350]).toarray(), expected)


def test_refitting_on_other_text_forgets_the_old_vocabulary(texts):
    model = CharNgramTfidf().fit(texts[:300])
    model.transform(texts[600:650])  # fills the word cache with the first vocabulary's columns
    refitted = model.fit(texts[300:600]).transform(texts[600:650]).toarray()
    fresh = CharNgramTfidf().fit(texts[300:600])
    assert list(model.get_feature_names_out()) == list(fresh.get_feature_names_out())
    assert np.allclose(refitted, fresh.transform(texts[600:650]).toarray())
    assert np.allclose(CharNgramTfidf().fit_transform(texts[300:600]).toarray(),
                       fresh.transform(texts[300:600]).toarray())
