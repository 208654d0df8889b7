"""Regenerates the README gallery: the README's commands, run as written on a trained run.

  python examples/gallery.py --logdir=/tmp/tcc/default [--output_dir=docs/gallery]

In a temporary folder, `examples/gallery_inputs.py` writes the input videos the commands need
(`ref.mp4`, `spliced_<q>/`, `stalled_<q>/`, `reversed_<q>/` from the run's val videos); then each
command of the gallery runs there (in-process, with exactly the arguments shown, writing to `out/`)
and the pictures are copied to --output_dir:
  align      query = 1st val video, references = the next three -> align.json (mapping to the
             first reference), align_similarity.png, align_playback.gif
  transfer   labels from all train videos onto the query, and the sound of ref.mp4 ->
             transfer_labels.json / .png, transfer_audio.png, transfer_with_audio.mp4
  retrieve   the frame in the middle of the query's 3rd phase, k = 8 -> retrieval.json / .png
  anomaly    the query with a spliced foreign segment (frames of static) -> anomaly.json / .png
  progress   the query, the same video stalled halfway and played backwards -> progress.json / .png
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gallery_inputs import write_inputs  # noqa: E402

_README_LOGDIR = "/tmp/tcc/default"


def _commands(info: dict, frame: int) -> dict[str, list[str]]:
    """The gallery's command lines (app -> arguments), with the README's --logdir."""
    q, logdir = info["query"], f"--logdir={_README_LOGDIR}"
    return {
        "align": [
            logdir,
            f"--query={q}",
            "--references=" + ",".join(info["references"]),
            "--format=gif",
            "--stride=2",
            "--output_dir=out",
        ],
        "transfer": [
            logdir,
            f"--query={q}",
            f"--references=records:{info['dataset']}/train",
            "--audio_from=ref.mp4",
            "--output_dir=out",
        ],
        "retrieve": [logdir, f"--query={q}", f"--frame={frame}", "--k=8", "--output_dir=out"],
        "anomaly": [logdir, f"--video=spliced_{q}/", "--output_dir=out"],
        "progress": [logdir, f"--video={q},stalled_{q}/,reversed_{q}/", "--output_dir=out"],
    }


def _app(module: str, argv: list[str], logdir: str) -> list[str]:
    """Runs one app command line in-process (with the run's real logdir); returns its outputs."""
    print(f"$ python -m tcc.apps.{module} " + " ".join(argv))
    argv = [a.replace(_README_LOGDIR, logdir, 1) if a.startswith("--logdir=") else a for a in argv]
    return importlib.import_module(f"tcc.apps.{module}").run([module, *argv])


def main(argv: list[str]) -> None:
    del argv
    logdir = os.path.abspath(flags.FLAGS.logdir)
    out = os.path.abspath(flags.FLAGS.output_dir)
    os.makedirs(out, exist_ok=True)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="tcc-gallery-") as tmp:
        os.chdir(tmp)
        try:
            info = write_inputs(logdir, ".")
            labels = _query_labels(logdir, info)
            frame = int(np.median(np.flatnonzero(labels == 2))) if (labels == 2).any() else 0
            commands = _commands(info, frame)
            outputs = {name: _app(name, args, logdir) for name, args in commands.items()}
            found = _copy_outputs(outputs, info, out)
        finally:
            os.chdir(cwd)
    _write_markdown(out, info, commands, found)
    print(f"gallery written to {out}")


def _query_labels(logdir: str, info: dict) -> np.ndarray:
    from tcc import config as config_lib
    from tcc.datasets import data_root, records

    cfg = config_lib.load_saved(logdir)
    for example in records.read_split(data_root.resolve(cfg), info["dataset"], "val"):
        if example["name"] == info["query"]:
            return np.asarray(example["frame_labels"])
    raise SystemExit(f"error: {info['query']} not found")


def _copy_outputs(outputs: dict[str, list[str]], info: dict, out: str) -> list[dict]:
    """Copies the pictures to the gallery's names; returns the anomaly's flagged segments."""
    q = info["query"]
    align_json = outputs["align"][0]
    copies = {
        align_json: "align.json",
        align_json.replace(".json", "_similarity.png"): "align_similarity.png",
        "out/playback.gif": "align_playback.gif",
        f"out/{q}_labels.json": "transfer_labels.json",
        f"out/{q}_labels.png": "transfer_labels.png",
        f"out/{q}_audio.png": "transfer_audio.png",
        f"out/{q}_with_audio.mp4": "transfer_with_audio.mp4",
        "out/retrieval.json": "retrieval.json",
        "out/retrieval.png": "retrieval.png",
        f"out/spliced_{q}_anomaly.json": "anomaly.json",
        f"out/spliced_{q}_anomaly.png": "anomaly.png",
        "out/progress.json": "progress.json",
        "out/progress.png": "progress.png",
    }
    for src, dst in copies.items():
        if os.path.exists(src):
            shutil.copy(src, os.path.join(out, dst))
    with open(f"out/spliced_{q}_anomaly.json", encoding="utf-8") as f:
        return json.load(f)["segments"]


def _command_text(name: str, args: list[str]) -> str:
    """`python -m tcc.apps.<name> ...` as a fenced bash block, continued lines of <= 96 chars."""
    lines, line = [], f"python -m tcc.apps.{name}"
    for word in args:
        if len(line) + 1 + len(word) > 94:
            lines.append(line + " \\")
            line = "    " + word
        else:
            line = f"{line} {word}"
    return "```bash\n" + "\n".join([*lines, line]) + "\n```"


def _write_markdown(out: str, info: dict, commands: dict, found: list[dict]) -> None:
    q, (start, end) = info["query"], info["spliced_frames"]
    flagged = ", ".join(f"{s['start_frame']}-{s['end_frame']}" for s in found) or "none"
    cmd = {name: _command_text(name, args) for name, args in commands.items()}
    text = f"""## Gallery

Made by `python examples/gallery.py --logdir=/tmp/tcc/default` from the run's `{info["dataset"]}`
videos; every picture comes from the commands shown, which run as written (see
[docs/apps.md](docs/apps.md)) once their input videos are in the current folder: `ref.mp4` (a val
video with a tone following its phases), and `{q}` with frames of static (`spliced_{q}/`), paused
halfway (`stalled_{q}/`) and backwards (`reversed_{q}/`), all made by

```bash
python examples/gallery_inputs.py --logdir=/tmp/tcc/default
```

**Align and play in sync**: the distance matrix with the DTW path (axes in the videos' own frame
numbers), and the references playing at the query's pace.

{cmd["align"]}

![similarity](docs/gallery/align_similarity.png)
![playback](docs/gallery/align_playback.gif)

**Transfer labels and sound**: the transferred phases under the true ones, and the spectrogram of
the sound taken from `ref.mp4` (also `out/{q}_with_audio.mp4`).

{cmd["transfer"]}

![labels](docs/gallery/transfer_labels.png)
![audio](docs/gallery/transfer_audio.png)

**Retrieve the same moment**: the nearest frame of each of 8 other videos.

{cmd["retrieve"]}

![retrieval](docs/gallery/retrieval.png)

**Detect anomalies**: frames {start}-{end} were replaced by static; flagged: {flagged} (an
embedding of frame t also sees a context frame earlier in the video, by 0.3 of its length in the
demo (`data.frame_stride_fraction`), so frames after a foreign segment can be flagged too).

{cmd["anomaly"]}

![anomaly](docs/gallery/anomaly.png)

**Task progress**: 0 -> 1 along the action from the train videos as references; a pause ends in a
plateau, after a lag while the context frame still moves (why, what a backwards video shows, and
how well progress follows the action on the val videos:
[docs/apps.md](docs/apps.md#progress-how-far-along-the-task-a-video-is-a-dense-reward)).

{cmd["progress"]}

![progress](docs/gallery/progress.png)
"""
    with open(os.path.join(out, "gallery.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    # Flags are defined here, not at import, so that importing this module next to an entry
    # point does not define a second --logdir/--output_dir (absl refuses duplicates).
    flags.DEFINE_string("logdir", None, "A trained run (python -m tcc.train --logdir=...).")
    flags.DEFINE_string("output_dir", "docs/gallery", "Where the gallery files go.")
    flags.mark_flag_as_required("logdir")
    sys.exit(app.run(main))
