"""Shuffle-and-Learn (SaL) baseline: is a triplet of frames in temporal order?"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch, loss_seed
from tcc.algos.options import AlgorithmOptions, SalOptions
from tcc.losses.shuffle_and_learn import sample_triplets, shuffle_and_learn_loss


def build_sal_head(options: SalOptions) -> keras.Sequential:
    """The MLP on concatenated triplet embeddings [N, 3D] -> order logits [N, 2]."""
    layers: list[keras.layers.Layer] = []
    reg = keras.regularizers.L2(options.l2_reg_weight)
    for channels, relu in options.fc_layers:
        if options.dropout_rate > 0:
            layers.append(keras.layers.Dropout(options.dropout_rate))
        layers.append(
            keras.layers.Dense(
                channels,
                activation="relu" if relu else None,
                kernel_regularizer=reg,
                bias_regularizer=reg,
                dtype="float32",
            )
        )
    return keras.Sequential(layers, name="sal_head")


def sal_loss(
    options: SalOptions,
    head: keras.layers.Layer,
    embs: tf.Tensor,
    training: bool,
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """SaL loss: sample ordered / shuffled triplets from `embs` [B, T, D] and classify them.

    `seed` (int64 [2], stateless) fixes the triplets; None draws them from the stateful RNG.
    """
    triplets, labels = sample_triplets(
        embs, num_samples=options.num_samples, shuffle_fraction=options.shuffle_ratio, seed=seed
    )
    logits = head(triplets, training=training)
    return shuffle_and_learn_loss(logits, labels, label_smoothing=options.label_smoothing)


@ALGORITHMS.register("sal")
class ShuffleAndLearn(Algorithm):
    """Shuffle-and-Learn: a head predicts whether a frame triplet is in temporal order."""

    loss_names = ("sal_loss",)

    def __init__(self, options: AlgorithmOptions | dict[str, Any], **kwargs: Any):
        super().__init__(options, **kwargs)
        self.sal_head = build_sal_head(self.options.sal)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        seed = loss_seed(batch, 1)
        return {"sal_loss": sal_loss(self.options.sal, self.sal_head, embs, training, seed)}
