"""Regenerates the README gallery: one example of each app, run on a trained run's own data.

  python examples/gallery.py --logdir=/tmp/tcc/default [--output_dir=docs/gallery]

Every picture comes from the app command lines themselves (called in-process), on the validation
videos of the run's first dataset (the embedded synthetic pouring data by default):
  align      query = 1st val video, references = the next three  -> align.json (mapping to the
             first reference), align_similarity.png, align_playback.gif
  transfer   labels from all train videos onto the query, and the sound of a reference clip made
             here (a tone whose pitch follows the reference's phases) -> transfer_labels.json,
             transfer_labels.png, transfer_audio.png, transfer_with_audio.mp4
  retrieve   the frame in the middle of the query's 3rd phase, k = 8 -> retrieval.json / .png
  anomaly    the query with a spliced foreign segment (frames of static) -> anomaly.json / .png
and `gallery.md`, the markdown of the README's gallery section with the commands.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
from absl import app, flags

_FLAGS = flags.FLAGS
flags.DEFINE_string("logdir", None, "A trained run (python -m tcc.train --logdir=...).")
flags.DEFINE_string("output_dir", "docs/gallery", "Where the gallery files go.")
flags.mark_flag_as_required("logdir")


def _app(module: str, argv: list[str]) -> list[str]:
    """Runs one app command line in-process; returns the files it wrote."""
    print("$ python -m tcc.apps." + module.replace("_cli", "") + " " + " ".join(argv))
    return importlib.import_module(f"tcc.apps.{module}").run([module, *argv])


def _sound_clip(frames: np.ndarray, labels: np.ndarray, fps: float, path: str) -> str:
    """An mp4 of `frames` with a tone of 220 * (phase + 1) Hz (noise in unlabelled frames)."""
    from tcc.apps.transfer_lib import mux_audio, write_wav

    sr = 16000
    t = np.arange(int(round(len(frames) * sr / fps)))
    phase = np.asarray(labels)[np.minimum((t * fps / sr).astype(int), len(frames) - 1)]
    audio = np.where(
        phase >= 0,
        0.4 * np.sin(2 * np.pi * 220 * (phase + 1) * t / sr),
        0.05 * np.random.default_rng(0).standard_normal(len(t)),
    )
    silent, wav = path + ".silent.mp4", path + ".wav"
    import imageio.v2 as iio2

    iio2.mimwrite(silent, frames, fps=fps, macro_block_size=16)
    write_wav(wav, audio, sr)
    if not mux_audio(silent, wav, path):
        raise SystemExit("error: the gallery's audio example needs ffmpeg (imageio-ffmpeg)")
    return path


def _spliced_folder(frames: np.ndarray, folder: str) -> tuple[int, int]:
    """Writes frames with a foreign segment (static: random pixels); returns its frame range."""
    import imageio.v3 as iio

    n = len(frames)
    start, end = int(n * 0.45), int(n * 0.45) + max(3, n // 4) - 1
    frames = frames.copy()
    static = np.random.default_rng(0).integers(0, 256, frames[start : end + 1].shape)
    frames[start : end + 1] = static.astype(np.uint8)
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        iio.imwrite(os.path.join(folder, f"{i:05d}.png"), frame)
    return start, end


def _label_figure(record: dict, truth: np.ndarray, path: str) -> None:
    """Two colour bars: the query's true phases and the transferred ones."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 1.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = np.stack([truth, np.asarray(record["labels"])]).astype(float)
    bars[bars < 0] = np.nan
    ax.imshow(bars, aspect="auto", cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
    ax.set_yticks([0, 1], ["true", "transferred"])
    ax.set_xlabel("query frame")
    acc = record.get("accuracy")
    ax.set_title(
        f"label transfer from {len(record['references'])} videos"
        + (f" (accuracy {acc:.2f})" if acc is not None else "")
    )
    fig.savefig(path)


def _audio_figure(wav: str, labels: np.ndarray, fps: float, path: str) -> None:
    """Spectrogram of the transferred sound with the query's phase boundaries."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from scipy.io import wavfile

    sr, audio = wavfile.read(wav)
    fig = Figure(figsize=(8, 2.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.specgram(audio.astype(float), Fs=sr, NFFT=512, noverlap=384, cmap="magma")
    for b in np.flatnonzero(np.diff(labels)) + 1:
        ax.axvline(b / fps, color="white", ls="--", lw=1)
    ax.set_ylim(0, 1500)
    ax.set_xlabel("query time (s); dashed: the query's true phase boundaries")
    ax.set_ylabel("Hz")
    ax.set_title("sound transferred to the silent query (pitch = reference phase)")
    fig.savefig(path)


def main(argv: list[str]) -> None:
    del argv
    from tcc import config as config_lib
    from tcc.datasets import pipeline, records

    cfg = config_lib.load_saved(_FLAGS.logdir)
    dataset, root = cfg.datasets[0], pipeline.data_root(cfg)
    val = list(records.read_split(root, dataset, "val"))
    query, refs = val[0], val[1:4]
    fps = _fps(root, dataset)
    out = os.path.abspath(_FLAGS.output_dir)
    os.makedirs(out, exist_ok=True)
    common = [f"--logdir={_FLAGS.logdir}"]
    with tempfile.TemporaryDirectory(prefix="tcc-gallery-") as tmp:
        files = _app(
            "align",
            [
                *common,
                f"--query={query['name']}",
                "--references=" + ",".join(r["name"] for r in refs),
                "--format=gif",
                "--stride=2",
                f"--output_dir={tmp}/align",
            ],
        )
        shutil.copy(files[0], f"{out}/align.json")
        shutil.copy(files[2], f"{out}/align_similarity.png")
        shutil.copy(f"{tmp}/align/playback.gif", f"{out}/align_playback.gif")

        clip = _sound_clip(refs[0]["frames"], refs[0]["frame_labels"], fps, f"{tmp}/ref.mp4")
        files = _app(
            "transfer",
            [
                *common,
                f"--query={query['name']}",
                f"--references=records:{dataset}/train",
                f"--audio_from={clip}",
                f"--output_dir={tmp}/transfer",
            ],
        )
        record = json.load(open(files[0]))
        shutil.copy(files[0], f"{out}/transfer_labels.json")
        _label_figure(record, query["frame_labels"], f"{out}/transfer_labels.png")
        _audio_figure(files[2], query["frame_labels"], fps, f"{out}/transfer_audio.png")
        if len(files) > 3:
            shutil.copy(files[3], f"{out}/transfer_with_audio.mp4")

        labels = query["frame_labels"]
        frame = int(np.median(np.flatnonzero(labels == 2))) if (labels == 2).any() else 0
        _app(
            "retrieve",
            [
                *common,
                f"--query={query['name']}",
                f"--frame={frame}",
                "--k=8",
                f"--output_dir={tmp}/retrieve",
            ],
        )
        shutil.copy(f"{tmp}/retrieve/retrieval.png", f"{out}/retrieval.png")
        shutil.copy(f"{tmp}/retrieve/retrieval.json", f"{out}/retrieval.json")

        start, end = _spliced_folder(query["frames"], f"{tmp}/spliced_{query['name']}")
        files = _app(
            "anomaly",
            [*common, f"--video={tmp}/spliced_{query['name']}", f"--output_dir={tmp}/anomaly"],
        )
        shutil.copy(files[1], f"{out}/anomaly.png")
        shutil.copy(files[0], f"{out}/anomaly.json")
        found = json.load(open(files[0]))["segments"]
    _write_markdown(
        out, dataset, query["name"], [r["name"] for r in refs], frame, (start, end), found
    )
    print(f"gallery written to {out}")


def _fps(root: str, dataset: str) -> float:
    from tcc.apps.cli_common import records_meta

    return records_meta(root, dataset, "val")[0] or 10.0


def _write_markdown(out, dataset, query, refs, frame, spliced, found) -> None:
    flagged = ", ".join(f"{s['start_frame']}-{s['end_frame']}" for s in found) or "none"
    text = f"""## Gallery

Made by `python examples/gallery.py --logdir=/tmp/tcc/default` from the run's `{dataset}`
videos; every file comes from the commands shown (see [docs/apps.md](docs/apps.md)).

**Align and play in sync** (`python -m tcc.apps.align --logdir=/tmp/tcc/default --query={query}
--references={",".join(refs)} --format=gif --stride=2 --output_dir=out`): distance matrix with
the DTW path, and the references playing at the query's pace.

![similarity](docs/gallery/align_similarity.png)
![playback](docs/gallery/align_playback.gif)

**Transfer labels and sound** (`python -m tcc.apps.transfer --logdir=/tmp/tcc/default
--query={query} --references=records:{dataset}/train --audio_from=ref.mp4 --output_dir=out`):

![labels](docs/gallery/transfer_labels.png)
![audio](docs/gallery/transfer_audio.png)

**Retrieve the same moment** (`python -m tcc.apps.retrieve --logdir=/tmp/tcc/default
--query={query} --frame={frame} --k=8 --output_dir=out`):

![retrieval](docs/gallery/retrieval.png)

**Detect anomalies** (`python -m tcc.apps.anomaly --logdir=/tmp/tcc/default
--video=spliced_{query}/ --output_dir=out`): frames {spliced[0]}-{spliced[1]} were replaced by
static; flagged: {flagged} (an embedding of frame t also sees the context frame
`data.frame_stride` frames earlier, so a few frames after a foreign segment can be flagged too).

![anomaly](docs/gallery/anomaly.png)
"""
    with open(os.path.join(out, "gallery.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(app.run(main))
