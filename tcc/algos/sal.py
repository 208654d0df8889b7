"""Shuffle-and-Learn (SaL) baseline: is a triplet of frames in temporal order?"""

from __future__ import annotations

from typing import Any

import keras
import ml_collections
import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch
from tcc.losses.shuffle_and_learn import sample_triplets, shuffle_and_learn_loss


def build_sal_head(cfg: ml_collections.ConfigDict) -> keras.Sequential:
    """The MLP on concatenated triplet embeddings [N, 3D] -> order logits [N, 2]."""
    layers: list[keras.layers.Layer] = []
    reg = keras.regularizers.L2(cfg.model.l2_reg_weight)
    for channels, relu in cfg.sal.fc_layers:
        if cfg.sal.dropout_rate > 0:
            layers.append(keras.layers.Dropout(cfg.sal.dropout_rate))
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
    cfg,
    head: keras.layers.Layer,
    embs: tf.Tensor,
    training: bool,
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """SaL loss: sample ordered / shuffled triplets from `embs` [B, T, D] and classify them.

    `seed`: stateless int64 [2] seed of the triplet draw; None = TensorFlow's stateful random op.
    """
    triplets, labels = sample_triplets(
        embs, num_samples=cfg.sal.num_samples, shuffle_fraction=cfg.sal.shuffle_ratio, seed=seed
    )
    logits = head(triplets, training=training)
    return shuffle_and_learn_loss(logits, labels, label_smoothing=cfg.sal.label_smoothing)


@ALGORITHMS.register("sal")
class ShuffleAndLearn(Algorithm):
    """Shuffle-and-Learn: a head predicts whether a frame triplet is in temporal order."""

    loss_names = ("sal_loss",)

    def __init__(self, config: dict, **kwargs: Any):
        super().__init__(config, **kwargs)
        self.sal_head = build_sal_head(self.cfg)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        return {"sal_loss": sal_loss(self.cfg, self.sal_head, embs, training, self.loss_seed())}
