"""Tests for tcc.apps.dtw: DTW against brute force, path properties, Sakoe-Chiba window."""

import itertools

import numpy as np
import pytest

from tcc.apps.dtw import dtw, sakoe_chiba_mask


def _brute_force_dp(cost, allowed=None):
    """Cell-by-cell dynamic program (independent reference)."""
    n, m = cost.shape
    acc = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if allowed is not None and not allowed[i, j]:
                continue
            if i == 0 and j == 0:
                acc[i, j] = cost[0, 0]
                continue
            prev = [
                acc[i - 1, j - 1] if i and j else np.inf,
                acc[i - 1, j] if i else np.inf,
                acc[i, j - 1] if j else np.inf,
            ]
            acc[i, j] = cost[i, j] + min(prev)
    return acc[-1, -1]


def _all_paths(n, m):
    """Every monotone continuous path from (0, 0) to (n-1, m-1) (tiny grids only)."""
    if n == 1 and m == 1:
        yield [(0, 0)]
        return
    for di, dj in ((1, 0), (0, 1), (1, 1)):
        if di < n and dj < m:
            for rest in _all_paths(n - di, m - dj):
                yield [(0, 0)] + [(i + di, j + dj) for i, j in rest]


def _check_path(path, n, m):
    assert path.dtype.kind == "i" and path.shape[1] == 2
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (n - 1, m - 1)
    steps = {tuple(s) for s in np.diff(path, axis=0)}
    assert steps <= {(1, 0), (0, 1), (1, 1)}


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (4, 7), (9, 5), (8, 8)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dtw_total_cost_matches_brute_force_dynamic_program(shape, seed):
    cost = np.random.default_rng(seed).random(shape)
    total, _ = dtw(cost)
    assert total == pytest.approx(_brute_force_dp(cost), rel=1e-12)


@pytest.mark.parametrize("shape", [(3, 4), (4, 4), (2, 5)])
def test_dtw_total_cost_is_minimum_over_all_enumerated_paths(shape):
    cost = np.random.default_rng(7).random(shape)
    best = min(sum(cost[i, j] for i, j in p) for p in _all_paths(*shape))
    assert dtw(cost)[0] == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (6, 11), (12, 4), (10, 10)])
def test_dtw_path_is_monotone_continuous_and_sums_to_total(shape):
    cost = np.random.default_rng(3).random(shape)
    total, path = dtw(cost)
    _check_path(path, *shape)
    assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(total, rel=1e-12)


def test_dtw_follows_zero_cost_diagonal():
    cost = 1.0 - np.eye(6)
    total, path = dtw(cost)
    assert total == 0.0
    np.testing.assert_array_equal(path, np.stack([np.arange(6)] * 2, axis=1))


@pytest.mark.parametrize("shape,window", [((8, 8), 1), ((8, 8), 0), ((7, 13), 2), ((13, 7), 3)])
def test_windowed_dtw_matches_brute_force_restricted_to_band(shape, window):
    n, m = shape
    cost = np.random.default_rng(11).random(shape)
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    band = np.abs(j - i * (m - 1) / (n - 1)) <= window  # connected for these cases
    total, path = dtw(cost, window=window)
    assert total == pytest.approx(_brute_force_dp(cost, band), rel=1e-12)
    assert band[path[:, 0], path[:, 1]].all()


def test_narrow_window_on_unequal_lengths_still_yields_valid_path():
    cost = np.random.default_rng(5).random((4, 20))
    total, path = dtw(cost, window=0)
    _check_path(path, 4, 20)
    assert np.isfinite(total)
    mask = sakoe_chiba_mask(4, 20, 0)
    assert mask[path[:, 0], path[:, 1]].all()
    assert mask.sum() < 4 * 20  # the band really restricts the search


def test_wide_window_equals_unconstrained_dtw():
    cost = np.random.default_rng(9).random((9, 14))
    assert dtw(cost, window=100)[0] == pytest.approx(dtw(cost)[0], rel=1e-12)


def test_window_increases_or_keeps_cost():
    rng = np.random.default_rng(4)
    for _ in range(5):
        cost = rng.random((10, 10))
        assert dtw(cost, window=1)[0] >= dtw(cost)[0] - 1e-12


def test_dtw_rejects_nan_and_wrong_rank():
    with pytest.raises(ValueError, match="NaN"):
        dtw(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        dtw(np.zeros(4))
    with pytest.raises(ValueError, match="window"):
        dtw(np.zeros((3, 3)), window=-1)


def test_enumeration_helper_counts_delannoy_paths():
    # Sanity check of the test's own brute force: D(2, 2) = 13 paths on a 3x3 grid.
    assert len(list(_all_paths(3, 3))) == 13
    assert len({tuple(p) for p in itertools.islice(_all_paths(3, 4), 100)}) == 25
