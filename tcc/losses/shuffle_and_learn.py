"""Shuffle and Learn (Misra et al., 2016) triplets and loss, a baseline of the TCC paper (§4.2).

For every video, ``num_samples`` times: five distinct timesteps ``a < b < c < d < e`` are drawn
uniformly from the ``T`` timesteps of ``embs``; the sample is the *ordered* triplet ``(b, c, d)``
(label 1) or, for a ``shuffle_fraction`` of all samples, a *shuffled* one: ``(b, a, d)`` or
``(b, e, d)`` with equal probability (label 0). With ``random_reverse`` (the original code's
behaviour, drawn per sample here) the five timesteps are reversed first, so ``(d, c, b)`` is also
an ordered triplet and ``(d, e, b)`` / ``(d, a, b)`` shuffled ones: the temporal direction is not
what the classifier learns. Exactly ``floor(shuffle_fraction * B * num_samples)`` samples are
shuffled, at random positions.

Videos need ``T >= 5`` timesteps (five distinct frames); ``T < 5`` is rejected with an error
asking for more sampled frames, rather than silently repeating frames (which would make some
"shuffled" triplets ordered).

The classifier (an MLP 128-64-2 on the concatenated triplet in the paper) lives with the
algorithm; :func:`shuffle_and_learn_loss` is its cross-entropy.
"""

from __future__ import annotations

import tensorflow as tf

from tcc.losses.random_source import SeedLike, draw_uniform

NUM_FRAMES = 5  # a < b < c < d < e


@tf.autograph.experimental.do_not_convert
def sample_triplet_indices(
    batch_size,
    num_steps,
    num_samples: int = 8,
    shuffle_fraction: float = 0.75,
    random_reverse: bool = True,
    seed: SeedLike = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Draws the timesteps of ``batch_size * num_samples`` triplets and their labels.

    Args:
        batch_size: number of videos ``B`` (int or scalar int tensor).
        num_steps: timesteps per video ``T`` (int or scalar int tensor), ``>= 5``.
        num_samples: triplets per video.
        shuffle_fraction: fraction of shuffled triplets (label 0), in ``[0, 1]``.
        random_reverse: reverse the five timesteps of a sample with probability 0.5.
        seed: see :mod:`tcc.losses.random_source`.

    Returns:
        ``(indices, labels)``: int32 ``[N, 3]`` timesteps and int32 ``[N]`` labels (1 ordered,
        0 shuffled), ``N = B * num_samples``; row ``r`` belongs to video ``r // num_samples``.
    """
    if not 0.0 <= shuffle_fraction <= 1.0:
        raise ValueError(
            f"`shuffle_fraction` must be in [0, 1]. Received: shuffle_fraction={shuffle_fraction}"
        )
    total = batch_size * num_samples
    noise = draw_uniform([total, num_steps + 3], seed)
    frames = tf.sort(tf.math.top_k(noise[:, :num_steps], k=NUM_FRAMES).indices, axis=1)  # a..e
    if random_reverse:
        frames = tf.where(noise[:, -1:] < 0.5, tf.reverse(frames, axis=[1]), frames)
    ordered = tf.gather(frames, [1, 2, 3], axis=1)
    shuffled = tf.where(
        noise[:, -2:-1] < 0.5,
        tf.gather(frames, [1, 0, 3], axis=1),
        tf.gather(frames, [1, 4, 3], axis=1),
    )
    num_shuffled = tf.cast(tf.floor(shuffle_fraction * tf.cast(total, tf.float64)), tf.int32)
    rank = tf.argsort(tf.argsort(noise[:, -3]))  # a uniformly random permutation of 0..N-1
    is_shuffled = rank < num_shuffled
    indices = tf.where(is_shuffled[:, None], shuffled, ordered)
    return tf.cast(indices, tf.int32), 1 - tf.cast(is_shuffled, tf.int32)


@tf.autograph.experimental.do_not_convert
def sample_triplets(
    embs,
    num_samples: int = 8,
    shuffle_fraction: float = 0.75,
    random_reverse: bool = True,
    seed: SeedLike = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Gathers ordered / shuffled triplets of embeddings for the Shuffle and Learn classifier.

    Args:
        embs: float tensor ``[B, T, D]`` with ``T >= 5``.
        num_samples: triplets per video.
        shuffle_fraction: fraction of shuffled triplets.
        random_reverse: reverse the five timesteps of a sample with probability 0.5.
        seed: see :mod:`tcc.losses.random_source`.

    Returns:
        ``(triplets, labels)``: ``[B * num_samples, 3 * D]`` concatenated embeddings of the three
        timesteps (in triplet order, dtype of ``embs``) and int32 ``[B * num_samples]`` labels
        (1 ordered, 0 shuffled). Row ``r`` comes from video ``r // num_samples``.
    """
    embs = tf.convert_to_tensor(embs)
    if embs.shape.rank != 3:
        raise ValueError(f"`embs` must have shape [B, T, D]. Received: embs.shape={embs.shape}")
    if embs.shape[1] is not None and embs.shape[1] < NUM_FRAMES:
        raise ValueError(
            f"Shuffle and Learn draws {NUM_FRAMES} distinct timesteps per video, so it needs "
            f"T >= {NUM_FRAMES}; sample more frames per video (e.g. train.num_frames). "
            f"Received: embs.shape={embs.shape}"
        )
    shape = tf.shape(embs)
    indices, labels = sample_triplet_indices(
        shape[0], shape[1], num_samples, shuffle_fraction, random_reverse, seed
    )
    videos = tf.repeat(tf.range(shape[0]), num_samples)  # [N]
    video_indices = tf.broadcast_to(videos[:, None], tf.shape(indices))
    triplets = tf.gather_nd(embs, tf.stack([video_indices, indices], axis=-1))  # [N, 3, D]
    return tf.reshape(triplets, [-1, 3 * shape[2]]), tf.stop_gradient(labels)


@tf.autograph.experimental.do_not_convert
def shuffle_and_learn_loss(logits, labels, label_smoothing: float = 0.0) -> tf.Tensor:
    """Softmax cross-entropy of the order classifier, with Keras-style label smoothing.

    Args:
        logits: float tensor ``[N, 2]``: classifier outputs (class 1 = ordered).
        labels: int tensor ``[N]`` of 0 / 1 labels from :func:`sample_triplets`.
        label_smoothing: the target is ``one_hot * (1 - ls) + ls / 2``.

    Returns:
        Scalar mean loss, float32 (float64 for float64 logits).
    """
    logits = tf.convert_to_tensor(logits)
    logits = tf.cast(logits, tf.float64 if logits.dtype == tf.float64 else tf.float32)
    if logits.shape.rank != 2 or logits.shape[-1] not in (None, 2):
        raise ValueError(f"`logits` must have shape [N, 2]. Received: logits.shape={logits.shape}")
    targets = tf.one_hot(labels, 2, dtype=logits.dtype)
    targets = targets * (1.0 - label_smoothing) + label_smoothing / 2.0
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_mean(tf.reduce_sum(tf.stop_gradient(targets) * log_probs, axis=-1))
