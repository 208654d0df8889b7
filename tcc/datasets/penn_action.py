"""Penn Action importer (entry point; absl flags are defined only when run as a script).

  python -m tcc.datasets.penn_action --input_dir=Penn_Action --output_dir=data \
      [--labels_dir=penn_phase_labels | --key_events=penn_key_events.json] \
      [--actions=squats,golf_swing] [--image_size=224] [--resize_mode=squash] [--overwrite] \
      [--mode=frames|joints]

reads Penn Action's original layout, `frames/NNNN/NNNNNN.jpg` and `labels/NNNN.mat` (MATLAB files
with `action`, `train` (1 = train, otherwise test, used as val), `nframes` and joints), and writes
one dataset per action class, `<output_dir>/<class>/{train,val}-*.tfrecord`, named as in
`tcc.datasets.catalog` (e.g. `squats` for Penn Action's `squat`). The authors never published the
phase annotations; give your own as per-frame files `<labels_dir>/NNNN.{txt,npy,csv}` or as
`{"NNNN": [e1, ...]}` key events (formats: tcc.datasets.labels). Every class is checked before
anything is written, and all classes are written all-or-nothing.

`--mode=joints` writes Penn Action's hand-annotated 2D joints instead of the frames (no `frames/`
needed): features [T, 13 * 3], per joint (x, y, visibility) in pixels, joints in the order of
`tcc.datasets.pose.PENN_ACTION_JOINTS`. Invisible joints keep their coordinates and are marked by
visibility 0 (train with `pose.visibility=True`, which treats them as missing; docs/poses.md).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
import scipy.io
from absl import logging

from tcc import errors
from tcc.datasets import catalog
from tcc.datasets import labels as labels_lib
from tcc.datasets.convert import (
    BAD_INPUT_ERRORS,
    ConversionError,
    DatasetPlan,
    VideoJob,
    WriteOptions,
    check_plan,
    fail,
    interrupted,
    write_datasets,
)
from tcc.datasets.readback import SplitSummary, format_summary
from tcc.datasets.sources import video_io
from tcc.datasets.sources.own_videos import Source
from tcc.datasets.sources.video_io import FrameOptions

MODES = ("frames", "joints")


@dataclasses.dataclass(frozen=True)
class PennVideo:
    """One Penn Action video: id 'NNNN', catalog class (None if unused by TCC), split, length."""

    video_id: str
    action: str | None
    split: str
    nframes: int
    frames_dir: str


def find_root(input_dir: str) -> str:
    """The folder holding `frames/` and `labels/` (`input_dir` or `input_dir/Penn_Action`).

    Raises:
      ConversionError: if neither has both folders.
    """
    for root in (input_dir, os.path.join(input_dir, "Penn_Action")):
        if all(os.path.isdir(os.path.join(root, d)) for d in ("frames", "labels")):
            return root
    raise ConversionError(
        f"{input_dir}: not a Penn Action folder; expected frames/NNNN/*.jpg and labels/NNNN.mat "
        "(or Penn_Action/frames and Penn_Action/labels)"
    )


def _scalar(mat: dict, key: str, path: str):
    if key not in mat:
        raise ConversionError(f"{path}: missing field {key!r}; is this a Penn Action label file?")
    value = np.asarray(mat[key]).reshape(-1)
    if value.size != 1:
        raise ConversionError(f"{path}: field {key!r} should hold one value; received {value}")
    return value[0]


def read_video_info(mat_path: str, frames_root: str) -> PennVideo:
    """Reads `action`, `train` and `nframes` of one `labels/NNNN.mat`.

    Raises:
      ConversionError: if the file cannot be read or lacks a field.
    """
    try:
        mat = scipy.io.loadmat(mat_path)
    except Exception as e:  # noqa: BLE001 - scipy raises several types for bad files
        raise ConversionError(f"{mat_path}: unreadable .mat file ({e})") from None
    video_id = os.path.splitext(os.path.basename(mat_path))[0]
    action = str(_scalar(mat, "action", mat_path)).strip()
    train = int(_scalar(mat, "train", mat_path))
    return PennVideo(
        video_id=video_id,
        action=catalog.penn_action_class(action),
        split="train" if train == 1 else "val",
        nframes=int(_scalar(mat, "nframes", mat_path)),
        frames_dir=os.path.join(frames_root, video_id),
    )


def scan(root: str) -> list[PennVideo]:
    """Reads every label file of a Penn Action root (see `find_root`), sorted by id."""
    labels_dir = os.path.join(root, "labels")
    mats = sorted(f for f in os.listdir(labels_dir) if f.endswith(".mat"))
    if not mats:
        raise ConversionError(f"{labels_dir}: no .mat label files")
    return [
        read_video_info(os.path.join(labels_dir, f), os.path.join(root, "frames")) for f in mats
    ]


def _annotations(videos, labels_dir, key_events_path):
    if labels_dir and not os.path.isdir(labels_dir):
        raise ConversionError(f"{labels_dir}: labels folder does not exist")
    files = labels_lib.find_label_files(labels_dir) if labels_dir else {}
    events = labels_lib.read_key_events(key_events_path) if key_events_path else {}
    ids = {v.video_id for v in videos}
    for name, path in [*files.items(), *((n, key_events_path) for n in events)]:
        if name not in ids:
            raise labels_lib.unknown_video_error(path, name, ids)
    return files, events


def plan_penn_action(
    input_dir: str,
    actions: Sequence[str] | None = None,
    labels_dir: str | None = None,
    key_events_path: str | None = None,
    mode: str = "frames",
) -> list[DatasetPlan]:
    """One DatasetPlan per selected class, with phase labels attached and validated.

    Args:
      input_dir: Penn Action folder (see `find_root`).
      actions: catalog or Penn Action class names; default: every one of the 13 classes TCC
        uses that has videos.
      labels_dir: folder of per-frame label files named by video id, or None.
      key_events_path: key-events JSON keyed by video id, or None.
      mode: 'frames' (the JPEG frames) or 'joints' (the annotated joints as features).

    Raises:
      ConversionError, LabelError, VideoReadError, KeyError (unknown class).
    """
    if mode not in MODES:
        raise ConversionError(f"mode must be one of {MODES}; received mode={mode!r}")
    classes = catalog.check_penn_action_classes(list(actions)) if actions else []  # names first
    root = find_root(input_dir)
    videos = scan(root)
    if not actions:
        present = {v.action for v in videos}
        classes = [c for c in catalog.PENN_ACTION_CLASSES if c in present]
        if not classes:
            raise ConversionError(f"{root}/labels: no video of the classes TCC uses")
    files, events = _annotations(videos, labels_dir, key_events_path)
    plans = []
    for cls in classes:
        info = catalog.get_dataset_info(cls)
        chosen = [v for v in videos if v.action == cls]
        if not chosen:
            raise ConversionError(f"{root}/labels: no video of class {cls!r}")
        ids = [v.video_id for v in chosen]
        notes = labels_lib.match_annotations(
            ids,
            {i: files[i] for i in ids if i in files},
            {i: events[i] for i in ids if i in events},
            key_events_path or "",
            info.num_phases,
        )
        plan = DatasetPlan(cls, {"train": [], "val": []}, list(info.phase_names))
        for v in chosen:
            if mode == "joints":
                mat = os.path.join(root, "labels", f"{v.video_id}.mat")
                source = Source(v.video_id, mat, "features")
            else:
                _check_frames(v)
                source = Source(v.video_id, v.frames_dir, "frames")
            plan.splits[v.split].append(VideoJob(source, notes.get(v.video_id)))
        plan.splits = {s: jobs for s, jobs in plan.splits.items() if jobs}
        check_plan(plan)
        plans.append(plan)
    return plans


def _check_frames(video: PennVideo) -> None:
    if not os.path.isdir(video.frames_dir):
        raise ConversionError(
            f"{video.frames_dir}: missing frame folder for labels/{video.video_id}.mat"
        )
    count = len(video_io.list_frame_files(video.frames_dir))
    if count != video.nframes:
        logging.warning(
            "%s: %d frames but labels/%s.mat says nframes=%d; using the frames",
            video.frames_dir,
            count,
            video.video_id,
            video.nframes,
        )


def import_penn_action(
    input_dir: str,
    output_dir: str,
    options: WriteOptions | None = None,
    actions: Sequence[str] | None = None,
    labels_dir: str | None = None,
    key_events_path: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    mode: str = "frames",
) -> dict[str, dict[str, SplitSummary]]:
    """Writes `<output_dir>/<class>/{train,val}-*.tfrecord` for each selected class.

    `mode='joints'` writes the annotated joints [T, 13 * 3] (x, y, visibility) instead of frames.

    Returns:
      dict class -> split -> SplitSummary.
    """
    plans = plan_penn_action(input_dir, actions, labels_dir, key_events_path, mode)
    options = options or WriteOptions()
    return write_datasets(plans, output_dir, options, overwrite, progress)


def define_flags(flag_values=None) -> None:
    """Defines this command's flags in `flag_values` (default: absl's global FLAGS)."""
    from absl import flags

    kw = {"flag_values": flag_values if flag_values is not None else flags.FLAGS}
    flags.DEFINE_string("input_dir", None, "Penn Action folder (frames/ and labels/).", **kw)
    flags.DEFINE_string("output_dir", None, "Records root; writes <output_dir>/<class>/.", **kw)
    flags.DEFINE_string("labels_dir", None, "Per-frame phase label files NNNN.{txt,npy,csv}.", **kw)
    flags.DEFINE_string("key_events", None, 'Key events JSON {"NNNN": [e1, ...]}.', **kw)
    flags.DEFINE_list("actions", [], "Classes to import; default: the 13 used by TCC.", **kw)
    flags.DEFINE_integer("image_size", 224, "Stored frame side N (N x N); 0 keeps the size.", **kw)
    flags.DEFINE_enum("resize_mode", "squash", video_io.RESIZE_MODES, "squash or crop.", **kw)
    flags.DEFINE_integer("jpeg_quality", 95, "JPEG quality of stored frames, 1-100.", **kw)
    flags.DEFINE_integer("num_shards", 1, "Record files per split.", **kw)
    flags.DEFINE_bool("overwrite", False, "Replace existing <output_dir>/<class> folders.", **kw)
    flags.DEFINE_bool("progress", True, "Show a progress bar.", **kw)
    flags.DEFINE_enum(
        "mode", "frames", MODES, "frames: JPEG frames; joints: (x, y, visibility) per joint.", **kw
    )


def run(f) -> None:
    """Runs the import with the parsed absl FlagValues `f`.

    Bad input ends the run with one `error: ...` line on stderr and exit status 1.
    """
    try:
        missing = [k for k in ("input_dir", "output_dir") if not f[k].value]
        if missing:
            raise ConversionError("missing flags: " + ", ".join(f"--{k}" for k in missing))
        if f.labels_dir and f.key_events:
            raise ConversionError("give --labels_dir or --key_events, not both")
        frames = FrameOptions(f.image_size, f.resize_mode)
        options = WriteOptions(frames, f.jpeg_quality, f.num_shards)
    except (ConversionError, ValueError) as e:
        fail(e)
    try:
        with errors.interrupt_on_signals():
            summary = import_penn_action(
                f.input_dir,
                f.output_dir,
                options,
                f.actions,
                f.labels_dir,
                f.key_events,
                f.overwrite,
                f.progress,
                f.mode,
            )
    except (*BAD_INPUT_ERRORS, KeyError, OSError) as e:
        fail(e)
    except KeyboardInterrupt as e:
        interrupted(e)
    print(format_summary(summary))


def main(argv: Sequence[str]) -> None:
    """absl entry point: `run` with the global flags."""
    from absl import flags

    del argv
    errors.run_main(run, flags.FLAGS)


if __name__ == "__main__":
    from absl import app

    from tcc import cli

    define_flags()
    app.run(main, flags_parser=cli.flags_parser())
