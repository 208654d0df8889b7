"""Weighted sums of the TCC, SaL and TCN losses (the paper's TCC+SaL and TCC+TCN)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from tcc.algos.alignment import alignment_loss
from tcc.algos.base import ALGORITHMS, Algorithm, Batch
from tcc.algos.sal import build_sal_head, sal_loss
from tcc.algos.tcn import tcn_loss


@ALGORITHMS.register("combined")
class Combined(Algorithm):
    """`combined.alignment_loss_weight * TCC + sal_loss_weight * SaL + tcn_loss_weight * TCN`.

    Terms with weight 0 are not computed. Each weighted term is logged under its own name
    (`alignment_loss`, `sal_loss`, `tcn_loss`); `loss` is their sum plus regularisation.
    """

    loss_names = ("alignment_loss", "sal_loss", "tcn_loss")

    def __init__(self, config: dict, **kwargs: Any):
        super().__init__(config, **kwargs)
        w = self.cfg.combined
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
        self.sal_head = build_sal_head(self.cfg) if self.weights_by_term["sal_loss"] > 0 else None

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        w = self.weights_by_term
        terms = {}
        if w["alignment_loss"] > 0:
            terms["alignment_loss"] = w["alignment_loss"] * alignment_loss(self.cfg, batch, embs)
        if w["sal_loss"] > 0:
            terms["sal_loss"] = w["sal_loss"] * sal_loss(self.cfg, self.sal_head, embs, training)
        if w["tcn_loss"] > 0:
            terms["tcn_loss"] = w["tcn_loss"] * tcn_loss(self.cfg, batch, embs)
        return terms
