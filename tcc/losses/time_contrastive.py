"""Single-view time-contrastive (TCN) n-pairs loss, a baseline of the TCC paper (§4.2).

Anchors and positives come from the same video, the positive a few timesteps before its anchor;
the positives of all other anchors of the batch (of the same and of other videos) are the
negatives. Frames of different videos are never paired (the original code regrouped its
embeddings so that, with more than one video, "pairs" mixed frames of different videos).

How pairs are drawn, for ``embs [B, T, D]``:

* every timestep ``t = 1 .. T-1`` of every video is an anchor (``N = B (T - 1)`` anchors);
* its positive is timestep ``t - k`` of the same video, ``k`` uniform in
  ``{1, .., min(positive_window, t)}``. The window counts timesteps of ``embs`` (sampled frames),
  not frames of the source video.

Loss, with ``logits[a, c] = anchor_a . positive_c / temperature`` over all ``N x N`` pairs (by
default the original's plain dot product: no normalisation, temperature 1): softmax cross-entropy
of every anchor row whose target is its own positive. Two refinements keep
the targets consistent when pairs overlap: columns whose positive is the very same frame as the
anchor's positive share the target mass equally (the original's label remapping), and columns
whose positive is the anchor's own frame are left out of that row's softmax (they are the anchor
itself, not a negative). Plus ``0.25 * reg_lambda * (mean |anchor|^2 + mean |positive|^2)``, the
original's embedding L2 term (on the embeddings as given, before any normalisation).

Two options, off by default, make the baseline train on pixels (RESULTS.md, "TCN on pixels"):

* ``negatives="video"`` keeps in every anchor's softmax only the positives of anchors of *its own*
  video: the loss can then only be lowered by telling moments of one video apart (time-contrastive
  in the sense of Sermanet et al.), not by telling videos apart by their appearance.
* ``normalize_embeddings`` with a ``temperature``: cosine similarities divided by the temperature.
"""

from __future__ import annotations

import tensorflow as tf

from tcc.losses.random_source import SeedLike, draw_uniform


@tf.autograph.experimental.do_not_convert
def sample_tcn_positives(
    batch_size, num_steps, positive_window: int = 5, seed: SeedLike = None
) -> tf.Tensor:
    """Draws the positive timestep of every anchor ``t = 1 .. T-1`` of every video.

    Args:
        batch_size: number of videos ``B`` (int or scalar int tensor).
        num_steps: timesteps per video ``T`` (int or scalar int tensor), ``>= 2``.
        positive_window: the positive is at most this many timesteps before its anchor (>= 1).
        seed: see :mod:`tcc.losses.random_source`.

    Returns:
        int32 tensor ``[B, T - 1]``: entry ``[b, t - 1]`` is the positive timestep of anchor
        ``t`` of video ``b``, in ``[max(0, t - positive_window), t - 1]``.
    """
    if int(positive_window) < 1:
        raise ValueError(
            f"`positive_window` must be >= 1. Received: positive_window={positive_window}"
        )
    anchors = tf.range(1, num_steps, dtype=tf.int32)  # [T - 1]
    max_offset = tf.minimum(anchors, positive_window)
    uniform = draw_uniform([batch_size, num_steps - 1], seed)
    offsets = 1 + _scaled_index(uniform, max_offset)
    return anchors[None, :] - offsets


def _scaled_index(uniform: tf.Tensor, upper: tf.Tensor) -> tf.Tensor:
    """Integers uniform in ``[0, upper)`` per column, from uniforms ``[B, K]`` and ``upper [K]``."""
    index = tf.cast(tf.floor(uniform * tf.cast(upper, uniform.dtype)[None, :]), tf.int32)
    return tf.minimum(index, upper[None, :] - 1)


@tf.autograph.experimental.do_not_convert
def compute_tcn_loss(
    embs,
    positive_window: int = 5,
    reg_lambda: float = 0.002,
    seed: SeedLike = None,
    negatives: str = "batch",
    normalize_embeddings: bool = False,
    temperature: float = 1.0,
) -> tf.Tensor:
    """Single-view TCN n-pairs loss with the embedding L2 term (see the module docstring).

    Args:
        embs: float tensor ``[B, T, D]`` (``T >= 2``); float16 / bfloat16 are computed in float32.
        positive_window: the positive is at most this many timesteps before its anchor.
        reg_lambda: weight of the embedding L2 term.
        seed: randomness of the positives; see :mod:`tcc.losses.random_source`.
        negatives: ``"batch"`` (the original: the positives of every anchor of the batch) or
            ``"video"`` (only those of anchors of the anchor's own video).
        normalize_embeddings: L2-normalise anchors and positives before the dot product.
        temperature: the logits are divided by it (> 0).

    Returns:
        Scalar loss, float32 (float64 for float64 ``embs``).
    """
    if negatives not in ("batch", "video"):
        raise ValueError(
            f"`negatives` must be 'batch' or 'video'. Received: negatives={negatives!r}"
        )
    if not float(temperature) > 0:
        raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature}")
    embs = _prepare(embs)
    shape = tf.shape(embs)
    num_videos, num_steps, dim = shape[0], shape[1], shape[2]
    positive_steps = sample_tcn_positives(num_videos, num_steps, positive_window, seed)
    anchors = tf.reshape(embs[:, 1:], [-1, dim])  # [N, D], N = B (T - 1)
    positives = tf.reshape(tf.gather(embs, positive_steps, batch_dims=1), [-1, dim])
    video_offset = (tf.range(num_videos) * num_steps)[:, None]
    anchor_frame = tf.reshape(video_offset + tf.range(1, num_steps)[None, :], [-1])
    positive_frame = tf.reshape(video_offset + positive_steps, [-1])
    similar_anchors, similar_positives = anchors, positives
    if normalize_embeddings:
        similar_anchors = tf.math.l2_normalize(anchors, axis=1)
        similar_positives = tf.math.l2_normalize(positives, axis=1)
    logits = tf.matmul(similar_anchors, similar_positives, transpose_b=True) / temperature  # [N, N]
    shares_positive = tf.cast(positive_frame[:, None] == positive_frame[None, :], embs.dtype)
    targets = shares_positive / tf.reduce_sum(shares_positive, axis=1, keepdims=True)
    left_out = anchor_frame[:, None] == positive_frame[None, :]  # the anchor itself
    if negatives == "video":
        video = tf.repeat(tf.range(num_videos), num_steps - 1)  # [N]
        left_out |= video[:, None] != video[None, :]
    log_normaliser = tf.reduce_logsumexp(
        tf.where(left_out, tf.constant(-float("inf"), embs.dtype), logits), axis=1
    )
    cross_entropy = log_normaliser - tf.reduce_sum(tf.stop_gradient(targets) * logits, axis=1)
    l2_term = (
        0.25
        * reg_lambda
        * (
            tf.reduce_mean(tf.reduce_sum(tf.square(anchors), axis=1))
            + tf.reduce_mean(tf.reduce_sum(tf.square(positives), axis=1))
        )
    )
    return tf.reduce_mean(cross_entropy) + l2_term


def _prepare(embs) -> tf.Tensor:
    """Validates ``embs`` [B, T >= 2, D] and casts it to float32 (float64 stays float64)."""
    embs = tf.convert_to_tensor(embs)
    if not embs.dtype.is_floating or embs.shape.rank != 3:
        raise ValueError(
            f"`embs` must be a floating tensor [B, T, D]. "
            f"Received: dtype={embs.dtype.name}, shape={embs.shape}"
        )
    message = (
        "TCN pairs an anchor with an earlier timestep, so it needs T >= 2. "
        f"Received: embs.shape={embs.shape}"
    )
    if embs.shape[1] is None:  # checked when the graph runs (not under XLA)
        tf.debugging.assert_greater_equal(tf.shape(embs)[1], 2, message=message)
    elif embs.shape[1] < 2:
        raise ValueError(message)
    return tf.cast(embs, tf.float64 if embs.dtype == tf.float64 else tf.float32)
