"""Tests for tcc.apps.task_progress: task progress from reference embeddings."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from tcc.apps.task_progress import TaskProgress, _segment_argmin, task_progress


def _arc(u: np.ndarray, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Embeddings [T, 3] of progress values u in [0, 1]: a quarter circle (distance to its end
    falls monotonically) lifted along z. The same u gives the same point in every video."""
    angle = 0.5 * np.pi * u
    embs = np.stack([np.cos(angle), np.sin(angle), 0.5 * u], axis=1)
    return embs + noise * np.random.default_rng(seed).normal(size=embs.shape)


def _warped(length: int, seed: int) -> np.ndarray:
    """Progress values of a video done at a random non-uniform speed, from 0 to 1."""
    u = np.cumsum(np.random.default_rng(seed).uniform(0.2, 1.8, length))
    return (u - u[0]) / (u[-1] - u[0])


REFS = [_arc(_warped(n, seed)) for seed, n in enumerate([30, 41, 25, 36, 50])]


@pytest.mark.parametrize("method", ["nn", "goal"])
def test_progress_has_one_value_per_frame_in_unit_interval(method):
    rng = np.random.default_rng(3)
    embs = rng.normal(scale=2.0, size=(17, 3))  # far from the references too
    progress = task_progress(embs, REFS, method)
    assert progress.shape == (17,) and progress.dtype == np.float64
    assert np.all((progress >= 0.0) & (progress <= 1.0))
    single = TaskProgress(REFS, method)(embs[4])
    assert np.ndim(single) == 0 and single == pytest.approx(progress[4])
    assert TaskProgress(REFS, method)(np.zeros((0, 3))).shape == (0,)


@pytest.mark.parametrize("method", ["nn", "goal"])
def test_progress_is_monotone_from_0_to_1_on_a_perfectly_aligned_video(method):
    u = _warped(60, seed=11)
    progress = task_progress(_arc(u), REFS, method)
    assert np.all(np.diff(progress) >= 0.0)
    assert progress[0] == pytest.approx(0.0, abs=0.03) and progress[-1] == pytest.approx(1.0)
    assert spearmanr(progress, u).statistic > 0.99


@pytest.mark.parametrize("method", ["nn", "goal"])
def test_reversed_video_gives_decreasing_progress(method):
    u = _warped(40, seed=5)
    forward = task_progress(_arc(u, noise=0.01), REFS, method)
    backward = task_progress(_arc(u, noise=0.01)[::-1], REFS, method)
    np.testing.assert_allclose(backward, forward[::-1])
    assert spearmanr(backward, np.arange(40)).statistic < -0.95
    assert backward[0] > 0.9 and backward[-1] < 0.1


def test_stalled_video_gives_flat_progress_while_it_stalls():
    u = np.concatenate([np.linspace(0, 0.5, 20), np.full(15, 0.5), np.linspace(0.5, 1, 20)])
    progress = task_progress(_arc(u), REFS)
    stalled = progress[20:35]
    assert np.ptp(stalled) < 0.03 and stalled.mean() == pytest.approx(0.5, abs=0.05)


def test_nn_progress_is_the_median_of_per_reference_nearest_positions():
    rng = np.random.default_rng(0)
    refs = [rng.normal(size=(m, 4)) for m in (5, 9, 7)]
    embs = rng.normal(size=(6, 4))
    expected = []
    for x in embs:
        per_ref = [np.argmin(((r - x) ** 2).sum(1)) / (len(r) - 1) for r in refs]
        expected.append(np.median(per_ref))
    np.testing.assert_allclose(task_progress(embs, refs, "nn"), expected)


def test_goal_progress_is_distance_to_goal_over_start_to_goal_distance():
    refs = [np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]), np.array([[0.0, 2.0], [2.0, 2.0]])]
    # goal (2, 1); both starts are sqrt(5) from it.
    embs = np.array([[2.0, 1.0], [1.0, 1.0], [-9.0, 1.0]])
    np.testing.assert_allclose(
        task_progress(embs, refs, "goal"), [1.0, 1.0 - 1.0 / np.sqrt(5.0), 0.0]
    )


def test_segment_argmin_picks_the_first_minimum_within_each_segment():
    values = np.array([[3.0, 1.0, 1.0, 5.0, 0.0, 0.0], [0.0, 2.0, 2.0, 9.0, 9.0, 1.0]])
    np.testing.assert_array_equal(
        _segment_argmin(values, np.array([0, 3, 4])), [[1, 3, 4], [0, 3, 5]]
    )


def test_bad_references_and_sizes_are_errors():
    with pytest.raises(ValueError, match="at least one reference"):
        TaskProgress([])
    with pytest.raises(ValueError, match="M >= 2"):
        TaskProgress([np.zeros((1, 3))])
    with pytest.raises(ValueError, match="Unknown progress method"):
        TaskProgress(REFS, method="dtw")
    with pytest.raises(ValueError, match=r"\[T, 3\]"):
        TaskProgress(REFS)(np.zeros((4, 5)))
