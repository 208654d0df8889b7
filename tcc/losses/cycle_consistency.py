"""Temporal cycle-consistency loss (Dwibedi et al., CVPR 2019, §3), deterministic and stochastic.

For a frame ``u_t`` of video ``U``, its soft nearest neighbour in video ``V`` is
``v~ = sum_s softmax_s(sim(u_t, v_s)) v_s``; cycling back, the logits ``sim(v~, u_k)`` over the
frames of ``U`` should point at ``t`` again. Similarities are divided by the embedding size and by
the temperature. The loss types and their formulas are in :mod:`tcc.losses.cycle_back`.

* Deterministic matching uses every ordered pair ``(i, j)``, ``i != j``, of the ``B`` videos and
  every start frame: ``B (B - 1) T`` cycles, all computed from the Gram matrix of the batch with a
  few matrix products (:mod:`tcc.losses.all_pairs`; no Python loop over pairs), equal to the
  pairwise definition of the original code.
* Stochastic matching draws ``num_cycles`` cycles of ``cycle_length`` distinct videos and a random
  start frame each (:func:`tcc.losses.cycle_sampling.sample_cycles`). With ``cycle_length=2`` a
  cycle is one uniformly drawn row of the deterministic loss, so the stochastic loss is an
  unbiased estimate of the deterministic one.
"""

from __future__ import annotations

import tensorflow as tf

from tcc.losses.all_pairs import all_pairs_rows
from tcc.losses.cycle_back import (
    LOSS_TYPES,
    SIMILARITY_TYPES,
    cycle_back_row_losses,
    scaled_similarity,
)
from tcc.losses.cycle_sampling import sample_cycles
from tcc.losses.random_source import SeedLike


@tf.autograph.experimental.do_not_convert
def compute_alignment_loss(
    embs,
    batch_size: int | None = None,
    steps=None,
    seq_lens=None,
    stochastic_matching: bool = False,
    normalize_embeddings: bool = False,
    loss_type: str = "classification",
    similarity_type: str = "l2",
    num_cycles: int = 20,
    cycle_length: int = 2,
    temperature: float = 0.1,
    label_smoothing: float = 0.1,
    variance_lambda: float = 0.001,
    huber_delta: float = 0.1,
    normalize_indices: bool = True,
    seed: SeedLike = None,
) -> tf.Tensor:
    """Cycle-consistency loss of a batch of per-frame embedding sequences.

    Arguments, order and defaults are those of the original TCC library (``seed`` is new).

    Args:
        embs: float tensor ``[B, T, D]``: ``T`` embeddings of each of ``B`` videos of one action.
            float16 / bfloat16 are computed in float32; float64 stays float64.
        batch_size: optional ``B``; checked against ``embs`` when given.
        steps: optional int or float tensor ``[B, T]``: frame index of every timestep (default
            ``0 .. T-1`` for every video). Used by the regression losses only; no gradient.
        seq_lens: optional tensor ``[B]``: number of frames of every video (default ``T``); with
            ``normalize_indices`` the steps are divided by it (values < 1 are treated as 1).
        stochastic_matching: ``False``: all ``B (B - 1)`` ordered pairs of distinct videos and all
            ``T`` start frames; ``True``: ``num_cycles`` random cycles.
        normalize_embeddings: L2-normalise every embedding first.
        loss_type: ``'classification'``, ``'regression_mse'``, ``'regression_mse_var'`` (the
            paper's TCC; ``lambda * log(sigma^2)`` as in the original code) or
            ``'regression_huber'``.
        similarity_type: ``'l2'`` (minus squared distance) or ``'cosine'`` (dot product).
        num_cycles: number of random cycles ``C`` (stochastic only).
        cycle_length: number of distinct videos in a random cycle (stochastic only, ``<= B``).
        temperature: similarities are divided by ``D * temperature``.
        label_smoothing: classification label smoothing ``y (1 - ls) + ls / T``.
        variance_lambda: weight of ``log(sigma^2)`` in ``regression_mse_var``.
        huber_delta: threshold of ``regression_huber``.
        normalize_indices: divide ``steps`` by ``seq_lens`` before regressing them.
        seed: randomness of the stochastic mode: ``None``, an int / pair of ints (stateless,
            same cycles for the same seed) or a ``tf.random.Generator``; see
            :mod:`tcc.losses.random_source`.

    Returns:
        Scalar loss, float32 (float64 for float64 ``embs``): the mean over all cycles.

    Raises:
        ValueError: on an unknown option, a bad shape, ``T < 2``, ``B < 2`` (deterministic) or
            ``cycle_length > B`` (stochastic).
    """
    _check_options(
        loss_type, similarity_type, temperature, label_smoothing, num_cycles, cycle_length
    )
    embs = _prepare_embeddings(embs, normalize_embeddings)
    _check_embedding_shape(embs, batch_size, stochastic_matching, cycle_length)
    step_values = _step_values(embs, steps, seq_lens, normalize_indices)
    if similarity_type == "l2":
        # Distances are translation invariant; centring keeps norms small for accurate float32
        # distances (the mean is constant w.r.t. the loss, so stopping its gradient is exact).
        embs = embs - tf.stop_gradient(tf.reduce_mean(embs, axis=[0, 1], keepdims=True))
    row_options = dict(
        loss_type=loss_type,
        label_smoothing=label_smoothing,
        variance_lambda=variance_lambda,
        huber_delta=huber_delta,
    )
    if stochastic_matching:
        return _stochastic_loss(
            embs,
            step_values,
            num_cycles,
            cycle_length,
            similarity_type,
            temperature,
            seed,
            row_options,
        )
    return _deterministic_loss(embs, step_values, similarity_type, temperature, row_options)


def _deterministic_loss(
    embs: tf.Tensor,
    step_values: tf.Tensor,
    similarity_type: str,
    temperature: float,
    row_options: dict,
) -> tf.Tensor:
    """Mean cycle-back loss over all ordered pairs ``i != j`` and start frames ``t``.

    The formulation (and the layout of the rows) is chosen by :func:`all_pairs_rows`.
    """
    cycle_rows = all_pairs_rows(embs, step_values, similarity_type, temperature)
    rows = cycle_back_row_losses(
        cycle_rows.logits, cycle_rows.labels, cycle_rows.step_values, **row_options
    )
    if cycle_rows.weights is not None:
        rows = rows * cycle_rows.weights
    num_videos, num_steps = tf.shape(embs)[0], tf.shape(embs)[1]
    count = tf.cast(num_videos * (num_videos - 1) * num_steps, embs.dtype)
    return tf.reduce_sum(rows) / count


def _stochastic_loss(
    embs: tf.Tensor,
    step_values: tf.Tensor,
    num_cycles: int,
    cycle_length: int,
    similarity_type: str,
    temperature: float,
    seed: SeedLike,
    row_options: dict,
) -> tf.Tensor:
    """Mean cycle-back loss over ``num_cycles`` random cycles, all hops batched over cycles."""
    num_videos = embs.shape[0] if embs.shape[0] is not None else tf.shape(embs)[0]
    num_steps = tf.shape(embs)[1]
    cycles, start_frames = sample_cycles(num_cycles, num_videos, num_steps, cycle_length, seed)
    first_videos = cycles[:, 0]
    query = tf.gather_nd(embs, tf.stack([first_videos, start_frames], axis=-1))[:, None, :]
    for hop in range(1, cycle_length + 1):
        candidates = tf.gather(embs, cycles[:, hop % cycle_length])  # [C, T, D]
        similarity = scaled_similarity(query, candidates, similarity_type, temperature)
        if hop < cycle_length:
            query = tf.matmul(tf.nn.softmax(similarity, axis=-1), candidates)  # [C, 1, D]
    # similarity [C, 1, T]: the last hop, back into the first video, is the cycle's logits.
    labels = tf.one_hot(start_frames, num_steps, dtype=embs.dtype)[:, None, :]
    rows = cycle_back_row_losses(
        similarity, labels, tf.gather(step_values, first_videos), **row_options
    )
    return tf.reduce_mean(rows)


def _prepare_embeddings(embs, normalize_embeddings: bool) -> tf.Tensor:
    """Casts to the compute dtype (float32, or float64) and optionally L2-normalises."""
    embs = tf.convert_to_tensor(embs)
    if not embs.dtype.is_floating:
        raise ValueError(
            f"`embs` must be a floating tensor [B, T, D]. Received: dtype={embs.dtype.name}"
        )
    compute_dtype = tf.float64 if embs.dtype == tf.float64 else tf.float32
    embs = tf.cast(embs, compute_dtype)
    if normalize_embeddings:
        embs = tf.math.l2_normalize(embs, axis=-1)
    return embs


def _step_values(embs: tf.Tensor, steps, seq_lens, normalize_indices: bool) -> tf.Tensor:
    """Frame positions ``[B, T]`` regressed by the regression losses (no gradient)."""
    shape = tf.shape(embs)
    num_videos, num_steps = shape[0], shape[1]
    if steps is None:
        steps = tf.tile(tf.range(num_steps)[None, :], [num_videos, 1])
    steps = tf.convert_to_tensor(steps)
    _check_static_shape("steps", steps, [embs.shape[0], embs.shape[1]])
    values = tf.cast(steps, embs.dtype)
    if normalize_indices:
        if seq_lens is None:
            seq_lens = tf.fill([num_videos], num_steps)
        seq_lens = tf.convert_to_tensor(seq_lens)
        _check_static_shape("seq_lens", seq_lens, [embs.shape[0]])
        values = values / tf.maximum(tf.cast(seq_lens, embs.dtype), 1.0)[:, None]
    return tf.stop_gradient(values)


def _check_static_shape(name: str, tensor: tf.Tensor, expected: list) -> None:
    """Raises if the statically known shape of ``tensor`` contradicts ``expected``."""
    if not tensor.shape.is_compatible_with(expected):
        raise ValueError(
            f"`{name}` must have shape {expected} to match `embs` [B, T, D]. "
            f"Received: {name}.shape={tensor.shape}"
        )


def _check_embedding_shape(
    embs: tf.Tensor, batch_size: int | None, stochastic_matching: bool, cycle_length: int
) -> None:
    """Validates ``embs`` [B, T, D] against the mode's requirements (statically known dims)."""
    if embs.shape.rank != 3:
        raise ValueError(f"`embs` must have shape [B, T, D]. Received: embs.shape={embs.shape}")
    num_videos, num_steps = embs.shape[0], embs.shape[1]
    if isinstance(batch_size, int) and num_videos is not None and batch_size != num_videos:
        raise ValueError(
            f"`batch_size` must equal embs.shape[0] (or be omitted). "
            f"Received: batch_size={batch_size}, embs.shape={embs.shape}"
        )
    t_message = (
        "Cycle-consistency needs at least 2 timesteps per video (with T=1 every cycle "
        f"trivially returns to its start). Received: embs.shape={embs.shape}"
    )
    if num_steps is None:  # checked when the graph runs (not under XLA, which drops asserts)
        tf.debugging.assert_greater_equal(tf.shape(embs)[1], 2, message=t_message)
    elif num_steps < 2:
        raise ValueError(t_message)
    b_message = (
        "Deterministic matching aligns pairs of distinct videos and needs B >= 2. "
        f"Received: embs.shape={embs.shape}"
    )
    if num_videos is None:  # checked when the graph runs (not under XLA, which drops asserts)
        if not stochastic_matching:
            tf.debugging.assert_greater_equal(tf.shape(embs)[0], 2, message=b_message)
        return
    if not stochastic_matching and num_videos < 2:
        raise ValueError(b_message)
    if stochastic_matching and cycle_length > num_videos:
        raise ValueError(
            f"A cycle visits `cycle_length` distinct videos, so B must be >= cycle_length. "
            f"Received: cycle_length={cycle_length}, embs.shape={embs.shape}"
        )


def _check_options(
    loss_type: str,
    similarity_type: str,
    temperature: float,
    label_smoothing: float,
    num_cycles: int,
    cycle_length: int,
) -> None:
    """Validates the option arguments of :func:`compute_alignment_loss`."""
    if loss_type not in LOSS_TYPES:
        raise ValueError(
            f"`loss_type` must be one of {LOSS_TYPES}. Received: loss_type={loss_type!r}"
        )
    if similarity_type not in SIMILARITY_TYPES:
        raise ValueError(
            f"`similarity_type` must be one of {SIMILARITY_TYPES}. "
            f"Received: similarity_type={similarity_type!r}"
        )
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(
            f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}"
        )
    if int(num_cycles) < 1:
        raise ValueError(f"`num_cycles` must be >= 1. Received: num_cycles={num_cycles}")
    if int(cycle_length) < 2:
        raise ValueError(
            f"`cycle_length` must be >= 2 (a cycle goes through distinct videos). "
            f"Received: cycle_length={cycle_length}"
        )
