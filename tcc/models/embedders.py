"""Embedders: per-timestep context windows of features -> embeddings [B, T, D].

Both embedders take the features of `num_steps` context frames per timestep, laid out as the data
pipeline lays out frames: [B, T * num_steps, ...], where index `t * num_steps + k` holds context
frame k of timestep t. Each timestep is embedded from its own context window only:

    [B, T * num_steps, ...] -> [B * T, num_steps, ...] -> conv layers (conv + norm + ReLU)
    -> pool the window -> per FC layer: dropout + Dense + ReLU -> linear Dense to D
    -> float32 -> optional L2 normalisation -> [B, T, D]

- `ConvEmbedder` (paper Table 1) for backbone feature maps [B, T * num_steps, h, w, C]: Conv3D
  layers over (context, height, width), then a global 3D max-pool.
- `SequenceEmbedder` for precomputed per-frame features or poses [B, T * num_steps, F]: optional
  Conv1D layers over the context window, then the window is flattened (or max-pooled).

Warning: neither embedder mixes information across the T timesteps, on purpose. An encoder that
can count frames (a recurrent layer or positional encodings over T) lets TCC's cycle-consistency
be satisfied by position alone, which makes the loss trivial and the embeddings useless for
alignment.

All kernels and biases carry L2 weight decay (`l2_reg_weight`, default 1e-5; collected in
`layer.losses`). Under a mixed-precision policy the layers compute in float16 / bfloat16 and the
embeddings are cast to float32 before the optional L2 normalisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from tcc.models.options import EmbedderOptions

Shape = tuple[int | None, ...]


class _ContextEmbedder(keras.layers.Layer):
    """Shared contract and layers: [B, T * num_steps, *frame] -> float32 [B, T, D].

    Subclasses set `frame_rank` (rank of one frame's features) and `conv_class`, and implement
    `_pool` ([B * T, num_steps, ..., C] -> [B * T, F]) and `_pooled_size`.
    """

    frame_rank: int
    conv_class: type[keras.layers.Layer]

    def __init__(
        self,
        num_steps: int,
        conv_layers: Sequence[Sequence[Any]],
        fc_layers: Sequence[int],
        embedding_size: int,
        capacity_scalar: float,
        fc_dropout_rate: float,
        l2_normalize: bool,
        l2_reg_weight: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if int(num_steps) < 1:
            raise ValueError(f"num_steps must be >= 1. Received: num_steps={num_steps!r}")
        if any(len(spec) != 3 for spec in conv_layers):
            raise ValueError(
                "Each conv layer is (channels, kernel_size, use_bn). Received: "
                f"conv_layers={conv_layers!r}"
            )
        self.num_steps = int(num_steps)
        self.conv_layers = tuple((int(c), int(k), bool(bn)) for c, k, bn in conv_layers)
        self.fc_layers = tuple(int(units) for units in fc_layers)
        self.embedding_size = int(embedding_size)
        self.capacity_scalar = float(capacity_scalar)
        self.fc_dropout_rate = float(fc_dropout_rate)
        self.l2_normalize = bool(l2_normalize)
        self.l2_reg_weight = float(l2_reg_weight)
        self._create_layers()

    def _width(self, width: int) -> int:
        return max(1, int(round(width * self.capacity_scalar)))

    def _regularizers(self) -> dict[str, Any]:
        """Fresh L2 kernel / bias regularizers for one layer."""
        if not self.l2_reg_weight:
            return {}
        return {
            "kernel_regularizer": keras.regularizers.L2(self.l2_reg_weight),
            "bias_regularizer": keras.regularizers.L2(self.l2_reg_weight),
        }

    def _create_layers(self) -> None:
        dtype = self.dtype_policy
        self.convs, self.norms = [], []
        for channels, kernel_size, use_bn in self.conv_layers:
            self.convs.append(
                self.conv_class(
                    self._width(channels),
                    kernel_size,
                    padding="same",
                    kernel_initializer="he_normal",
                    dtype=dtype,
                    **self._regularizers(),
                )
            )
            norm = keras.layers.BatchNormalization if use_bn else keras.layers.Identity
            self.norms.append(norm(dtype=dtype))
        self.dropouts = [keras.layers.Dropout(self.fc_dropout_rate) for _ in self.fc_layers]
        self.dense_layers = [
            keras.layers.Dense(self._width(units), "relu", dtype=dtype, **self._regularizers())
            for units in self.fc_layers
        ]
        self.projection = keras.layers.Dense(
            self.embedding_size, dtype=dtype, **self._regularizers()
        )

    def _windows_shape(self, input_shape: Sequence[int | None]) -> Shape:
        """[B, T * num_steps, *frame] -> [B * T, num_steps, *frame], checking the contract."""
        shape = tuple(input_shape)
        name = type(self).__name__
        if len(shape) != 2 + self.frame_rank or any(dim is None for dim in shape[2:]):
            raise ValueError(
                f"{name} expects inputs [B, T * num_steps, ...] of rank {2 + self.frame_rank} "
                f"with static per-frame dimensions. Received: shape={shape}"
            )
        if shape[1] is not None and shape[1] % self.num_steps:
            raise ValueError(
                f"{name}: the time axis ({shape[1]}) must be a multiple of num_steps="
                f"{self.num_steps} (T timesteps x num_steps context frames). "
                f"Received: shape={shape}"
            )
        return (None, self.num_steps) + shape[2:]

    def build(self, input_shape: Sequence[int | None]) -> None:
        shape = self._windows_shape(input_shape)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(shape)
            shape = tuple(conv.compute_output_shape(shape))
            norm.build(shape)
        shape = (None, self._pooled_size(shape))
        for dense in self.dense_layers:
            dense.build(shape)
            shape = (None, dense.units)
        self.projection.build(shape)

    def _pooled_size(self, conv_output_shape: Shape) -> int:
        raise NotImplementedError

    def _pool(self, x: Any) -> Any:
        raise NotImplementedError

    def call(self, features: Any, training: bool | None = None) -> Any:
        """Embeds every timestep from its context window.

        Args:
          features: [B, T * num_steps, *frame_shape]; index t * num_steps + k is context frame k
            of timestep t.
          training: enables dropout and batch-norm batch statistics.

        Returns:
          float32 embeddings [B, T, embedding_size] (unit L2 norm if `l2_normalize`).
        """
        windows_shape = self._windows_shape(features.shape)
        batch_size = ops.shape(features)[0]
        x = ops.reshape(features, (-1,) + windows_shape[1:])
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = ops.relu(norm(conv(x), training=training))
        x = self._pool(x)
        for dropout, dense in zip(self.dropouts, self.dense_layers, strict=True):
            x = dense(dropout(x, training=training))
        x = ops.cast(self.projection(x), "float32")
        if self.l2_normalize:
            x = x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))
        return ops.reshape(x, (batch_size, -1, self.embedding_size))

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> Shape:
        self._windows_shape(input_shape)
        steps = None if input_shape[1] is None else input_shape[1] // self.num_steps
        return (input_shape[0], steps, self.embedding_size)

    def compute_output_spec(self, features: Any, training: bool | None = None) -> Any:
        shape = self.compute_output_shape(features.shape)
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_steps": self.num_steps,
            "conv_layers": [list(spec) for spec in self.conv_layers],
            "fc_layers": list(self.fc_layers),
            "embedding_size": self.embedding_size,
            "capacity_scalar": self.capacity_scalar,
            "fc_dropout_rate": self.fc_dropout_rate,
            "l2_normalize": self.l2_normalize,
            "l2_reg_weight": self.l2_reg_weight,
        }


@keras.saving.register_keras_serializable(package="tcc")
class ConvEmbedder(_ContextEmbedder):
    """The paper's Table 1 embedder over backbone feature maps.

    [B, T * num_steps, h, w, C] -> [B * T, num_steps, h, w, C] (context frames stacked along
    time) -> per conv layer: Conv3D ('same') + BatchNorm + ReLU -> global 3D max-pool -> per FC
    layer: dropout + Dense + ReLU -> linear Dense -> float32 -> optional L2 normalisation ->
    [B, T, embedding_size].

    Args:
      num_steps: context frames per timestep (config `data.num_steps`).
      conv_layers: (channels, kernel_size, use_bn) per Conv3D layer.
      fc_layers: units per hidden FC layer.
      embedding_size: D, the output size.
      capacity_scalar: multiplies the width of every conv and hidden FC layer (not D); e.g.
        1/16 for CPU runs and tests.
      fc_dropout_rate: dropout before each hidden FC layer.
      l2_normalize: L2-normalise the embeddings.
      l2_reg_weight: L2 weight decay on every kernel and bias.
      **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    frame_rank = 3
    conv_class = keras.layers.Conv3D

    def __init__(
        self,
        num_steps: int = 2,
        conv_layers: Sequence[Sequence[Any]] = ((512, 3, True), (512, 3, True)),
        fc_layers: Sequence[int] = (512, 512),
        embedding_size: int = 128,
        capacity_scalar: float = 1.0,
        fc_dropout_rate: float = 0.1,
        l2_normalize: bool = False,
        l2_reg_weight: float = 1e-5,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_steps,
            conv_layers,
            fc_layers,
            embedding_size,
            capacity_scalar,
            fc_dropout_rate,
            l2_normalize,
            l2_reg_weight,
            **kwargs,
        )

    def _pooled_size(self, conv_output_shape: Shape) -> int:
        return conv_output_shape[-1]

    def _pool(self, x: Any) -> Any:
        """Global 3D max-pool: [B * T, num_steps, h, w, C] -> [B * T, C]."""
        return ops.max(x, axis=(1, 2, 3))


CONTEXT_POOLING = ("flatten", "max")


@keras.saving.register_keras_serializable(package="tcc")
class SequenceEmbedder(_ContextEmbedder):
    """Embedder for precomputed per-frame features or poses.

    [B, T * num_steps, F] -> [B * T, num_steps, F] -> per conv layer: Conv1D over the context
    window ('same') + optional BatchNorm + ReLU -> `context_pooling` over the window -> per FC
    layer: dropout + Dense + ReLU -> linear Dense -> float32 -> optional L2 normalisation ->
    [B, T, embedding_size]. With `conv_layers=()` it is an MLP on the concatenated window.

    Args:
      num_steps: context frames per timestep (config `data.num_steps`).
      conv_layers: (channels, kernel_size, use_bn) per temporal Conv1D layer; may be empty.
      fc_layers: units per hidden FC layer.
      embedding_size: D, the output size.
      capacity_scalar: multiplies the width of every conv and hidden FC layer (not D).
      fc_dropout_rate: dropout before each hidden FC layer.
      context_pooling: 'flatten' (keeps the order of the context frames, hence the direction of
        motion) or 'max' (discards it) over the num_steps context frames.
      l2_normalize: L2-normalise the embeddings.
      l2_reg_weight: L2 weight decay on every kernel and bias.
      **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    frame_rank = 1
    conv_class = keras.layers.Conv1D

    def __init__(
        self,
        num_steps: int = 2,
        conv_layers: Sequence[Sequence[Any]] = (),
        fc_layers: Sequence[int] = (256, 256),
        embedding_size: int = 128,
        capacity_scalar: float = 1.0,
        fc_dropout_rate: float = 0.1,
        context_pooling: str = "flatten",
        l2_normalize: bool = False,
        l2_reg_weight: float = 1e-5,
        **kwargs: Any,
    ) -> None:
        if context_pooling not in CONTEXT_POOLING:
            raise ValueError(
                f"Unknown context_pooling. Valid values: {', '.join(CONTEXT_POOLING)}. "
                f"Received: context_pooling={context_pooling!r}"
            )
        super().__init__(
            num_steps,
            conv_layers,
            fc_layers,
            embedding_size,
            capacity_scalar,
            fc_dropout_rate,
            l2_normalize,
            l2_reg_weight,
            **kwargs,
        )
        self.context_pooling = context_pooling

    def _pooled_size(self, conv_output_shape: Shape) -> int:
        factor = self.num_steps if self.context_pooling == "flatten" else 1
        return conv_output_shape[-1] * factor

    def _pool(self, x: Any) -> Any:
        """[B * T, num_steps, C] -> [B * T, num_steps * C] ('flatten') or [B * T, C] ('max')."""
        if self.context_pooling == "max":
            return ops.max(x, axis=1)
        return ops.reshape(x, (-1, self.num_steps * x.shape[-1]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "context_pooling": self.context_pooling}


def build_embedder(options: EmbedderOptions, name: str = "embedder") -> _ContextEmbedder:
    """The one construction path of an embedder: `ConvEmbedder` for `options.kind == 'conv'`,
    `SequenceEmbedder` for `'sequence'` (which alone takes `context_pooling`)."""
    kwargs = dataclasses.asdict(options)
    kind = kwargs.pop("kind")
    pooling = kwargs.pop("context_pooling")
    if kind == "sequence":
        return SequenceEmbedder(context_pooling=pooling, name=name, **kwargs)
    if kind == "conv":
        return ConvEmbedder(name=name, **kwargs)
    raise ValueError(f"embedder kind must be 'conv' or 'sequence'. Received: kind={kind!r}")
