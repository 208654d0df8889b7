"""Tests for tcc.apps.anomaly_detection: scores, leave-one-out threshold, flagged segments, plot."""

import numpy as np
import pytest

from tcc.apps.anomaly_detection import anomaly_scores, detect, fit_threshold, flagged_segments
from tcc.apps.figures import plot_anomaly


def _embed(progress):
    """Handcrafted embedding of action progress p in [0, 1]: [cos 2πp, sin 2πp, p]."""
    p = np.asarray(progress, dtype=np.float64)
    return np.stack([np.cos(2 * np.pi * p), np.sin(2 * np.pi * p), p], axis=1)


def _typical(rng, length):
    """A normal video: random monotone warp of progress plus small embedding noise."""
    p = np.linspace(0.0, 1.0, length) ** rng.uniform(0.7, 1.5)
    return _embed(p) + rng.normal(scale=0.02, size=(length, 3))


def _spliced(rng, length=60, start=25, end=34):
    """A normal video whose frames start..end (inclusive) are replaced by foreign motion."""
    video = _typical(rng, length)
    foreign = np.linspace(0.0, 1.0, end - start + 1)
    video[start : end + 1] = np.stack([0.3 * foreign, -0.2 + 0 * foreign, 1.8 - foreign], 1)
    return video


def _nn_distances(x, videos):
    """[T, R] Euclidean distance of every frame of x to its nearest frame of each video."""
    return np.stack([np.sqrt(((x[:, None] - v[None]) ** 2).sum(-1)).min(1) for v in videos], axis=1)


@pytest.mark.parametrize("method", ["nn", "dtw"])
def test_detect_flags_spliced_foreign_segment_and_not_the_normal_parts(method):
    rng = np.random.default_rng(0)
    train = [_typical(rng, int(rng.integers(40, 80))) for _ in range(8)]
    threshold = fit_threshold(train, percentile=99, method=method)
    scores, segments = detect(_spliced(rng), train, threshold, method=method, min_length=2)
    assert segments == [(25, 34)]
    assert scores[25:35].min() > 3 * np.delete(scores, np.arange(25, 35)).max()


def test_normal_video_is_not_flagged():
    rng = np.random.default_rng(1)
    train = [_typical(rng, 60) for _ in range(8)]
    threshold = fit_threshold(train, percentile=99)
    _, segments = detect(_typical(rng, 70), train, threshold, min_length=2)
    assert segments == []


@pytest.mark.parametrize("k", [1, 3])
def test_nn_scores_are_mean_of_k_nearest_video_distances(k):
    rng = np.random.default_rng(2)
    train = [rng.normal(size=(t, 3)) for t in (5, 9, 7, 6)]
    x = rng.normal(size=(8, 3))
    expected = np.sort(_nn_distances(x, train), axis=1)[:, :k].mean(1)
    np.testing.assert_allclose(anomaly_scores(x, train, k=k), expected, atol=1e-10)


def test_dtw_scores_never_beat_unconstrained_nearest_neighbour():
    rng = np.random.default_rng(3)
    train = [rng.normal(size=(t, 3)) for t in (10, 12)]
    x = rng.normal(size=(11, 3))
    nn, dtw = anomaly_scores(x, train, "nn"), anomaly_scores(x, train, "dtw")
    assert np.all(dtw >= nn - 1e-12) and np.any(dtw > nn + 1e-6)


def test_threshold_is_percentile_of_leave_one_out_scores():
    rng = np.random.default_rng(4)
    train = [rng.normal(size=(t, 2)) for t in (6, 8, 7)]
    pooled = np.concatenate(
        [_nn_distances(v, train[:i] + train[i + 1 :]).min(1) for i, v in enumerate(train)]
    )
    assert fit_threshold(train, percentile=80) == pytest.approx(np.percentile(pooled, 80))


def test_flagged_segments_are_inclusive_runs_above_threshold():
    scores = np.array([0, 5, 5, 0, 5, 0, 0, 5, 5, 5])
    assert flagged_segments(scores, 1.0) == [(1, 2), (4, 4), (7, 9)]
    assert flagged_segments(scores, 1.0, min_length=2) == [(1, 2), (7, 9)]
    assert flagged_segments(scores, 5.0) == []  # strictly above


def test_anomaly_rejects_bad_k_and_too_few_videos():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="k must be"):
        anomaly_scores(x, [x], k=2)
    with pytest.raises(ValueError, match="at least 2"):
        fit_threshold([x])


def test_anomaly_plot_is_written(tmp_path):
    rng = np.random.default_rng(5)
    train = [_typical(rng, 50) for _ in range(4)]
    scores, segments = detect(_spliced(rng), train, 0.3)
    out = tmp_path / "anomaly.png"
    plot_anomaly(scores, 0.3, segments, out, title="spliced video", fps=10)
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 5000


def test_anomaly_plot_of_strided_scores_is_in_source_frame_numbers(tmp_path):
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.1])
    fig = plot_anomaly(scores, 0.5, [(2, 3)], tmp_path / "a.png", frame_indices=np.arange(0, 10, 2))
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((-1.0, 9.0))
    (span,) = ax.patches
    assert span.get_x() == pytest.approx(3.0) and span.get_width() == pytest.approx(4.0)
