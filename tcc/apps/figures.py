"""PNG figures of the applications: distance matrix with alignment paths, anomaly curve, retrieval.

Figures are drawn on `matplotlib.figure.Figure` objects with the Agg canvas (no pyplot global
state, no display needed) and written atomically (temporary name, then rename).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tcc.apps.alignment import atomic_output


def plot_similarity_matrix(
    distances: np.ndarray,
    out_png: str | os.PathLike,
    paths: np.ndarray | Sequence[np.ndarray] | None = None,
    path_labels: Sequence[str] | None = None,
    title: str | None = None,
    query_name: str = "query",
    reference_name: str = "reference",
) -> None:
    """Draws a query-by-reference distance matrix with alignment paths on top.

    Bright cells are similar frames (small distance).

    Args:
      distances: float [N, M], e.g. `Alignment.distances`.
      out_png: output PNG path.
      paths: one or several paths; a [L, 2] int array of (query, reference) cells is drawn as a
        line (a DTW path), a [N] int array as one dot per query frame (a nearest-neighbour mapping).
      path_labels: legend entries, one per path.
      title: figure title.
      query_name, reference_name: axis names (rows are query frames, columns reference frames).
    """
    distances = np.asarray(distances, dtype=np.float64)
    if distances.ndim != 2:
        raise ValueError(f"distances must be [N, M]. Received shape: {distances.shape}")
    if paths is not None and isinstance(paths, np.ndarray):
        paths = [paths]
    n, m = distances.shape
    fig = _figure(min(10.0, 2.0 + 6.0 * m / max(n, m)), min(10.0, 1.5 + 6.0 * n / max(n, m)))
    ax = fig.add_subplot()
    im = ax.imshow(distances, cmap="viridis_r", aspect="auto", interpolation="nearest")
    fig.colorbar(im, ax=ax, label="distance")
    styles = [dict(color="red", lw=1.5), dict(color="white", lw=1.0, ls="--")]
    for k, p in enumerate(paths or []):
        p = np.asarray(p)
        label = path_labels[k] if path_labels and k < len(path_labels) else None
        if p.ndim == 1:
            ax.plot(p, np.arange(len(p)), "o", ms=3, color="magenta", label=label, zorder=3)
        else:
            ax.plot(p[:, 1], p[:, 0], label=label, **styles[k % len(styles)])
    if path_labels:
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(f"{reference_name} frame")
    ax.set_ylabel(f"{query_name} frame")
    ax.set_title(title or f"{query_name} vs {reference_name}")
    _save(fig, out_png)


def plot_anomaly(
    scores: np.ndarray,
    threshold: float,
    segments: Sequence[tuple[int, int]],
    out_png: str | os.PathLike,
    title: str | None = None,
    fps: float | None = None,
) -> None:
    """Plots per-frame anomaly scores, the threshold and the flagged segments (paper Fig. 7).

    Args:
      scores: float [T], distance to typical trajectories (`tcc.apps.anomaly_lib.detect`).
      threshold: horizontal line.
      segments: inclusive (start, end) frame ranges, shaded red.
      out_png: output PNG path.
      title: figure title.
      fps: if given, the x axis is in seconds instead of frames.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    unit = 1.0 / fps if fps else 1.0
    t = np.arange(len(scores)) * unit
    fig = _figure(8.0, 3.2)
    ax = fig.add_subplot()
    for k, (start, end) in enumerate(segments):
        ax.axvspan(
            (start - 0.5) * unit,
            (end + 0.5) * unit,
            color="red",
            alpha=0.2,
            label="flagged" if k == 0 else None,
        )
    ax.plot(t, scores, color="black", lw=1.5, label="distance to typical trajectories")
    ax.axhline(threshold, color="tab:red", ls="--", lw=1.0, label=f"threshold {threshold:.3g}")
    ax.set_xlim(t[0] - 0.5 * unit, t[-1] + 0.5 * unit)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("time (s)" if fps else "frame")
    ax.set_ylabel("distance")
    ax.set_title(title or "Anomaly score")
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, out_png)


def plot_retrieval_grid(
    query_image: np.ndarray,
    result_images: Sequence[np.ndarray],
    out_png: str | os.PathLike,
    captions: Sequence[str] | None = None,
    query_caption: str = "query",
    columns: int | None = None,
) -> None:
    """Shows a query frame (orange frame) followed by its retrieved nearest frames.

    Args:
      query_image: uint8 [H, W, 3] (or float in [0, 1]).
      result_images: K images [H_k, W_k, 3], nearest first.
      out_png: output PNG path.
      captions: optional K captions (e.g. "video 3, frame 41, d=0.12").
      query_caption: caption of the query panel.
      columns: panels per row (default: all in one row up to 8).
    """
    images = [np.asarray(query_image), *(np.asarray(r) for r in result_images)]
    texts = [query_caption, *(captions or [f"#{k + 1}" for k in range(len(result_images))])]
    if len(texts) != len(images):
        raise ValueError(
            f"Give one caption per result image. Received: {len(texts) - 1} "
            f"captions for {len(images) - 1} images"
        )
    columns = columns or min(len(images), 8)
    rows = math.ceil(len(images) / columns)
    fig = _figure(2.0 * columns, 2.2 * rows)
    for k, (image, text) in enumerate(zip(images, texts, strict=True)):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(text, fontsize=8)
        if k == 0:
            for spine in ax.spines.values():
                spine.set_color("orange")
                spine.set_linewidth(4)
    _save(fig, out_png)


def _figure(width: float, height: float) -> Figure:
    """A new Agg-backed figure of the given size in inches."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_png: str | os.PathLike) -> None:
    """Saves a figure as PNG atomically."""
    with atomic_output(out_png) as tmp:
        fig.savefig(tmp, format="png")
