"""Tests for tcc.evaluation.few_shot against explicit episodes with sklearn and scipy."""

import numpy as np
import pytest
from scipy import stats
from sklearn.svm import SVC

from tcc.evaluation import MissingLabelsError, few_shot_classification


def _videos(seed, num_videos, noise=1.0, dim=3, num_phases=3):
    """Ragged videos whose embeddings encode the phase with noise."""
    centres = np.random.default_rng(77).normal(size=(num_phases, dim))
    rng = np.random.default_rng(seed)
    embs, labels = [], []
    for _ in range(num_videos):
        length = int(rng.integers(8, 20))
        lab = np.minimum(np.arange(length) * num_phases // length, num_phases - 1)
        embs.append(centres[lab] + noise * rng.normal(size=(length, dim)))
        labels.append(lab)
    return embs, labels


def _reference(train, val, ks, episodes, seed):
    """Explicit episodes: the documented draws, a fresh SVC each time, a t-interval."""
    (train_embs, train_labels), (val_embs, val_labels) = train, val
    val_x, val_y = np.concatenate(val_embs), np.concatenate(val_labels)
    out = {}
    for k in ks:
        rng = np.random.default_rng([seed, k])
        accs = []
        for _ in range(episodes):
            chosen = np.sort(rng.choice(len(train_embs), size=k, replace=False))
            x = np.concatenate([train_embs[i] for i in chosen])
            y = np.concatenate([train_labels[i] for i in chosen])
            accs.append(SVC().fit(x, y).score(val_x, val_y))
        low, high = stats.t.interval(0.95, episodes - 1, loc=np.mean(accs), scale=stats.sem(accs))
        out[k] = (np.mean(accs), (high - low) / 2)
    return out


def test_matches_explicit_episodes_on_ragged_data():
    train, val = _videos(0, 6), _videos(1, 3)
    ours = few_shot_classification(*train, *val, num_labeled=(1, 2, 4), episodes=6, seed=3)
    ref = _reference(train, val, (1, 2, 4), episodes=6, seed=3)
    assert list(ours) == [1, 2, 4]
    for k in ref:
        np.testing.assert_allclose(ours[k], ref[k], atol=1e-12)
    assert all(ci > 0 for _, ci in ours.values())  # the episodes really differ


def test_same_seed_is_reproducible_and_different_seeds_differ():
    train, val = _videos(2, 8), _videos(3, 3)
    run = lambda seed: few_shot_classification(*train, *val, (1, 2), episodes=5, seed=seed)
    assert run(0) == run(0)
    assert run(0) != run(1)


def test_result_for_k_does_not_depend_on_other_requested_k():
    train, val = _videos(4, 6), _videos(5, 2)
    alone = few_shot_classification(*train, *val, num_labeled=(2,), episodes=4)
    together = few_shot_classification(*train, *val, num_labeled=(1, 2, 3), episodes=4)
    assert alone[2] == together[2]


def test_k_above_number_of_labelled_videos_is_skipped(caplog):
    train, val = _videos(6, 3), _videos(7, 2)
    train[1][2] = np.full_like(train[1][2], -1)  # only 2 labelled training videos remain
    result = few_shot_classification(*train, *val, num_labeled=(1, 2, 3), episodes=3)
    assert list(result) == [1, 2]
    assert "skipping k=3" in caplog.text


def test_all_videos_drawn_gives_zero_interval():
    train, val = _videos(8, 3), _videos(9, 2)
    mean, ci = few_shot_classification(*train, *val, num_labeled=(3,), episodes=5)[3]
    assert ci == pytest.approx(0.0, abs=1e-12) and 0.0 <= mean <= 1.0


def test_separable_phases_give_accuracy_one():
    train, val = _videos(10, 5, noise=0.01), _videos(11, 2, noise=0.01)
    result = few_shot_classification(*train, *val, num_labeled=(1, 3), episodes=4)
    assert result == {1: (1.0, 0.0), 3: (1.0, 0.0)}


def test_single_episode_has_nan_interval():
    train, val = _videos(12, 4), _videos(13, 2)
    mean, ci = few_shot_classification(*train, *val, num_labeled=(1,), episodes=1)[1]
    assert np.isnan(ci) and 0.0 <= mean <= 1.0


def test_unlabelled_train_raises_missing_labels_error():
    train, val = _videos(14, 3), _videos(15, 2)
    with pytest.raises(MissingLabelsError, match="no train video"):
        few_shot_classification(train[0], None, *val)


@pytest.mark.parametrize("kwargs", [{"episodes": 0}, {"num_labeled": (0, 1)}])
def test_non_positive_counts_raise(kwargs):
    train, val = _videos(16, 3), _videos(17, 2)
    with pytest.raises(ValueError, match="Received"):
        few_shot_classification(*train, *val, **kwargs)
