"""Stick-figure rendering of keypoint sequences: playback videos and retrieval grids for poses.

  frames = render_skeletons(keypoints, bones=PENN_ACTION_BONES, flip_pairs=PENN_ACTION_FLIP_PAIRS)

turns keypoints [T, J, 2] into uint8 frames [T, S, S, 3] that the apps treat like video frames.
One view (scale and offset) is fitted to the whole sequence, so the figure moves and changes size
the way the keypoints do. Left joints (the first of each flip pair) are drawn blue, right joints
orange, the others white; missing (NaN) joints and the bones touching them are not drawn.
`render_features` does the same from stored pose features [T, F] and the run's `cfg.pose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

BACKGROUND = (24, 24, 28)  # the frame colour where no joint or bone is drawn
_LEFT, _RIGHT, _CENTRE = (66, 146, 245), (255, 150, 40), (235, 235, 235)


def keypoints_from_features(
    features: np.ndarray, num_joints: int, num_channels: int = 2, visibility: bool = False
) -> np.ndarray:
    """Stored pose features -> image-plane keypoints.

    Args:
      features: float [T, J * (C + visibility)], joint-major (docs/poses.md).
      num_joints: J.
      num_channels: C coordinates per joint; the first two (x, y) are kept.
      visibility: a visibility value follows the coordinates of every joint (<= 0 = missing).

    Returns:
      float32 [T, J, 2] (x, y), NaN where a joint is missing.

    Raises:
      ValueError: if F does not match J, C and `visibility`.
    """
    features = np.asarray(features, np.float32)
    width = num_channels + int(visibility)
    if num_joints < 1 or features.ndim != 2 or features.shape[1] != num_joints * width:
        raise ValueError(
            f"cannot read {num_joints} joints x {width} values from features of shape "
            f"{features.shape}; set pose.num_joints / num_channels / visibility to match the data"
        )
    joints = features.reshape(len(features), num_joints, width)
    points = joints[..., :2].copy()
    if visibility:
        points[joints[..., num_channels] <= 0] = np.nan
    return points


def _view(points: np.ndarray, size: int, margin: float, y_up: bool) -> np.ndarray:
    """Maps all points [T, J, 2] into the image with one scale and offset; NaN stays NaN."""
    finite = points[np.isfinite(points).all(axis=-1)]
    if len(finite) == 0:
        return points
    low, high = finite.min(axis=0), finite.max(axis=0)
    extent = max(float((high - low).max()), 1e-6)
    scale = size * (1.0 - 2.0 * margin) / extent
    out = (points - (low + high) / 2.0) * scale
    if y_up:
        out[..., 1] = -out[..., 1]
    return out + size / 2.0


def _joint_colours(num_joints: int, flip_pairs: Sequence[Sequence[int]]) -> list[tuple]:
    colours = [_CENTRE] * num_joints
    for left, right in flip_pairs:
        colours[int(left)], colours[int(right)] = _LEFT, _RIGHT
    return colours


def render_skeletons(
    keypoints: Any,
    bones: Sequence[Sequence[int]] = (),
    flip_pairs: Sequence[Sequence[int]] = (),
    size: int = 128,
    margin: float = 0.08,
    y_up: bool = False,
) -> np.ndarray:
    """Draws one stick figure per frame.

    Args:
      keypoints: float [T, J, >= 2]; x, y in any unit (pixels, normalised); NaN = missing.
      bones: (joint, joint) pairs joined by a line; none: only the joints are drawn.
      flip_pairs: (left, right) joint pairs, for the left / right colours.
      size: side S of the square output frames.
      margin: fraction of S left free on every side.
      y_up: True when y grows upwards (e.g. 3D or normalised data); False for image coordinates.

    Returns:
      uint8 [T, S, S, 3].
    """
    points = np.asarray(keypoints, np.float32)[..., :2]
    if points.ndim != 3:
        raise ValueError(f"keypoints must be [T, J, 2+]. Received: shape={points.shape}")
    pixels = _view(points, size, margin, y_up)
    colours = _joint_colours(points.shape[1], flip_pairs)
    width, radius = max(1, size // 48), max(1.5, size / 64)
    frames = np.empty((len(points), size, size, 3), np.uint8)
    for t, frame_points in enumerate(pixels):
        image = Image.new("RGB", (size, size), BACKGROUND)
        draw = ImageDraw.Draw(image)
        ok = np.isfinite(frame_points).all(axis=-1)
        for a, b in bones:
            if ok[a] and ok[b]:
                colour = colours[a] if colours[a] == colours[b] else _CENTRE
                draw.line([tuple(frame_points[a]), tuple(frame_points[b])], colour, width)
        for j in np.flatnonzero(ok):
            x, y = frame_points[j]
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colours[j])
        frames[t] = np.asarray(image)
    return frames


def render_features(features: np.ndarray, pose_cfg: Any, size: int = 128) -> np.ndarray | None:
    """Stick figures of stored pose features, as configured by a run's `cfg.pose`.

    Penn Action's bones are used when there are 13 joints, otherwise only the joints are drawn.

    Args:
      features: float [T, F] as stored in the records.
      pose_cfg: `cfg.pose` (num_joints, num_channels, visibility, flip_pairs).
      size: side of the output frames.

    Returns:
      uint8 [T, S, S, 3], or None for plain features (`pose.num_joints` = 0).
    """
    from tcc.datasets import pose

    joints = int(pose_cfg.get("num_joints", 0))
    if joints == 0:
        return None
    points = keypoints_from_features(
        features, joints, int(pose_cfg.get("num_channels", 2)), bool(pose_cfg.get("visibility"))
    )
    bones = pose.PENN_ACTION_BONES if joints == len(pose.PENN_ACTION_JOINTS) else ()
    return render_skeletons(points, bones, pose_cfg.get("flip_pairs", ()), size)
