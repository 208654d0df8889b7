"""Tests for tcc.evaluation.kendalls_tau against scipy (cdist + kendalltau in explicit loops)."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import kendalltau

from tcc.evaluation.kendalls_tau import kendalls_tau, kendalls_tau_per_pair, tau_b_against_time

# The package exports the function `kendalls_tau`, which shadows the module attribute.
kt_module = importlib.import_module("tcc.evaluation.kendalls_tau")


def _ragged_videos(seed, num_videos=5, min_len=1, max_len=30, dim=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rng.integers(min_len, max_len), dim)) for _ in range(num_videos)]


def _reference_per_pair(embs_list, stride, distance):
    n = len(embs_list)
    taus = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            query, candidates = embs_list[i][::stride], embs_list[j][::stride]
            nn = np.argmin(cdist(query, candidates, distance), axis=1)
            if len(nn) > 1:
                taus[i, j] = kendalltau(np.arange(len(nn)), nn).statistic
    return taus


@pytest.mark.parametrize("distance", ["sqeuclidean", "cosine"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_per_pair_matches_scipy_on_ragged_random_videos(distance, stride):
    videos = _ragged_videos(seed=stride, min_len=2)
    ours = kendalls_tau_per_pair(videos, stride=stride, distance=distance)
    ref = _reference_per_pair(videos, stride, distance)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours[~np.isnan(ref)], ref[~np.isnan(ref)], atol=1e-12)


def test_mean_drops_nan_pairs_like_reference():
    videos = _ragged_videos(seed=7) + [np.ones((1, 3))]  # one single-frame video: NaN pairs
    ref = _reference_per_pair(videos, 1, "sqeuclidean")
    assert np.isnan(ref).sum() > len(videos)  # the single-frame video makes some pairs NaN
    assert kendalls_tau(videos) == pytest.approx(np.nanmean(ref), abs=1e-12)


def test_blocked_computation_matches_one_block(monkeypatch):
    videos = _ragged_videos(seed=3, min_len=5, max_len=25)
    full = kendalls_tau_per_pair(videos)
    monkeypatch.setattr(kt_module, "BLOCK_ELEMENTS", 7)
    np.testing.assert_allclose(kendalls_tau_per_pair(videos), full, atol=1e-12)


def test_tau_b_matches_scipy_with_tied_matches():
    rng = np.random.default_rng(0)
    matches = rng.integers(0, 4, size=(20, 12))  # many ties
    ref = [kendalltau(np.arange(12), row).statistic for row in matches]
    np.testing.assert_allclose(tau_b_against_time(matches), ref, atol=1e-12)


def test_tau_b_is_nan_for_constant_or_single_frame_matches():
    assert np.all(np.isnan(tau_b_against_time(np.zeros((2, 6), dtype=int))))
    assert np.isnan(tau_b_against_time(np.zeros((1, 1), dtype=int))[0])


@pytest.mark.parametrize("stride", [1, 3])
def test_normalised_time_embeddings_give_tau_one(stride):
    time = np.linspace(0.0, 1.0, 40)[:, None]
    videos = [np.concatenate([time, 0.5 * time], axis=1)] * 3
    assert kendalls_tau(videos, stride=stride) == pytest.approx(1.0)


def test_reversed_time_gives_tau_minus_one():
    time = np.linspace(0.0, 1.0, 30)[:, None]
    taus = kendalls_tau_per_pair([time, time[::-1]])
    assert taus[0, 1] == pytest.approx(-1.0) and taus[1, 0] == pytest.approx(-1.0)
    assert kendalls_tau([time, time[::-1]]) == pytest.approx(-1.0)


def test_diagonal_is_nan_and_float32_inputs_work():
    videos = [v.astype(np.float32) for v in _ragged_videos(seed=1, min_len=3)]
    taus = kendalls_tau_per_pair(videos)
    assert taus.shape == (5, 5) and np.all(np.isnan(np.diag(taus)))


def test_all_pairs_undefined_gives_nan():
    assert np.isnan(kendalls_tau([np.zeros((1, 2)), np.ones((1, 2))]))


def test_fewer_than_two_videos_raises():
    with pytest.raises(ValueError, match="at least two videos"):
        kendalls_tau([np.zeros((5, 2))])


@pytest.mark.parametrize(
    "kwargs, message",
    [({"stride": 0}, "stride"), ({"stride": 1.5}, "stride"), ({"distance": "l1"}, "distance")],
)
def test_bad_arguments_raise_with_received_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kendalls_tau(_ragged_videos(seed=0, min_len=2), **kwargs)


def test_mismatched_embedding_sizes_raise():
    with pytest.raises(ValueError, match="same embedding size"):
        kendalls_tau([np.zeros((4, 2)), np.zeros((4, 3))])


def test_package_imports_without_tensorflow():
    code = "import sys; sys.modules['tensorflow'] = None; import tcc.evaluation; print('ok')"
    subprocess.run([sys.executable, "-c", code], check=True)
