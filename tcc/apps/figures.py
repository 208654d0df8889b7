"""PNG figures of the applications: distance matrix with alignment paths, anomaly curve, retrieval,
label transfer strips, transferred sound, task progress.

Figures are drawn on `matplotlib.figure.Figure` objects with the Agg canvas (no pyplot global
state, no display needed) and written atomically (temporary name, then rename).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from matplotlib import colors as plt_colors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tcc import atomic


def plot_similarity_matrix(
    distances: np.ndarray,
    out_png: str | os.PathLike,
    paths: np.ndarray | Sequence[np.ndarray] | None = None,
    path_labels: Sequence[str] | None = None,
    title: str | None = None,
    query_name: str = "query",
    reference_name: str = "reference",
    query_frames: np.ndarray | None = None,
    reference_frames: np.ndarray | None = None,
) -> Figure:
    """Draws a query-by-reference distance matrix with alignment paths on top.

    Bright cells are similar frames (small distance). Cells and paths are in embedded-frame
    indices; the axes are labelled with the videos' own frame numbers when given (e.g. every
    other frame was embedded: ticks 0, 10, 20 sit on cells 0, 5, 10).

    Args:
      distances: float [N, M], e.g. `Alignment.distances`.
      out_png: output PNG path.
      paths: one or several paths; a [L, 2] int array of (query, reference) cells is drawn as a
        line (a DTW path), a [N] int array as one dot per query frame (a nearest-neighbour mapping).
      path_labels: legend entries, one per path.
      title: figure title.
      query_name, reference_name: axis names (rows are query frames, columns reference frames).
      query_frames: int [N], the source frame number of each row (default: the row index).
      reference_frames: int [M], the source frame number of each column.

    Returns:
      the figure (already saved).
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
    _frame_ticks(ax.xaxis, reference_frames, m)
    _frame_ticks(ax.yaxis, query_frames, n)
    ax.set_xlabel(f"{reference_name} frame")
    ax.set_ylabel(f"{query_name} frame")
    ax.set_title(title or f"{query_name} vs {reference_name}")
    _save(fig, out_png)
    return fig


def plot_anomaly(
    scores: np.ndarray,
    threshold: float,
    segments: Sequence[tuple[int, int]],
    out_png: str | os.PathLike,
    title: str | None = None,
    fps: float | None = None,
    frame_indices: np.ndarray | None = None,
) -> Figure:
    """Plots per-frame anomaly scores, the threshold and the flagged segments (paper Fig. 7).

    Args:
      scores: float [T], distance to typical trajectories (`tcc.apps.anomaly_detection.detect`).
      threshold: horizontal line.
      segments: inclusive (start, end) index ranges into `scores`, shaded red.
      out_png: output PNG path.
      title: figure title.
      fps: if given, the x axis is in seconds instead of frames.
      frame_indices: int [T], the source frame number of each score (default: 0 .. T-1), e.g.
        every k-th frame when only those were embedded.

    Returns:
      the figure (already saved).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    frames = np.arange(len(scores)) if frame_indices is None else np.asarray(frame_indices)
    step = float(np.median(np.diff(frames))) if len(frames) > 1 else 1.0
    unit = 1.0 / fps if fps else 1.0
    t = frames * unit
    fig = _figure(8.0, 3.2)
    ax = fig.add_subplot()
    for k, (start, end) in enumerate(segments):
        ax.axvspan(
            (frames[start] - 0.5 * step) * unit,
            (frames[end] + 0.5 * step) * unit,
            color="red",
            alpha=0.2,
            label="flagged" if k == 0 else None,
        )
    ax.plot(t, scores, color="black", lw=1.5, label="distance to typical trajectories")
    ax.axhline(threshold, color="tab:red", ls="--", lw=1.0, label=f"threshold {threshold:.3g}")
    ax.set_xlim(t[0] - 0.5 * step * unit, t[-1] + 0.5 * step * unit)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("time (s)" if fps else "frame")
    ax.set_ylabel("distance")
    ax.set_title(title or "Anomaly score")
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, out_png)
    return fig


def plot_retrieval_grid(
    query_image: np.ndarray,
    result_images: Sequence[np.ndarray],
    out_png: str | os.PathLike,
    captions: Sequence[str] | None = None,
    query_caption: str = "query",
    columns: int | None = None,
    title: str | None = None,
) -> None:
    """Shows a query frame (orange frame) followed by its retrieved nearest frames.

    Args:
      query_image: uint8 [H, W, 3] (or float in [0, 1]).
      result_images: K images [H_k, W_k, 3], nearest first.
      out_png: output PNG path.
      captions: optional K captions (e.g. "video 3, frame 41, d=0.12").
      query_caption: caption of the query panel.
      columns: panels per row (default: all in one row up to 8).
      title: figure title above the panels.
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
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, out_png)


def plot_label_transfer(
    labels: np.ndarray,
    out_png: str | os.PathLike,
    true_labels: np.ndarray | None = None,
    phase_names: Sequence[str] | None = None,
    frame_indices: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Colour strips of per-frame phases: the transferred labels (and the true ones), with a legend.

    Args:
      labels: int [T], transferred phase id per frame (-1: none, drawn white).
      out_png: output PNG path.
      true_labels: int [T], the video's own labels, drawn as a strip above (optional).
      phase_names: legend names of the phase ids (default "phase k").
      frame_indices: int [T], source frame number of each entry (x axis; default 0 .. T-1).
      title: figure title.

    Returns:
      the figure (already saved).
    """
    rows = [("transferred", np.asarray(labels).reshape(-1))]
    if true_labels is not None:
        rows.insert(0, ("true", np.asarray(true_labels).reshape(-1)))
    strips = np.stack([r for _, r in rows]).astype(float)
    used = sorted({int(v) for v in strips.ravel() if v >= 0})
    strips[strips < 0] = np.nan
    frames = np.arange(strips.shape[1]) if frame_indices is None else np.asarray(frame_indices)
    fig = _figure(8.0, 1.4 + 0.45 * len(rows))
    ax = fig.add_subplot()
    cmap = _phase_cmap()
    ax.imshow(strips, aspect="auto", cmap=cmap, vmin=0, vmax=cmap.N, interpolation="nearest")
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    _frame_ticks(ax.xaxis, frames, strips.shape[1])
    ax.set_xlabel("query frame")
    names = list(phase_names or [])
    handles = [
        Patch(color=cmap(k % cmap.N), label=names[k] if k < len(names) else f"phase {k}")
        for k in used
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.45 if len(rows) > 1 else -0.7),
            ncol=min(len(handles), 6),
            fontsize=8,
            frameon=False,
        )
    ax.set_title(title or "label transfer")
    _save(fig, out_png)
    return fig


def plot_audio_spectrogram(
    audio: np.ndarray,
    sr: int,
    out_png: str | os.PathLike,
    boundaries: Sequence[float] = (),
    title: str | None = None,
    max_hz: float | None = None,
) -> None:
    """Spectrogram of a sound track with vertical dashed lines (e.g. the video's phase changes).

    Args:
      audio: [S] or [S, C] samples (channels are averaged), float or integer PCM.
      sr: sample rate in Hz.
      out_png: output PNG path.
      boundaries: times in seconds to mark.
      title: figure title.
      max_hz: upper frequency shown (default: sr / 2).
    """
    audio = np.asarray(audio, dtype=np.float64)
    audio = audio.mean(axis=1) if audio.ndim == 2 else audio.reshape(-1)
    fig = _figure(8.0, 2.6)
    ax = fig.add_subplot()
    nfft = int(min(512, max(16, 2 ** np.floor(np.log2(max(len(audio) // 4, 16))))))
    ax.specgram(audio, Fs=sr, NFFT=nfft, noverlap=nfft * 3 // 4, cmap="magma")
    for b in boundaries:
        ax.axvline(b, color="white", ls="--", lw=1)
    ax.set_ylim(0, max_hz or sr / 2)
    ax.set_xlabel("query time (s)" + ("; dashed: phase changes" if len(boundaries) else ""))
    ax.set_ylabel("Hz")
    ax.set_title(title or "transferred sound")
    _save(fig, out_png)


def plot_progress(
    curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    out_png: str | os.PathLike,
    title: str | None = None,
) -> Figure:
    """Task progress (0 -> 1) over each video's frames.

    Args:
      curves: (name, frame numbers int [T], progress float [T]) per video.
      out_png: output PNG path.
      title: figure title.

    Returns:
      the figure (already saved).
    """
    fig = _figure(8.0, 3.4)
    ax = fig.add_subplot()
    for name, frames, progress in curves:
        ax.plot(frames, progress, lw=1.5 if len(curves) <= 10 else 0.8, label=name)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("frame")
    ax.set_ylabel("progress")
    if len(curves) <= 10:
        ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title or "task progress")
    ax.grid(alpha=0.3)
    _save(fig, out_png)
    return fig


def _phase_cmap() -> ListedColormap:
    """The categorical colours of phase ids (the playback's)."""
    return ListedColormap(plt_colors.TABLEAU_COLORS.values(), name="phases")


def _frame_ticks(axis, frames: np.ndarray | None, count: int) -> None:
    """Integer ticks on an axis of `count` cells, labelled with `frames[cell]` when given."""
    axis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    if frames is not None:
        frames = np.asarray(frames).reshape(-1)
        axis.set_major_formatter(
            FuncFormatter(
                lambda x, _: (
                    str(int(frames[int(round(x))]))
                    if 0 <= round(x) < len(frames) and abs(x - round(x)) < 1e-6
                    else ""
                )
            )
        )


def _figure(width: float, height: float) -> Figure:
    """A new Agg-backed figure of the given size in inches."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_png: str | os.PathLike) -> None:
    """Saves a figure as PNG atomically."""
    with atomic.path(out_png) as tmp:
        fig.savefig(tmp, format="png")
