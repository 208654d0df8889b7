"""Tests for tcc.apps.retrieval.nearest_frames and the retrieval grid figure."""

import numpy as np
import pytest

from tcc.apps.figures import plot_retrieval_grid
from tcc.apps.retrieval import nearest_frames


def _brute_force(query, embs_list, k, exclude=()):
    hits = [
        (float(np.sum((query - e[f]) ** 2)), v, f)
        for v, e in enumerate(embs_list)
        if v not in exclude
        for f in range(len(e))
    ]
    return [(v, f, d) for d, v, f in sorted(hits)[:k]]


def test_nearest_frames_match_brute_force_search():
    rng = np.random.default_rng(0)
    embs = [rng.normal(size=(t, 4)) for t in (7, 3, 11, 5)]
    query = rng.normal(size=4)
    result = nearest_frames(query, embs, k=6)
    expected = _brute_force(query, embs, 6)
    assert [(v, f) for v, f, _ in result] == [(v, f) for v, f, _ in expected]
    np.testing.assert_allclose([d for *_, d in result], [d for *_, d in expected], atol=1e-10)


def test_excluded_video_never_appears():
    rng = np.random.default_rng(1)
    embs = [rng.normal(size=(6, 3)) for _ in range(3)]
    result = nearest_frames(embs[1][2], embs, k=5, exclude_video=1)
    assert all(v != 1 for v, _, _ in result)
    assert [(v, f) for v, f, _ in result] == [
        (v, f) for v, f, _ in _brute_force(embs[1][2], embs, 5, exclude=(1,))
    ]


def test_query_frame_retrieves_itself_first_without_exclusion():
    rng = np.random.default_rng(2)
    embs = [rng.normal(size=(6, 3)) for _ in range(3)]
    assert nearest_frames(embs[2][4], embs, k=1)[0][:2] == (2, 4)


def test_ties_are_ordered_by_video_then_frame_and_k_is_capped():
    embs = [np.zeros((2, 2)), np.zeros((3, 2))]
    result = nearest_frames(np.zeros(2), embs, k=10)
    assert [(v, f) for v, f, _ in result] == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]


def test_nearest_frames_rejects_batched_query():
    with pytest.raises(ValueError, match=r"\[D\]"):
        nearest_frames(np.zeros((2, 3)), [np.zeros((4, 3))])


def test_retrieval_grid_png_is_written(tmp_path):
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, size=(32, 40, 3), dtype=np.uint8) for _ in range(6)]
    out = tmp_path / "grid.png"
    captions = [f"video {k}, frame {3 * k}" for k in range(5)]
    plot_retrieval_grid(images[0], images[1:], out, captions=captions)
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 5000
    with pytest.raises(ValueError, match="caption"):
        plot_retrieval_grid(images[0], images[1:], out, captions=captions[:2])


def test_one_result_per_video_is_each_videos_nearest_frame():
    rng = np.random.default_rng(4)
    embs = [rng.normal(size=(t, 3)) for t in (9, 4, 12, 7, 5)]
    query = rng.normal(size=3)
    result = nearest_frames(query, embs, k=3, exclude_video=0, max_per_video=1)
    videos = [v for v, _, _ in result]
    assert len(set(videos)) == 3 and 0 not in videos
    best = {v: int(np.argmin(((embs[v] - query) ** 2).sum(1))) for v in range(1, 5)}
    assert all(f == best[v] for v, f, _ in result)
    ranked = sorted(best, key=lambda v: ((embs[v][best[v]] - query) ** 2).sum())
    assert videos == ranked[:3]


def test_max_per_video_caps_each_video_and_none_is_unlimited():
    embs = [np.zeros((5, 2)), np.ones((5, 2))]
    capped = nearest_frames(np.zeros(2), embs, k=10, max_per_video=2)
    assert [(v, f) for v, f, _ in capped] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(nearest_frames(np.zeros(2), embs, k=10)) == 10
    with pytest.raises(ValueError, match="max_per_video"):
        nearest_frames(np.zeros(2), embs, max_per_video=0)
