"""Frame images: decode only the needed JPEGs, augment per video, map to the models' range.

Temporal alignment needs the frames of one video to stay consistent with each other, so every random
parameter (flip, brightness delta, contrast factor, hue delta, saturation factor, crop box) is drawn
once from a per-video stateless seed and applied identically to every frame. Order: random crop
(one square box, resized back to the input size), horizontal flip (p = 0.5), brightness, contrast,
hue, saturation. Colour ops work on [0, 1] floats and clip to [0, 1] after each op; `to_model_range`
then maps to [-1, 1]. Contrast uses `tf.image.adjust_contrast` (each frame around its own channel
means, with the video's one factor), as the original did.
"""

from __future__ import annotations

import dataclasses

import ml_collections
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
    """Which augmentations run and their ranges (mirrors `cfg.augmentation`)."""

    random_flip: bool = True
    brightness: bool = True
    brightness_max_delta: float = 32.0 / 255
    contrast: bool = True
    contrast_lower: float = 0.5
    contrast_upper: float = 1.5
    hue: bool = False
    hue_max_delta: float = 0.2
    saturation: bool = False
    saturation_lower: float = 0.5
    saturation_upper: float = 1.5
    random_crop: bool = False
    crop_min_fraction: float = 0.8

    @classmethod
    def from_config(cls, aug_cfg: ml_collections.ConfigDict) -> AugmentOptions:
        """Builds options from `cfg.augmentation` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in aug_cfg.items() if k in names})


def decode_frames(
    jpegs: tf.Tensor, indices: tf.Tensor, image_size: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Decodes only the distinct frames among `indices` (the pipeline's main speed point).

    Args:
      jpegs: string [L] JPEG bytes of the whole video.
      indices: int32 [N] frames wanted (repeats allowed).
      image_size: output side S; frames of another size are resized (bilinear).

    Returns:
      (images float32 [U, S, S, 3] in [0, 1] of the U distinct frames, positions int32 [N] such
      that `tf.gather(images, positions)` is the wanted sequence).
    """
    unique, positions = tf.unique(indices)
    images = tf.map_fn(
        lambda b: tf.io.decode_jpeg(b, channels=3),
        tf.gather(jpegs, unique),
        fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    )
    images = tf.image.convert_image_dtype(images, tf.float32)
    size = tf.constant([image_size, image_size])
    same = tf.reduce_all(tf.shape(images)[1:3] == size)
    images = tf.cond(same, lambda: images, lambda: tf.image.resize(images, size))
    return tf.ensure_shape(images, [None, image_size, image_size, 3]), positions


def _uniform(seed: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed=seed, minval=low, maxval=high)


def random_square_crop(frames: tf.Tensor, seed: tf.Tensor, min_fraction: float) -> tf.Tensor:
    """Crops one random square box from all frames and resizes back to [H, W].

    Args:
      frames: float32 [N, H, W, C].
      seed: int [2] stateless seed.
      min_fraction: the box side is drawn in [min_fraction, 1] * min(H, W).

    Returns:
      float32 [N, H, W, C].
    """
    if not 0.0 < min_fraction <= 1.0:
        raise ValueError(
            "augmentation.crop_min_fraction must be in (0, 1]; received "
            f"crop_min_fraction={min_fraction}"
        )
    seed_size, seed_y, seed_x = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    shape = tf.shape(frames)
    height, width = shape[1], shape[2]
    min_dim = tf.cast(tf.minimum(height, width), tf.float32)
    side = tf.maximum(1, tf.cast(min_dim * _uniform(seed_size, min_fraction, 1.0), tf.int32))
    top = tf.random.stateless_uniform([], seed_y, 0, height - side + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], seed_x, 0, width - side + 1, dtype=tf.int32)
    crop = frames[:, top : top + side, left : left + side, :]
    out = tf.image.resize(crop, tf.stack([height, width]))
    return tf.ensure_shape(out, frames.shape)


def augment_frames(frames: tf.Tensor, seed: tf.Tensor, options: AugmentOptions) -> tf.Tensor:
    """Applies the enabled augmentations with one set of parameters for all frames of a video.

    Args:
      frames: float32 [N, H, W, 3] in [0, 1], the frames of one video (any subset of them).
      seed: int [2] stateless per-video seed; the same seed gives the same parameters.
      options: which augmentations run.

    Returns:
      float32 [N, H, W, 3] in [0, 1].
    """
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 6))
    out = frames
    if options.random_crop:
        out = random_square_crop(out, seeds[0], options.crop_min_fraction)
    if options.random_flip:
        flip = _uniform(seeds[1], 0.0, 1.0) < 0.5
        out = tf.cond(flip, lambda: tf.reverse(out, axis=[2]), lambda: out)
    if options.brightness:
        delta = options.brightness_max_delta
        out = tf.clip_by_value(out + _uniform(seeds[2], -delta, delta), 0.0, 1.0)
    if options.contrast:
        factor = _uniform(seeds[3], options.contrast_lower, options.contrast_upper)
        out = tf.clip_by_value(tf.image.adjust_contrast(out, factor), 0.0, 1.0)
    if options.hue:
        delta = options.hue_max_delta
        out = tf.clip_by_value(tf.image.adjust_hue(out, _uniform(seeds[4], -delta, delta)), 0, 1)
    if options.saturation:
        factor = _uniform(seeds[5], options.saturation_lower, options.saturation_upper)
        out = tf.clip_by_value(tf.image.adjust_saturation(out, factor), 0.0, 1.0)
    return out


def to_model_range(frames: tf.Tensor) -> tf.Tensor:
    """Maps [0, 1] floats to the models' input range [-1, 1] (clipped); same shape."""
    return tf.clip_by_value(frames * 2.0 - 1.0, -1.0, 1.0)
