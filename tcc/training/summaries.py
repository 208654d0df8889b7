"""TensorBoard summaries of training: scalars, and pictures of what the embeddings align.

The picture, written every `train.visualize_interval` steps, shows for two videos of a training
batch the cross-video distance matrix of their embeddings with each frame's nearest neighbour
marked: a good embedding gives a dark, monotone band from the top-left to the bottom-right.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def write_scalars(writer: tf.summary.SummaryWriter, step: int, values: dict[str, float]) -> None:
    """Writes scalars `values` (name -> float) at `step`."""
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(name, value)


def alignment_figure(emb_a: np.ndarray, emb_b: np.ndarray, titles: tuple[str, str]) -> np.ndarray:
    """Renders the distance matrix of two videos with nearest neighbours marked.

    Args:
      emb_a: [N, D] embeddings of the first video.
      emb_b: [M, D] embeddings of the second video.
      titles: names of the two videos.

    Returns:
      uint8 RGBA image [H, W, 4].
    """
    dist = ((emb_a[:, None, :] - emb_b[None, :, :]) ** 2).sum(-1)
    nn = dist.argmin(axis=1)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.imshow(dist, cmap="viridis_r", aspect="auto")
    ax.plot(nn, np.arange(len(nn)), "r.", markersize=4, label="nearest neighbour")
    ax.set_ylabel(f"{titles[0]} (frame)")
    ax.set_xlabel(f"{titles[1]} (frame)")
    ax.set_title("embedding distance")
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return tf.io.decode_png(buf.getvalue(), channels=4).numpy()


def write_alignment_image(
    writer: tf.summary.SummaryWriter, step: int, embs: np.ndarray, names: list[str]
) -> None:
    """Writes the alignment picture of the first two videos of a batch of embeddings [B, T, D]."""
    if len(embs) < 2:
        return
    image = alignment_figure(embs[0], embs[1], (names[0], names[1]))
    with writer.as_default(step=step):
        tf.summary.image("alignment/train_pair", image[None], step=step)
