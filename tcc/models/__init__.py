"""Backbones (per-frame CNNs) and embedders (context windows -> embeddings [B, T, D])."""

from tcc.models.backbones import (
    NETWORKS,
    TRAIN_BASE_MODES,
    batch_norm_layers,
    build_backbone,
    set_train_base,
)
from tcc.models.embedders import ConvEmbedder, SequenceEmbedder

__all__ = [
    "NETWORKS",
    "TRAIN_BASE_MODES",
    "ConvEmbedder",
    "SequenceEmbedder",
    "batch_norm_layers",
    "build_backbone",
    "set_train_base",
]
