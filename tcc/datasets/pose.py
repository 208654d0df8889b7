"""Pose and feature-sequence preprocessing: graph-friendly TF functions, one video [L, F] at a time.

A pose sequence is stored as features [L, F] with F = J * W: J joints, each W = C + v values,
joint-major (`x0, y0[, z0][, vis0], x1, y1, ...`): C coordinates (2 for x, y; 3 for x, y, z) and,
with `visibility`, one more value, a visibility flag or confidence (> 0 = the joint is present).
A joint is *missing* in a frame when any of its coordinates is NaN or its flag is <= 0.

`transform` runs the configured steps in this order (`cfg.pose`, see `PoseOptions`):

1. missing joints are filled by linear interpolation over time from the nearest frames where the
   joint is present (before its first / after its last appearance: the nearest value is held);
   a joint missing in every frame stays missing;
2. centring and scale normalisation: every frame is translated so that the mean of its present
   joints is the origin, and the whole video is divided by one scale, the root-mean-square
   distance of the joints from their frame's centre. Per-frame centring removes where the person
   stands; one scale per video removes their size in the image, yet keeps the changes of body
   extent within the video (a squat makes the body smaller);
3. horizontal flip (training only, with probability `flip_probability` per video): x is mirrored
   about the video's mean x and the joints of each left/right pair in `flip_pairs` are swapped;
   then, with `facing_pairs`, a video whose person faces left is mirrored the same way so that
   everybody faces right (`canonical_facing`): a video and its mirror image give the same input;
4. motion (optional): the difference of every coordinate to the frame `motion_stride` earlier
   (clipped at the first frame) is appended, so that going down and coming back up differ;
5. values still missing become 0 (the centre after step 2), so the model always sees finite input.

The visibility values are used to find missing joints and are not part of the output: the output
is [L, J * C] coordinates, followed by [L, J * C] motion with `motion`. Plain features
(`num_joints = 0`, e.g. frozen CNN features) get only steps 1 (per column), 4 and 5.

All functions accept NumPy arrays or tensors, return tensors, and run eagerly or inside
`tf.data.Dataset.map` with the same results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

# Penn Action's 13 joints, in the order of its label files (and of the CSV redistribution).
PENN_ACTION_JOINTS = (
    "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)  # fmt: skip
PENN_ACTION_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12))
# (knee, hip): knees bend forward, so knee x - hip x gives the way a side-viewed person faces.
PENN_ACTION_FACING_PAIRS = ((9, 7), (10, 8))
# Stick-figure bones of Penn Action's joints (pairs of joint indices), for `tcc.apps.skeleton`.
PENN_ACTION_BONES = (
    (0, 1), (0, 2), (1, 2), (1, 3), (3, 5), (2, 4), (4, 6), (1, 7), (2, 8), (7, 8), (7, 9),
    (9, 11), (8, 10), (10, 12),
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class PoseOptions:
    """Preprocessing of one feature / pose sequence (the `pose.*` config keys).

    Attributes:
      num_joints: J; 0 = plain features (no pose-specific steps).
      num_channels: C, coordinates per joint (2 = x, y; 3 = x, y, z); x comes first.
      visibility: every joint has one more value after its coordinates: a visibility flag or
        confidence; <= 0 marks the joint missing in that frame.
      center_and_scale: per-frame centring and per-video scale normalisation.
      interpolate_missing: fill missing joints (plain features: NaN values) over time.
      flip_pairs: (left, right) joint index pairs swapped by the horizontal flip.
      flip_probability: probability of flipping a training video (0 = never).
      facing_pairs: (front, back) joint index pairs, e.g. (knee, hip); when given, every video
        whose front joints lie left of its back joints on average is mirrored (`canonical_facing`).
      facing_min_offset: the facing counts only when that mean offset is at least this fraction
        of the video's pose extent (front and back views have none); 0 = always.
      motion: append the difference to the frame `motion_stride` earlier.
      motion_stride: frames back for the motion features (>= 1).
    """

    num_joints: int = 0
    num_channels: int = 2
    visibility: bool = False
    center_and_scale: bool = True
    interpolate_missing: bool = True
    flip_pairs: tuple[tuple[int, int], ...] = ()
    flip_probability: float = 0.0
    facing_pairs: tuple[tuple[int, int], ...] = ()
    facing_min_offset: float = 0.0
    motion: bool = False
    motion_stride: int = 1

    def __post_init__(self) -> None:
        if self.num_joints < 0 or self.num_channels < 1 or self.motion_stride < 1:
            raise ValueError(
                "pose.num_joints must be >= 0, pose.num_channels and the motion stride >= 1. "
                f"Received: num_joints={self.num_joints}, num_channels={self.num_channels}, "
                f"motion_stride={self.motion_stride}"
            )
        if self.facing_min_offset < 0:
            raise ValueError(
                f"pose.facing_min_offset must be >= 0. Received: {self.facing_min_offset}"
            )
        if not 0.0 <= self.flip_probability <= 1.0:
            raise ValueError(
                f"pose.flip_probability must be in [0, 1]. Received: {self.flip_probability}"
            )
        for key in ("flip_pairs", "facing_pairs"):
            pairs = getattr(self, key)
            for pair in pairs if self.num_joints else ():
                if len(pair) != 2 or not all(0 <= int(j) < self.num_joints for j in pair):
                    raise ValueError(
                        f"pose.{key} must hold pairs of joint indices in [0, "
                        f"{self.num_joints}). Received: {key}={list(pairs)}"
                    )

    @classmethod
    def from_config(cls, pose_cfg: Any, frame_stride: int = 1) -> PoseOptions:
        """Options from `cfg.pose` (a ConfigDict or dict); `motion_stride` 0 = `frame_stride`."""
        get = pose_cfg.get
        stride = int(get("motion_stride", 0) or frame_stride)
        return cls(
            num_joints=int(get("num_joints", 0)),
            num_channels=int(get("num_channels", 2)),
            visibility=bool(get("visibility", False)),
            center_and_scale=bool(get("center_and_scale", True)),
            interpolate_missing=bool(get("interpolate_missing", True)),
            flip_pairs=tuple((int(a), int(b)) for a, b in get("flip_pairs", ())),
            flip_probability=float(get("flip_probability", 0.0)),
            facing_pairs=tuple((int(a), int(b)) for a, b in get("facing_pairs", ())),
            facing_min_offset=float(get("facing_min_offset", 0.0)),
            motion=bool(get("motion", False)),
            motion_stride=stride,
        )

    @property
    def joint_width(self) -> int:
        """W, stored values per joint: coordinates plus the visibility flag if any."""
        return self.num_channels + int(self.visibility)

    def output_dim(self, num_features: int) -> int:
        """F' of `transform` for stored features of size F."""
        base = self.num_joints * self.num_channels if self.num_joints else num_features
        return base * (2 if self.motion else 1)


def interpolate_missing(values: Any, present: Any) -> tf.Tensor:
    """Fills missing entries by linear interpolation over time, independently per track.

    Args:
      values: float [L, ...], tracks along the first axis.
      present: bool [L, ...] (same shape), False where a value is missing.

    Returns:
      float32 [L, ...]: present values unchanged; a missing value between two present ones of its
      track is interpolated linearly in time; before the first / after the last present value the
      nearest one is held; a track with no present value is NaN.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    shape = tf.shape(values)
    length = shape[0]
    flat = tf.reshape(values, [length, -1])  # [L, N]
    valid = tf.reshape(tf.convert_to_tensor(present, tf.bool), [length, -1])
    time = tf.range(length)[:, None] + tf.zeros_like(flat, tf.int32)  # [L, N]
    # Present frame indices of each track in increasing order, padded with L: [N, L].
    ordered = tf.transpose(tf.sort(tf.where(valid, time, length), axis=0))
    count = tf.cumsum(tf.cast(valid, tf.int32), axis=0)  # present frames <= t
    before = count - tf.cast(valid, tf.int32)  # present frames < t
    prev = tf.gather(ordered, tf.transpose(tf.maximum(count - 1, 0)), batch_dims=1)
    prev = tf.where(tf.transpose(count) > 0, prev, -1)  # [N, L], -1 = none
    nxt = tf.gather(ordered, tf.transpose(tf.minimum(before, length - 1)), batch_dims=1)
    columns = tf.transpose(flat)  # [N, L]
    v_prev = tf.gather(columns, tf.maximum(prev, 0), batch_dims=1)
    v_next = tf.gather(columns, tf.minimum(nxt, length - 1), batch_dims=1)
    has_prev, has_next = prev >= 0, nxt < length
    t = tf.cast(tf.transpose(time), tf.float32)
    gap = tf.cast(tf.maximum(nxt - prev, 1), tf.float32)
    weight = (t - tf.cast(prev, tf.float32)) / gap
    between = v_prev + weight * (v_next - v_prev)
    nan = tf.fill(tf.shape(columns), float("nan"))
    filled = tf.where(
        has_prev & has_next, between, tf.where(has_prev, v_prev, tf.where(has_next, v_next, nan))
    )
    out = tf.where(tf.transpose(valid), columns, filled)
    return tf.reshape(tf.transpose(out), shape)


def _masked_mean(values: tf.Tensor, mask: tf.Tensor, axis: Sequence[int] | int) -> tf.Tensor:
    """Mean of `values` where `mask` (broadcast over trailing axes) is True; 0 if none."""
    weights = tf.cast(mask, values.dtype)
    while weights.shape.rank < values.shape.rank:
        weights = weights[..., None]
    total = tf.reduce_sum(tf.where(weights > 0, values, 0.0), axis=axis)
    return total / tf.maximum(tf.reduce_sum(weights + tf.zeros_like(values), axis=axis), 1.0)


def center_and_scale(coords: Any) -> tf.Tensor:
    """Centres every frame on the mean of its joints and divides by one scale per video.

    Args:
      coords: float [L, J, C]; NaN joints are ignored (and stay NaN).

    Returns:
      float32 [L, J, C]: `(p - centre_t) / s`, where centre_t [C] is the mean of the finite joints
      of frame t and s the root-mean-square distance of all finite joints from their frame's
      centre (1 if there are none or s is ~0).
    """
    coords = tf.convert_to_tensor(coords, tf.float32)
    finite = tf.reduce_all(tf.math.is_finite(coords), axis=-1)  # [L, J]
    centre = _masked_mean(coords, finite, axis=1)  # [L, C]
    centred = coords - centre[:, None, :]
    squared = tf.reduce_sum(tf.where(finite[..., None], tf.square(centred), 0.0), axis=-1)
    num = tf.reduce_sum(tf.cast(finite, tf.float32))
    scale = tf.sqrt(tf.reduce_sum(squared) / tf.maximum(num, 1.0))
    scale = tf.where(scale > 1e-6, scale, 1.0)
    return centred / scale


def flip_horizontal(coords: Any, flip_pairs: Sequence[Sequence[int]] = ()) -> tf.Tensor:
    """Mirrors x about the video's mean x and swaps the joints of each left/right pair.

    Args:
      coords: float [L, J, C] with x in channel 0; NaN joints are ignored for the mean.
      flip_pairs: (left, right) joint index pairs to swap.

    Returns:
      float32 [L, J, C]: joint j of the output is joint perm(j) of the input with
      x -> 2 * mean_x - x.
    """
    coords = tf.convert_to_tensor(coords, tf.float32)
    x = coords[..., 0]
    finite = tf.math.is_finite(x)
    mean_x = _masked_mean(x, finite, axis=[0, 1])
    mirrored = tf.concat([(2.0 * mean_x - x)[..., None], coords[..., 1:]], axis=-1)
    perm = list(range(coords.shape[1]))
    for left, right in flip_pairs:
        perm[int(left)], perm[int(right)] = perm[int(right)], perm[int(left)]
    return tf.gather(mirrored, perm, axis=1)


def facing_sign(
    coords: Any, facing_pairs: Sequence[Sequence[int]], min_offset: float = 0.0
) -> tf.Tensor:
    """The way a video's person faces: the sign of the mean x offset of the facing pairs.

    Args:
      coords: float [L, J, C] with x in channel 0; NaN joints are ignored.
      facing_pairs: (front, back) joint index pairs, e.g. (knee, hip).
      min_offset: an offset smaller than this fraction of the video's extent (the diagonal of
        the box around all its joints in all frames, x and y) counts as no facing: seen from
        the front or the back, knees are not ahead of hips, and the sign would be noise.

    Returns:
      float32 scalar: +1 if x of the front joints exceeds x of the back joints on average over
      all frames and pairs where both are present, -1 if it is smaller, 0 if there is no such
      frame or no pair, or the offset is under `min_offset`.
    """
    coords = tf.convert_to_tensor(coords, tf.float32)
    if not facing_pairs:
        return tf.constant(0.0)
    front = tf.gather(coords[..., 0], [int(a) for a, _ in facing_pairs], axis=1)  # [L, P]
    back = tf.gather(coords[..., 0], [int(b) for _, b in facing_pairs], axis=1)
    offset = front - back
    mean = _masked_mean(offset, tf.math.is_finite(offset), axis=[0, 1])
    if min_offset > 0:
        xy = coords[..., :2]
        present = tf.reduce_all(tf.math.is_finite(xy), axis=-1)  # [L, J]
        big = tf.constant(np.finfo(np.float32).max)
        low = tf.reduce_min(tf.where(present[..., None], xy, big), axis=[0, 1])  # [2]
        high = tf.reduce_max(tf.where(present[..., None], xy, -big), axis=[0, 1])
        extent = tf.where(tf.reduce_any(present), tf.norm(high - low), 0.0)
        mean = tf.where(tf.abs(mean) < min_offset * extent, 0.0, mean)
    return tf.sign(mean)


def canonical_facing(
    coords: Any,
    facing_pairs: Sequence[Sequence[int]],
    flip_pairs: Sequence[Sequence[int]] = (),
    min_offset: float = 0.0,
) -> tf.Tensor:
    """Mirrors a video (`flip_horizontal`) whose person faces left, so that all face right.

    A video and its mirror image give the same output (unless `facing_sign` is 0). Without
    this, people seen from the side facing left and facing right look like different motions,
    and TCC can align them *backwards*: mirroring turns the horizontal motion of going down into
    that of coming up, and cycle-consistency holds just as well for a reversed alignment.

    Args:
      coords: float [L, J, C] with x in channel 0; NaN joints are ignored.
      facing_pairs: (front, back) joint index pairs giving the facing (`facing_sign`).
      flip_pairs: (left, right) joint index pairs swapped by the mirror.
      min_offset: see `facing_sign`; videos without a clear facing are left as they are.

    Returns:
      float32 [L, J, C]: `coords`, mirrored if `facing_sign` is -1.
    """
    coords = tf.convert_to_tensor(coords, tf.float32)
    facing_left = facing_sign(coords, facing_pairs, min_offset) < 0
    return tf.where(facing_left, flip_horizontal(coords, flip_pairs), coords)


def motion_features(values: Any, stride: int) -> tf.Tensor:
    """Difference of every frame to the frame `stride` earlier (frame 0 for the first frames).

    Args:
      values: float [L, ...].
      stride: frames back (>= 1).

    Returns:
      float32 [L, ...]: `values[t] - values[max(t - stride, 0)]`.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    earlier = tf.maximum(tf.range(tf.shape(values)[0]) - stride, 0)
    return values - tf.gather(values, earlier)


def split_joints(features: Any, options: PoseOptions) -> tuple[tf.Tensor, tf.Tensor]:
    """Stored pose features -> coordinates and presence.

    Args:
      features: float [L, J * W] (module doc).
      options: gives J, C and whether a visibility value follows the coordinates.

    Returns:
      (coords float32 [L, J, C] with NaN where a joint is missing, present bool [L, J]).

    Raises:
      ValueError: if F is not J * W.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    width, joints = options.joint_width, options.num_joints
    dim = features.shape[-1]
    if dim is not None and dim != joints * width:
        raise ValueError(
            f"pose features have {dim} values per frame, but pose.num_joints={joints} joints x "
            f"{width} values (pose.num_channels={options.num_channels}, pose.visibility="
            f"{options.visibility}) = {joints * width}; fix the pose options or the data. "
            f"Received: num_features={dim}"
        )
    per_joint = tf.reshape(features, [-1, joints, width])
    coords = per_joint[..., : options.num_channels]
    present = tf.reduce_all(tf.math.is_finite(coords), axis=-1)
    if options.visibility:
        present &= per_joint[..., options.num_channels] > 0
    nan = tf.fill(tf.shape(coords), float("nan"))
    return tf.where(present[..., None], coords, nan), present


def transform(
    features: Any,
    options: PoseOptions,
    training: bool = False,
    seed: Any = None,
) -> tf.Tensor:
    """Preprocesses one video's features as configured (the steps of the module doc).

    Args:
      features: float [L, F] stored features of all frames of one video.
      options: the preprocessing options.
      training: allows the random flip.
      seed: int [2] stateless seed of the flip; required when training with flip_probability > 0.

    Returns:
      float32 [L, F'], all finite; F' = `options.output_dim(F)`.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    if options.num_joints == 0:
        values = features
        if options.interpolate_missing:
            values = interpolate_missing(values, tf.math.is_finite(values))
    else:
        coords, present = split_joints(features, options)
        if options.interpolate_missing:
            coords = interpolate_missing(coords, present[..., None] & tf.ones_like(coords, bool))
        if options.center_and_scale:
            coords = center_and_scale(coords)
        if training and options.flip_probability > 0:
            if seed is None:
                raise ValueError("transform needs a seed to draw the flip; received seed=None")
            draw = tf.random.stateless_uniform([], seed=tf.cast(seed, tf.int64))
            flipped = flip_horizontal(coords, options.flip_pairs)
            coords = tf.where(draw < options.flip_probability, flipped, coords)
        if options.facing_pairs:
            coords = canonical_facing(
                coords, options.facing_pairs, options.flip_pairs, options.facing_min_offset
            )
        values = tf.reshape(coords, [-1, options.num_joints * options.num_channels])
    if options.motion:
        values = tf.concat([values, motion_features(values, options.motion_stride)], axis=-1)
    return tf.where(tf.math.is_finite(values), values, 0.0)
