"""Cycle-back logits of every ordered pair of videos at once (deterministic TCC).

For videos ``i != j`` and start frame ``t`` of ``i``: the soft nearest neighbour of ``x_it`` in
video ``j`` is ``nn = sum_s alpha_s x_js`` with ``alpha = softmax_s(sim(x_it, x_js))``, and the
cycle-back logits are ``sim(nn, x_iu)`` over the frames ``u`` of ``i``.

Everything is computed from the Gram matrix ``G = X X^T`` of all ``B T`` frames (one 2-D product):
``nn . x_iu = sum_s alpha_s G[js, iu]`` and ``|nn|^2 = sum_s alpha_s (alpha G_jj)_s``, so the soft
nearest neighbours are never materialised and the products after the first cost ``T^3`` per pair
instead of ``T^2 D``. Two layouts, neither with a Python loop over pairs (timings in BENCHMARKS.md):

* *batched* (any ``B``, dynamic shapes too): products batched over the ``B^2`` pairs; the ``B``
  pairs ``i == j`` are computed as well and weighted out.
* *two videos* (static ``B = 2``, the paper's batch): only plain 2-D products. Row ``(i, t)`` has a
  single partner video ``1 - i``, so zeroing the own-video block of ``alpha`` gives all products
  at once; this avoids the fixed cost of batched products (large with oneDNN on CPU), which
  dominates at this size.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from tcc.losses.cycle_back import similarity_from_dots


class CycleRows(NamedTuple):
    """Cycle-back rows grouped by starting video (or by cycle).

    Attributes:
        logits: ``[G, R, T]``: ``R`` rows of ``T`` logits for each of ``G`` groups; the logits of a
            row are over the frames of the group's starting video.
        labels: one-hot start frames ``[1 or G, R, T]``.
        step_values: ``[G, T]`` frame positions of each group's starting video.
        weights: ``None`` (every row counts) or 0/1 weights ``[G, R]``.
    """

    logits: tf.Tensor
    labels: tf.Tensor
    step_values: tf.Tensor
    weights: tf.Tensor | None


def all_pairs_rows(
    embs: tf.Tensor, step_values: tf.Tensor, similarity_type: str, temperature: float
) -> CycleRows:
    """Cycle-back rows for all ordered pairs ``i != j`` of videos and all start frames.

    Args:
        embs: float tensor ``[B, T, D]``.
        step_values: float tensor ``[B, T]`` of frame positions (used by regression losses).
        similarity_type: ``'l2'`` or ``'cosine'``.
        temperature: positive float.

    Returns:
        :class:`CycleRows` grouped by starting video, with ``B (B - 1) T`` rows of weight 1.
    """
    if embs.shape[0] == 2:
        return _two_video_rows(embs, step_values, similarity_type, temperature)
    return _batched_rows(embs, step_values, similarity_type, temperature)


def _gram_and_first_hop(
    embs: tf.Tensor, similarity_type: str, temperature: float
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Gram matrix [BT, BT], squared norms [BT], first-hop similarities [BT, BT], and the scale."""
    shape = tf.shape(embs)
    flat = tf.reshape(embs, [shape[0] * shape[1], shape[2]])
    scale = 1.0 / (tf.cast(shape[2], embs.dtype) * tf.cast(temperature, embs.dtype))
    gram = tf.matmul(flat, flat, transpose_b=True)
    squares = tf.reduce_sum(tf.square(flat), axis=-1)
    sim_12 = similarity_from_dots(gram, squares[:, None], squares[None, :], similarity_type, scale)
    return gram, squares, sim_12, scale


def _batched_rows(
    embs: tf.Tensor, step_values: tf.Tensor, similarity_type: str, temperature: float
) -> CycleRows:
    """Products batched over pairs: rows ``(j, t)`` for every starting video ``i``."""
    shape = tf.shape(embs)
    num_videos, num_steps = shape[0], shape[1]
    gram, squares, sim_12, scale = _gram_and_first_hop(embs, similarity_type, temperature)
    blocks = [num_videos, num_steps, num_videos, num_steps]
    alpha = tf.nn.softmax(tf.reshape(sim_12, blocks), axis=-1)  # [i, t, j, s]
    alpha = tf.transpose(alpha, [0, 2, 1, 3])  # [i, j, t, s]
    # G[(i, u), (j, s)] -> [i, j, s, u]; then dots[i, j, t, u] = nn(i, j, t) . x(i, u).
    dots = tf.matmul(alpha, tf.transpose(tf.reshape(gram, blocks), [0, 2, 3, 1]))
    nn_squares = None
    if similarity_type == "l2":
        self_gram = tf.matmul(embs, embs, transpose_b=True)[None]  # [1, j, s, s']
        nn_squares = tf.reduce_sum(tf.matmul(alpha, self_gram) * alpha, axis=-1)[..., None]
    key_squares = tf.reshape(squares, [num_videos, 1, 1, num_steps])
    logits = similarity_from_dots(dots, nn_squares, key_squares, similarity_type, scale)
    off_diagonal = 1.0 - tf.eye(num_videos, dtype=embs.dtype)  # [i, j]
    weights = tf.broadcast_to(off_diagonal[:, :, None], [num_videos, num_videos, num_steps])
    return CycleRows(
        logits=tf.reshape(logits, [num_videos, num_videos * num_steps, num_steps]),
        labels=tf.tile(tf.eye(num_steps, dtype=embs.dtype), [num_videos, 1])[None],
        step_values=step_values,
        weights=tf.reshape(weights, [num_videos, num_videos * num_steps]),
    )


def _two_video_rows(
    embs: tf.Tensor, step_values: tf.Tensor, similarity_type: str, temperature: float
) -> CycleRows:
    """B = 2 with plain 2-D products: rows ``t`` for each starting video ``i``."""
    num_steps = tf.shape(embs)[1]
    frames = 2 * num_steps
    gram, squares, sim_12, scale = _gram_and_first_hop(embs, similarity_type, temperature)
    alpha = tf.nn.softmax(tf.reshape(sim_12, [frames, 2, num_steps]), axis=-1)
    other_video = tf.reshape(1.0 - tf.eye(2, dtype=embs.dtype), [2, 1, 2, 1])
    other_video = tf.broadcast_to(other_video, [2, num_steps, 2, num_steps])
    alpha = tf.reshape(alpha, [frames, frames]) * tf.reshape(other_video, [frames, frames])
    dots = tf.matmul(alpha, gram)  # [(i, t), (i', u)] = nn(i, t) . x(i', u)
    nn_squares = None
    if similarity_type == "l2":  # alpha is zero on the own-video block
        nn_squares = tf.reduce_sum(dots * alpha, axis=-1, keepdims=True)
    logits = similarity_from_dots(dots, nn_squares, squares[None, :], similarity_type, scale)
    same_video = tf.reshape(tf.eye(2, dtype=embs.dtype), [2, 1, 2, 1])
    logits = tf.reduce_sum(tf.reshape(logits, [2, num_steps, 2, num_steps]) * same_video, axis=2)
    return CycleRows(
        logits=logits,  # [i, t, u]
        labels=tf.eye(num_steps, dtype=embs.dtype)[None],
        step_values=step_values,
        weights=None,
    )
