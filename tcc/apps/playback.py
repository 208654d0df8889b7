"""Synchronised playback: several videos played on one common timeline, side by side or in a grid.

The timeline is a list of L steps; for every video a mapping [L] says which of its frames to show
at each step. Usually the timeline is the query's frames and the other videos follow their
alignment to the query (`playback_mappings`), so every video plays at the query's pace.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tcc import atomic
from tcc.apps.alignment import Alignment

_VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm")
# Phase colours of the caption bar (matplotlib's tab10, as RGB bytes).
_PHASE_COLOURS = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ],
    dtype=np.uint8,
)


def playback_mappings(alignments: Sequence[Alignment]) -> list[np.ndarray]:
    """Timeline mappings for [query, reference_1, ...]: the query's own frames, then each match.

    Args:
      alignments: R alignments of the same query [N, D] to R references.

    Returns:
      list of R + 1 int64 arrays [N].
    """
    n = len(alignments[0].mapping)
    return [np.arange(n), *(np.asarray(a.mapping, dtype=np.int64) for a in alignments)]


def write_playback(
    videos: Sequence[np.ndarray],
    mappings: Sequence[np.ndarray],
    path: str | os.PathLike,
    fps: float = 10.0,
    labels: Sequence[np.ndarray | None] | None = None,
    phase_names: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    columns: int | None = None,
    min_tile_height: int = 128,
) -> None:
    """Writes a synchronised playback video (mp4 and other ffmpeg containers, or gif).

    Each video becomes a tile (nearest-neighbour resized to the first video's size, enlarged by
    an integer factor up to `min_tile_height`) with a caption below: its title, the frame counter
    and, when labels exist, the phase name and a bar in the phase's colour. Two or three videos are
    placed side by side, more in a near-square grid. The file is written under a temporary name
    and renamed when complete. GIF writers merge identical consecutive frames into one longer
    frame, so a gif can hold fewer frames than the timeline while keeping its timing.

    Args:
      videos: V uint8 arrays [T_v, H_v, W_v, 3] (or [T_v, H_v, W_v] grey).
      mappings: V int arrays [L]: the frame of video v shown at each timeline step.
      path: output file; the extension picks the format (`.gif`, `.mp4`, `.mov`, ...).
      fps: timeline steps per second.
      labels: optional V per-frame label arrays [T_v] (entries may be None; -1 = unlabelled).
      phase_names: optional names of label ids; missing ones are shown as "phase <id>".
      titles: optional V captions (default "video <v>").
      columns: grid columns (default: V if V <= 3 else ceil(sqrt(V))).
      min_tile_height: smaller videos are enlarged by an integer factor to at least this height.
    """
    videos, mappings = _check_inputs(videos, mappings)
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext != ".gif" and ext not in _VIDEO_EXTS:
        raise ValueError(
            f"Unsupported playback file type {ext!r}; use .gif or one of "
            f"{_VIDEO_EXTS}. Received: path={os.fspath(path)}"
        )
    if fps <= 0:
        raise ValueError(f"fps must be > 0. Received: {fps=}")
    frames = _compose(
        videos,
        mappings,
        labels,
        phase_names,
        titles,
        columns,
        min_tile_height,
        block=2 if ext == ".gif" else 16,
    )
    with atomic.path(path) as tmp:
        if ext == ".gif":
            iio.imwrite(
                tmp, np.stack(list(frames)), extension=".gif", duration=1000.0 / fps, loop=0
            )
        else:
            codec = "libvpx-vp9" if ext == ".webm" else "libx264"
            writer = iio2.get_writer(
                tmp,
                format="FFMPEG",
                fps=fps,
                codec=codec,
                quality=8,
                macro_block_size=16,
                pixelformat="yuv420p",
                ffmpeg_log_level="error",
            )
            with writer:
                for frame in frames:
                    writer.append_data(frame)


def _compose(
    videos: list[np.ndarray],
    mappings: list[np.ndarray],
    labels,
    phase_names,
    titles,
    columns: int | None,
    min_tile_height: int,
    block: int,
) -> Iterator[np.ndarray]:
    """Yields the composited uint8 canvas [H, W, 3] of every timeline step."""
    n = len(videos)
    columns = columns or (n if n <= 3 else math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    h0, w0 = videos[0].shape[1:3]
    scale = max(1, math.ceil(min_tile_height / h0))
    th, tw = h0 * scale, w0 * scale
    font = ImageFont.load_default(size=int(np.clip(tw // 14, 10, 24)))
    captions = [
        _captions(
            v,
            m,
            None if labels is None else labels[i],
            phase_names,
            titles[i] if titles else f"video {i}",
            tw,
            font,
        )
        for i, (v, m) in enumerate(zip(videos, mappings, strict=True))
    ]
    ch, gap = captions[0].shape[1], 2
    cell_h, cell_w = th + ch + gap, tw + gap
    height = -(-(rows * cell_h) // block) * block
    width = -(-(columns * cell_w) // block) * block
    resize = [(np.arange(th) * v.shape[1] // th, np.arange(tw) * v.shape[2] // tw) for v in videos]
    for step in range(len(mappings[0])):
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        for i, video in enumerate(videos):
            j = mappings[i][step]
            y, x = (i // columns) * cell_h, (i % columns) * cell_w
            canvas[y : y + th, x : x + tw] = video[j][resize[i][0][:, None], resize[i][1][None, :]]
            canvas[y + th : y + th + ch, x : x + tw] = captions[i][j]
        yield canvas


def _captions(
    video: np.ndarray,
    mapping: np.ndarray,
    labels: np.ndarray | None,
    phase_names: Sequence[str] | None,
    title: str,
    width: int,
    font: ImageFont.FreeTypeFont,
) -> np.ndarray:
    """Caption strips [T, h, width, 3] (title, frame counter, phase) for the frames shown."""
    t = len(video)
    line = font.getbbox("Ag")[3] + 2
    height = 2 * line + 8
    strips = np.zeros((t, height, width, 3), dtype=np.uint8)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != t:
            raise ValueError(
                f"Labels of video {title!r} have {len(labels)} entries for {t} "
                "frames; give one label per frame."
            )
    for j in np.unique(mapping):  # only frames that appear on the timeline
        text = f"frame {j}/{t - 1}"
        phase = -1 if labels is None else int(labels[j])
        if phase >= 0:
            name = phase_names[phase] if phase_names and phase < len(phase_names) else None
            text += f"  {name or f'phase {phase}'}"
            strips[j, -4:] = _PHASE_COLOURS[phase % len(_PHASE_COLOURS)]
        image = Image.fromarray(strips[j])
        draw = ImageDraw.Draw(image)
        draw.text((3, 2), title, fill=(255, 255, 255), font=font)
        draw.text((3, 2 + line), text, fill=(255, 255, 160), font=font)
        strips[j] = np.asarray(image)
    return strips


def _check_inputs(videos, mappings) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Validates videos (to uint8 [T, H, W, 3]) and mappings (int64 [L], in range)."""
    if not videos or len(videos) != len(mappings):
        raise ValueError(
            "Give one mapping per video (at least one video). Received: "
            f"{len(videos)} videos, {len(mappings)} mappings"
        )
    out_v, out_m = [], []
    for i, (v, m) in enumerate(zip(videos, mappings, strict=True)):
        v = np.asarray(v)
        if v.ndim == 3:
            v = v[..., None]
        if v.ndim != 4 or v.shape[-1] not in (1, 3) or v.dtype != np.uint8 or len(v) == 0:
            raise ValueError(
                f"Video {i} must be a non-empty uint8 array [T, H, W, 3]. "
                f"Received: shape={v.shape}, dtype={v.dtype}"
            )
        m = np.asarray(m, dtype=np.int64).reshape(-1)
        if len(m) != len(mappings[0]) or len(m) == 0:
            raise ValueError(
                "All mappings must have the same non-zero length (the timeline). "
                f"Received: mapping {i} has {len(m)}, mapping 0 has "
                f"{len(mappings[0])}"
            )
        if m.min() < 0 or m.max() >= len(v):
            raise ValueError(
                f"Mapping {i} indexes frames outside video {i} of {len(v)} frames. "
                f"Received range: [{m.min()}, {m.max()}]"
            )
        out_v.append(np.repeat(v, 3, axis=-1) if v.shape[-1] == 1 else v)
        out_m.append(m)
    return out_v, out_m
