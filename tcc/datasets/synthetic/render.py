"""Pixels of the embedded synthetic pouring action, vectorised over frames and pixels.

Every frame chunk is drawn at once: the camera maps each pixel to a world point ([t, H, W] grids),
each shape is a signed-distance function of those points, and anti-aliased masks composite the
layers back to front (wall and table, distractors behind, glass and liquid, stream, container, arm
and hand, distractors in front), followed by lighting and sensor noise. There is no Python loop over
pixels or frames; only over chunks of frames (to bound memory) and over the few distractors.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from tcc.datasets.synthetic.motion import (
    ActionPoses,
    CameraPath,
    Timeline,
    action_poses,
    camera_path,
    sample_timeline,
)
from tcc.datasets.synthetic.scene import (
    Backdrop,
    Distractors,
    Props,
    Scene,
    Variation,
    sample_scene,
)

_F32 = np.float32
_CHUNK_PIXELS = 1 << 20  # frames * H * W drawn at once
_SPLIT_IDS = {"train": 0, "val": 1}


def _box(qx: np.ndarray, qy: np.ndarray, half_w, half_h) -> np.ndarray:
    """Signed distance to an axis-aligned box centred at the origin (negative inside)."""
    dx, dy = np.abs(qx) - half_w, np.abs(qy) - half_h
    outside = np.hypot(np.maximum(dx, 0), np.maximum(dy, 0))
    return outside + np.minimum(np.maximum(dx, dy), 0)


def _ellipse(qx: np.ndarray, qy: np.ndarray, rx, ry) -> np.ndarray:
    """Approximate signed distance to an ellipse centred at the origin."""
    return (np.sqrt((qx / rx) ** 2 + (qy / ry) ** 2) - 1.0) * np.minimum(rx, ry)


def _segment(x: np.ndarray, y: np.ndarray, ends: np.ndarray, radius) -> np.ndarray:
    """Signed distance to a capsule around segments; ends [t, 4] = x0, y0, x1, y1 per frame."""
    x0, y0, x1, y1 = (ends[:, i, None, None] for i in range(4))
    vx, vy = x1 - x0, y1 - y0
    h = np.clip(((x - x0) * vx + (y - y0) * vy) / np.maximum(vx * vx + vy * vy, 1e-12), 0, 1)
    return np.hypot(x - x0 - h * vx, y - y0 - h * vy) - radius


def _coverage(sdf: np.ndarray, aa: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] from a signed distance; aa = world size of a pixel."""
    return np.clip(0.5 - sdf / aa, 0.0, 1.0)


def _over(img: np.ndarray, alpha: np.ndarray, color) -> None:
    """Composites `color` ([3] or [t, H, W, 3]) over img [t, H, W, 3] in place with alpha [t, H, W].

    Small shapes touch few pixels, so only the covered pixels are gathered and updated.
    """
    color = np.asarray(color, _F32)
    covered = alpha > 0
    if covered.mean() > 0.25:
        img += alpha[..., None] * (color - img)
        return
    if color.ndim > 1:
        color = np.broadcast_to(color, img.shape)[covered]
    pixels = img[covered]
    pixels += alpha[covered][:, None] * (color - pixels)
    img[covered] = pixels


def _world_grid(camera: CameraPath, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World x, y [t, H, W] seen by each pixel, and the world size of a pixel [t, 1, 1]."""
    p = ((np.arange(size, dtype=_F32) + 0.5) / size) - 0.5
    dx, dy = p[None, None, :], p[None, :, None]
    c = np.cos(camera.rotation)[:, None, None]
    s = np.sin(camera.rotation)[:, None, None]
    z = camera.zoom[:, None, None]
    x = camera.center[:, 0, None, None] + (c * dx + s * dy) / z
    y = camera.center[:, 1, None, None] + (c * dy - s * dx) / z
    return x, y, 1.0 / (size * z)


def _backdrop(bd: Backdrop, x: np.ndarray, y: np.ndarray, aa: np.ndarray) -> np.ndarray:
    """Wall with sinusoidal texture and a grained table: float32 [t, H, W, 3]."""
    arg = x[..., None] * bd.grating_freq[:, 0] + y[..., None] * bd.grating_freq[:, 1]
    img = bd.wall_color + np.sin(2 * np.pi * arg + bd.grating_phase) @ bd.grating_amp
    grain = np.sin(2 * np.pi * (x * bd.grain_freq[0] + y * bd.grain_freq[1]))
    table = bd.table_color * (1.0 + bd.grain_amp * grain)[..., None]
    edge = bd.table_y + bd.table_slope * (x - 0.5)
    _over(img, _coverage(edge - y, aa), table)
    return img.astype(_F32)


def _draw_distractors(img, ds: Distractors, frame, x, y, aa, in_front: bool) -> None:
    for i in np.flatnonzero(ds.in_front == in_front):
        pos = ds.center[i] + ds.velocity[i] * frame[:, None]
        pos = (
            pos
            + ds.amplitude[i] * np.sin(2 * np.pi * ds.frequency[i] * frame + ds.phase[i])[:, None]
        )
        pos = (pos + 0.15) % 1.3 - 0.15  # wrap around the view
        qx, qy = x - pos[:, 0, None, None], y - pos[:, 1, None, None]
        rx, ry = ds.radii[i]
        sdf = _box(qx, qy, rx, ry) if ds.is_box[i] else _ellipse(qx, qy, rx, ry)
        _over(img, ds.alpha[i] * _coverage(sdf, aa), ds.color[i])


def _draw_glass(img, props: Props, poses: ActionPoses, x, y, aa) -> None:
    (w, h), wall = props.glass_size, props.glass_wall
    table_y = props.rest_xy[1] + props.body_size[1] / 2
    qx, qy = x - props.glass_x, y - (table_y - h / 2)
    outer = _box(qx, qy, w / 2, h / 2)
    _over(img, 0.25 * _coverage(outer, aa), props.glass_color)
    level = (poses.fill * (h - wall))[:, None, None]
    top = table_y - wall - level
    liquid = _box(qx, y - (top + table_y - wall) / 2, w / 2 - wall, level / 2)
    _over(img, 0.9 * _coverage(liquid, aa) * np.clip(level / aa, 0, 1), props.liquid_color)
    inner = _box(qx, y - (table_y - wall - h / 2), w / 2 - wall, h / 2)
    _over(img, 0.7 * _coverage(np.maximum(outer, -inner), aa), props.glass_color)


def _draw_container(img, props: Props, poses: ActionPoses, x, y, aa) -> None:
    c = np.cos(poses.tilt)[:, None, None]
    s = np.sin(poses.tilt)[:, None, None]
    dx = x - poses.container_xy[:, 0, None, None]
    dy = y - poses.container_xy[:, 1, None, None]
    qx, qy = c * dx + s * dy, c * dy - s * dx  # container's own frame
    (w, h), (nw, nh) = props.body_size, props.neck_size
    body = _box(qx, qy, w / 2, h / 2)
    shape = np.minimum(body, _box(qx, qy + h / 2 + nh / 2, nw / 2, nh / 2))
    shade = 0.7 + 0.3 * np.cos(np.clip(qx / (w / 2), -1, 1) * (np.pi / 2))
    _over(img, _coverage(shape, aa), props.container_color * shade[..., None])
    offset, height = props.stripe
    stripe = np.maximum(body, np.abs(qy - offset * h) - height * h / 2)
    _over(img, _coverage(stripe, aa), props.stripe_color * shade[..., None])


def _draw_actor(img, props: Props, poses: ActionPoses, x, y, aa) -> None:
    """Liquid stream, then the arm (from its anchor outside the view) and the hand."""
    stream = _segment(x, y, poses.stream_ends, poses.stream_width[:, None, None] / 2)
    on = (poses.stream_width > 0).astype(_F32)[:, None, None]
    _over(img, on * _coverage(stream, aa), props.liquid_color)
    anchor = np.broadcast_to(props.arm_anchor, poses.hand_xy.shape)
    arm = _segment(x, y, np.concatenate([anchor, poses.hand_xy], 1), props.arm_width / 2)
    _over(img, _coverage(arm, aa), props.sleeve_color)
    qx, qy = x - poses.hand_xy[:, 0, None, None], y - poses.hand_xy[:, 1, None, None]
    _over(img, _coverage(_ellipse(qx, qy, *props.hand_radii), aa), props.hand_color)


def _render_chunk(
    scene: Scene,
    poses: ActionPoses,
    camera: CameraPath,
    frame: np.ndarray,
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    x, y, aa = _world_grid(camera, size)
    img = _backdrop(scene.backdrop, x, y, aa)
    _draw_distractors(img, scene.distractors, frame, x, y, aa, in_front=False)
    _draw_glass(img, scene.props, poses, x, y, aa)
    _draw_container(img, scene.props, poses, x, y, aa)
    _draw_actor(img, scene.props, poses, x, y, aa)
    _draw_distractors(img, scene.distractors, frame, x, y, aa, in_front=True)
    optics = scene.optics
    p = ((np.arange(size, dtype=_F32) + 0.5) / size) - 0.5
    light = 1.0 + optics.gradient[0] * p[None, :] + optics.gradient[1] * p[:, None]
    img *= (camera.gain[:, None, None] * light)[..., None] * optics.tint
    img += rng.standard_normal(img.shape, dtype=_F32) * _F32(optics.noise_std)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _rows(obj, index: slice):
    """The same dataclass with every array field restricted to rows `index`."""
    return type(obj)(**{f.name: getattr(obj, f.name)[index] for f in dataclasses.fields(obj)})


def render_frames(
    scene: Scene, timeline: Timeline, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws every frame of one video.

    Args:
      scene: the video's appearance (`sample_scene`).
      timeline: the video's timing (`sample_timeline`).
      image_size: S, frames are S x S.
      rng: source of camera shake and sensor noise.

    Returns:
      uint8 [T, S, S, 3] frames.
    """
    n = timeline.num_frames
    poses = action_poses(scene.props, timeline)
    camera = camera_path(scene.optics, n, rng)
    frames = np.empty((n, image_size, image_size, 3), np.uint8)
    chunk = max(1, _CHUNK_PIXELS // (image_size * image_size))
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        frame = np.arange(rows.start, rows.stop, dtype=_F32)
        frames[rows] = _render_chunk(
            scene, _rows(poses, rows), _rows(camera, rows), frame, image_size, rng
        )
    return frames


@dataclasses.dataclass
class SyntheticVideo:
    """One rendered video and its ground truth.

    Attributes:
      frames: uint8 [T, H, W, 3].
      frame_labels: int32 [T] phase id per frame (0..4, non-decreasing).
      key_events: the 4 frames where phase k + 1 begins.
      progress: float32 [T] in [0, 1], the generator's true progress through the action.
    """

    frames: np.ndarray
    frame_labels: np.ndarray
    key_events: list[int]
    progress: np.ndarray


def render_video(
    rng: np.random.Generator,
    image_size: int = 64,
    num_frames: int | None = None,
    min_frames: int = 40,
    max_frames: int = 120,
    variation: Variation | None = None,
) -> SyntheticVideo:
    """Renders one video of the synthetic pouring action.

    Args:
      rng: source of randomness; the video is a deterministic function of its state.
      image_size: S, frames are S x S pixels.
      num_frames: T; drawn uniformly from [min_frames, max_frames] when None.
      min_frames: shortest video (at least 15).
      max_frames: longest video.
      variation: how much videos differ (`Variation()` when None; `Variation().scaled(d)` for
        harder data).

    Returns:
      A `SyntheticVideo` with frames uint8 [T, S, S, 3], labels, key events and progress.
    """
    if num_frames is None:
        num_frames = int(rng.integers(min_frames, max_frames + 1))
    scene = sample_scene(rng, variation)
    timeline = sample_timeline(rng, num_frames, variation)
    return SyntheticVideo(
        frames=render_frames(scene, timeline, image_size, rng),
        frame_labels=timeline.labels,
        key_events=timeline.key_events,
        progress=timeline.progress,
    )


def video_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of video `index` of `split`, independent of the number of videos."""
    split_id = _SPLIT_IDS[split] if split in _SPLIT_IDS else zlib.crc32(split.encode())
    return np.random.default_rng(np.random.SeedSequence([seed, split_id, index]))
