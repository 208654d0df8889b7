"""Frame-level alignment of a query video to reference videos from per-frame embeddings.

Two methods:
- `'nn'`: every query frame is matched to its nearest reference frame (the paper's alignment,
  §4.1 / §6); matches need not be monotone.
- `'dtw'`: dynamic time warping over the distance matrix (`tcc.apps.dtw`); the match is monotone
  in time. A query frame covered by several path cells (a horizontal run of the path) is matched
  to the closest of them.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Sequence

import numpy as np

from tcc import atomic
from tcc.apps.dtw import dtw
from tcc.evaluation.distances import pairwise_distances

METHODS = ("nn", "dtw")


@dataclasses.dataclass(frozen=True)
class Alignment:
    """Result of aligning a query [N, D] to a reference [M, D].

    Attributes:
      mapping: int64 [N], the reference frame matched to each query frame.
      distances: float64 [N, M], the full query-to-reference distance matrix.
      frame_distances: float64 [N], `distances[i, mapping[i]]`.
      path: int64 [L, 2] DTW path of (query, reference) pairs, or None for `'nn'`.
      cost: float, DTW total path cost for `'dtw'`, sum of `frame_distances` for `'nn'`.
      method: `'nn'` or `'dtw'`.
      metric: the distance used (`tcc.evaluation.distances.METRICS`).
    """

    mapping: np.ndarray
    distances: np.ndarray
    frame_distances: np.ndarray
    path: np.ndarray | None
    cost: float
    method: str
    metric: str


def align(
    query: np.ndarray,
    reference: np.ndarray,
    method: str = "nn",
    window: float | None = None,
    metric: str = "sqeuclidean",
) -> Alignment:
    """Aligns every frame of `query` to a frame of `reference`.

    Args:
      query: float array [N, D] of query frame embeddings.
      reference: float array [M, D] of reference frame embeddings.
      method: `'nn'` (nearest neighbour per frame) or `'dtw'` (monotone DTW path).
      window: Sakoe-Chiba half-width in reference frames for `'dtw'` (None: unconstrained).
      metric: distance for matching (`tcc.evaluation.distances.pairwise_distances`).

    Returns:
      An `Alignment`; `mapping` is int64 [N].
    """
    return alignment_from_distances(
        pairwise_distances(query, reference, metric), method, window, metric
    )


def alignment_from_distances(
    distances: np.ndarray, method: str = "nn", window: float | None = None, metric: str = "custom"
) -> Alignment:
    """Builds an `Alignment` from a precomputed distance matrix.

    Args:
      distances: float [N, M], query-by-reference distances (any non-negative cost).
      method: `'nn'` or `'dtw'`.
      window: Sakoe-Chiba half-width for `'dtw'`, or None.
      metric: name recorded in the result.

    Returns:
      An `Alignment` with `mapping` int64 [N].
    """
    distances = np.asarray(distances, dtype=np.float64)
    n = distances.shape[0]
    if method == "nn":
        mapping = np.argmin(distances, axis=1)
        frame_d = distances[np.arange(n), mapping]
        return Alignment(mapping, distances, frame_d, None, float(frame_d.sum()), method, metric)
    if method == "dtw":
        total, path = dtw(distances, window=window)
        cell_d = distances[path[:, 0], path[:, 1]]
        order = np.lexsort((cell_d, path[:, 0]))  # by query frame, then by distance
        _, first = np.unique(path[order, 0], return_index=True)
        mapping = path[order[first], 1]
        frame_d = distances[np.arange(n), mapping]
        return Alignment(mapping, distances, frame_d, path, total, method, metric)
    raise ValueError(f"Unknown alignment method; use one of {METHODS}. Received: {method=}")


def align_many(
    query: np.ndarray,
    references: Sequence[np.ndarray],
    method: str = "nn",
    window: float | None = None,
    metric: str = "sqeuclidean",
) -> list[Alignment]:
    """Aligns one query [N, D] to each of several references [M_r, D].

    The distances to all references are computed in one matrix product and split per reference.

    Args:
      query: float [N, D].
      references: list of R float arrays [M_r, D].
      method, window, metric: as in `align`.

    Returns:
      list of `Alignment`, one per reference, in order.
    """
    if len(references) == 0:
        raise ValueError("align_many needs at least one reference. Received: references=[]")
    lengths = [len(r) for r in references]
    all_d = pairwise_distances(query, np.concatenate([np.asarray(r) for r in references]), metric)
    blocks = np.split(all_d, np.cumsum(lengths)[:-1], axis=1)
    return [alignment_from_distances(d, method, window, metric) for d in blocks]


def alignment_to_dict(alignment: Alignment) -> dict:
    """JSON-ready summary: method, metric, cost, lengths, mapping, per-frame distances, path."""
    n, m = alignment.distances.shape
    return {
        "method": alignment.method,
        "metric": alignment.metric,
        "cost": alignment.cost,
        "query_length": n,
        "reference_length": m,
        "mapping": alignment.mapping.tolist(),
        "frame_distances": alignment.frame_distances.tolist(),
        "path": None if alignment.path is None else alignment.path.tolist(),
    }


def save_alignment_json(alignment: Alignment, path: str | os.PathLike, **extra) -> None:
    """Writes an alignment as JSON (atomic).

    Args:
      alignment: the result of `align`.
      path: output `.json` file.
      **extra: additional top-level keys, e.g. `query="a.mp4", reference="b.mp4"`.
    """
    record = {**extra, **alignment_to_dict(alignment)}
    with atomic.path(path) as tmp, open(tmp, "w") as f:
        json.dump(record, f, indent=1)


def save_alignment_csv(
    alignment: Alignment,
    path: str | os.PathLike,
    query_frames: np.ndarray | None = None,
    reference_frames: np.ndarray | None = None,
) -> None:
    """Writes the frame mapping as CSV (atomic).

    Args:
      alignment: the result of `align`.
      path: output `.csv` file with header `query_frame,reference_frame,distance` and N rows.
      query_frames: int [N], the source frame number of each query embedding (default: 0 .. N-1);
        e.g. 0, 2, 4, ... when every other frame was embedded.
      reference_frames: int [M], the source frame number of each reference embedding.
    """
    n, m = alignment.distances.shape
    query_frames = np.arange(n) if query_frames is None else np.asarray(query_frames)
    reference_frames = np.arange(m) if reference_frames is None else np.asarray(reference_frames)
    if query_frames.shape != (n,) or reference_frames.shape != (m,):
        raise ValueError(
            f"Give one frame number per embedded frame: query_frames [{n}], reference_frames "
            f"[{m}]. Received: {query_frames.shape}, {reference_frames.shape}"
        )
    with atomic.path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["query_frame", "reference_frame", "distance"])
        writer.writerows(
            zip(
                query_frames.tolist(),
                reference_frames[alignment.mapping].tolist(),
                alignment.frame_distances.tolist(),
                strict=True,
            )
        )
