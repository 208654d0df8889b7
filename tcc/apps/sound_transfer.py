"""Sound transfer: a query's sound track cut from the audio of an aligned reference (paper §6).

`transfer_audio` builds the track from a frame alignment, `write_wav` writes it and `mux_audio`
puts it into a video. Labels and other per-frame signals: `tcc.apps.label_transfer`; the command
line is `python -m tcc.apps.transfer`.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess

import numpy as np
from absl import logging
from scipy import signal as sps
from scipy.io import wavfile

from tcc import atomic


def transfer_audio(
    query_len_frames: int,
    query_fps: float,
    ref_audio: np.ndarray,
    ref_sr: int,
    mapping: np.ndarray,
    ref_fps: float | None = None,
    target_sr: int | None = None,
    crossfade_ms: float = 5.0,
) -> np.ndarray:
    """Builds a sound track for the query by concatenating the reference's aligned audio chunks.

    Query frame k occupies output samples `[round(k sr / query_fps), round((k+1) sr / query_fps))`
    and is filled with the reference audio starting at the time of reference frame `mapping[k]`
    (`mapping[k] / ref_fps` seconds), at natural speed (no time stretching, no pitch change).
    Where consecutive query frames do not map to contiguous audio, the first `crossfade_ms` of the
    new chunk are linearly cross-faded with the continuation of the previous chunk, which removes
    clicks. Audio past the end of the reference is silence. The paper (§6) concatenates chunks
    with no post-processing; the cross-fade is the only addition.

    Args:
      query_len_frames: N, number of query frames.
      query_fps: query frame rate (frames per second), > 0.
      ref_audio: reference audio [S] (mono) or [S, C]; float in [-1, 1] or integer PCM (scaled).
      ref_sr: reference sample rate in Hz.
      mapping: int [N], reference frame aligned to each query frame (`Alignment.mapping`).
      ref_fps: reference frame rate; None means the same as `query_fps`.
      target_sr: output sample rate; None keeps `ref_sr` (otherwise polyphase resampling).
      crossfade_ms: cross-fade length in milliseconds at discontinuities (0 disables).

    Returns:
      float32 [round(N * sr / query_fps)] or [..., C], sr = `target_sr or ref_sr`: the query's
      duration N / query_fps seconds at the output sample rate.
    """
    mapping = np.asarray(mapping, dtype=np.int64).reshape(-1)
    ref_fps = query_fps if ref_fps is None else ref_fps
    if query_len_frames < 1 or len(mapping) != query_len_frames:
        raise ValueError(
            "mapping must have one reference frame per query frame. Received: "
            f"len(mapping)={len(mapping)}, query_len_frames={query_len_frames}"
        )
    if query_fps <= 0 or ref_fps <= 0 or ref_sr <= 0:
        raise ValueError(
            "Frame rates and sample rate must be > 0. Received: "
            f"{query_fps=}, {ref_fps=}, {ref_sr=}"
        )
    audio, sr = _resample(_as_float_audio(ref_audio), ref_sr, target_sr)
    out_bounds = np.round(np.arange(query_len_frames + 1) * sr / query_fps).astype(np.int64)
    src_start = np.round(mapping * sr / ref_fps).astype(np.int64)
    sample = np.arange(out_bounds[-1])
    frame = np.searchsorted(out_bounds, sample, side="right") - 1
    offset = sample - out_bounds[frame]
    out = _gather(audio, src_start[frame] + offset)
    chunk = np.diff(out_bounds)
    fade = min(int(round(crossfade_ms * 1e-3 * sr)), int(chunk.min()))
    if fade > 0 and query_len_frames > 1:
        continuation = src_start[:-1] + chunk[:-1]  # where frame k-1's audio would continue
        jump = np.concatenate([[False], continuation != src_start[1:]])
        sel = np.flatnonzero(jump[frame] & (offset < fade))
        prev = _gather(audio, continuation[frame[sel] - 1] + offset[sel])
        w = ((offset[sel] + 0.5) / fade).reshape((-1,) + (1,) * (audio.ndim - 1))
        out[sel] = w * out[sel] + (1.0 - w) * prev
    return out.astype(np.float32)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sr: int) -> None:
    """Writes audio as a 16-bit PCM WAV file (atomic).

    Args:
      path: output `.wav` file.
      audio: [S] or [S, C]; floats are clipped to [-1, 1], int16 is written as is.
      sr: sample rate in Hz.
    """
    audio = np.asarray(audio)
    if audio.ndim not in (1, 2):
        raise ValueError(f"Audio must be [S] or [S, C]. Received shape: {audio.shape}")
    if audio.dtype != np.int16:
        audio = np.round(np.clip(_as_float_audio(audio), -1.0, 1.0) * 32767).astype(np.int16)
    with atomic.path(path) as tmp:
        wavfile.write(tmp, int(sr), audio)


def mux_audio(
    video_path: str | os.PathLike, wav_path: str | os.PathLike, out_path: str | os.PathLike
) -> bool:
    """Muxes a WAV track into a copy of an mp4 video (video stream copied, audio to AAC).

    Uses the ffmpeg binary shipped with `imageio-ffmpeg`. If no ffmpeg is available, logs a
    warning saying so and returns False without writing anything.

    Args:
      video_path: input video (e.g. the silent query playback mp4).
      wav_path: audio track, e.g. from `write_wav(transfer_audio(...))`.
      out_path: output video with the same container as `video_path`.

    Returns:
      True if `out_path` was written.
    """
    for p in (video_path, wav_path):
        if not os.path.isfile(p):
            raise FileNotFoundError(f"mux_audio input does not exist: {os.fspath(p)}")
    exe = _ffmpeg_exe()
    if exe is None:
        logging.warning(
            "Skipping audio muxing into %s: no ffmpeg binary found (install "
            "imageio-ffmpeg or put ffmpeg on PATH). The WAV is at %s.",
            out_path,
            wav_path,
        )
        return False
    with atomic.path(out_path) as tmp:
        cmd = [
            exe,
            "-y",
            "-loglevel",
            "error",
            "-i",
            os.fspath(video_path),
            "-i",
            os.fspath(wav_path),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            tmp,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"ffmpeg failed to mux {wav_path} into {video_path}: {result.stderr.strip()[-500:]}"
            )
    return True


def _ffmpeg_exe() -> str | None:
    """Path of imageio-ffmpeg's ffmpeg, else one on PATH, else None."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def _as_float_audio(audio: np.ndarray) -> np.ndarray:
    """Audio as float64; integer PCM is scaled to [-1, 1]."""
    audio = np.asarray(audio)
    if audio.ndim not in (1, 2) or audio.shape[0] == 0:
        raise ValueError(f"Audio must be a non-empty [S] or [S, C] array. Received: {audio.shape}")
    if np.issubdtype(audio.dtype, np.integer):
        info = np.iinfo(audio.dtype)
        mid = (int(info.max) + int(info.min) + 1) / 2.0  # 0 for signed, 128 for uint8
        return (audio.astype(np.float64) - mid) / (info.max - mid)
    return audio.astype(np.float64)


def _resample(audio: np.ndarray, sr: int, target_sr: int | None) -> tuple[np.ndarray, int]:
    """Polyphase resampling along time to `target_sr` (no-op when None or equal)."""
    if target_sr is None or int(target_sr) == int(sr):
        return audio, int(sr)
    g = math.gcd(int(sr), int(target_sr))
    return sps.resample_poly(audio, int(target_sr) // g, int(sr) // g, axis=0), int(target_sr)


def _gather(audio: np.ndarray, index: np.ndarray) -> np.ndarray:
    """`audio[index]` along time, with silence for indices outside [0, S)."""
    valid = (index >= 0) & (index < len(audio))
    out = audio[np.clip(index, 0, len(audio) - 1)]
    mask = valid.reshape((-1,) + (1,) * (audio.ndim - 1))
    return np.where(mask, out, 0.0)
