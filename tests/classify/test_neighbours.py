"""neighbours: the second stage weighs the base probabilities against what the most similar training examples
were labelled; an example is never its own neighbour; the stage survives a skops round trip."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold

from pipeline.classify.model import ThemeClassifier
from pipeline.classify.neighbours import NeighbourStack, top_per_row
from pipeline.core.config import REPO_ROOT

# Written for this test: truce stories about the war (label 1) and trade or sport stories that share their
# words (label 0). Columns: truce, then 'any theme' (the gate, always last).
WAR_TRUCES = [
    "Kyiv and Moscow agree an Easter truce after talks in Istanbul",
    "Russia and Ukraine agree a 30-day truce on energy strikes",
    "Ukraine accepts a US proposal for a ceasefire with Russia after talks in Jeddah",
    "Moscow rejects a full truce but agrees to pause strikes on Ukrainian power plants",
    "Ukraine and Russia accuse each other of breaking the Black Sea truce",
    "Zelensky says Kyiv is ready for a truce if Moscow stops shelling Kharkiv",
    "Putin announces a short truce on the front line in Ukraine for Orthodox Christmas",
    "European leaders urge Russia to accept an unconditional truce with Ukraine",
    "Ukrainian negotiators propose a truce in the air and at sea to Russia",
    "Kremlin says a truce with Ukraine needs guarantees on Western arms deliveries",
    "Russian and Ukrainian delegations discuss a truce at the Zaporizhzhia nuclear plant",
    "Kyiv reports Russian attacks hours after the Ukraine truce began",
]
OTHER_TRUCES = [
    "US and China agree a 90-day tariff truce after talks in Geneva",
    "Washington and Beijing extend their tariff truce for another 90 days",
    "Chinese exporters welcome the tariff truce with the United States",
    "Markets rally as the US-China tariff truce holds after talks",
    "Steel makers say the tariff truce between Washington and Beijing came too late",
    "Football clubs agree a truce over the broadcast rights dispute",
    "Dockworkers and port owners agree a truce in the wage dispute",
    "Soy farmers hope the US-China tariff truce lifts exports",
    "Beijing cuts tariffs on American goods as part of the trade truce",
    "Analysts doubt the US-China tariff truce will survive the summer",
    "Chip makers ask Washington to keep the China tariff truce",
    "Retailers stock up before the US-China tariff truce expires",
]
TEXTS = WAR_TRUCES + OTHER_TRUCES
LABELS = np.array([[1, 1]] * len(WAR_TRUCES) + [[0, 0]] * len(OTHER_TRUCES))
FOLDS = KFold(n_splits=3, shuffle=True, random_state=0)


def fitted(base: np.ndarray | None = None) -> tuple[NeighbourStack, np.ndarray]:
    # A base model that cannot tell the two kinds of story apart: every text looks 70% like a war truce.
    base = np.full(LABELS.shape, 0.7) if base is None else base
    stack = NeighbourStack(neighbours=3, min_df=1)
    return stack, stack.fit_out_of_fold(TEXTS, LABELS, base, FOLDS)


def test_a_near_copy_of_an_off_topic_example_scores_below_a_war_story_the_base_cannot_separate():
    stack, out_of_fold = fitted()
    new = ["Washington and Beijing agree a tariff truce after Geneva talks",
           "Russia and Ukraine agree a truce on strikes against energy sites"]
    trade, war = stack.predict_proba(new, np.full((2, 2), 0.7))
    assert trade[1] < 0.5 < war[1] and trade[0] < 0.5 < war[0]
    # Out of fold, the training rows are told apart the same way.
    assert out_of_fold[:len(WAR_TRUCES), 1].mean() > 0.5 > out_of_fold[len(WAR_TRUCES):, 1].mean()


@pytest.mark.parametrize("k", [1, 3, 8])
def test_top_per_row_equals_a_row_by_row_selection(k):
    import scipy.sparse as sp

    random = np.random.default_rng(k)
    # Rows from empty to far longer than k, one row of equal values, one with zeros stored explicitly.
    matrix = sp.random(60, 400, density=0.08, format="csr", random_state=k, data_rvs=random.random)
    matrix = sp.vstack([matrix, sp.csr_matrix((1, 400)), sp.csr_matrix(np.full((1, 400), 0.5)),
                        sp.csr_matrix((np.array([0.0, 0.2]), np.array([3, 9]), np.array([0, 2])), shape=(1, 400))],
                       format="csr")
    index, value = top_per_row(matrix, k)
    for row in range(matrix.shape[0]):
        dense = matrix[row].toarray().ravel()
        expected = np.sort(dense[dense > 0])[::-1][:k]
        assert np.allclose(np.sort(value[row])[::-1], np.pad(expected, (0, k - len(expected))))
        found = index[row][index[row] >= 0]
        assert len(found) == len(expected) and np.allclose(np.sort(dense[found])[::-1], expected)


def test_a_training_example_is_never_its_own_neighbour():
    stack, _ = fitted()
    index, similarity = stack._top(stack.examples_, exclude_self=True)
    assert not (index == np.arange(len(TEXTS))[:, None]).any()
    # Asked as new text, the same example finds itself first, with similarity 1.
    nearest, nearest_similarity = stack.nearest(TEXTS)
    assert (nearest[:, 0] == np.arange(len(TEXTS))).all() and np.allclose(nearest_similarity[:, 0], 1.0)
    assert (np.diff(nearest_similarity, axis=1) <= 0).all()


def test_text_sharing_no_word_with_training_has_no_neighbours_and_keeps_the_base_view():
    stack, _ = fitted()
    index, similarity = stack.nearest(["Zzyzx qwerty"])
    assert (index == -1).all() and (similarity == 0).all()
    low, high = stack.predict_proba(["Zzyzx qwerty", "Zzyzx qwerty"], np.array([[0.05, 0.05], [0.95, 0.95]]))
    assert low[1] < high[1]


def test_text_the_base_model_puts_below_the_floor_keeps_its_base_probabilities():
    stack = NeighbourStack(neighbours=3, min_df=1, floor=0.3)
    out_of_fold = stack.fit_out_of_fold(TEXTS, LABELS, np.tile([[0.7, 0.7], [0.2, 0.2]], (len(TEXTS) // 2, 1)),
                                        FOLDS)
    assert np.array_equal(out_of_fold[1::2], np.full((len(TEXTS) // 2, 2), 0.2))  # below the floor: untouched
    assert not np.allclose(out_of_fold[::2], 0.7)
    new = ["Washington and Beijing agree a tariff truce", "Kyiv agrees an energy truce with Moscow"]
    base = np.array([[0.9, 0.1], [0.9, 0.8]])
    stacked = stack.predict_proba(new, base)
    assert np.array_equal(stacked[0], base[0]) and not np.allclose(stacked[1], base[1])


def test_tokens_shared_by_the_caller_give_the_same_probabilities():
    stack, _ = fitted()
    new = ["Washington and Beijing agree a tariff truce", "Zzyzx", "Kyiv agrees an energy truce with Moscow"]
    base = np.full((3, 2), 0.6)
    tokens = stack.fast_vectorizer.tokens(new)
    assert np.array_equal(stack.predict_proba(new, base, tokens), stack.predict_proba(new, base))


def test_refitting_on_other_text_forgets_the_previous_examples():
    stack, _ = fitted()
    stack.nearest(TEXTS[:2])  # builds the fast path and the transposed examples of this first fit
    stack.fit_out_of_fold(OTHER_TRUCES + WAR_TRUCES[:6], np.array([[0, 0]] * 12 + [[1, 1]] * 6),
                          np.full((18, 2), 0.7), FOLDS)
    nearest, similarity = stack.nearest(OTHER_TRUCES[:1])
    assert nearest[0, 0] == 0 and np.isclose(similarity[0, 0], 1.0)


def test_labels_and_base_probabilities_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        NeighbourStack().fit_out_of_fold(TEXTS, LABELS, np.full((len(TEXTS), 3), 0.5), FOLDS)


def test_skops_round_trip_gives_the_same_probabilities_and_rebuilds_the_fast_path(tmp_path):
    import skops.io as sio

    stack, _ = fitted()
    new = ["Beijing and Washington agree a tariff truce", "Kyiv agrees an energy truce with Moscow"]
    before = stack.predict_proba(new, np.full((2, 2), 0.6))
    path = tmp_path / "neighbours.skops"
    sio.dump(stack, path)
    reloaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert "_fast" not in vars(reloaded) and "_transposed" not in vars(reloaded)
    assert np.array_equal(reloaded.predict_proba(new, np.full((2, 2), 0.6)), before)


def test_the_shipped_model_has_a_second_stage_built_on_its_training_split():
    classifier = ThemeClassifier.load(REPO_ROOT / "models")
    stack = classifier.stack
    assert isinstance(stack, NeighbourStack) and classifier.card["second_stage"]
    examples = classifier.card["training_data"]["examples"]
    assert stack.examples_.shape[0] == stack.labels_.shape[0] == examples
    assert stack.labels_.shape[1] == len(classifier.themes) + 1 == len(stack.combiners_)
