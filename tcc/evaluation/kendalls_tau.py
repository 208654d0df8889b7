"""Kendall's tau of nearest-neighbour alignments between videos (paper §4.1), no labels needed.

For every ordered pair (i, j), i != j, of videos, both subsampled by `stride`: each frame of
video i is matched to its nearest frame of video j (squared Euclidean distance by default); the
metric of the pair is Kendall's tau-b between the frame order of i (0, 1, 2, ...) and the matched
indices in j (the default variant of `scipy.stats.kendalltau`). Undefined pairs (NaN: fewer than
two frames, or every frame matched to one frame of j) are dropped and the rest averaged. 1 means
the alignment preserves temporal order perfectly, -1 that it reverses it.

This module also holds the array check shared by the other tasks; the distances are those of
`tcc.evaluation.distances`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.evaluation.distances import check_metric, pairwise_distances

# Upper bound on the elements of any intermediate array (float64 / int64: 32 MiB).
BLOCK_ELEMENTS = 1 << 22


def check_videos(embs_list: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
    """Validates a list of per-video embeddings and converts each to float64.

    Args:
      embs_list: N arrays [T_i, D] (T_i may differ between videos, D may not).
      name: argument name used in error messages.

    Returns:
      N float64 arrays [T_i, D].

    Raises:
      ValueError: if the list is empty, an array is not 2-D or has no frames, or D differs.
    """
    if embs_list is None or len(embs_list) == 0:
        raise ValueError(
            f"`{name}` must hold at least one video of embeddings [T, D]. Received: []"
        )
    videos = [np.asarray(e, dtype=np.float64) for e in embs_list]
    for i, video in enumerate(videos):
        if video.ndim != 2 or video.shape[0] == 0:
            raise ValueError(
                f"`{name}[{i}]` must be a non-empty [T, D] array of frame embeddings. "
                f"Received: shape={video.shape}"
            )
    dims = sorted({video.shape[1] for video in videos})
    if len(dims) > 1:
        raise ValueError(
            f"All videos of `{name}` must have the same embedding size D. Received: D in {dims}"
        )
    return videos


def _flat_layout(videos: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Concatenates ragged videos [T_i, D] into [F, D] and gives each frame a slot of [N, L].

    Returns:
      frames float64 [F, D]; slots int64 [F] = video * L + frame index; L = the longest T_i.
    """
    length = max(len(v) for v in videos)
    slots = np.concatenate([i * length + np.arange(len(v)) for i, v in enumerate(videos)])
    return np.concatenate(videos, axis=0), slots, length


def nearest_frames(
    query: np.ndarray, videos: list[np.ndarray], distance: str = "sqeuclidean"
) -> np.ndarray:
    """Index of the nearest frame of every candidate video for each query frame.

    Args:
      query: float [n, D] frames of one video.
      videos: N candidate videos [T_j, D] (ragged lengths allowed).
      distance: a metric of `tcc.evaluation.distances`.

    Returns:
      int64 [n, N]: entry (t, j) is the frame of video j nearest to query frame t (ties go to the
      lowest index).
    """
    frames, slots, length = _flat_layout(videos)
    num_slots = len(videos) * length
    rows = max(1, BLOCK_ELEMENTS // num_slots)
    nearest = np.empty((len(query), len(videos)), dtype=np.int64)
    for start in range(0, len(query), rows):
        dists = pairwise_distances(query[start : start + rows], frames, distance)  # [rows, F]
        padded = np.full((len(dists), num_slots), np.inf)
        padded[:, slots] = dists
        nearest[start : start + rows] = np.argmin(padded.reshape(-1, len(videos), length), -1)
    return nearest


def tau_b_against_time(matches: np.ndarray) -> np.ndarray:
    """Kendall's tau-b between (0, 1, ..., n-1) and each row of `matches`.

    With x = arange(n) tie-free, tau-b = S / sqrt(n0 * (n0 - U)), where n0 = n(n-1)/2,
    S = sum over a < b of sign(y_b - y_a) and U the number of pairs a < b with y_a == y_b.

    Args:
      matches: int [P, n] matched indices.

    Returns:
      float64 [P]; NaN where tau-b is undefined (n < 2, or a constant row).
    """
    num_rows, n = matches.shape
    matches = matches.astype(np.int32)
    positions = np.arange(n)
    first_rows = max(1, min(n, BLOCK_ELEMENTS // max(1, n)))  # rows a per block
    pair_rows = max(1, BLOCK_ELEMENTS // (first_rows * max(1, n)))  # rows of `matches` per block
    concordance = np.zeros(num_rows)
    ties = np.zeros(num_rows)
    for a0 in range(0, n, first_rows):
        first = positions[a0 : a0 + first_rows]
        later = (positions[None, :] > first[:, None]).astype(np.int8)  # [rows, n]: b > a
        num_lower = later.size - int(later.sum())
        for p0 in range(0, num_rows, pair_rows):
            y = matches[p0 : p0 + pair_rows]
            signs = np.sign(y[:, None, :] - y[:, first, None]).astype(np.int8)  # sign(y_b - y_a)
            signs *= later
            concordance[p0 : p0 + pair_rows] += signs.sum(axis=(1, 2), dtype=np.int64)
            ties[p0 : p0 + pair_rows] += np.count_nonzero(signs == 0, axis=(1, 2)) - num_lower
    num_pairs = n * (n - 1) / 2.0
    denom = np.sqrt(num_pairs * (num_pairs - ties))
    safe = np.where(denom > 0, denom, 1.0)
    return np.where(denom > 0, concordance / safe, np.nan)


def kendalls_tau_per_pair(
    embs_list: Sequence[np.ndarray], stride: int = 1, distance: str = "sqeuclidean"
) -> np.ndarray:
    """Kendall's tau-b of the nearest-neighbour alignment of every ordered pair of videos.

    Args:
      embs_list: N >= 2 arrays [T_i, D] (ragged lengths allowed).
      stride: keep every `stride`-th frame of every video (2 for Pouring, 5 for Penn Action in
        the original code).
      distance: 'sqeuclidean' (the paper's), 'euclidean' or 'cosine'
        (`tcc.evaluation.distances`).

    Returns:
      float64 [N, N]: entry (i, j) aligns video i (queries) to video j; NaN on the diagonal and
      for undefined pairs.

    Raises:
      ValueError: on fewer than two videos, a bad stride or distance, or malformed embeddings.
    """
    check_metric(distance, "distance")
    if int(stride) != stride or stride < 1:
        raise ValueError(f"`stride` must be an integer >= 1. Received: stride={stride!r}")
    videos = [v[:: int(stride)] for v in check_videos(embs_list, "embs_list")]
    if len(videos) < 2:
        raise ValueError(
            f"Kendall's tau needs at least two videos to align. Received: {len(videos)} video"
        )
    taus = np.full((len(videos), len(videos)), np.nan)
    for i, query in enumerate(videos):
        others = np.arange(len(videos)) != i
        matches = nearest_frames(query, videos, distance)  # [n_i, N]
        taus[i, others] = tau_b_against_time(matches[:, others].T)
    return taus


def kendalls_tau(
    embs_list: Sequence[np.ndarray], stride: int = 1, distance: str = "sqeuclidean"
) -> float:
    """Mean Kendall's tau-b over all ordered pairs of videos, NaN pairs dropped (paper §4.1).

    Args:
      embs_list: N >= 2 arrays [T_i, D] (ragged lengths allowed).
      stride: keep every `stride`-th frame of every video.
      distance: 'sqeuclidean' (the paper's), 'euclidean' or 'cosine'
        (`tcc.evaluation.distances`).

    Returns:
      The mean in [-1, 1], or NaN if no pair is defined (e.g. every video has one frame).
    """
    taus = kendalls_tau_per_pair(embs_list, stride=stride, distance=distance)
    finite = taus[np.isfinite(taus)]
    return float(np.mean(finite)) if finite.size else float("nan")
