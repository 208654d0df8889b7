"""Tests for tcc.evaluation.phase_classification against an explicit sklearn SVC computation."""

import numpy as np
import pytest
from sklearn.svm import SVC

from tcc.evaluation import MissingLabelsError, phase_classification


def _phased_videos(seed, num_videos, num_phases=3, dim=4, noise=1.0, unlabelled_frac=0.0):
    """Ragged videos whose embeddings weakly encode the phase; some frames unlabelled."""
    centres = np.random.default_rng(1234).normal(size=(num_phases, dim))  # shared by all splits
    rng = np.random.default_rng(seed)
    embs, labels = [], []
    for _ in range(num_videos):
        length = int(rng.integers(12, 30))
        lab = np.minimum(np.arange(length) * num_phases // length, num_phases - 1)
        embs.append(centres[lab] + noise * rng.normal(size=(length, dim)))
        lab = np.where(rng.random(length) < unlabelled_frac, -1, lab)
        labels.append(lab)
    return embs, labels


def _reference(train_embs, train_labels, val_embs, val_labels, fractions):
    val_x = np.concatenate(val_embs)
    val_y = np.concatenate(val_labels)
    val_x, val_y = val_x[val_y >= 0], val_y[val_y >= 0]
    out = {}
    for f in fractions:
        n = max(1, int(f * len(train_embs)))
        x = np.concatenate(train_embs[:n])
        y = np.concatenate(train_labels[:n])
        x, y = x[y >= 0], y[y >= 0]
        out[f] = SVC(kernel="rbf", C=1.0, gamma="scale").fit(x, y).score(val_x, val_y)
    return out


def test_matches_sklearn_reference_on_random_ragged_data():
    train = _phased_videos(0, num_videos=10, unlabelled_frac=0.2)
    val = _phased_videos(1, num_videos=4, unlabelled_frac=0.2)
    fractions = (0.2, 0.5, 1.0)
    ours = phase_classification(*train, *val, fractions=fractions)
    ref = _reference(*train, *val, fractions)
    assert ours.keys() == ref.keys()
    for f in fractions:
        assert ours[f] == pytest.approx(ref[f], abs=1e-12)
    assert len(set(ours.values())) > 1  # the fractions really train different models


def test_perfectly_separable_phases_give_accuracy_one():
    train = _phased_videos(2, num_videos=6, noise=0.01)
    val = _phased_videos(3, num_videos=3, noise=0.01)
    assert phase_classification(*train, *val) == {0.1: 1.0, 0.5: 1.0, 1.0: 1.0}


def test_single_class_training_subset_predicts_that_class():
    train_embs, train_labels = _phased_videos(4, num_videos=5)
    train_labels[0] = np.zeros_like(train_labels[0])  # first video: phase 0 only
    val_embs, val_labels = _phased_videos(5, num_videos=3)
    result = phase_classification(train_embs, train_labels, val_embs, val_labels, fractions=(0.1,))
    expected = np.mean(np.concatenate(val_labels) == 0)
    assert result[0.1] == pytest.approx(expected)


def test_val_video_missing_a_phase_matches_reference():
    train = _phased_videos(6, num_videos=5)
    val_embs, val_labels = _phased_videos(7, num_videos=3)
    keep = val_labels[1] != 1
    val_embs[1], val_labels[1] = val_embs[1][keep], val_labels[1][keep]
    ours = phase_classification(*train, val_embs, val_labels, fractions=(1.0,))
    ref = _reference(*train, val_embs, val_labels, (1.0,))
    assert ours[1.0] == pytest.approx(ref[1.0])


def test_unlabelled_train_videos_are_not_counted_in_fractions():
    train_embs, train_labels = _phased_videos(8, num_videos=4)
    val = _phased_videos(9, num_videos=2)
    extra_embs = [np.zeros((7, 4))] + train_embs
    with_unlabelled = phase_classification(extra_embs, [None] + train_labels, *val, (0.5,))
    assert with_unlabelled == phase_classification(train_embs, train_labels, *val, (0.5,))


@pytest.mark.parametrize("which", ["train", "val"])
@pytest.mark.parametrize("unlabelled", [None, "minus_one"])
def test_unlabelled_split_raises_missing_labels_error(which, unlabelled):
    embs, labels = _phased_videos(10, num_videos=3)
    missing = None if unlabelled is None else [np.full_like(lab, -1) for lab in labels]
    args = [embs, missing, embs, labels] if which == "train" else [embs, labels, embs, missing]
    with pytest.raises(MissingLabelsError, match=f"no {which} video"):
        phase_classification(*args)


def test_missing_labels_error_is_a_value_error():
    assert issubclass(MissingLabelsError, ValueError)


def test_label_length_mismatch_raises():
    embs, labels = _phased_videos(11, num_videos=2)
    labels[1] = labels[1][:-1]
    with pytest.raises(ValueError, match=r"train_labels\[1\].*Received"):
        phase_classification(embs, labels, embs, labels)


def test_label_count_mismatch_raises():
    embs, labels = _phased_videos(12, num_videos=3)
    with pytest.raises(ValueError, match="one label array per video"):
        phase_classification(embs, labels[:2], embs, labels)


@pytest.mark.parametrize("fraction", [0.0, 1.5])
def test_fraction_outside_unit_interval_raises(fraction):
    embs, labels = _phased_videos(13, num_videos=2)
    with pytest.raises(ValueError, match="fraction"):
        phase_classification(embs, labels, embs, labels, fractions=(fraction,))
