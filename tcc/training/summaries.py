"""TensorBoard summaries of training: scalars, the resolved config, and alignment pictures.

The picture, written every `train.visualize_interval` steps as `alignment/train_pair`, shows for
two videos A and B of a training batch the squared Euclidean distance between every frame
embedding of A (rows) and of B (columns), with a colour bar, the videos' frame numbers on the axes,
and each frame of A's nearest frame in B marked in red: a good embedding gives a dark (near)
diagonal band, i.e. the nearest neighbours advance together through both videos.

The config is written once per (re)start as the text summary `config` (a table of every key) and as
TensorBoard hparams (the HParams dashboard), both in the `train` run.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import ml_collections  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from tcc import config_keys  # noqa: E402


def write_scalars(writer: tf.summary.SummaryWriter, step: int, values: dict[str, float]) -> None:
    """Writes scalars `values` (name -> float) at `step`."""
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(name, value)


def config_markdown(cfg: ml_collections.ConfigDict) -> str:
    """The resolved config as a Markdown table (`key | value`, one row per leaf key)."""
    rows = [f"| `{key}` | `{value!r}` |" for key, value in config_keys.flatten_values(cfg).items()]
    return "\n".join(["| key | value |", "|---|---|", *rows])


def hparams_values(cfg: ml_collections.ConfigDict) -> dict[str, bool | int | float | str]:
    """Every leaf key with a value TensorBoard's hparams accept (lists become strings)."""
    out = {}
    for key, value in config_keys.flatten_values(cfg).items():
        out[key] = value if isinstance(value, bool | int | float | str) else str(value)
    return out


def write_config(writer: tf.summary.SummaryWriter, cfg: ml_collections.ConfigDict, step: int):
    """Writes the resolved config as the text summary `config` and as hparams, at `step`."""
    from tensorboard.plugins.hparams import api as hp  # noqa: PLC0415 (only for training)

    with writer.as_default(step=step):
        tf.summary.text("config", config_markdown(cfg))
        hp.hparams(hparams_values(cfg), trial_id=cfg.logdir)
    writer.flush()


def alignment_figure(
    emb_a: np.ndarray,
    emb_b: np.ndarray,
    titles: tuple[str, str],
    frames: tuple[np.ndarray, np.ndarray] | None = None,
    step: int | None = None,
) -> np.ndarray:
    """Renders the distance matrix of two videos with nearest neighbours marked.

    Args:
      emb_a: [N, D] embeddings of the first video (rows).
      emb_b: [M, D] embeddings of the second video (columns).
      titles: names of the two videos.
      frames: the video frame numbers of the rows (int [N]) and the columns (int [M]); default
        0..N-1 and 0..M-1.
      step: the training step, for the title.

    Returns:
      uint8 RGBA image [H, W, 4].
    """
    fig = alignment_plot(emb_a, emb_b, titles, frames, step)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return tf.io.decode_png(buf.getvalue(), channels=4).numpy()


def alignment_plot(
    emb_a: np.ndarray,
    emb_b: np.ndarray,
    titles: tuple[str, str],
    frames: tuple[np.ndarray, np.ndarray] | None = None,
    step: int | None = None,
) -> plt.Figure:
    """The matplotlib figure of `alignment_figure` (same arguments); the caller closes it."""
    dist = ((emb_a[:, None, :] - emb_b[None, :, :]) ** 2).sum(-1)
    nn = dist.argmin(axis=1)
    rows, cols = frames if frames is not None else (np.arange(len(emb_a)), np.arange(len(emb_b)))
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=80)
    image = ax.imshow(dist, cmap="viridis", aspect="auto", interpolation="nearest")
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("squared embedding distance (dark = similar)", fontsize=8)
    ax.plot(nn, np.arange(len(nn)), "r.", markersize=5, label="nearest frame in B")
    for axis, numbers in ((ax.yaxis, rows), (ax.xaxis, cols)):
        axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        axis.set_major_formatter(FuncFormatter(_frame_number(np.asarray(numbers))))
    ax.set_ylabel(f"A: {titles[0]} (frame)")
    ax.set_xlabel(f"B: {titles[1]} (frame)")
    at = f" at step {step}" if step is not None else ""
    ax.set_title(
        f"Embedding distance between two training videos{at}\n"
        "good embedding: a dark band from top-left to bottom-right",
        fontsize=9,
    )
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    return fig


def _frame_number(numbers: np.ndarray):
    """A tick formatter: position i (a sampled timestep) -> the video frame number numbers[i]."""

    def label(position: float, _) -> str:
        i = int(round(position))
        return str(int(numbers[i])) if 0 <= i < len(numbers) else ""

    return label


def write_alignment_image(
    writer: tf.summary.SummaryWriter,
    step: int,
    embs: np.ndarray,
    names: list[str],
    frames: np.ndarray | None = None,
) -> None:
    """Writes the alignment picture of the first two videos of a batch.

    Args:
      writer: the `train` run's writer.
      step: the training step.
      embs: float [B, T, D] embeddings (B >= 2; else nothing is written).
      names: B video names.
      frames: int [B, T] video frame numbers of the timesteps (the batch's `steps`), or None.
    """
    if len(embs) < 2:
        return
    pair = (frames[0], frames[1]) if frames is not None else None
    image = alignment_figure(embs[0], embs[1], (names[0], names[1]), pair, step)
    with writer.as_default(step=step):
        tf.summary.image("alignment/train_pair", image[None], step=step)
