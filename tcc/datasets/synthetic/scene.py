"""Random appearance of one video of the embedded synthetic pouring action (no pixels here).

A scene is everything about a video that does not depend on time: the backdrop (wall texture and
table), the props (container, glass, liquid, hand and arm, left or right layout), the distractors
(blobs moving on their own clock) and the optics (camera placement, lighting, sensor noise). How
much scenes differ is set by a `Variation`. `tcc.datasets.synthetic.motion` moves the props through
the action and `tcc.datasets.synthetic.render` draws them.

World coordinates: the unit square seen by an untransformed camera, x to the right, y down.
"""

from __future__ import annotations

import colorsys
import dataclasses

import numpy as np

_F32 = np.float32


@dataclasses.dataclass(frozen=True)
class Variation:
    """How much videos differ from each other; `scaled(d)` makes the dataset harder (d > 1).

    Attributes:
      max_distractors: up to this many independently moving blobs per video.
      noise_std: range of the per-video Gaussian sensor noise std (pixel values in [0, 1]).
      camera_shift: maximum camera offset (fraction of the view) per video.
      camera_zoom: range of the per-video zoom factor.
      camera_rotation_deg: maximum camera roll per video (degrees).
      camera_shake: std of the smooth per-frame camera jitter (fraction of the view).
      speed_variation: in [0, 0.95]; amplitude of the non-linear speed within a phase.
      pause_probability: chance that a phase contains a pause (a run of frozen frames).
      max_idle_fraction: idle frames at the start and at the end, each up to this fraction.
      phase_concentration: Dirichlet concentration of the phase durations (lower = more uneven).
      texture_contrast: amplitude of the wall texture and table grain.
      lighting_variation: spread of brightness, colour tint, light gradient and flicker.
      flip_layout: whether the container may stand right of the glass (else always left).
    """

    max_distractors: int = 3
    noise_std: tuple[float, float] = (0.005, 0.03)
    camera_shift: float = 0.07
    camera_zoom: tuple[float, float] = (0.85, 1.15)
    camera_rotation_deg: float = 8.0
    camera_shake: float = 0.006
    speed_variation: float = 0.6
    pause_probability: float = 0.35
    max_idle_fraction: float = 0.15
    phase_concentration: float = 3.0
    texture_contrast: float = 0.12
    lighting_variation: float = 0.25
    flip_layout: bool = True

    def scaled(self, difficulty: float) -> Variation:
        """Returns a copy whose variations are multiplied by `difficulty` (1.0 = unchanged).

        Raises:
          ValueError: if `difficulty` is negative.
        """
        if difficulty < 0:
            raise ValueError(f"difficulty must be >= 0; received difficulty={difficulty}")
        d = float(difficulty)
        zoom_lo, zoom_hi = self.camera_zoom
        return dataclasses.replace(
            self,
            max_distractors=int(round(self.max_distractors * d)),
            noise_std=(self.noise_std[0] * d, self.noise_std[1] * d),
            camera_shift=self.camera_shift * d,
            camera_zoom=(max(0.5, 1 - (1 - zoom_lo) * d), 1 + (zoom_hi - 1) * d),
            camera_rotation_deg=self.camera_rotation_deg * d,
            camera_shake=self.camera_shake * d,
            speed_variation=min(0.95, self.speed_variation * d),
            pause_probability=min(1.0, self.pause_probability * d),
            max_idle_fraction=min(0.3, self.max_idle_fraction * d),
            phase_concentration=self.phase_concentration / max(d, 1e-3),
            texture_contrast=self.texture_contrast * d,
            lighting_variation=min(0.6, self.lighting_variation * d),
        )


@dataclasses.dataclass(frozen=True)
class Backdrop:
    """Wall (base colour + sinusoidal gratings) and table (colour + grain) below `table_y`."""

    wall_color: np.ndarray  # [3]
    grating_freq: np.ndarray  # [K, 2] cycles per world unit
    grating_phase: np.ndarray  # [K]
    grating_amp: np.ndarray  # [K, 3]
    table_y: float
    table_slope: float
    table_color: np.ndarray  # [3]
    grain_freq: np.ndarray  # [2] cycles per world unit along x and y
    grain_amp: float


@dataclasses.dataclass(frozen=True)
class Props:
    """Container, glass, liquid, hand and arm; `side` = +1 when the glass is right of the bottle."""

    side: float
    rest_xy: np.ndarray  # [2] container body centre at rest
    pour_xy: np.ndarray  # [2] container body centre while pouring
    body_size: np.ndarray  # [2] width, height
    neck_size: np.ndarray  # [2] width, height
    container_color: np.ndarray  # [3]
    stripe_color: np.ndarray  # [3]
    stripe: np.ndarray  # [2] centre offset and height, as fractions of the body height
    tilt_range: np.ndarray  # [2] unsigned tilt (radians) when pouring starts / ends
    glass_x: float
    glass_size: np.ndarray  # [2] width, height
    glass_wall: float
    glass_color: np.ndarray  # [3]
    liquid_color: np.ndarray  # [3]
    fill_max: float
    stream_width: float
    hand_color: np.ndarray  # [3]
    sleeve_color: np.ndarray  # [3]
    hand_radii: np.ndarray  # [2]
    arm_width: float
    arm_anchor: np.ndarray  # [2] where the arm enters (outside the view)
    hand_home: np.ndarray  # [2] hand position when idle
    grip: np.ndarray  # [2] hand position in the container's own frame


@dataclasses.dataclass(frozen=True)
class Distractors:
    """N blobs moving on the real clock (frame index), unrelated to the action."""

    center: np.ndarray  # [N, 2]
    velocity: np.ndarray  # [N, 2] per frame
    amplitude: np.ndarray  # [N, 2] of an oscillation
    frequency: np.ndarray  # [N] oscillation cycles per frame
    phase: np.ndarray  # [N]
    radii: np.ndarray  # [N, 2]
    color: np.ndarray  # [N, 3]
    alpha: np.ndarray  # [N]
    in_front: np.ndarray  # bool [N] drawn over the props (else behind)
    is_box: np.ndarray  # bool [N] rectangle (else ellipse)


@dataclasses.dataclass(frozen=True)
class Optics:
    """Camera placement and its slow drift, lighting and sensor noise of one video."""

    center: np.ndarray  # [2] world point at the image centre
    zoom: float
    rotation: float  # radians
    drift: np.ndarray  # [4] change of (cx, cy, log zoom, rotation) over the whole video
    shake: float
    gain: float
    tint: np.ndarray  # [3]
    gradient: np.ndarray  # [2] light change across the image (x, y)
    flicker: np.ndarray  # [3] amplitude, cycles per frame, phase
    noise_std: float


@dataclasses.dataclass(frozen=True)
class Scene:
    """Everything about one video that does not change with time."""

    backdrop: Backdrop
    props: Props
    distractors: Distractors
    optics: Optics


def random_color(
    rng: np.random.Generator,
    saturation: tuple[float, float] = (0.35, 1.0),
    value: tuple[float, float] = (0.3, 1.0),
    hue: tuple[float, float] = (0.0, 1.0),
    avoid: tuple[np.ndarray, ...] = (),
    min_distance: float = 0.3,
) -> np.ndarray:
    """An RGB colour float32 [3] in [0, 1], at least `min_distance` from `avoid` when possible."""
    color = np.zeros(3, _F32)
    for _ in range(20):
        hsv = (rng.uniform(*hue) % 1.0, rng.uniform(*saturation), rng.uniform(*value))
        color = np.asarray(colorsys.hsv_to_rgb(*hsv), _F32)
        if all(np.linalg.norm(color - a) >= min_distance for a in avoid):
            break
    return color


def _sample_backdrop(rng: np.random.Generator, var: Variation) -> Backdrop:
    wall = random_color(rng, saturation=(0.0, 0.6), value=(0.25, 0.9))
    angles = rng.uniform(0, np.pi, 3)
    freq = rng.uniform(1.0, 7.0, 3)[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
    amp = var.texture_contrast * rng.uniform(0.3, 1.0, (3, 1)) * rng.uniform(-1, 1, (3, 3))
    grain_angle = rng.uniform(-0.3, 0.3)
    grain = rng.uniform(8.0, 25.0) * np.array([np.sin(grain_angle), np.cos(grain_angle)])
    return Backdrop(
        wall_color=wall,
        grating_freq=freq.astype(_F32),
        grating_phase=rng.uniform(0, 2 * np.pi, 3).astype(_F32),
        grating_amp=amp.astype(_F32),
        table_y=float(rng.uniform(0.66, 0.8)),
        table_slope=float(rng.uniform(-0.08, 0.08)),
        table_color=random_color(rng, saturation=(0.1, 0.7), value=(0.2, 0.85), avoid=(wall,)),
        grain_freq=grain.astype(_F32),
        grain_amp=float(var.texture_contrast * rng.uniform(0.2, 0.8)),
    )


def _sample_props(rng: np.random.Generator, var: Variation, backdrop: Backdrop) -> Props:
    side = 1.0 if (not var.flip_layout or rng.random() < 0.5) else -1.0
    table_y = backdrop.table_y
    body = rng.uniform([0.09, 0.19], [0.15, 0.29])
    neck = body * rng.uniform([0.3, 0.15], [0.5, 0.3])
    glass = rng.uniform([0.1, 0.12], [0.16, 0.19])
    rest = np.array([0.5 - side * rng.uniform(0.17, 0.26), table_y - body[1] / 2])
    glass_x = 0.5 + side * rng.uniform(0.12, 0.24)
    tilt = np.deg2rad(rng.uniform([35.0, 95.0], [55.0, 125.0]))
    reach = body[1] / 2 + neck[1]  # centre-to-spout distance
    pour_x = glass_x - side * (reach * np.sin(tilt.mean()) + 0.15 * glass[0])
    pour_y = table_y - glass[1] - rng.uniform(0.04, 0.09) + reach * np.cos(tilt[1])
    pour = np.array([pour_x, max(pour_y, 0.15)])
    scenery = (backdrop.wall_color, backdrop.table_color)
    hand_radii = rng.uniform(0.03, 0.045) * np.array([1.0, rng.uniform(0.8, 1.25)])
    grip = np.array(
        [-side * (body[0] / 2 + 0.5 * hand_radii[0]), rng.uniform(-0.15, 0.15) * body[1]]
    )
    anchor = np.array([rest[0] - side * rng.uniform(0.45, 0.6), table_y - rng.uniform(0.35, 0.6)])
    hand_home = anchor + rng.uniform(0.2, 0.45) * (rest + grip - anchor)
    skin = random_color(rng, saturation=(0.25, 0.6), value=(0.45, 0.95), hue=(0.02, 0.1))
    f32 = lambda x: np.asarray(x, _F32)
    return Props(
        side=side,
        rest_xy=f32(rest),
        pour_xy=f32(pour),
        body_size=f32(body),
        neck_size=f32(neck),
        container_color=random_color(rng, avoid=scenery),
        stripe_color=random_color(rng),
        stripe=f32([rng.uniform(-0.25, 0.25), rng.uniform(0.15, 0.35)]),
        tilt_range=f32(tilt),
        glass_x=float(glass_x),
        glass_size=f32(glass),
        glass_wall=float(rng.uniform(0.008, 0.014)),
        glass_color=random_color(rng, saturation=(0.0, 0.25), value=(0.75, 1.0)),
        liquid_color=random_color(rng, saturation=(0.5, 1.0), value=(0.35, 0.95), avoid=scenery),
        fill_max=float(rng.uniform(0.6, 0.9)),
        stream_width=float(rng.uniform(0.012, 0.022)),
        hand_color=skin if rng.random() < 0.7 else random_color(rng),
        sleeve_color=random_color(rng, avoid=scenery),
        hand_radii=f32(hand_radii),
        arm_width=float(rng.uniform(0.035, 0.055)),
        arm_anchor=f32(anchor),
        hand_home=f32(hand_home),
        grip=f32(grip),
    )


def _sample_distractors(rng: np.random.Generator, var: Variation) -> Distractors:
    n = int(rng.integers(0, var.max_distractors + 1))
    uniform = lambda lo, hi, shape: rng.uniform(lo, hi, shape).astype(_F32)
    return Distractors(
        center=uniform(0.05, 0.95, (n, 2)),
        velocity=uniform(-0.006, 0.006, (n, 2)),
        amplitude=uniform(0.0, 0.15, (n, 2)),
        frequency=uniform(0.005, 0.04, (n,)),
        phase=uniform(0.0, 2 * np.pi, (n,)),
        radii=uniform(0.02, 0.07, (n, 2)),
        color=np.array([random_color(rng) for _ in range(n)], _F32).reshape(n, 3),
        alpha=uniform(0.6, 1.0, (n,)),
        in_front=rng.random(n) < 0.5,
        is_box=rng.random(n) < 0.5,
    )


def _sample_optics(rng: np.random.Generator, var: Variation) -> Optics:
    shift, rot, light = (
        var.camera_shift,
        np.deg2rad(var.camera_rotation_deg),
        var.lighting_variation,
    )
    zoom_lo, zoom_hi = var.camera_zoom
    return Optics(
        center=(0.5 + rng.uniform(-shift, shift, 2)).astype(_F32),
        zoom=float(np.exp(rng.uniform(np.log(zoom_lo), np.log(zoom_hi)))),
        rotation=float(rng.uniform(-rot, rot)),
        drift=(rng.uniform(-0.5, 0.5, 4) * [shift, shift, 0.1 * (zoom_hi > zoom_lo), rot]).astype(
            _F32
        ),
        shake=float(var.camera_shake),
        gain=float(1.0 + rng.uniform(-light, light)),
        tint=(1.0 + rng.uniform(-light / 2, light / 2, 3)).astype(_F32),
        gradient=rng.uniform(-1.5 * light, 1.5 * light, 2).astype(_F32),
        flicker=np.array(
            [rng.uniform(0, 0.2 * light), rng.uniform(0.005, 0.05), rng.uniform(0, 2 * np.pi)],
            _F32,
        ),
        noise_std=float(rng.uniform(*var.noise_std)),
    )


def sample_scene(rng: np.random.Generator, variation: Variation | None = None) -> Scene:
    """Draws the appearance of one video.

    Args:
      rng: source of randomness; the scene is a deterministic function of its state.
      variation: how much scenes differ; `Variation()` when None.

    Returns:
      A `Scene` (backdrop, props, distractors, optics).
    """
    var = variation or Variation()
    backdrop = _sample_backdrop(rng, var)
    props = _sample_props(rng, var, backdrop)
    return Scene(backdrop, props, _sample_distractors(rng, var), _sample_optics(rng, var))
