"""Building blocks of the cycle-consistency loss: scaled similarity and per-row cycle-back losses.

A *row* is one cycle: the logits of the last hop back into the starting video (``[T]`` values over
its frames) and the one-hot label of the frame the cycle started from. Rows are grouped
``[G, R, T]`` by starting video (deterministic mode: ``R`` rows per video) or by cycle (stochastic
mode: ``R = 1``), so the frame positions regressed by the regression losses (``steps``, optionally
divided by the video length) are one ``[G, T]`` tensor. Both modes of
:func:`tcc.losses.compute_alignment_loss` call :func:`cycle_back_row_losses` and share every
formula.
"""

from __future__ import annotations

import tensorflow as tf

SIMILARITY_TYPES = ("l2", "cosine")
LOSS_TYPES = ("classification", "regression_mse", "regression_mse_var", "regression_huber")
# sigma^2 is floored at VARIANCE_FLOOR * (1 + max step^2) so that a cycle-back distribution that
# collapses onto one frame (identical or huge embeddings) gives a finite loss and gradient. For any
# non-degenerate input the floor is far below sigma^2 and changes nothing.
VARIANCE_FLOOR = 1e-12


def similarity_from_dots(
    dots: tf.Tensor,
    query_squares: tf.Tensor | None,
    key_squares: tf.Tensor | None,
    similarity_type: str,
    scale: tf.Tensor | float,
) -> tf.Tensor:
    """Scaled similarity from dot products and squared norms.

    Args:
        dots: float tensor of dot products ``q . k``.
        query_squares: ``|q|^2`` broadcastable to ``dots`` (unused, may be None, for cosine).
        key_squares: ``|k|^2`` broadcastable to ``dots`` (unused, may be None, for cosine).
        similarity_type: ``'l2'``: ``-|q - k|^2 * scale`` (clamped at <= 0, as rounding of the
            expansion ``2 q.k - |q|^2 - |k|^2`` can make it slightly positive) or ``'cosine'``:
            ``q . k * scale``.
        scale: ``1 / (D * temperature)``.

    Returns:
        Tensor of the broadcast shape of the inputs.
    """
    if similarity_type == "cosine":
        return scale * dots
    if similarity_type != "l2":
        raise ValueError(
            f"`similarity_type` must be one of {SIMILARITY_TYPES}. "
            f"Received: similarity_type={similarity_type!r}"
        )
    return tf.minimum(scale * (2.0 * dots - query_squares - key_squares), 0.0)


def scaled_similarity(
    queries: tf.Tensor, keys: tf.Tensor, similarity_type: str, temperature: float
) -> tf.Tensor:
    """Similarity of every query with every key, divided by D and by the temperature.

    ``l2`` is minus the squared Euclidean distance; ``cosine`` is the plain dot product
    (embeddings are not normalised here; use ``normalize_embeddings`` for a true cosine).

    Args:
        queries: float tensor ``[..., M, D]``.
        keys: float tensor ``[..., N, D]`` with batch dimensions broadcastable to the queries'.
        similarity_type: ``'l2'`` or ``'cosine'``.
        temperature: positive float.

    Returns:
        Tensor ``[..., M, N]`` of ``sim(query_m, key_n) / (D * temperature)``.
    """
    dim = tf.cast(tf.shape(queries)[-1], queries.dtype)
    scale = 1.0 / (dim * tf.cast(temperature, queries.dtype))
    dots = tf.matmul(queries, keys, transpose_b=True)
    query_squares = tf.reduce_sum(tf.square(queries), axis=-1)[..., :, None]
    key_squares = tf.reduce_sum(tf.square(keys), axis=-1)[..., None, :]
    return similarity_from_dots(dots, query_squares, key_squares, similarity_type, scale)


def classification_row_losses(
    logits: tf.Tensor, labels: tf.Tensor, label_smoothing: float
) -> tf.Tensor:
    """Cycle-back classification: softmax cross-entropy with Keras-style label smoothing.

    The target is ``labels * (1 - label_smoothing) + label_smoothing / T``; computed with
    log-softmax (log-sum-exp), so it is finite for any finite logits.

    Args:
        logits: float tensor ``[G, R, T]``.
        labels: one-hot float tensor ``[1 or G, R, T]``.
        label_smoothing: float in ``[0, 1]``.

    Returns:
        Tensor ``[G, R]`` of per-row losses.
    """
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    label_log_prob = tf.reduce_sum(labels * log_probs, axis=-1)
    smoothing = tf.cast(label_smoothing, logits.dtype)
    return -(1.0 - smoothing) * label_log_prob - smoothing * tf.reduce_mean(log_probs, axis=-1)


def regression_row_losses(
    logits: tf.Tensor,
    labels: tf.Tensor,
    step_values: tf.Tensor,
    loss_type: str,
    variance_lambda: float,
    huber_delta: float,
) -> tf.Tensor:
    """Cycle-back regression: regress the start frame's position from the cycle-back softmax.

    With ``beta = softmax(logits)``, ``mu = sum(beta * s)`` and target ``t = sum(labels * s)``:
    ``regression_mse`` is ``(t - mu)^2``; ``regression_mse_var`` is
    ``(t - mu)^2 / sigma^2 + variance_lambda * log(sigma^2)`` with
    ``sigma^2 = sum(beta * (s - mu)^2)`` (log sigma^2, as the original code computes it; the paper
    prints log sigma); ``regression_huber`` is the Huber loss of ``t - mu`` with ``huber_delta``.

    Args:
        logits: float tensor ``[G, R, T]``: ``R`` rows for each of ``G`` starting videos.
        labels: one-hot float tensor ``[1 or G, R, T]``.
        step_values: float tensor ``[G, T]``: positions ``s`` of each starting video's frames
            (gradients are not propagated into them).
        loss_type: ``'regression_mse'``, ``'regression_mse_var'`` or ``'regression_huber'``.
        variance_lambda: weight of ``log(sigma^2)``.
        huber_delta: Huber threshold.

    Returns:
        Tensor ``[G, R]`` of per-row losses.
    """
    steps = tf.stop_gradient(step_values)[:, None, :]  # [G, 1, T]
    beta = tf.nn.softmax(logits, axis=-1)
    true_time = tf.reduce_sum(labels * steps, axis=-1)  # [G, R]
    pred_time = tf.reduce_sum(beta * steps, axis=-1)
    error = true_time - pred_time
    if loss_type == "regression_mse":
        return tf.square(error)
    if loss_type == "regression_huber":
        delta = tf.cast(huber_delta, logits.dtype)
        abs_error = tf.abs(error)
        return tf.where(
            abs_error <= delta, 0.5 * tf.square(error), delta * abs_error - 0.5 * tf.square(delta)
        )
    if loss_type == "regression_mse_var":
        deviation = steps - pred_time[..., None]  # [G, R, T]
        variance = tf.reduce_sum(beta * tf.square(deviation), axis=-1)
        scale = 1.0 + tf.reduce_max(tf.square(steps), axis=[1, 2])[:, None]  # [G, 1]
        variance = tf.maximum(variance, VARIANCE_FLOOR * scale)
        log_variance = tf.math.log(variance)
        lam = tf.cast(variance_lambda, logits.dtype)
        return tf.square(error) / variance + lam * log_variance
    raise ValueError(f"`loss_type` must be one of {LOSS_TYPES}. Received: loss_type={loss_type!r}")


def cycle_back_row_losses(
    logits: tf.Tensor,
    labels: tf.Tensor,
    step_values: tf.Tensor,
    loss_type: str,
    label_smoothing: float,
    variance_lambda: float,
    huber_delta: float,
) -> tf.Tensor:
    """Per-row loss of any ``loss_type`` in :data:`LOSS_TYPES`.

    Args:
        logits: float tensor ``[G, R, T]`` of cycle-back similarities, ``R`` rows per group
            (starting video or cycle) over the ``T`` frames of the group's starting video.
        labels: one-hot float tensor ``[1 or G, R, T]`` (the start frames).
        step_values: float tensor ``[G, T]``: frame positions (regression only).
        loss_type: one of :data:`LOSS_TYPES`.
        label_smoothing: classification label smoothing.
        variance_lambda: ``regression_mse_var`` weight of ``log(sigma^2)``.
        huber_delta: ``regression_huber`` threshold.

    Returns:
        Tensor ``[G, R]`` of per-row losses.
    """
    labels = tf.stop_gradient(labels)
    if loss_type == "classification":
        return classification_row_losses(logits, labels, label_smoothing)
    return regression_row_losses(
        logits, labels, step_values, loss_type, variance_lambda, huber_delta
    )
