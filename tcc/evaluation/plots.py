"""Few-shot curves as in the paper's Figure 5: accuracy vs number of labelled videos.

One line per method or run with its 95 % confidence band, from the output of
`few_shot_classification`. Rendering uses matplotlib's Agg canvas directly (no pyplot, no change
of the global backend), so it works headless and inside notebooks alike.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from tcc import atomic

FewShotResult = Mapping[int, tuple[float, float]]
DEFAULT_NAME = "embeddings"


def _as_curves(curves: FewShotResult | Mapping[str, FewShotResult]) -> dict[str, FewShotResult]:
    """Accepts one `few_shot_classification` result or {name: result}; returns {name: result}."""
    if not curves:
        raise ValueError("Nothing to plot: `curves` is empty. Received: {}")
    first = next(iter(curves.values()))
    if isinstance(first, Mapping):
        named = {str(name): result for name, result in curves.items()}
    else:
        named = {DEFAULT_NAME: curves}
    for name, result in named.items():
        if not result:
            raise ValueError(f"Nothing to plot for curve {name!r}: it has no k. Received: {result}")
    return named


def few_shot_figure(
    curves: FewShotResult | Mapping[str, FewShotResult],
    title: str = "Few-shot phase classification",
    log_x: bool = True,
) -> Figure:
    """Builds the few-shot figure.

    Args:
      curves: {name: {k: (mean accuracy, 95 % CI half-width)}}, or a single {k: (mean, ci)}.
        A NaN half-width draws no band for that point.
      title: figure title (e.g. the dataset name).
      log_x: logarithmic x axis as in the paper (ticks at the plotted k).

    Returns:
      A matplotlib Figure (Agg canvas attached).
    """
    named = _as_curves(curves)
    figure = Figure(figsize=(5.0, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    all_ks: set[int] = set()
    for name, result in named.items():
        ks = np.array(sorted(result), dtype=np.float64)
        means = np.array([result[k][0] for k in sorted(result)], dtype=np.float64)
        cis = np.array([result[k][1] for k in sorted(result)], dtype=np.float64)
        (line,) = axes.plot(ks, means, marker="o", markersize=3, label=name)
        axes.fill_between(ks, means - cis, means + cis, color=line.get_color(), alpha=0.2)
        all_ks.update(int(k) for k in result)
    if log_x and min(all_ks) > 0:
        axes.set_xscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xticks(sorted(all_ks))
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_xlabel("Number of labelled videos")
    axes.set_ylabel("Classification accuracy")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return figure


def few_shot_png(
    curves: FewShotResult | Mapping[str, FewShotResult],
    title: str = "Few-shot phase classification",
    log_x: bool = True,
) -> bytes:
    """The few-shot figure encoded as PNG bytes (e.g. for `tf.image.decode_png` + TensorBoard).

    Args: as `few_shot_figure`.

    Returns:
      PNG file contents.
    """
    buffer = io.BytesIO()
    few_shot_figure(curves, title=title, log_x=log_x).savefig(buffer, format="png")
    return buffer.getvalue()


def plot_few_shot_curves(
    curves: FewShotResult | Mapping[str, FewShotResult],
    output_path: str,
    title: str = "Few-shot phase classification",
    log_x: bool = True,
) -> str:
    """Writes the few-shot figure as a PNG file (atomically: temporary name, then rename).

    Args:
      curves: as `few_shot_figure`.
      output_path: destination `.png`; missing parent directories are created.
      title: figure title.
      log_x: logarithmic x axis.

    Returns:
      `output_path`.
    """
    atomic.write_bytes(output_path, few_shot_png(curves, title=title, log_x=log_x))
    return output_path
