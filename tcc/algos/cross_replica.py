"""Losses over the global batch under `tf.distribute`, and synchronised batch norm.

Under a strategy with R replicas every replica embeds its own share b = B / R of the global batch
of B videos. TCC pairs, TCN negatives and SaL samples only span what one loss call sees, so by
default (`cfg.loss_scope = 'global'`) the trainer gathers the embeddings [b, T, D] (and the
`steps`, `seq_lens` and labels the losses read) of all replicas into the global batch [B, T, D] and
every replica computes the same global loss L on it; like any loss it is divided by R before
differentiation (the optimizer sums the replicas' gradients). The gathered copy is differentiable
through the replica's own slice only, with the gradient multiplied by R there: so a loss head's
parameters (SaL's MLP, the phase classifier) get dL/dw / R on every replica, and the embeddings of
replica r get exactly dL/de_r; the optimizer's sum over replicas is the single-device gradient of
the same global batch. The communication is one all-gather of B * T * D floats per step (no
all-reduce of the embedding gradients is needed).

`cfg.loss_scope = 'replica'` keeps the original's behaviour: each replica's loss sees only its
own share, and the mean of the replicas' losses is optimised.
"""

from __future__ import annotations

import keras
import tensorflow as tf

LOSS_SCOPES = ("global", "replica")

Batch = dict[str, tf.Tensor]


def check_loss_scope(scope: str) -> str:
    """Returns `scope` if it is one of `LOSS_SCOPES`; raises ValueError otherwise."""
    if scope not in LOSS_SCOPES:
        raise ValueError(
            f"unknown loss_scope; valid: {', '.join(LOSS_SCOPES)}. Received: loss_scope={scope!r}"
        )
    return scope


def num_replicas() -> int:
    """Replicas in sync of the current strategy (1 outside any strategy)."""
    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def replica_id() -> tf.Tensor:
    """int32 scalar: this replica's index in its sync group (0 outside any strategy)."""
    ctx = tf.distribute.get_replica_context()
    rid = ctx.replica_id_in_sync_group if ctx is not None else 0
    return tf.cast(rid, tf.int32)


def gather_own_gradient(x: tf.Tensor) -> tf.Tensor:
    """Concatenates `x` [b, ...] of every replica along axis 0 -> [R * b, ...], in replica order.

    The value equals the plain all-gather; only the caller's own slice is differentiable (the
    others are constants to it), and the gradient reaching `x` is multiplied by R, so that a loss
    divided by R back-propagates the full gradient of its own videos (see the module docstring).
    Outside a multi-replica context it returns `x` unchanged.
    """
    replicas = num_replicas()
    ctx = tf.distribute.get_replica_context()
    if replicas == 1 or ctx is None:
        return x
    gathered = ctx.all_gather(tf.stop_gradient(x), axis=0)
    if x.shape[0] is not None:
        gathered = tf.ensure_shape(gathered, [replicas * x.shape[0], *x.shape[1:]])
    if not x.dtype.is_floating:
        return gathered
    # own slice: gathered + R * (x - stop_gradient(x)) there, which is +0 in value but carries
    # R times x's gradient; static shapes throughout so that it also compiles with XLA.
    own = tf.one_hot(replica_id(), replicas, dtype=x.dtype)  # [R]
    mask = tf.repeat(own, tf.shape(x)[0])  # [R * b]
    mask = tf.reshape(mask, tf.concat([[-1], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0))
    tiled = tf.tile(x, tf.concat([[replicas], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0))
    return gathered + (mask * float(replicas)) * (tiled - tf.stop_gradient(tiled))


def gather_batch(batch: Batch, embs: tf.Tensor) -> tuple[Batch, tf.Tensor]:
    """The global batch the losses see: every numeric entry except `frames`, and the embeddings.

    Args:
      batch: this replica's batch (`steps` [b, T], `seq_lens` [b], `frame_labels` [b, T], ...).
      embs: float32 [b, T, D], this replica's embeddings.

    Returns:
      `(batch, embs)` of the global batch: entries [R * b, ...] (string entries and `frames` are
      dropped: no loss reads them) and embeddings [R * b, T, D], differentiable through this
      replica's slice only.
    """
    out = {
        k: gather_own_gradient(v)
        for k, v in batch.items()
        if k != "frames" and v.dtype != tf.string and v.shape.rank
    }
    return out, gather_own_gradient(embs)


def synchronize_batch_norm(model: keras.layers.Layer) -> int:
    """Makes every `BatchNormalization` inside `model` compute its training statistics over
    the global batch (all replicas), Keras' `synchronized=True`; returns how many it changed."""
    layers = [x for x in model._flatten_layers() if isinstance(x, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.synchronized = True
    return len(layers)
