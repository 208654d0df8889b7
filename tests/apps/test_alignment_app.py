"""Tests for tcc.apps.alignment: NN / DTW alignment of a known time warp, writers."""

import csv
import json
import os

import numpy as np
import pytest

from tcc.apps.alignment import align, align_many, save_alignment_csv, save_alignment_json
from tcc.apps.dtw import dtw
from tcc.apps.figures import plot_similarity_matrix
from tcc.evaluation.distances import pairwise_distances


def _embed(progress):
    """Handcrafted embedding of action progress p in [0, 1]: [cos 2πp, sin 2πp, p]."""
    p = np.asarray(progress, dtype=np.float64)
    return np.stack([np.cos(2 * np.pi * p), np.sin(2 * np.pi * p), p], axis=1)


def _warped_pair(n=60, m=80, power=1.6):
    """Query with linear progress, reference with progress (j / (m-1))**power; true warp."""
    query_p = np.linspace(0.0, 1.0, n)
    ref_p = np.linspace(0.0, 1.0, m) ** power
    true_ref_frame = query_p ** (1.0 / power) * (m - 1)  # reference time of equal progress
    return _embed(query_p), _embed(ref_p), true_ref_frame


@pytest.mark.parametrize("method", ["nn", "dtw"])
def test_alignment_to_time_warped_copy_recovers_warp(method):
    query, reference, true_frame = _warped_pair()
    result = align(query, reference, method=method)
    error = np.abs(result.mapping - true_frame)
    assert error.mean() < 0.35
    assert error.max() <= 1.0
    assert result.mapping.shape == (60,) and result.distances.shape == (60, 80)


def test_dtw_alignment_is_monotone_and_uses_dtw_path():
    rng = np.random.default_rng(1)
    query, reference = rng.normal(size=(12, 4)), rng.normal(size=(15, 4))
    result = align(query, reference, method="dtw", window=4)
    total, path = dtw(pairwise_distances(query, reference), window=4)
    np.testing.assert_array_equal(result.path, path)
    assert result.cost == pytest.approx(total)
    assert np.all(np.diff(result.mapping) >= 0)
    # each query frame takes the closest reference frame among its path cells
    for i in range(12):
        cells = path[path[:, 0] == i, 1]
        assert result.mapping[i] == cells[np.argmin(result.distances[i, cells])]


def test_nn_alignment_picks_row_minimum():
    rng = np.random.default_rng(2)
    query, reference = rng.normal(size=(7, 3)), rng.normal(size=(9, 3))
    result = align(query, reference, method="nn")
    d = pairwise_distances(query, reference)
    np.testing.assert_array_equal(result.mapping, d.argmin(1))
    np.testing.assert_allclose(result.frame_distances, d.min(1))
    assert result.path is None and result.cost == pytest.approx(d.min(1).sum())


@pytest.mark.parametrize("method", ["nn", "dtw"])
def test_align_many_equals_separate_alignments(method):
    rng = np.random.default_rng(3)
    query = rng.normal(size=(10, 3))
    refs = [rng.normal(size=(t, 3)) for t in (6, 11, 8)]
    for many, ref in zip(align_many(query, refs, method=method), refs, strict=True):
        single = align(query, ref, method=method)
        np.testing.assert_array_equal(many.mapping, single.mapping)
        np.testing.assert_allclose(many.distances, single.distances)


def test_align_rejects_mismatched_sizes_and_unknown_names():
    with pytest.raises(ValueError, match="Embedding sizes differ"):
        align(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="method"):
        align(np.zeros((3, 2)), np.zeros((3, 2)), method="hungarian")
    with pytest.raises(ValueError, match="metric"):
        pairwise_distances(np.zeros((3, 2)), np.zeros((3, 2)), metric="manhattan")


def test_alignment_json_and_csv_round_trip_the_mapping(tmp_path):
    query, reference, _ = _warped_pair(n=20, m=25)
    result = align(query, reference, method="dtw")
    save_alignment_json(result, tmp_path / "a.json", query="q.mp4")
    save_alignment_csv(result, tmp_path / "a.csv")
    record = json.loads((tmp_path / "a.json").read_text())
    assert record["mapping"] == result.mapping.tolist() and record["query"] == "q.mp4"
    assert record["path"] == result.path.tolist() and record["reference_length"] == 25
    with open(tmp_path / "a.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["reference_frame"]) for r in rows] == result.mapping.tolist()
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.json"]  # no temporary files left


def test_similarity_matrix_png_is_written_with_paths(tmp_path):
    query, reference, _ = _warped_pair(n=30, m=40)
    dtw_result = align(query, reference, method="dtw")
    nn_result = align(query, reference, method="nn")
    out = tmp_path / "sim.png"
    plot_similarity_matrix(
        dtw_result.distances,
        out,
        paths=[dtw_result.path, nn_result.mapping],
        path_labels=["DTW", "NN"],
        title="warped copy",
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_csv_and_similarity_axes_use_source_frame_numbers_when_strided(tmp_path):
    query, reference, _ = _warped_pair(n=10, m=12)
    result = align(query, reference, method="dtw")
    q_frames, r_frames = np.arange(0, 20, 2), np.arange(0, 36, 3)
    save_alignment_csv(result, tmp_path / "a.csv", q_frames, r_frames)
    with open(tmp_path / "a.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["query_frame"]) for r in rows] == q_frames.tolist()
    assert [int(r["reference_frame"]) for r in rows] == r_frames[result.mapping].tolist()
    fig = plot_similarity_matrix(
        result.distances,
        tmp_path / "sim.png",
        query_frames=q_frames,
        reference_frames=r_frames,
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    for axis, frames in ((ax.xaxis, r_frames), (ax.yaxis, q_frames)):
        shown = {int(t.get_text()) for t in axis.get_ticklabels() if t.get_text()}
        assert len(shown) >= 2 and shown <= set(frames.tolist())  # frame numbers, not cells
        assert max(shown) > len(frames)  # beyond the cell count: really the source numbers
    with pytest.raises(ValueError, match="one frame number per embedded frame"):
        save_alignment_csv(result, tmp_path / "b.csv", q_frames[:3], r_frames)
