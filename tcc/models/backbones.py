"""Per-frame convolutional backbones and the `train_base` variable selection.

A backbone maps images [N, H, W, 3] with pixel values in [-1, 1] to feature maps [N, h, w, C]:

| network        | default output layer | at 224 px      | use                                |
|----------------|----------------------|----------------|------------------------------------|
| `'resnet50v2'` | `conv4_block3_out`   | 14 x 14 x 1024 | paper's ImageNet-initialised net   |
| `'vggm'`       | `conv4b_relu`        | 14 x 14 x 512  | paper's from-scratch net           |
| `'small'`      | `conv4_relu`         | 28 x 28 x 128  | CPU runs (64 px -> 8 x 8 x 128)    |

Input range: every backbone takes images in [-1, 1], which is what the data pipeline produces.
For ResNet50V2 this is exactly the range its ImageNet weights were trained on
(`keras.applications.resnet_v2.preprocess_input` maps [0, 255] to [-1, 1] and the model itself
contains no rescaling), so no further preprocessing is applied.

`train_base` decides what of the backbone the optimizer updates, selected by layer type
(`keras.layers.BatchNormalization`), never by variable names:

- `'frozen'`: nothing trains. Batch-norm layers run in inference mode (moving statistics, never
  updated) even when the model is called with `training=True`.
- `'only_bn'` (the paper's setting for ResNet50V2): only the gamma / beta of every batch-norm layer
  train. As in the original code, batch-norm layers called with `training=True` normalise with the
  batch statistics and update their moving statistics; with `training=False` they use the moving
  statistics.
- `'train_all'`: every variable trains; batch norm as under `'only_bn'`.

Both behaviours are Keras 3's documented `BatchNormalization` semantics: a layer with
`trainable=False` always runs in inference mode. They are pinned down by the tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import keras

from tcc.models.options import EncoderOptions

NETWORKS = ("resnet50v2", "vggm", "small")
TRAIN_BASE_MODES = ("frozen", "only_bn", "train_all")

RESNET_DEFAULT_LAYER = "conv4_block3_out"


def build_backbone(
    network: str,
    image_size: int | Sequence[int],
    weights: str | None = None,
    layer: str | None = None,
    train_base: str = "only_bn",
    l2_reg_weight: float = 1e-5,
) -> keras.Model:
    """Builds a per-frame backbone as a functional `keras.Model`.

    Args:
      network: one of `NETWORKS`: `'resnet50v2'`, `'vggm'` or `'small'`.
      image_size: input height = width (int) or `(height, width)`.
      weights: `None` (random initialisation); a local weights file (`.h5` or `.weights.h5`); or,
        for `'resnet50v2'` only, `'imagenet'` (downloads; needs network access). For ResNet50V2 a
        file must hold the full Keras ResNet50V2 without top, e.g. the Keras file
        `resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5`; for the other networks, a file
        saved from a backbone built with the same arguments.
      layer: name of the layer whose output is the feature map; `None` for the network's default
        (see the module docstring).
      train_base: one of `TRAIN_BASE_MODES`; see `set_train_base`.
      l2_reg_weight: L2 weight decay on kernels and biases of the from-scratch networks (`'vggm'`,
        `'small'`); the Keras ResNet50V2 has no regularisers, as in the original.

    Returns:
      A model mapping float images [N, H, W, 3] in [-1, 1] to features [N, h, w, C].

    Raises:
      ValueError: on an unknown network, layer or train_base, or weights that do not fit.
    """
    if network not in _BUILDERS:
        raise ValueError(
            f"Unknown backbone network. Valid names: {', '.join(NETWORKS)}. Received: "
            f"network={network!r}"
        )
    _check_train_base(train_base)
    height, width = _image_hw(image_size)
    model = _BUILDERS[network](height, width, weights, l2_reg_weight)
    if network != "resnet50v2" and weights is not None:
        _load_local_weights(model, weights, network)
    if layer is not None or network == "resnet50v2":
        model = _cut_at(model, layer or RESNET_DEFAULT_LAYER, network)
    set_train_base(model, train_base)
    return model


def set_train_base(model: keras.Model, train_base: str) -> keras.Model:
    """Sets which variables of `model` are trainable, selecting layers by type.

    Args:
      model: a backbone (any Keras model; nested models are walked recursively).
      train_base: `'frozen'` (nothing trains; batch norm in inference mode), `'only_bn'` (exactly
        the gamma / beta of every `keras.layers.BatchNormalization` train) or `'train_all'`.

    Returns:
      `model`, modified in place.
    """
    _check_train_base(train_base)
    for layer in _all_layers(model):
        _set_trainable(layer, train_base != "frozen")
    if train_base == "only_bn":
        for layer in _all_layers(model):
            if not getattr(layer, "layers", None):
                _set_trainable(layer, isinstance(layer, keras.layers.BatchNormalization))
    return model


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Returns every batch-norm layer inside `model` (recursively), in layer order."""
    return [x for x in _all_layers(model) if isinstance(x, keras.layers.BatchNormalization)]


def _all_layers(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """Yields `layer` and, recursively, every layer of nested models (pre-order)."""
    yield layer
    for child in getattr(layer, "layers", None) or ():
        yield from _all_layers(child)


def _set_trainable(layer: keras.layers.Layer, value: bool) -> None:
    """Sets `layer.trainable`, even when the flag already has that value.

    Under the TensorFlow backend `layer.trainable = value` is skipped entirely when
    `layer.trainable is value` already, so the setter would not reach sublayers and variables
    that were changed individually. Calling the property setter always runs it.
    """
    keras.layers.Layer.trainable.fset(layer, value)


def _check_train_base(train_base: str) -> None:
    if train_base not in TRAIN_BASE_MODES:
        raise ValueError(
            f"Unknown train_base. Valid values: {', '.join(TRAIN_BASE_MODES)}. Received: "
            f"train_base={train_base!r}"
        )


def _image_hw(image_size: int | Sequence[int]) -> tuple[int, int]:
    sizes = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(sizes) != 2 or any(int(s) < 8 for s in sizes):
        raise ValueError(
            "image_size must be an int or (height, width), each at least 8. Received: "
            f"image_size={image_size!r}"
        )
    return int(sizes[0]), int(sizes[1])


def _cut_at(model: keras.Model, layer: str, network: str) -> keras.Model:
    names = [x.name for x in model.layers]
    if layer not in names:
        raise ValueError(
            f"Backbone {network!r} has no layer {layer!r}. Its layers are: {', '.join(names)}. "
            f"Received: layer={layer!r}"
        )
    return keras.Model(model.input, model.get_layer(layer).output, name=f"{network}_{layer}")


def _load_local_weights(model: keras.Model, weights: str, network: str) -> None:
    if not str(weights).endswith((".h5", ".hdf5")):
        raise ValueError(
            f"Backbone {network!r} takes weights=None or a local .h5 / .weights.h5 file "
            f"('imagenet' exists only for 'resnet50v2'). Received: weights={weights!r}"
        )
    try:
        model.load_weights(weights)
    except (ValueError, FileNotFoundError, OSError) as error:
        raise ValueError(
            f"Could not load {weights!r} into backbone {network!r} ({error}). Pass a file saved "
            "from a backbone built with the same network and image size. Received: "
            f"weights={weights!r}"
        ) from error


def _resnet50v2(height: int, width: int, weights: str | None, l2_reg_weight: float) -> keras.Model:
    """The full Keras ResNet50V2 without top; `build_backbone` cuts it at conv4c."""
    del l2_reg_weight  # The Keras application has no regularisers (as in the original).
    if weights not in (None, "imagenet") and not str(weights).endswith((".h5", ".hdf5")):
        raise ValueError(
            "ResNet50V2 weights must be None, 'imagenet' or a local .h5 / .weights.h5 file of the "
            f"full Keras ResNet50V2 without top. Received: weights={weights!r}"
        )
    try:
        return keras.applications.ResNet50V2(
            include_top=False, weights=weights, input_shape=(height, width, 3)
        )
    except (ValueError, OSError) as error:
        raise ValueError(
            f"Could not build ResNet50V2 with weights={weights!r} ({error}). A local file must "
            "exist and hold the full Keras ResNet50V2 without top (e.g. "
            "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5). Received: "
            f"weights={weights!r}"
        ) from error


def _conv_bn_relu(
    x: keras.KerasTensor,
    name: str,
    channels: int,
    kernel_size: int,
    strides: int,
    use_bn: bool,
    l2_reg_weight: float,
) -> keras.KerasTensor:
    """Conv2D ('same' padding, He init, L2) -> optional BatchNorm -> ReLU."""
    regularizer = keras.regularizers.L2(l2_reg_weight) if l2_reg_weight else None
    x = keras.layers.Conv2D(
        channels,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=not use_bn,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer,
        bias_regularizer=regularizer if not use_bn else None,
        name=name,
    )(x)
    if use_bn:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _vggm(height: int, width: int, weights: str | None, l2_reg_weight: float) -> keras.Model:
    """A VGG-M-like 7-conv network: 224 px -> 14 x 14 x 512 (overall stride 16).

    conv1 7x7/2 (64) -> max-pool 3x3/2 -> [conv2a, conv2b] 3x3 (128) -> max-pool 2 ->
    [conv3a, conv3b] 3x3 (256) -> max-pool 2 -> [conv4a, conv4b] 3x3 (512); every conv followed
    by batch norm and ReLU.
    """
    del weights  # Loaded by build_backbone.
    inputs = keras.Input((height, width, 3), name="images")
    x = _conv_bn_relu(inputs, "conv1", 64, 7, 2, True, l2_reg_weight)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, channels in ((2, 128), (3, 256), (4, 512)):
        x = _conv_bn_relu(x, f"conv{stage}a", channels, 3, 1, True, l2_reg_weight)
        x = _conv_bn_relu(x, f"conv{stage}b", channels, 3, 1, True, l2_reg_weight)
        if stage < 4:
            x = keras.layers.MaxPooling2D(2, strides=2, padding="same", name=f"pool{stage}")(x)
    return keras.Model(inputs, x, name="vggm")


SMALL_CHANNELS = (32, 64, 128, 128)
SMALL_STRIDES = (2, 2, 2, 1)


def _small(height: int, width: int, weights: str | None, l2_reg_weight: float) -> keras.Model:
    """A 4-conv encoder for CPU runs: 3x3 convs (32, 64, 128, 128), strides 2, 2, 2, 1 (/8)."""
    del weights  # Loaded by build_backbone.
    inputs = keras.Input((height, width, 3), name="images")
    x = inputs
    for i, (channels, stride) in enumerate(zip(SMALL_CHANNELS, SMALL_STRIDES, strict=True)):
        x = _conv_bn_relu(x, f"conv{i + 1}", channels, 3, stride, True, l2_reg_weight)
    return keras.Model(inputs, x, name="small")


_BUILDERS: dict[str, Callable[[int, int, str | None, float], keras.Model]] = {
    "resnet50v2": _resnet50v2,
    "vggm": _vggm,
    "small": _small,
}


def build_encoder(options: EncoderOptions) -> keras.Model:
    """`build_backbone` with the arguments of `options`."""
    return build_backbone(**dataclasses.asdict(options))
