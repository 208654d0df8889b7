"""Tests for tcc.evaluation.phase_progression against explicit per-frame loops and sklearn."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from tcc.evaluation import MissingLabelsError, phase_progression, phase_progression_per_boundary
from tcc.evaluation.phase_progression import progression_targets

NUM_PHASES = 4


def _videos(seed, num_videos, dim=5, unlabelled_frac=0.1):
    """Ragged videos with random phase boundaries; embeddings = noisy features of progress."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(99).normal(size=(NUM_PHASES, dim))
    embs, labels = [], []
    for _ in range(num_videos):
        length = int(rng.integers(20, 45))
        starts = np.sort(rng.choice(np.arange(1, length), NUM_PHASES - 1, replace=False))
        lab = np.searchsorted(starts, np.arange(length), side="right")
        feats = np.stack([np.arange(length) / length] + [lab == p for p in range(1, NUM_PHASES)])
        embs.append(feats.T @ mixing + 0.3 * rng.normal(size=(length, dim)))
        labels.append(np.where(rng.random(length) < unlabelled_frac, -1, lab))
    return embs, labels


def _reference_targets(embs, labels, c):
    """Loops over videos and frames: (t - last frame of phase c) / T, labelled frames only."""
    xs, ys = [], []
    for video, lab in zip(embs, labels, strict=True):
        if not np.any(lab == c):
            continue
        last = max(t for t in range(len(lab)) if lab[t] == c)
        for t in range(len(lab)):
            if lab[t] != -1:
                xs.append(video[t])
                ys.append((t - last) / len(lab))
    return np.array(xs), np.array(ys)


def _reference(train, val):
    scores = {}
    for c in range(NUM_PHASES - 1):
        x, y = _reference_targets(*train, c)
        vx, vy = _reference_targets(*val, c)
        if len(x) and len(vx) >= 2:
            scores[c] = r2_score(vy, LinearRegression().fit(x, y).predict(vx))
    return scores


def _drop_phase(embs, labels, video, phase):
    keep = labels[video] != phase
    embs[video], labels[video] = embs[video][keep], labels[video][keep]


def test_matches_reference_on_ragged_data_with_missing_phases():
    train, val = _videos(0, 8), _videos(1, 4)
    _drop_phase(*train, video=2, phase=1)
    _drop_phase(*val, video=0, phase=2)
    ours = phase_progression_per_boundary(*train, *val)
    ref = _reference(train, val)
    assert ours.keys() == ref.keys() == {0, 1, 2}
    for c in ref:
        assert ours[c] == pytest.approx(ref[c], abs=1e-9)
    assert phase_progression(*train, *val) == pytest.approx(np.mean(list(ref.values())))


def test_normalised_time_embeddings_give_r2_close_to_one():
    def videos(lengths):
        embs = [np.linspace(0.0, 1.0, n, endpoint=False)[:, None] for n in lengths]
        labels = [np.minimum(np.arange(n) * NUM_PHASES // n, NUM_PHASES - 1) for n in lengths]
        return embs, labels

    assert phase_progression(*videos([40, 60, 80]), *videos([50, 70])) > 0.99


def test_targets_of_a_hand_made_video():
    targets, mask = progression_targets(np.array([0, 0, 1, 1, 1, 2]), num_phases=3)
    t = np.arange(6)
    np.testing.assert_allclose(targets, np.stack([(t - 1) / 6, (t - 4) / 6], axis=1))
    assert mask.all()


def test_targets_mask_boundary_of_a_missing_phase_and_unlabelled_frames():
    _, mask = progression_targets(np.array([0, 0, -1, 2, 2, 3]), num_phases=4)
    np.testing.assert_array_equal(mask[:, 1], np.zeros(6, dtype=bool))  # phase 1 absent
    np.testing.assert_array_equal(mask[:, 0], [True, True, False, True, True, True])


def test_boundary_absent_from_all_val_videos_is_skipped():
    train, (val_embs, val_labels) = _videos(2, 6), _videos(3, 3)
    for i in range(3):
        _drop_phase(val_embs, val_labels, video=i, phase=2)
    assert set(phase_progression_per_boundary(*train, val_embs, val_labels)) == {0, 1}


@pytest.mark.parametrize("unlabelled", [None, "minus_one"])
def test_unlabelled_data_raises_missing_labels_error(unlabelled):
    embs, labels = _videos(4, 3)
    missing = None if unlabelled is None else [np.full_like(lab, -1) for lab in labels]
    with pytest.raises(MissingLabelsError, match="no val video"):
        phase_progression(embs, labels, embs, missing)


def test_single_phase_raises_missing_labels_error():
    embs, labels = _videos(5, 3)
    zeros = [np.zeros_like(lab) for lab in labels]
    with pytest.raises(MissingLabelsError, match="at least two phases"):
        phase_progression(embs, zeros, embs, zeros)
