"""Weighted sums of the TCC, SaL and TCN losses (the paper's TCC+SaL and TCC+TCN).

The three losses live on different scales: on a batch of B = 2 videos x T = 20 timesteps, TCC's
`regression_mse_var` is about 1 for embeddings that carry no information, SaL's binary cross
entropy log 2 = 0.69 and TCN's n-pairs cross entropy log(B (T - 1) - 1) = 3.6. With
`combined.normalize_terms` (the default) every term is divided by its *chance level*, its value on
the same batch when every embedding is the same (uniform soft nearest neighbours for TCC, uniform
logits for TCN, a coin flip for SaL), so that a weight says how much a term counts relative to
the others rather than compensating for its units. The chance level is computed on the batch
itself (same steps, sequence lengths and TCN positives), without gradient.
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf

from tcc.algos.alignment import alignment_loss
from tcc.algos.base import ALGORITHMS, Algorithm, Batch, loss_seed
from tcc.algos.options import AlgorithmOptions
from tcc.algos.sal import build_sal_head, sal_loss
from tcc.algos.tcn import tcn_loss


@ALGORITHMS.register("combined")
class Combined(Algorithm):
    """`combined.alignment_loss_weight * TCC + sal_loss_weight * SaL + tcn_loss_weight * TCN`.

    Terms with weight 0 are not computed. Each weighted term is logged under its own name
    (`alignment_loss`, `sal_loss`, `tcn_loss`); `loss` is their sum plus regularisation. With
    `combined.normalize_terms` each term is first divided by its chance level (module docstring).
    """

    loss_names = ("alignment_loss", "sal_loss", "tcn_loss")

    def __init__(self, options: AlgorithmOptions | dict[str, Any], **kwargs: Any):
        super().__init__(options, **kwargs)
        w = self.options.combined
        self.weights_by_term = {
            "alignment_loss": float(w.alignment_loss_weight),
            "sal_loss": float(w.sal_loss_weight),
            "tcn_loss": float(w.tcn_loss_weight),
        }
        if not any(v > 0 for v in self.weights_by_term.values()):
            raise ValueError(
                "combined needs at least one positive weight among "
                "combined.alignment_loss_weight, combined.sal_loss_weight, "
                f"combined.tcn_loss_weight; received {self.weights_by_term}"
            )
        sal = self.weights_by_term["sal_loss"] > 0
        self.sal_head = build_sal_head(self.options.sal) if sal else None
        self.normalize_terms = bool(w.normalize_terms)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        w = self.weights_by_term
        terms = {}
        if w["alignment_loss"] > 0:
            loss = alignment_loss(self.options.alignment, batch, embs)
            terms["alignment_loss"] = w["alignment_loss"] * self._normalized(
                loss, lambda: alignment_loss(self.options.alignment, batch, tf.ones_like(embs))
            )
        if w["sal_loss"] > 0:
            seed = loss_seed(batch, 1)
            loss = sal_loss(self.options.sal, self.sal_head, embs, training, seed)
            terms["sal_loss"] = w["sal_loss"] * self._normalized(loss, lambda: math.log(2.0))
        if w["tcn_loss"] > 0:
            # One draw of positives for the loss and its chance level (the step's seed, the same
            # on every replica; a fresh one without a sample seed).
            seed = loss_seed(batch, 2)
            if seed is None:
                seed = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
            loss = tcn_loss(self.options.tcn, batch, embs, seed=seed)
            terms["tcn_loss"] = w["tcn_loss"] * self._normalized(
                loss, lambda: tcn_loss(self.options.tcn, batch, tf.ones_like(embs), seed=seed)
            )
        return terms

    def _normalized(self, loss: tf.Tensor, chance_level) -> tf.Tensor:
        """`loss / chance_level()` (no gradient through the divisor) if `normalize_terms`."""
        if not self.normalize_terms:
            return loss
        return loss / tf.stop_gradient(tf.cast(chance_level(), loss.dtype))
