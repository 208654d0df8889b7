"""Backbones (per-frame CNNs) and embedders (context windows -> embeddings [B, T, D])."""

from tcc.models.backbones import (
    NETWORKS,
    TRAIN_BASE_MODES,
    batch_norm_layers,
    build_backbone,
    build_encoder,
    set_train_base,
)
from tcc.models.embedders import ConvEmbedder, SequenceEmbedder, build_embedder
from tcc.models.options import EmbedderOptions, EncoderOptions, ModelOptions

__all__ = [
    "NETWORKS",
    "TRAIN_BASE_MODES",
    "ConvEmbedder",
    "EmbedderOptions",
    "EncoderOptions",
    "ModelOptions",
    "SequenceEmbedder",
    "batch_norm_layers",
    "build_backbone",
    "build_embedder",
    "build_encoder",
    "set_train_base",
]
