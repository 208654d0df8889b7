"""Writes the input videos of the README gallery's commands, made from a run's own val videos.

  python examples/gallery_inputs.py --logdir=/tmp/tcc/default [--output_dir=.]

From the validation videos of the run's first dataset (the embedded synthetic pouring data by
default), into --output_dir:
  ref.mp4             the 2nd val video with a sound track: a tone whose pitch follows its phases
                      (220 Hz x (phase + 1)), for `tcc.apps.transfer --audio_from=ref.mp4`
  spliced_<q>/        the 1st val video <q> with a foreign segment (frames of random static),
                      for `tcc.apps.anomaly --video=spliced_<q>/`
  stalled_<q>/        <q> with the action paused halfway (one frame held for half the video's
                      length), for `tcc.apps.progress`
  reversed_<q>/       <q> played backwards, for `tcc.apps.progress`
Frame folders are PNG frames 00000.png, 00001.png, ...; all files are overwritten.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np
from absl import app, flags


def write_inputs(logdir: str, output_dir: str) -> dict:
    """Writes the gallery's input videos (module doc).

    Returns:
      {"query": name of the 1st val video, "dataset": its dataset, "references": names of the
      2nd-4th val videos, "ref_mp4", "spliced", "stalled", "reversed": the paths written,
      "spliced_frames": (start, end) inclusive range of the foreign segment}.
    """
    from tcc import config as config_lib
    from tcc.apps.video_inputs import records_meta
    from tcc.datasets import data_root, records

    cfg = config_lib.load_saved(logdir)
    dataset, root = cfg.datasets[0], data_root.resolve(cfg)
    val = list(records.read_split(root, dataset, "val"))
    query, refs = val[0], val[1:4]
    fps = records_meta(root, dataset, "val")[0] or 10.0
    os.makedirs(output_dir, exist_ok=True)
    name = query["name"]
    frames = np.asarray(query["frames"])
    paths = {
        "ref_mp4": _sound_clip(
            refs[0]["frames"], refs[0]["frame_labels"], fps, os.path.join(output_dir, "ref.mp4")
        ),
        "spliced": os.path.join(output_dir, f"spliced_{name}"),
        "stalled": os.path.join(output_dir, f"stalled_{name}"),
        "reversed": os.path.join(output_dir, f"reversed_{name}"),
    }
    spliced, segment = _spliced(frames)
    _write_folder(spliced, paths["spliced"])
    _write_folder(_stalled(frames), paths["stalled"])
    _write_folder(frames[::-1], paths["reversed"])
    return dict(
        paths,
        query=name,
        dataset=dataset,
        references=[r["name"] for r in refs],
        spliced_frames=segment,
    )


def _sound_clip(frames: np.ndarray, labels: np.ndarray, fps: float, path: str) -> str:
    """An mp4 of `frames` with a tone of 220 * (phase + 1) Hz (noise in unlabelled frames)."""
    import imageio.v2 as iio2

    from tcc.apps.sound_transfer import mux_audio, write_wav

    sr = 16000
    t = np.arange(int(round(len(frames) * sr / fps)))
    phase = np.asarray(labels)[np.minimum((t * fps / sr).astype(int), len(frames) - 1)]
    audio = np.where(
        phase >= 0,
        0.4 * np.sin(2 * np.pi * 220 * (phase + 1) * t / sr),
        0.05 * np.random.default_rng(0).standard_normal(len(t)),
    )
    with tempfile.TemporaryDirectory(prefix="tcc-gallery-") as tmp:
        silent, wav = f"{tmp}/silent.mp4", f"{tmp}/sound.wav"
        iio2.mimwrite(silent, frames, fps=fps, macro_block_size=16)
        write_wav(wav, audio, sr)
        if not mux_audio(silent, wav, path):
            raise SystemExit("error: the gallery's audio example needs ffmpeg (imageio-ffmpeg)")
    return path


def _spliced(frames: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The frames with a segment replaced by static (random pixels), and its frame range."""
    n = len(frames)
    start, end = int(n * 0.45), int(n * 0.45) + max(3, n // 4) - 1
    out = frames.copy()
    static = np.random.default_rng(0).integers(0, 256, out[start : end + 1].shape)
    out[start : end + 1] = static.astype(np.uint8)
    return out, (start, end)


def _stalled(frames: np.ndarray) -> np.ndarray:
    """The frames with the middle one held for half the video's length (a paused action)."""
    mid = len(frames) // 2
    hold = np.repeat(frames[mid : mid + 1], len(frames) // 2, axis=0)
    return np.concatenate([frames[:mid], hold, frames[mid:]])


def _write_folder(frames: np.ndarray, folder: str) -> None:
    """Writes frames as 00000.png, 00001.png, ... into a fresh folder."""
    import imageio.v3 as iio

    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for i, frame in enumerate(frames):
        iio.imwrite(os.path.join(folder, f"{i:05d}.png"), frame)


def main(argv: list[str]) -> None:
    del argv
    info = write_inputs(flags.FLAGS.logdir, flags.FLAGS.output_dir)
    for key in ("ref_mp4", "spliced", "stalled", "reversed"):
        print(f"wrote {info[key]}")
    start, end = info["spliced_frames"]
    print(f"{info['spliced']}: frames {start}-{end} are static")


if __name__ == "__main__":
    # Flags only when run as a script: examples/gallery.py imports this module and has its own.
    flags.DEFINE_string("logdir", None, "A trained run (python -m tcc.train --logdir=...).")
    flags.DEFINE_string("output_dir", ".", "Where the input videos go.")
    flags.mark_flag_as_required("logdir")
    sys.exit(app.run(main))
