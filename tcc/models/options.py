"""The model's options: small frozen records built from the config in one place.

`ModelOptions.from_config(cfg)` reads `data.input_kind`, `data.num_steps`, `data.image_size` and
`model.*`; the backbone and the embedder are built from its parts (`backbones.build_encoder`,
`embedders.build_embedder`), so nothing below the algorithms reads the root config.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections


@dataclasses.dataclass(frozen=True)
class EncoderOptions:
    """The per-frame backbone (input_kind 'frames'); the arguments of `build_backbone`."""

    network: str = "small"
    image_size: int = 48
    weights: str | None = None  # None = random initialisation
    layer: str | None = None  # None = the network's default feature layer
    train_base: str = "train_all"
    l2_reg_weight: float = 1e-5


@dataclasses.dataclass(frozen=True)
class EmbedderOptions:
    """The embedder: context windows [B, T * num_steps, ...] -> embeddings [B, T, D].

    `kind` is 'conv' (`ConvEmbedder`, over backbone feature maps) or 'sequence'
    (`SequenceEmbedder`, over per-frame features or poses; `context_pooling` is its own).
    """

    kind: str = "conv"
    num_steps: int = 2
    conv_layers: tuple[tuple[int, int, bool], ...] = ()
    fc_layers: tuple[int, ...] = ()
    embedding_size: int = 128
    capacity_scalar: float = 1.0
    fc_dropout_rate: float = 0.1
    context_pooling: str = "flatten"
    l2_normalize: bool = False
    l2_reg_weight: float = 1e-5


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """Encoder (None for feature inputs) and embedder of one model."""

    input_kind: str = "frames"  # frames | features
    num_steps: int = 2
    image_size: int = 48
    encoder: EncoderOptions | None = EncoderOptions()
    embedder: EmbedderOptions = EmbedderOptions()

    @classmethod
    def from_config(cls, cfg: ml_collections.ConfigDict) -> ModelOptions:
        """Reads `data.input_kind`, `data.num_steps`, `data.image_size` and `model.*`."""
        m, kind = cfg.model, cfg.data.input_kind
        base = m.base_model
        encoder = None
        if kind == "frames":
            encoder = EncoderOptions(
                network=base.network,
                image_size=int(cfg.data.image_size),
                weights=base.weights or None,
                layer=base.layer if base.network == "resnet50v2" else None,
                train_base=m.train_base,
                l2_reg_weight=float(m.l2_reg_weight),
            )
        e = m.sequence_embedder if kind == "features" else m.conv_embedder
        embedder = EmbedderOptions(
            kind="sequence" if kind == "features" else "conv",
            num_steps=int(cfg.data.num_steps),
            conv_layers=tuple((int(c), int(k), bool(bn)) for c, k, bn in e.conv_layers),
            fc_layers=tuple(int(units) for units in e.fc_layers),
            embedding_size=int(m.embedding_size),
            capacity_scalar=float(e.capacity_scalar),
            fc_dropout_rate=float(e.fc_dropout_rate),
            context_pooling=e.get("context_pooling", "flatten"),
            l2_normalize=bool(m.l2_normalize),
            l2_reg_weight=float(m.l2_reg_weight),
        )
        return cls(kind, int(cfg.data.num_steps), int(cfg.data.image_size), encoder, embedder)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-able up to tuples), the inverse of `from_dict`."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelOptions:
        encoder = data.get("encoder")
        embedder = dict(data["embedder"])
        embedder["conv_layers"] = tuple(tuple(x) for x in embedder["conv_layers"])
        embedder["fc_layers"] = tuple(embedder["fc_layers"])
        return cls(
            input_kind=data["input_kind"],
            num_steps=int(data["num_steps"]),
            image_size=int(data["image_size"]),
            encoder=EncoderOptions(**encoder) if encoder else None,
            embedder=EmbedderOptions(**embedder),
        )
