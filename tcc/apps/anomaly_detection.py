"""Anomaly detection as distance from typical trajectories in embedding space (paper §6, Fig. 7).

Method. Let x be a video's embeddings [T, D] and y_1 .. y_R the embeddings of R typical (training)
videos. For each training video r, x is aligned to y_r (`method`):
- `'nn'`: frame t is matched to its nearest frame of y_r, so d_r(t) = min_j dist(x_t, y_r[j]);
- `'dtw'`: x and y_r are aligned by DTW (`tcc.apps.alignment`), d_r(t) = dist(x_t, y_r[m_r(t)])
  with m_r(t) the DTW match; this also catches normal-looking frames in the wrong order, but
  assumes both videos show the whole action.
The anomaly score of frame t is the mean of the k smallest values of d_1(t) .. d_R(t) (k = 1:
the distance to the nearest typical trajectory). `dist` is Euclidean by default.

Threshold. `fit_threshold` scores every training video against the other training videos
(leave-one-out, the same method, k and metric), pools all their frame scores and returns the given
percentile. `detect` flags frames whose score is strictly above the threshold and reports runs of
consecutive flagged frames as inclusive (start, end) segments, dropping runs shorter than
`min_length`. With the 95th percentile about 5 % of normal frames are expected above the threshold;
raise the percentile or `min_length` for fewer false alarms.

The functions; the command line is `python -m tcc.apps.anomaly`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.apps.alignment import alignment_from_distances
from tcc.evaluation.distances import pairwise_distances


def anomaly_scores(
    embs: np.ndarray,
    train_embs: Sequence[np.ndarray],
    method: str = "nn",
    k: int = 1,
    metric: str = "euclidean",
    window: float | None = None,
) -> np.ndarray:
    """Per-frame distance of a trajectory to its k nearest typical trajectories (module doc).

    Args:
      embs: float [T, D], the video to score.
      train_embs: list of R float arrays [M_r, D], typical videos.
      method: `'nn'` or `'dtw'` alignment to each typical video.
      k: number of nearest typical videos averaged per frame, 1 <= k <= R.
      metric: `'euclidean'`, `'sqeuclidean'` or `'cosine'`.
      window: DTW Sakoe-Chiba half-width (only for `'dtw'`).

    Returns:
      float64 [T] anomaly scores.
    """
    if not 1 <= k <= len(train_embs):
        raise ValueError(
            f"k must be between 1 and the number of typical videos "
            f"({len(train_embs)}). Received: {k=}"
        )
    lengths = np.array([len(t) for t in train_embs])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    dist = pairwise_distances(embs, np.concatenate([np.asarray(t) for t in train_embs]), metric)
    if method == "nn":
        per_video = np.minimum.reduceat(dist, offsets, axis=1)  # [T, R]
    elif method == "dtw":
        blocks = np.split(dist, offsets[1:], axis=1)
        per_video = np.stack(
            [alignment_from_distances(b, "dtw", window, metric).frame_distances for b in blocks],
            axis=1,
        )
    else:
        raise ValueError(f"Unknown anomaly method; use 'nn' or 'dtw'. Received: {method=}")
    return np.partition(per_video, k - 1, axis=1)[:, :k].mean(axis=1)


def fit_threshold(
    train_embs: Sequence[np.ndarray],
    percentile: float = 95.0,
    method: str = "nn",
    k: int = 1,
    metric: str = "euclidean",
    window: float | None = None,
) -> float:
    """Score threshold: a percentile of the leave-one-out frame scores of the typical videos.

    Args:
      train_embs: list of R >= 2 float arrays [M_r, D].
      percentile: in [0, 100], e.g. 95 flags the top 5 % of typical frames.
      method, k, metric, window: as in `anomaly_scores` (k <= R - 1).

    Returns:
      float threshold.
    """
    if len(train_embs) < 2:
        raise ValueError(
            "fit_threshold needs at least 2 typical videos for leave-one-out "
            f"scores. Received: {len(train_embs)} video(s)"
        )
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be in [0, 100]. Received: {percentile=}")
    scores = [
        anomaly_scores(
            train_embs[i], [*train_embs[:i], *train_embs[i + 1 :]], method, k, metric, window
        )
        for i in range(len(train_embs))
    ]
    return float(np.percentile(np.concatenate(scores), percentile))


def flagged_segments(
    scores: np.ndarray, threshold: float, min_length: int = 1
) -> list[tuple[int, int]]:
    """Runs of consecutive frames with `scores > threshold`.

    Args:
      scores: float [T].
      threshold: frames strictly above it are flagged.
      min_length: runs shorter than this many frames are dropped.

    Returns:
      list of (start, end) inclusive frame ranges, in time order.
    """
    above = np.concatenate([[False], np.asarray(scores) > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2] - 1
    keep = ends - starts + 1 >= min_length
    return [(int(s), int(e)) for s, e in zip(starts[keep], ends[keep], strict=True)]


def detect(
    embs: np.ndarray,
    train_embs: Sequence[np.ndarray],
    threshold: float,
    method: str = "nn",
    k: int = 1,
    metric: str = "euclidean",
    window: float | None = None,
    min_length: int = 1,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Scores a video against typical videos and flags the anomalous segments.

    Args:
      embs: float [T, D].
      train_embs: list of R float arrays [M_r, D], typical videos.
      threshold: e.g. from `fit_threshold` with the same method, k and metric.
      method, k, metric, window: as in `anomaly_scores`.
      min_length: shortest flagged run kept, in frames.

    Returns:
      scores: float64 [T].
      segments: list of (start, end) inclusive frame ranges with scores above `threshold`.
    """
    scores = anomaly_scores(embs, train_embs, method, k, metric, window)
    return scores, flagged_segments(scores, threshold, min_length)
