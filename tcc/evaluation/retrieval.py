"""Fine-grained frame retrieval precision "AP@K" (beyond the paper; as in LAV and CARL).

What is computed, precisely. After keeping every `stride`-th frame of every video:
  * queries: every labelled frame (label >= 0) of every video;
  * candidates of a query: the labelled frames of all OTHER videos (never its own video;
    unlabelled frames are not candidates, as their relevance is unknown);
  * for each query, its K nearest candidates (squared Euclidean by default; ties broken by the
    order of `numpy.argpartition`, i.e. arbitrarily); precision@K = the fraction of them with the
    query's phase label; with fewer than K candidates, all candidates are used;
  * "AP@K" = the mean of precision@K over all query frames (`average='frames'`, the default), or
    the mean over videos of each video's mean over its query frames (`average='videos'`; with
    `stride` set to the Kendall's tau stride this is the aggregation of CARL's public code).

Despite its name (kept from the papers) this is a mean precision at K, not an area under a
precision-recall curve.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.evaluation.distances import check_metric, pairwise_distances
from tcc.evaluation.kendalls_tau import BLOCK_ELEMENTS, check_videos
from tcc.evaluation.phase_classification import LabelsList, MissingLabelsError, check_labels

AVERAGES = ("frames", "videos")


def _top_k_hits(
    frames: np.ndarray, labels: np.ndarray, owners: np.ndarray, k_max: int, distance: str
) -> tuple[np.ndarray, np.ndarray]:
    """Same-label hits among each frame's k_max nearest frames of other videos, nearest first.

    Args:
      frames: float [F, D] labelled frames of all videos.
      labels: int [F] their labels.
      owners: int [F] the video each frame comes from.
      k_max: number of neighbours to keep.
      distance: see `pairwise_distances`.

    Returns:
      hits bool [F, k_max] (neighbour r of frame q has q's label) and available int [F] (number of
      candidate frames of q, i.e. frames of other videos).
    """
    counts = np.bincount(owners)
    available = len(frames) - counts[owners]
    k_max = min(k_max, len(frames) - 1)
    rows = max(1, BLOCK_ELEMENTS // len(frames))
    hits = np.zeros((len(frames), k_max), dtype=bool)
    for start in range(0, len(frames), rows):
        stop = min(start + rows, len(frames))
        dists = pairwise_distances(frames[start:stop], frames, distance)
        dists[owners[start:stop, None] == owners[None, :]] = np.inf
        nearest = np.argpartition(dists, k_max - 1, axis=1)[:, :k_max]
        order = np.argsort(np.take_along_axis(dists, nearest, axis=1), axis=1, kind="stable")
        nearest = np.take_along_axis(nearest, order, axis=1)
        hits[start:stop] = labels[nearest] == labels[start:stop, None]
    return hits, available


def retrieval_ap(
    embs_list: Sequence[np.ndarray],
    labels_list: LabelsList,
    ks: Sequence[int] = (5, 10, 15),
    stride: int = 1,
    distance: str = "sqeuclidean",
    average: str = "frames",
) -> dict[int, float]:
    """Mean precision@K of cross-video frame retrieval by phase label ("AP@K" of LAV / CARL).

    See the module docstring for the exact definition.

    Args:
      embs_list: N arrays [T_i, D] (ragged lengths allowed), usually the val split.
      labels_list: N int arrays [T_i] (-1 = unlabelled frame), or None.
      ks: the K values.
      stride: keep every `stride`-th frame of every video before retrieval.
      distance: a metric of `tcc.evaluation.distances` ('sqeuclidean', 'euclidean', 'cosine').
      average: 'frames' (mean over query frames) or 'videos' (mean of per-video means).

    Returns:
      {K: mean precision@K in [0, 1]}.

    Raises:
      MissingLabelsError: if fewer than two videos have labelled frames.
      ValueError: on malformed inputs, K < 1, a bad stride, distance or average.
    """
    check_metric(distance, "distance")
    if average not in AVERAGES:
        raise ValueError(f"`average` must be one of {AVERAGES}. Received: average={average!r}")
    if not ks or any(int(k) != k or k < 1 for k in ks):
        raise ValueError(f"`ks` must be integers >= 1. Received: ks={tuple(ks)}")
    if int(stride) != stride or stride < 1:
        raise ValueError(f"`stride` must be an integer >= 1. Received: stride={stride!r}")
    videos = check_videos(embs_list, "embs_list")
    labels = check_labels(videos, labels_list, "labels_list")
    videos = [v[:: int(stride)] for v in videos]
    labels = [lab[:: int(stride)] for lab in labels]
    owners = np.concatenate([np.full(len(lab), i) for i, lab in enumerate(labels)])
    labels_flat = np.concatenate(labels)
    keep = labels_flat >= 0
    if np.unique(owners[keep]).size < 2:
        raise MissingLabelsError(
            "Frame retrieval needs labelled frames in at least two videos. Received: "
            f"{np.unique(owners[keep]).size} labelled video(s); skip this task."
        )
    frames, labels_flat, owners = np.concatenate(videos)[keep], labels_flat[keep], owners[keep]
    hits, available = _top_k_hits(frames, labels_flat, owners, max(ks), distance)
    cumulative_hits = np.cumsum(hits, axis=1)  # [F, k_max]
    results = {}
    for k in ks:
        used = np.minimum(k, available)  # [F]
        precision = cumulative_hits[np.arange(len(hits)), used - 1] / used
        if average == "videos":
            per_video = np.bincount(owners, precision) / np.maximum(np.bincount(owners), 1)
            precision = per_video[np.bincount(owners) > 0]
        results[int(k)] = float(np.mean(precision))
    return results
