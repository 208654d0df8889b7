"""Supervised baseline: per-frame phase classification on top of the embeddings."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch
from tcc.algos.options import AlgorithmOptions


@ALGORITHMS.register("supervised")
class Supervised(Algorithm):
    """Trains the embedder with a linear phase classifier on every frame (labels required).

    Frames labelled -1 (unlabelled) are ignored. `classification.num_classes` must be set (the
    trainer fills it from the data when it is 0).
    """

    loss_names = ("classification_loss",)

    def __init__(self, options: AlgorithmOptions | dict[str, Any], **kwargs: Any):
        super().__init__(options, **kwargs)
        num_classes = int(self.options.classification.num_classes)
        if num_classes < 2:
            raise ValueError(
                "supervised training needs classification.num_classes >= 2 (phase labels in the "
                f"data); received {num_classes}"
            )
        self.num_classes = num_classes
        self.dropout = keras.layers.Dropout(self.options.classification.dropout_rate)
        self.classifier = keras.layers.Dense(num_classes, dtype="float32", name="phase_logits")

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        logits = self.classifier(self.dropout(embs, training=training))  # [B, T, C]
        labels = tf.cast(batch["frame_labels"], tf.int32)
        mask = tf.cast(labels >= 0, tf.float32)
        onehot = tf.one_hot(tf.maximum(labels, 0), self.num_classes)
        ls = self.options.classification.label_smoothing
        onehot = onehot * (1.0 - ls) + ls / self.num_classes
        xent = tf.nn.softmax_cross_entropy_with_logits(onehot, logits)  # [B, T]
        loss = tf.reduce_sum(xent * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
        return {"classification_loss": loss}
