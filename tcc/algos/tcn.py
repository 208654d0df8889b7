"""Single-view time-contrastive networks (TCN) baseline."""

from __future__ import annotations

import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch, loss_seed
from tcc.algos.options import TcnOptions
from tcc.losses.time_contrastive import compute_tcn_loss


def tcn_loss(
    options: TcnOptions, batch: Batch, embs: tf.Tensor, seed: tf.Tensor | None = None
) -> tf.Tensor:
    """TCN n-pairs loss of `embs` [B, T, D] with the options `cfg.tcn`.

    `seed` fixes the sampled positives (see `tcc.losses.random_source`); None takes the step's
    seed of the batch (`batch['sample_seed']`), or new draws without one.
    """
    if seed is None:
        seed = loss_seed(batch, 2)
    return compute_tcn_loss(
        embs,
        positive_window=options.positive_window,
        reg_lambda=options.reg_lambda,
        seed=seed,
        negatives=options.negatives,
        normalize_embeddings=options.normalize_embeddings,
        temperature=options.temperature,
    )


@ALGORITHMS.register("tcn")
class TCN(Algorithm):
    """Time-contrastive networks (single view): near frames attract, far frames repel."""

    loss_names = ("tcn_loss",)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        return {"tcn_loss": tcn_loss(self.options.tcn, batch, embs)}
