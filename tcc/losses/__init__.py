"""Losses on per-frame embeddings ``[B, T, D]``: TCC (cycle-consistency), TCN and Shuffle & Learn.

Pure tensor functions: no config, no flags. They work eagerly, in ``tf.function``, under
``jit_compile=True`` and inside a ``tf.distribute`` replica. See docs/losses.md.
"""

from tcc.losses.cycle_consistency import compute_alignment_loss
from tcc.losses.cycle_sampling import sample_cycles
from tcc.losses.shuffle_and_learn import (
    sample_triplet_indices,
    sample_triplets,
    shuffle_and_learn_loss,
)
from tcc.losses.time_contrastive import compute_tcn_loss, sample_tcn_positives

__all__ = [
    "compute_alignment_loss",
    "compute_tcn_loss",
    "sample_cycles",
    "sample_tcn_positives",
    "sample_triplet_indices",
    "sample_triplets",
    "shuffle_and_learn_loss",
]
