"""The embedded synthetic pouring action as 2D keypoints: `synthetic_pouring_joints`.

Video (seed, split, index) is the one of `tcc.datasets.synthetic`: its generator draws the length,
the scene, the timing and the camera shake in the renderer's order, so the props are where the
pixels show them. 12 points of the props (and of two distractors, as clutter) are projected through
the camera exactly as the renderer maps world points to pixels, then corrupted like a keypoint
detector's output: per-video Gaussian position noise, missing joints, brief dropouts, rare spurious
detections; joints out of view are missing. Joints are named relative to the action ("back" = the
hand's side of the container, "near" = the glass rim next to it), not the image, so a mirrored
video is another valid one. Stored per frame: (x, y, visibility) per joint in pixels, pixel (row i,
column j) centred at (j, i); a missing joint is (0, 0, 0). Details: docs/synthetic.md, "Keypoints".

  root = ensure_embedded_keypoints()   # data.path = root, datasets = ["synthetic_pouring_joints"]
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from tcc.datasets.synthetic import motion
from tcc.datasets.synthetic.cache import ensure_cached
from tcc.datasets.synthetic.render import video_rng
from tcc.datasets.synthetic.scene import Distractors, Props, Variation, sample_scene
from tcc.datasets.synthetic.spec import SPLITS, SyntheticSpec
from tcc.datasets.synthetic.writer import FPS, write_annotations

DATASET_NAME = "synthetic_pouring_joints"
GENERATOR = "tcc.datasets.synthetic_keypoints"  # its name before the move: same cache keys
GENERATOR_VERSION = "joints-v1"  # bump when the output changes (cache key)
JOINT_NAMES = (
    "hand", "container_center", "container_base_back", "container_base_front", "spout",
    "glass_rim_near", "glass_rim_far", "glass_base", "liquid_surface", "stream_end",
    "clutter_1", "clutter_2",
)  # fmt: skip
NUM_JOINTS = len(JOINT_NAMES)
_NUM_CLUTTER = 2


@dataclasses.dataclass(frozen=True)
class KeypointNoise:
    """How the detected keypoints differ from the true ones.

    Attributes:
      position_std: range of the per-video Gaussian position noise std, fraction of image size.
      missing_rate: chance that a joint is missing in a frame (independently).
      dropout_probability: chance per joint and video of one run of consecutive missing frames.
      dropout_frames: shortest and longest dropout run.
      outlier_rate: chance per joint and frame of a spurious detection anywhere in the image.
    """

    position_std: tuple[float, float] = (0.005, 0.02)
    missing_rate: float = 0.04
    dropout_probability: float = 0.15
    dropout_frames: tuple[int, int] = (3, 10)
    outlier_rate: float = 0.005


@dataclasses.dataclass
class KeypointVideo:
    """One keypoint video and its ground truth.

    Attributes:
      keypoints: float32 [T, J, 3] detected (x, y, visibility) in pixels; missing = (0, 0, 0).
      clean: float32 [T, J, 2] true projected positions in pixels, NaN where a joint does not
        exist (no liquid yet, no stream, fewer distractors).
      frame_labels: int32 [T] phase id per frame (0..4, non-decreasing).
      key_events: the 4 frames where phase k + 1 begins.
      progress: float32 [T] in [0, 1], the generator's true progress through the action.
    """

    keypoints: np.ndarray
    clean: np.ndarray
    frame_labels: np.ndarray
    key_events: list[int]
    progress: np.ndarray


def _in_container(poses: motion.ActionPoses, offset: tuple[float, float]) -> np.ndarray:
    """World [T, 2] of a point given in the container's own (tilted) frame."""
    tilt = poses.tilt.astype(np.float64)
    c, s = np.cos(tilt), np.sin(tilt)
    ox, oy = offset
    return poses.container_xy + np.stack([c * ox - s * oy, s * ox + c * oy], -1)


def _clutter(ds: Distractors, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """World [T, 2, 2] of the first two distractors (as the renderer moves them), exists [2]."""
    frame = np.arange(num_frames, dtype=np.float32)[:, None, None]
    n = min(len(ds.center), _NUM_CLUTTER)
    pos = np.zeros((num_frames, _NUM_CLUTTER, 2))
    wave = np.sin(2 * np.pi * ds.frequency[:n, None] * frame + ds.phase[:n, None])
    moved = ds.center[:n] + ds.velocity[:n] * frame + ds.amplitude[:n] * wave
    pos[:, :n] = (moved + 0.15) % 1.3 - 0.15
    return pos, np.arange(_NUM_CLUTTER) < n


def world_keypoints(
    props: Props, poses: motion.ActionPoses, distractors: Distractors
) -> tuple[np.ndarray, np.ndarray]:
    """The joints of `JOINT_NAMES` in world coordinates.

    Args:
      props: the video's props (`Scene.props`).
      poses: their per-frame state (`action_poses`), T rows.
      distractors: the video's distractors (`Scene.distractors`).

    Returns:
      (xy float64 [T, J, 2], exists bool [T, J]); xy is 0 where a joint does not exist.
    """
    side, num_frames = props.side, len(poses.tilt)
    (w, h), neck_h = props.body_size, props.neck_size[1]
    (gw, gh), wall = props.glass_size, props.glass_wall
    table_y = props.rest_xy[1] + h / 2
    fixed = lambda x, y: np.broadcast_to(np.array([x, y]), (num_frames, 2))
    surface_y = table_y - wall - poses.fill * (gh - wall)
    clutter, clutter_exists = _clutter(distractors, num_frames)
    points = [
        poses.hand_xy,
        poses.container_xy,
        _in_container(poses, (-side * w / 2, h / 2)),
        _in_container(poses, (side * w / 2, h / 2)),
        _in_container(poses, (0.0, -(h / 2 + neck_h))),
        fixed(props.glass_x - side * gw / 2, table_y - gh),
        fixed(props.glass_x + side * gw / 2, table_y - gh),
        fixed(props.glass_x, table_y),
        np.stack([np.full(num_frames, props.glass_x), surface_y], -1),
        poses.stream_ends[:, 2:4],
    ]
    xy = np.concatenate([np.stack(points, 1), clutter], 1).astype(np.float64)
    exists = np.ones((num_frames, NUM_JOINTS), bool)
    exists[:, 8] = poses.fill > 0
    exists[:, 9] = poses.stream_width > 0
    exists[:, 10:] = clutter_exists
    return np.where(exists[..., None], xy, 0.0), exists


def project(world_xy: np.ndarray, camera: motion.CameraPath, image_size: int) -> np.ndarray:
    """Maps world points to pixels, the inverse of the renderer's per-pixel camera mapping.

    The renderer sees at pixel (row i, column j) the world point
    `centre + R(roll) [dx, dy] / zoom` with `dx = (j + 0.5) / S - 0.5`, `dy = (i + 0.5) / S - 0.5`.

    Args:
      world_xy: float [T, K, 2] world points.
      camera: the video's camera (`camera_path`), T rows.
      image_size: S.

    Returns:
      float64 [T, K, 2] (x, y) = (column, row) in pixels, pixel centres at integers.
    """
    c = np.cos(camera.rotation.astype(np.float64))[:, None]
    s = np.sin(camera.rotation.astype(np.float64))[:, None]
    rel = (world_xy - camera.center[:, None, :]) * camera.zoom[:, None, None]
    dx = c * rel[..., 0] - s * rel[..., 1]
    dy = s * rel[..., 0] + c * rel[..., 1]
    return np.stack([dx, dy], -1) * image_size + (image_size / 2 - 0.5)


def detect(
    clean: np.ndarray,
    exists: np.ndarray,
    image_size: int,
    noise: KeypointNoise,
    rng: np.random.Generator,
) -> np.ndarray:
    """Corrupts true pixel positions like a keypoint detector (see `KeypointNoise`).

    Args:
      clean: float [T, J, 2] true pixel positions.
      exists: bool [T, J] whether the joint exists in the frame.
      image_size: S; joints whose true position is outside [0, S - 1] are not detected.
      noise: the corruption.
      rng: numpy Generator; a fixed number of draws for a given [T, J].

    Returns:
      float32 [T, J, 3] (x, y, visibility), (0, 0, 0) where missing.
    """
    t, j = exists.shape
    std = rng.uniform(*noise.position_std) * image_size
    xy = clean + rng.normal(0.0, std, clean.shape)
    missing = rng.random((t, j)) < noise.missing_rate
    start = rng.integers(0, t, j)
    length = rng.integers(noise.dropout_frames[0], noise.dropout_frames[1] + 1, j)
    frame = np.arange(t)[:, None]
    dropped = (
        (rng.random(j) < noise.dropout_probability) & (frame >= start) & (frame < start + length)
    )
    outlier = rng.random((t, j)) < noise.outlier_rate
    xy = np.where(outlier[..., None], rng.uniform(0, image_size - 1, xy.shape), xy)
    inside = np.all((clean >= 0) & (clean <= image_size - 1), -1)
    visible = (exists & inside & ~missing & ~dropped) | outlier
    out = np.concatenate([np.where(visible[..., None], xy, 0.0), visible[..., None]], -1)
    return out.astype(np.float32)


def keypoint_video(
    rng: np.random.Generator,
    image_size: int = 64,
    num_frames: int | None = None,
    min_frames: int = 40,
    max_frames: int = 120,
    variation: Variation | None = None,
    noise: KeypointNoise | None = None,
) -> KeypointVideo:
    """One keypoint video; with the same `rng` state, the same video as `render_video`.

    Args:
      rng: source of randomness (`video_rng(seed, split, index)`).
      image_size: S, the pixel frame the keypoints are given in.
      num_frames: T; drawn uniformly from [min_frames, max_frames] when None.
      min_frames: shortest video.
      max_frames: longest video.
      variation: scene and timing variation (`Variation()` when None).
      noise: detector corruption (`KeypointNoise()` when None).

    Returns:
      A `KeypointVideo` (keypoints float32 [T, J, 3], clean [T, J, 2], labels, events, progress).
    """
    if num_frames is None:
        num_frames = int(rng.integers(min_frames, max_frames + 1))
    scene = sample_scene(rng, variation)
    timeline = motion.sample_timeline(rng, num_frames, variation)
    poses = motion.action_poses(scene.props, timeline)
    camera = motion.camera_path(scene.optics, num_frames, rng)  # the renderer's next draw
    world, exists = world_keypoints(scene.props, poses, scene.distractors)
    pixels = project(world, camera, image_size)
    keypoints = detect(pixels, exists, image_size, noise or KeypointNoise(), rng)
    return KeypointVideo(
        keypoints=keypoints,
        clean=np.where(exists[..., None], pixels, np.nan).astype(np.float32),
        frame_labels=timeline.labels,
        key_events=timeline.key_events,
        progress=timeline.progress,
    )


def _request(spec: SyntheticSpec, noise: KeypointNoise) -> dict:
    """What determines the dataset's content, as stored in meta.json (JSON-normalised)."""
    return spec.request(
        GENERATOR,
        GENERATOR_VERSION,
        joint_names=list(JOINT_NAMES),
        noise=dataclasses.asdict(noise),
    )


def _write(spec: SyntheticSpec, noise: KeypointNoise, dataset_dir: str) -> None:
    """Writes both splits, key_events.json, meta.json and dataset.json into `dataset_dir`."""
    from tcc.datasets.records import VideoExample, write_split  # TensorFlow only here

    start, events, splits = time.perf_counter(), {}, {}
    root, name = os.path.split(os.path.abspath(dataset_dir))
    var = spec.effective_variation()
    args = (spec.image_size, None, spec.min_frames, spec.max_frames, var, noise)
    for split in SPLITS:
        examples, phase_frames = [], np.zeros(motion.NUM_PHASES, np.int64)
        for i in range(spec.num_videos(split)):
            video = keypoint_video(video_rng(spec.seed, split, i), *args)
            name_i = f"{split}_{i:04d}"
            events[name_i] = video.key_events
            phase_frames += np.bincount(video.frame_labels, minlength=motion.NUM_PHASES)
            features = video.keypoints.reshape(len(video.keypoints), -1)
            examples.append(
                VideoExample(name_i, features=features, frame_labels=video.frame_labels,
                             fps=FPS, phase_names=motion.PHASE_NAMES)
            )  # fmt: skip
        if examples:
            write_split(examples, root, name, split)
            splits[split] = dict(videos=len(examples), phase_frames=phase_frames.tolist())
    request = _request(spec, noise)
    write_annotations(dataset_dir, request, events, splits, time.perf_counter() - start)


def keypoint_spec(**fields) -> SyntheticSpec:
    """The `SyntheticSpec` of `synthetic_pouring_joints`: `fields` as in `SyntheticSpec`.

    Its `image_size` is the pixel frame the keypoints are given in; one shard per split.
    """
    return SyntheticSpec(dataset_name=DATASET_NAME, **fields)


def ensure_embedded_keypoints(
    cache_dir: str | None = None,
    spec: SyntheticSpec | None = None,
    noise: KeypointNoise | None = None,
) -> str:
    """Returns the records root of `synthetic_pouring_joints`, generating it on first use.

    Records: `features` float32 [T, J * 3] ((x, y, visibility) per joint of `JOINT_NAMES`),
    `frame_labels`, the 5 phase names, fps 15; plus key_events.json, meta.json and dataset.json.
    Cached in `<cache_dir>/joints-v1-seed<seed>-<size>px-...-<hash>/`, generated under a file
    lock and swapped in whole, like `ensure_embedded_dataset` (`cache.ensure_cached`).

    Args:
      cache_dir: where cached datasets live; `cache.default_cache_dir()` when None.
      spec: the videos (`keypoint_spec()` when None); the same spec gives identical records.
        Its `image_size` is the pixel frame the keypoints are given in; `num_shards` and
        `dataset_name` must be those of `keypoint_spec()`.
      noise: detector corruption (`KeypointNoise()` when None).

    Returns:
      The data root (use as `data.path`).

    Raises:
      ValueError: if `spec` asks for another dataset name or several shards.
    """
    spec = spec or keypoint_spec()
    if spec.dataset_name != DATASET_NAME or spec.num_shards != 1:
        raise ValueError(
            f"the keypoint dataset is {DATASET_NAME!r} in one shard per split; received "
            f"dataset_name={spec.dataset_name!r}, num_shards={spec.num_shards}"
        )
    noise = noise or KeypointNoise()
    return ensure_cached(
        cache_dir, _request(spec, noise), lambda staging: _write(spec, noise, staging)
    )
