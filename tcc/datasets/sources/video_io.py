"""Reading videos and frame folders into uint8 arrays: frame order, resizing, fps resampling.

Two kinds of source of the own-videos layout (docs/data.md; the layout itself, and which reader
reads which entry, is `tcc.datasets.sources.own_videos`):

  * a video file (`.mp4 .avi .mov .webm .mkv`), decoded with imageio's ffmpeg plugin (the
    `imageio-ffmpeg` wheel ships the ffmpeg binary, so no system install is needed);
  * a frame folder of `.jpg / .jpeg / .png` images, read in numeric (natural) order, so
    `1.jpg, 2.jpg, 10.jpg` and `frame_9.png, frame_10.png` come out in time order.

Feature files are read by `tcc.datasets.sources.feature_io`. Both share `FrameOptions` and
`VideoReadError` from here.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator

import imageio.v2 as imageio
import numpy as np
import tensorflow as tf

from tcc.errors import UserError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".webm", ".mkv")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
RESIZE_MODES = ("squash", "crop")
_CHUNK = 64  # frames resized together; bounds memory for long, large videos


class VideoReadError(UserError, ValueError):
    """A video or frame folder cannot be read; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class FrameOptions:
    """How frames are brought to their stored form.

    Attributes:
      image_size: side N of the stored N x N frames; 0 keeps the source size.
      resize_mode: 'squash' resizes the whole frame to N x N (aspect ratio not kept, nothing cut
        off; what the original TCC scripts did); 'crop' resizes the shorter side to N and cuts the
        centred N x N square.
      fps: target frames per second; None keeps every source frame.
      folder_fps: frame rate of frame folders (they carry none); required with `fps`.
    """

    image_size: int = 224
    resize_mode: str = "squash"
    fps: float | None = None
    folder_fps: float | None = None

    def __post_init__(self) -> None:
        if self.image_size < 0:
            raise ValueError(f"image_size must be >= 0; received image_size={self.image_size}")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(
                f"resize_mode must be one of {RESIZE_MODES}; received "
                f"resize_mode={self.resize_mode!r}"
            )
        for key in ("fps", "folder_fps"):
            value = getattr(self, key)
            if value is not None and value <= 0:
                raise ValueError(f"{key} must be > 0; received {key}={value}")


def natural_key(filename: str) -> tuple:
    """Sort key that orders digit runs by value: 'f2.jpg' < 'f10.jpg'."""
    parts = re.split(r"(\d+)", filename)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts)


def list_frame_files(folder: str) -> list[str]:
    """Image files of a frame folder in numeric order.

    Raises:
      VideoReadError: if the folder holds no .jpg / .jpeg / .png file.
    """
    names = [
        f
        for f in os.listdir(folder)
        if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
    ]
    if not names:
        raise VideoReadError(
            f"{folder}: empty frame folder (no .jpg / .jpeg / .png files); add the frames or "
            "remove the folder"
        )
    return [os.path.join(folder, f) for f in sorted(names, key=natural_key)]


def resize_frames(frames: np.ndarray, image_size: int, resize_mode: str = "squash") -> np.ndarray:
    """Resizes a stack of frames (bilinear with antialiasing) to `image_size` squared.

    Args:
      frames: uint8 [N, H, W, 3].
      image_size: output side S; 0 returns `frames` unchanged.
      resize_mode: 'squash' (whole frame to S x S) or 'crop' (shorter side to S, centre crop).

    Returns:
      uint8 [N, S, S, 3].
    """
    if image_size == 0:
        return frames
    height, width = frames.shape[1:3]
    if resize_mode == "crop":
        scale = image_size / min(height, width)
        new_h, new_w = max(image_size, round(height * scale)), max(image_size, round(width * scale))
    else:
        new_h, new_w = image_size, image_size
    out = tf.image.resize(frames, (new_h, new_w), method="bilinear", antialias=True)
    top, left = (new_h - image_size) // 2, (new_w - image_size) // 2
    out = out[:, top : top + image_size, left : left + image_size]
    return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8).numpy()


def resample_indices(num_frames: int, source_fps: float, target_fps: float) -> np.ndarray:
    """Source frame shown at each output frame when changing the frame rate.

    Output frame j shows the source frame on screen at time j / target_fps: index
    floor(j * source_fps / target_fps). The output covers the source duration, giving
    ceil(num_frames * target_fps / source_fps) frames (at least 1). Downsampling drops frames,
    upsampling repeats them; labels are resampled with the same indices.

    Returns:
      int64 [T'] indices into the source frames, non-decreasing, in [0, num_frames - 1].
    """
    ratio = source_fps / target_fps
    num_out = max(1, int(np.ceil(num_frames / ratio - 1e-6)))
    idx = np.floor(np.arange(num_out) * ratio + 1e-6).astype(np.int64)
    return np.minimum(idx, num_frames - 1)


def _to_rgb(image: np.ndarray, path: str) -> np.ndarray:
    if image.dtype != np.uint8:
        raise VideoReadError(f"{path}: {image.dtype} image; only 8-bit images are supported")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise VideoReadError(f"{path}: unsupported image shape {image.shape}")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return image[..., :3]


def _resize_stream(frames: Iterable[np.ndarray], path: str, options: FrameOptions) -> np.ndarray:
    """Resizes a stream of frames in chunks; all frames must share one size."""
    chunks, chunk, first_shape = [], [], None
    for i, frame in enumerate(frames):
        if first_shape is None:
            first_shape = frame.shape
        elif frame.shape != first_shape:
            raise VideoReadError(
                f"{path}: frame {i} is {frame.shape[1]}x{frame.shape[0]} but frame 0 is "
                f"{first_shape[1]}x{first_shape[0]}; all frames of a video must share one size"
            )
        chunk.append(frame)
        if len(chunk) == _CHUNK:
            chunks.append(resize_frames(np.stack(chunk), options.image_size, options.resize_mode))
            chunk = []
    if chunk:
        chunks.append(resize_frames(np.stack(chunk), options.image_size, options.resize_mode))
    if not chunks:
        raise VideoReadError(f"{path}: the video has no frames; re-export it or remove it")
    return np.concatenate(chunks)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def read_video_file(path: str, options: FrameOptions) -> tuple[np.ndarray, float | None]:
    """Decodes a video file with ffmpeg and resizes its frames.

    Returns:
      (frames uint8 [T, S, S, 3], fps of the file or None if the container gives none).

    Raises:
      VideoReadError: if ffmpeg cannot open or decode the file, or it has no frames.
    """

    def frames() -> Iterator[np.ndarray]:
        for frame in reader:
            yield _to_rgb(np.asarray(frame), path)

    try:
        reader = imageio.get_reader(path, format="FFMPEG")
    except Exception as e:  # noqa: BLE001 - imageio raises many types for bad files
        raise VideoReadError(
            f"{path}: unreadable video ({_first_line(e)}); check that the file plays, or "
            "re-encode it (e.g. ffmpeg -i in.mov out.mp4)"
        ) from None
    try:
        fps = reader.get_meta_data().get("fps")
        stack = _resize_stream(frames(), path, options)
    except VideoReadError:
        raise
    except Exception as e:  # noqa: BLE001
        raise VideoReadError(
            f"{path}: unreadable video ({_first_line(e)}); check that the file plays"
        ) from None
    finally:
        reader.close()
    fps = float(fps) if fps and np.isfinite(fps) and fps > 0 else None
    return stack, fps


def read_frame_folder(path: str, options: FrameOptions) -> tuple[np.ndarray, float | None]:
    """Reads the images of a frame folder in numeric order and resizes them.

    Returns:
      (frames uint8 [T, S, S, 3], `options.folder_fps`).

    Raises:
      VideoReadError: if the folder is empty, an image cannot be decoded, or sizes differ.
    """

    def frames() -> Iterator[np.ndarray]:
        for file in list_frame_files(path):
            try:
                image = np.asarray(imageio.imread(file))
            except Exception as e:  # noqa: BLE001
                raise VideoReadError(
                    f"{file}: unreadable image ({_first_line(e)}); replace or remove it"
                ) from None
            yield _to_rgb(image, file)

    return _resize_stream(frames(), path, options), options.folder_fps
