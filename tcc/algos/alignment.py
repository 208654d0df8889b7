"""TCC: temporal cycle-consistency alignment between every pair of videos of the batch."""

from __future__ import annotations

import tensorflow as tf

from tcc.algos.base import ALGORITHMS, Algorithm, Batch, loss_seed
from tcc.algos.options import AlignmentOptions
from tcc.losses.cycle_consistency import compute_alignment_loss


def alignment_loss(a: AlignmentOptions, batch: Batch, embs: tf.Tensor) -> tf.Tensor:
    """The TCC loss of `embs` [B, T, D] with the options `a` (`cfg.alignment`).

    In stochastic mode the number of cycles is `B * T * alignment.fraction` (the original's rule).
    """
    batch_size, num_frames = embs.shape[0], embs.shape[1]
    if batch_size is None or num_frames is None:
        raise ValueError(f"alignment needs a static batch and time size; received {embs.shape}")
    num_cycles = max(1, int(batch_size * num_frames * a.fraction))
    return compute_alignment_loss(
        embs,
        batch_size=batch_size,
        steps=batch["steps"],
        seq_lens=batch["seq_lens"],
        stochastic_matching=a.stochastic_matching,
        normalize_embeddings=a.normalize_embeddings,
        loss_type=a.loss_type,
        similarity_type=a.similarity_type,
        num_cycles=num_cycles,
        cycle_length=a.cycle_length,
        temperature=a.softmax_temperature,
        label_smoothing=a.label_smoothing,
        variance_lambda=a.variance_lambda,
        huber_delta=a.huber_delta,
        normalize_indices=a.normalize_indices,
        seed=loss_seed(batch, 0),
    )


@ALGORITHMS.register("alignment")
class Alignment(Algorithm):
    """Temporal cycle-consistency learning (the paper's method)."""

    loss_names = ("alignment_loss",)

    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        return {"alignment_loss": alignment_loss(self.options.alignment, batch, embs)}
