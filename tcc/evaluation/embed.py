"""Embed every (k-th) frame of every video of a split once, shared by all evaluation tasks.

Evaluation needs only an *embed function*: frames [1, C * num_steps, ...] -> embeddings [1, C, D].
`embed_split` runs it over the deterministic evaluation chunks of `tcc.datasets.pipeline` (no
augmentation) and reassembles whole videos. `model_embed_fn` makes the function from a trained
algorithm; the apps and `extract_embeddings` reuse both.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from absl import logging

from tcc.datasets import pipeline

EmbedFn = Callable[[tf.Tensor], tf.Tensor]


@dataclasses.dataclass
class EmbeddedSplit:
    """Per-video embeddings of one split of one dataset.

    Attributes:
      dataset: dataset name.
      split: split name.
      names: video names, in record order.
      embs: per video, float32 [T_i, D] (every k-th frame).
      labels: per video, int32 [T_i] phase ids (-1 where unlabelled).
      frame_indices: per video, int32 [T_i], the frame index of each embedding.
      seq_lens: per video, the number of frames of the whole video.
    """

    dataset: str
    split: str
    names: list[str]
    embs: list[np.ndarray]
    labels: list[np.ndarray]
    frame_indices: list[np.ndarray]
    seq_lens: list[int]

    @property
    def has_labels(self) -> bool:
        """True when at least one frame carries a phase label."""
        return any((lab >= 0).any() for lab in self.labels)


def model_embed_fn(model: tf.keras.Model, jit_compile: bool = False) -> EmbedFn:
    """Wraps an algorithm's forward pass (inference mode) as a traced embed function."""

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def embed(frames: tf.Tensor) -> tf.Tensor:
        return model(frames, training=False)

    return embed


def embed_split(
    embed_fn: EmbedFn,
    inputs: pipeline.InputOptions,
    dataset: str,
    split: str,
    stride: int | None = None,
    root: str | None = None,
    max_videos: int | None = None,
    log: bool = True,
) -> EmbeddedSplit:
    """Embeds every `stride`-th frame of every video of a split.

    Args:
      embed_fn: frames [1, C * num_steps, ...] -> float [1, C, D].
      inputs: the input pipeline's options (`InputOptions.from_config(cfg)`; its eval chunk
        size is C).
      dataset: dataset name.
      split: split name ('train', 'val', ...).
      stride: every k-th frame; default `inputs.sample_all_stride`.
      root: records root; default `inputs.path`.
      max_videos: stop after this many videos (None = all).
      log: log a line with the count and the rate.

    Returns:
      An `EmbeddedSplit` with one entry per video.
    """
    ds = pipeline.make_eval_dataset(inputs, dataset, split, stride=stride, root=root)
    out = EmbeddedSplit(dataset, split, [], [], [], [], [])
    parts: dict[str, list] = {"embs": [], "labels": [], "steps": []}
    start, frames_done = time.perf_counter(), 0
    for chunk in ds:
        valid = chunk["valid"][0].numpy()
        index = int(chunk["chunk_index"][0])
        if index == 0:
            if max_videos is not None and len(out.names) >= max_videos:
                break
            parts = {"embs": [], "labels": [], "steps": []}
        embs = np.asarray(embed_fn(chunk["frames"]))[0]
        parts["embs"].append(embs[valid])
        parts["labels"].append(chunk["frame_labels"][0].numpy()[valid])
        parts["steps"].append(chunk["steps"][0].numpy()[valid])
        frames_done += int(valid.sum())
        if index == int(chunk["num_chunks"][0]) - 1:
            out.names.append(chunk["names"][0].numpy().decode())
            out.embs.append(np.concatenate(parts["embs"]).astype(np.float32))
            out.labels.append(np.concatenate(parts["labels"]).astype(np.int32))
            out.frame_indices.append(np.concatenate(parts["steps"]).astype(np.int32))
            out.seq_lens.append(int(chunk["seq_lens"][0]))
    elapsed = time.perf_counter() - start
    if not log:
        return out
    logging.info(
        "Embedded %s/%s: %d videos, %d frames in %.1fs (%.0f frames/s).",
        dataset,
        split,
        len(out.names),
        frames_done,
        elapsed,
        frames_done / max(elapsed, 1e-9),
    )
    return out
