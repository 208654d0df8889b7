"""Single-view time-contrastive networks (TCN) baseline."""

from __future__ import annotations

import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch
from tcc.losses.time_contrastive import compute_tcn_loss


def tcn_loss(cfg, batch: Batch, embs: tf.Tensor, seed=None) -> tf.Tensor:
    """TCN n-pairs loss of `embs` [B, T, D] with the options of `cfg.tcn`.

    `seed` fixes the sampled positives (see `tcc.losses.random_source`); None draws new ones.
    """
    del batch  # single-view TCN needs only the embeddings
    return compute_tcn_loss(
        embs, positive_window=cfg.tcn.positive_window, reg_lambda=cfg.tcn.reg_lambda, seed=seed
    )


@ALGORITHMS.register("tcn")
class TCN(Algorithm):
    """Time-contrastive networks (single view): near frames attract, far frames repel."""

    loss_names = ("tcn_loss",)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        return {"tcn_loss": tcn_loss(self.cfg, batch, embs, self.loss_seed())}
