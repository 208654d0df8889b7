"""Tests for tcc.evaluation.distances, the frame distances of evaluation and apps alike."""

import numpy as np
import pytest

from tcc.evaluation.distances import METRICS, pairwise_distances


@pytest.mark.parametrize("metric", METRICS)
def test_pairwise_distances_match_explicit_loops(metric):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    expected = np.zeros((5, 4))
    for i in range(5):
        for j in range(4):
            if metric == "cosine":
                expected[i, j] = 1 - a[i] @ b[j] / np.linalg.norm(a[i]) / np.linalg.norm(b[j])
            else:
                expected[i, j] = np.sum((a[i] - b[j]) ** 2)
                expected[i, j] = (
                    np.sqrt(expected[i, j]) if metric == "euclidean" else expected[i, j]
                )
    np.testing.assert_allclose(pairwise_distances(a, b, metric), expected, atol=1e-10)


def test_identical_rows_are_at_distance_zero_and_zero_vectors_at_cosine_one():
    a = np.array([[1.0, 2.0], [0.0, 0.0]])
    d = pairwise_distances(a, a, "sqeuclidean")
    assert d[0, 0] == 0.0 and d.min() >= 0.0
    assert pairwise_distances(a, a, "cosine")[1, 0] == pytest.approx(1.0)


def test_bad_metric_shapes_and_sizes_are_errors_naming_them():
    with pytest.raises(ValueError, match="metric"):
        pairwise_distances(np.zeros((3, 2)), np.zeros((3, 2)), metric="manhattan")
    with pytest.raises(ValueError, match="Embedding sizes differ"):
        pairwise_distances(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="non-empty"):
        pairwise_distances(np.zeros((0, 2)), np.zeros((3, 2)))
