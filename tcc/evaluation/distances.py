"""Pairwise distances between frame embeddings, shared by the evaluation tasks and the apps.

One definition of the metrics every part of the package uses to compare frames:

  'sqeuclidean'  ||a - b||^2 (clamped at 0; the paper's, and the default)
  'euclidean'    ||a - b||
  'cosine'       1 - cos(a, b) (a zero vector has cosine 0 with everything: distance 1)
"""

from __future__ import annotations

import numpy as np

METRICS = ("sqeuclidean", "euclidean", "cosine")


def check_metric(metric: str, name: str = "metric") -> None:
    """Raises ValueError unless `metric` is one of `METRICS` (`name`: the caller's argument)."""
    if metric not in METRICS:
        raise ValueError(f"`{name}` must be one of {METRICS}. Received: {name}={metric!r}")


def check_embeddings(x: np.ndarray, name: str) -> np.ndarray:
    """Validates one video's embeddings and returns them as float64 [T, D].

    Raises:
      ValueError: if `x` is not a non-empty 2-D array, naming the argument `name`.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(
            f"Embeddings `{name}` must be a non-empty [T, D] array. Received shape: {x.shape}"
        )
    return x


def pairwise_distances(a: np.ndarray, b: np.ndarray, metric: str = "sqeuclidean") -> np.ndarray:
    """Distances between every row of `a` and every row of `b`.

    Args:
      a: float array [N, D].
      b: float array [M, D].
      metric: one of `METRICS` (module doc).

    Returns:
      float64 [N, M].

    Raises:
      ValueError: on an unknown metric, a malformed array or different sizes D.
    """
    check_metric(metric)
    a = check_embeddings(a, "a")
    b = check_embeddings(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            "Embedding sizes differ; both arrays must be [*, D] with the same D. "
            f"Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    if metric == "cosine":
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return 1.0 - a @ b.T
    sq = np.maximum(np.sum(a * a, axis=1)[:, None] - 2.0 * (a @ b.T) + np.sum(b * b, axis=1), 0.0)
    return sq if metric == "sqeuclidean" else np.sqrt(sq)
