"""Single-view time-contrastive networks (TCN) baseline."""

from __future__ import annotations

import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch
from tcc.losses.time_contrastive import compute_tcn_loss


def tcn_loss(cfg, batch: Batch, embs: tf.Tensor) -> tf.Tensor:
    """TCN n-pairs loss of `embs` [B, T, D] with the options of `cfg.tcn`."""
    return compute_tcn_loss(
        embs, positive_window=cfg.tcn.positive_window, reg_lambda=cfg.tcn.reg_lambda
    )


@ALGORITHMS.register("tcn")
class TCN(Algorithm):
    """Time-contrastive networks (single view): near frames attract, far frames repel."""

    loss_names = ("tcn_loss",)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        return {"tcn_loss": tcn_loss(self.cfg, batch, embs)}
