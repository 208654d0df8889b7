"""Timing and motion of the embedded synthetic pouring action.

A `Timeline` says, for every frame, which phase the action is in and how far through that phase it
is (`phase_u`, in [0, 1]); it carries the per-video random phase durations, non-linear speed, pauses
and idle frames. `action_poses` turns a timeline into the positions of the props (a deterministic
function of phase and `phase_u`, so the same progress always looks the same in the same scene);
`camera_path` adds the camera's drift and shake on the real clock.

Phases and the key events that separate them (an event is the first frame of the next phase):

  0 reach    idle, then the hand reaches the container        | e1: the container leaves the table
  1 lift     lifted, carried over the glass and tilted          | e2: the liquid starts to flow
  2 pour     the stream fills the glass while the tilt grows    | e3: the stream stops
  3 return   tilted back, carried back and set down             | e4: the container is on the table
  4 release  the hand withdraws, then idle
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.signal

from tcc.datasets.synthetic.scene import Optics, Props, Variation

PHASE_NAMES = ("reach", "lift", "pour", "return", "release")
NUM_PHASES = len(PHASE_NAMES)
MIN_PHASE_FRAMES = 3
_F32 = np.float32


@dataclasses.dataclass(frozen=True)
class Timeline:
    """Per-frame phase id int32 [T] and within-phase progress float32 [T] in [0, 1]."""

    labels: np.ndarray
    phase_u: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(len(self.labels))

    @property
    def progress(self) -> np.ndarray:
        """Overall progress float32 [T] in [0, 1], non-decreasing: (phase + phase_u) / 5."""
        return ((self.labels + self.phase_u) / NUM_PHASES).astype(_F32)

    @property
    def key_events(self) -> list[int]:
        """The frame where each phase k + 1 begins (4 ints, increasing)."""
        return [int(np.searchsorted(self.labels, k)) for k in range(1, NUM_PHASES)]


def _phase_curve(rng: np.random.Generator, n: int, var: Variation) -> np.ndarray:
    """Within-phase progress float32 [n], non-decreasing, ending at 1, with a non-linear speed."""
    amount = min(var.speed_variation, 0.95)
    t = (np.arange(n) + 0.5) / n
    speed = 1.0 + rng.uniform(0, amount) * np.sin(
        2 * np.pi * rng.uniform(0.3, 1.5) * t + rng.uniform(0, 2 * np.pi)
    )
    if n >= 6 and rng.random() < var.pause_probability:
        length = int(rng.integers(2, n // 3 + 1))
        start = int(rng.integers(1, n - length))
        speed[start : start + length] = 0.0
    u = np.cumsum(speed)
    u = (u / u[-1]) ** np.exp(rng.uniform(-amount, amount) * 0.5)
    return u.astype(_F32)


def sample_timeline(
    rng: np.random.Generator, num_frames: int, variation: Variation | None = None
) -> Timeline:
    """Draws the timing of one video: idle frames, phase durations, speed profiles and pauses.

    Args:
      rng: source of randomness.
      num_frames: T, the video length.
      variation: spread of the timing; `Variation()` when None.

    Returns:
      A `Timeline` with `labels` int32 [T] (0..4, non-decreasing, every phase present) and
      `phase_u` float32 [T].

    Raises:
      ValueError: if `num_frames` is too short to hold 5 phases.
    """
    var = variation or Variation()
    minimum = NUM_PHASES * MIN_PHASE_FRAMES
    if num_frames < minimum:
        raise ValueError(
            f"a synthetic video needs at least {minimum} frames ({MIN_PHASE_FRAMES} per phase); "
            f"received num_frames={num_frames}. Raise min_frames."
        )
    spare = num_frames - minimum
    max_idle = min(int(var.max_idle_fraction * num_frames), spare // 3)
    idle = rng.integers(0, max_idle + 1, 2)
    extra = spare - int(idle.sum())
    shares = rng.dirichlet(np.full(NUM_PHASES, max(var.phase_concentration, 1e-2)))
    counts = MIN_PHASE_FRAMES + rng.multinomial(extra, shares)
    curves = [_phase_curve(rng, int(n), var) for n in counts]
    curves[0] = np.concatenate([np.zeros(idle[0], _F32), curves[0]])
    curves[-1] = np.concatenate([curves[-1], np.ones(idle[1], _F32)])
    labels = np.concatenate([np.full(len(c), k, np.int32) for k, c in enumerate(curves)])
    return Timeline(labels=labels, phase_u=np.concatenate(curves))


@dataclasses.dataclass(frozen=True)
class ActionPoses:
    """Per-frame state of the props, world coordinates; every field has T rows."""

    container_xy: np.ndarray  # [T, 2] body centre
    tilt: np.ndarray  # [T] signed radians (positive = clockwise on screen)
    hand_xy: np.ndarray  # [T, 2]
    fill: np.ndarray  # [T] glass fill level in [0, fill_max]
    stream_ends: np.ndarray  # [T, 4] x0, y0, x1, y1 of the liquid stream
    stream_width: np.ndarray  # [T] 0 when no liquid flows


def _ease(x: np.ndarray, start: float = 0.0, stop: float = 1.0) -> np.ndarray:
    """Smoothstep of x rescaled from [start, stop] to [0, 1]."""
    x = np.clip((x - start) / (stop - start), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _linear(x: np.ndarray, start: float, stop: float) -> np.ndarray:
    return np.clip((x - start) / (stop - start), 0.0, 1.0)


def _rotate(vec: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotates a fixed vector [2] by per-frame angles [T] (clockwise on screen): [T, 2]."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * vec[0] - s * vec[1], s * vec[0] + c * vec[1]], axis=-1)


def action_poses(props: Props, timeline: Timeline) -> ActionPoses:
    """Positions of the props in every frame (deterministic in phase and `phase_u`).

    Args:
      props: the video's props (`Scene.props`).
      timeline: the video's timing.

    Returns:
      `ActionPoses` with T rows.
    """
    phase, u = timeline.labels, timeline.phase_u.astype(np.float64)
    pick = lambda *per_phase: np.select([phase == k for k in range(NUM_PHASES)], per_phase)
    t0, t1 = props.tilt_range
    reach = pick(_ease(u), 1.0, 1.0, 1.0, 1.0 - _ease(u))
    lift = pick(0.0, _ease(u, 0.0, 0.6), 1.0, 1.0 - _ease(u, 0.4, 1.0), 0.0)
    carry = pick(0.0, _ease(u, 0.2, 0.9), 1.0, 1.0 - _ease(u, 0.1, 0.8), 0.0)
    tilt = props.side * pick(
        0.0, t0 * _ease(u, 0.4, 1.0), t0 + (t1 - t0) * u, t1 * (1.0 - _ease(u, 0.0, 0.6)), 0.0
    )
    fill = props.fill_max * pick(0.0, 0.0, _linear(u, 0.08, 1.0), 1.0, 1.0)
    rest, pour = props.rest_xy, props.pour_xy
    center = np.stack(
        [rest[0] + carry * (pour[0] - rest[0]), rest[1] + lift * (pour[1] - rest[1])], 1
    )
    grip = center + _rotate(props.grip, tilt)
    hand = props.hand_home + reach[:, None] * (grip - props.hand_home)
    spout = center + _rotate(np.array([0.0, -(props.body_size[1] / 2 + props.neck_size[1])]), tilt)
    table_y = props.rest_xy[1] + props.body_size[1] / 2
    inner = props.glass_size[1] - props.glass_wall
    surface = np.stack(
        [np.full_like(fill, props.glass_x), table_y - props.glass_wall - fill * inner], 1
    )
    head = np.where(phase == 2, _linear(u, 0.0, 0.1), 0.0)[:, None]
    tail = np.where(phase == 2, _linear(u, 0.9, 1.0), 0.0)[:, None]
    ends = np.concatenate([spout + tail * (surface - spout), spout + head * (surface - spout)], 1)
    return ActionPoses(
        container_xy=center.astype(_F32),
        tilt=tilt.astype(_F32),
        hand_xy=hand.astype(_F32),
        fill=fill.astype(_F32),
        stream_ends=ends.astype(_F32),
        stream_width=np.where(phase == 2, props.stream_width, 0.0).astype(_F32),
    )


@dataclasses.dataclass(frozen=True)
class CameraPath:
    """Per-frame camera: world point at the image centre [T, 2], zoom [T], roll [T], gain [T]."""

    center: np.ndarray
    zoom: np.ndarray
    rotation: np.ndarray
    gain: np.ndarray


def camera_path(optics: Optics, num_frames: int, rng: np.random.Generator) -> CameraPath:
    """The camera's slow drift plus smooth shake, and the lighting flicker, on the real clock.

    Args:
      optics: the video's optics (`Scene.optics`).
      num_frames: T.
      rng: source of the shake.

    Returns:
      `CameraPath` with T rows.
    """
    frame = np.arange(num_frames)
    ramp = frame / max(num_frames - 1, 1) - 0.5
    shake = scipy.signal.lfilter(
        [0.5], [1.0, -0.75], rng.normal(0, optics.shake, (num_frames, 3)), axis=0
    )
    center = optics.center + ramp[:, None] * optics.drift[:2] + shake[:, :2]
    zoom = optics.zoom * np.exp(ramp * optics.drift[2])
    rotation = optics.rotation + ramp * optics.drift[3] + 4.0 * shake[:, 2]
    amp, freq, phase = optics.flicker
    gain = optics.gain * (1.0 + amp * np.sin(2 * np.pi * freq * frame + phase))
    return CameraPath(
        center=center.astype(_F32),
        zoom=zoom.astype(_F32),
        rotation=rotation.astype(_F32),
        gain=gain.astype(_F32),
    )
