"""Own videos -> TFRecords (entry point; absl flags are defined only when run as a script).

  python -m tcc.datasets.convert --input_dir=my_action --output_dir=data --name=my_action \
      [--image_size=224] [--resize_mode=squash|crop] [--fps=F] [--folder_fps=F] \
      [--jpeg_quality=95] [--num_shards=1] [--splits=train,val] [--overwrite]
  python -m tcc.datasets.convert --verify=data/my_action

reads `my_action/<split>/` (video files and frame folders, or per-video feature / keypoint files
`.npy .csv .mat`, docs/poses.md), optional `labels/<video>.{txt,npy,csv}`,
`key_events.json` and `phases.json`, and writes `data/my_action/<split>-*.tfrecord` plus
`key_events.json` / `phases.json` when labels are known. Everything that can be checked is checked
before writing; output is staged and moved into place only when every split succeeded, so bad
input leaves nothing behind. Layout and formats: docs/data.md. The functions here are the library
API (`convert`, `write_datasets`); `tcc.datasets.penn_action` builds on them, and
`tcc.datasets.readback` reads the records back (`--verify`).
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
import signal
from collections.abc import Iterator, Sequence

import tqdm

from tcc import atomic, errors
from tcc.datasets import labels as labels_lib
from tcc.datasets import metadata, records
from tcc.datasets import staging as staging_lib
from tcc.datasets.labels import Annotation, LabelError
from tcc.datasets.readback import MIN_FRAMES, SplitSummary, format_summary, verify
from tcc.datasets.records import RecordError, VideoExample
from tcc.datasets.sources import own_videos, video_io
from tcc.datasets.sources.own_videos import Source
from tcc.datasets.sources.video_io import FrameOptions, VideoReadError
from tcc.errors import UserError

RESERVED = ("labels",)  # folders of input_dir that are not splits


class ConversionError(UserError, ValueError):
    """Bad input or options for a conversion; the message names the file and the problem."""


BAD_INPUT_ERRORS = (ConversionError, LabelError, VideoReadError, RecordError)


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    """Frame processing plus record options (JPEG quality 1-100, number of shards per split)."""

    frames: FrameOptions = FrameOptions()
    jpeg_quality: int = 95
    num_shards: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.jpeg_quality <= 100:
            raise ConversionError(f"jpeg_quality must be in [1, 100]; received {self.jpeg_quality}")
        if self.num_shards < 1:
            raise ConversionError(f"num_shards must be >= 1; received {self.num_shards}")


@dataclasses.dataclass(frozen=True)
class VideoJob:
    """One video to convert: its source, optional annotation and video-level class."""

    source: Source
    annotation: Annotation | None = None
    label: int = -1


@dataclasses.dataclass
class DatasetPlan:
    """Everything one output dataset needs: name, jobs per split, optional phase names."""

    name: str
    splits: dict[str, list[VideoJob]]
    phase_names: list[str] | None = None


def _find_splits(input_dir: str, splits: Sequence[str] | None) -> list[str]:
    if not os.path.isdir(input_dir):
        raise ConversionError(f"{input_dir}: input folder does not exist")
    if splits:
        for split in splits:
            if not os.path.isdir(os.path.join(input_dir, split)):
                raise ConversionError(
                    f"{os.path.join(input_dir, split)}: split folder does not exist; create it or "
                    "change --splits"
                )
        return list(splits)
    found = sorted(
        e
        for e in os.listdir(input_dir)
        if os.path.isdir(os.path.join(input_dir, e)) and e not in RESERVED and e[0] != "."
    )
    if not found:
        raise ConversionError(
            f"{input_dir}: no split folders; put the videos in {input_dir}/train/ and "
            f"{input_dir}/val/ (see docs/data.md)"
        )
    return found


def plan_own_videos(input_dir: str, name: str, splits: Sequence[str] | None = None) -> DatasetPlan:
    """Scans an own-videos folder and validates its labels before anything is decoded.

    Checks: split folders exist and hold videos, video names are unique over all splits, label
    files and key events refer to known videos, events increase, and for frame folders (whose
    length is known) that labels count one per frame and events are in range.

    Raises:
      ConversionError, LabelError, VideoReadError: naming the file and the problem.
    """
    by_split = {}
    owner: dict[str, str] = {}
    for split in _find_splits(input_dir, splits):
        split_dir = os.path.join(input_dir, split)
        sources = own_videos.find_sources(split_dir)
        if not sources:
            raise ConversionError(
                f"{split_dir}: empty split folder; add video files "
                f"({' '.join(video_io.VIDEO_EXTENSIONS)}) or frame folders"
            )
        for s in sources:
            if s.name in owner:
                raise ConversionError(
                    f"{s.path}: video name {s.name!r} is also used in {owner[s.name]}; names must "
                    "be unique over all splits because labels/ is keyed by name"
                )
            owner[s.name] = s.path
        by_split[split] = sources
    phase_names = _optional(os.path.join(input_dir, "phases.json"), labels_lib.read_phase_names)
    labels_dir = os.path.join(input_dir, "labels")
    files = labels_lib.find_label_files(labels_dir) if os.path.isdir(labels_dir) else {}
    events_path = os.path.join(input_dir, "key_events.json")
    events = _optional(events_path, labels_lib.read_key_events) or {}
    num_phases = len(phase_names) if phase_names else None
    notes = labels_lib.match_annotations(owner, files, events, events_path, num_phases)
    plan = DatasetPlan(name, {}, phase_names)
    for split, sources in by_split.items():
        plan.splits[split] = [VideoJob(s, notes.get(s.name)) for s in sources]
    check_plan(plan)
    return plan


def _optional(path: str, reader):
    return reader(path) if os.path.exists(path) else None


def check_plan(plan: DatasetPlan) -> None:
    """Validates what is known before decoding: frame folders not empty, labels fit their length,
    feature files not mixed with videos and of one width."""
    num_phases = len(plan.phase_names) if plan.phase_names else None
    own_videos.check_sources([job.source for jobs in plan.splits.values() for job in jobs])
    for jobs in plan.splits.values():
        for job in jobs:
            count = own_videos.known_num_frames(job.source)
            if count is not None and job.annotation is not None:
                job.annotation.dense(count, num_phases)


def load_example(job: VideoJob, options: WriteOptions, phase_names=None) -> VideoExample:
    """Decodes one video, attaches its dense labels, and resamples both to `options.frames.fps`.

    Returns:
      VideoExample with frames uint8 [T', S, S, 3] (or, for a feature file, features float32
      [T', F]) and frame_labels int64 [T'] or None.

    Raises:
      VideoReadError, LabelError, ConversionError: naming the file and the problem.
    """
    frames, fps = own_videos.read_source(job.source, options.frames)
    if len(frames) < MIN_FRAMES:
        raise ConversionError(
            f"{job.source.path}: {len(frames)} frame(s); a video needs >= {MIN_FRAMES} frames to "
            "be aligned or sampled over time; remove it or give it more frames"
        )
    labels = None
    if job.annotation is not None:
        num_phases = len(phase_names) if phase_names else None
        labels = job.annotation.dense(len(frames), num_phases)
    target = options.frames.fps
    if target is not None:
        if fps is None:
            raise ConversionError(
                f"{job.source.path}: frame rate unknown, cannot resample to --fps={target}; "
                "pass --folder_fps for frame folders or re-encode the video"
            )
        idx = video_io.resample_indices(len(frames), fps, target)
        frames = frames[idx]
        labels = None if labels is None else labels[idx]
        fps = target
    features = frames if job.source.kind == "features" else None
    return VideoExample(
        job.source.name,
        None if features is not None else frames,
        labels,
        job.label,
        features=features,
        fps=fps,
        phase_names=phase_names,
    )


def _prepare(plans: Sequence[DatasetPlan], output_dir: str, options: WriteOptions, overwrite):
    for plan in plans:
        if not plan.name or os.sep in plan.name or plan.name.startswith("."):
            raise ConversionError(f"invalid dataset name {plan.name!r}; use e.g. --name=my_action")
        folders = [
            j for js in plan.splits.values() for j in js if j.source.kind in ("frames", "features")
        ]
        if options.frames.fps and folders and not options.frames.folder_fps:
            what = "frame folders" if folders[0].source.kind == "frames" else "feature files"
            raise ConversionError(
                f"{folders[0].source.path}: {what} have no frame rate; pass "
                "--folder_fps=<their fps> to resample them to --fps"
            )
        existing = glob.glob(os.path.join(output_dir, plan.name, "*.tfrecord"))
        if existing and not overwrite:
            raise ConversionError(
                f"{os.path.join(output_dir, plan.name)}: already holds records; pass --overwrite "
                "to replace that dataset or choose another --name"
            )


def write_datasets(
    plans: Sequence[DatasetPlan],
    output_dir: str,
    options: WriteOptions,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, dict[str, SplitSummary]]:
    """Writes datasets all-or-nothing: staged in `output_dir`, moved into place at the end.

    Each dataset becomes `<output_dir>/<name>/<split>-0000i-of-0000n.tfrecord` plus
    `key_events.json` (every labelled video whose phases go 0, 1, ..., n, in output frames) and
    `phases.json` (if phase names are known). With `overwrite`, an existing `<output_dir>/<name>`
    is replaced as a whole.

    Returns:
      dict dataset -> split -> SplitSummary.

    Raises:
      ConversionError, LabelError, VideoReadError, RecordError: nothing is left behind.
    """
    _prepare(plans, output_dir, options, overwrite)
    made_output = not os.path.isdir(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    staging = staging_lib.start(output_dir)
    total = sum(len(jobs) for p in plans for jobs in p.splits.values())
    bar = tqdm.tqdm(total=total, unit="video", disable=not progress, dynamic_ncols=True)
    try:
        summaries = {p.name: _write_plan(p, staging, options, bar) for p in plans}
        bar.close()
        for plan in plans:
            staging_lib.commit(
                os.path.join(staging, plan.name), os.path.join(output_dir, plan.name)
            )
    except BaseException:
        bar.close()
        if made_output:
            shutil.rmtree(output_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summaries


def _write_plan(plan: DatasetPlan, staging: str, options: WriteOptions, bar) -> dict:
    summaries, key_events = {}, {}

    def examples(split: str, jobs: list[VideoJob]) -> Iterator[VideoExample]:
        summary = summaries.setdefault(split, SplitSummary())
        for job in jobs:
            bar.set_description(f"{plan.name}/{split}")
            example = load_example(job, options, plan.phase_names)
            summary.add(len(example), example.frame_labels)
            if example.frame_labels is not None:
                events = labels_lib.labels_to_key_events(example.frame_labels)
                if events is not None:
                    key_events[example.name] = events
            bar.update(1)
            yield example

    for split, jobs in plan.splits.items():
        records.write_split(
            examples(split, jobs),
            staging,
            plan.name,
            split,
            options.num_shards,
            options.jpeg_quality,
        )
    _write_json(os.path.join(staging, plan.name, "key_events.json"), key_events)
    _write_json(os.path.join(staging, plan.name, "phases.json"), plan.phase_names)
    ids = set().union(*(s.phase_ids for s in summaries.values()))
    meta = metadata.from_labels(max(ids, default=-1), plan.phase_names)
    metadata.write(os.path.join(staging, plan.name), meta)
    return summaries


def _write_json(path: str, data: dict | list | None) -> None:
    """Writes `data` (if any) with one top-level entry per line."""
    if not data:
        return
    if isinstance(data, dict):
        body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items())
        text = "{\n" + body + "\n}\n"
    else:
        text = json.dumps(data) + "\n"
    atomic.write_text(path, text)


def convert(
    input_dir: str,
    output_dir: str,
    name: str,
    options: WriteOptions | None = None,
    splits: Sequence[str] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, SplitSummary]:
    """Converts an own-videos folder into `<output_dir>/<name>/<split>-*.tfrecord`.

    Returns:
      dict split -> SplitSummary.

    Raises:
      ConversionError, LabelError, VideoReadError, RecordError: bad input; nothing is written.
    """
    plan = plan_own_videos(input_dir, name, splits)
    options = options or WriteOptions()
    return write_datasets([plan], output_dir, options, overwrite, progress)[name]


def fail(error: Exception) -> None:
    """Ends a command line run: one `error: ...` line on stderr, exit status 1, no traceback."""
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    errors.fail(errors.user_message(error) or message)


def interrupted(error: KeyboardInterrupt) -> None:
    """Ends a run stopped by Ctrl-C or SIGTERM (after the staged output was removed)."""
    signum = getattr(error, "signum", signal.SIGINT)
    errors.fail(
        f"interrupted by signal {signum}; nothing was written (partial output removed), run the "
        "same command again",
        status=128 + signum,
    )


def define_flags(flag_values=None) -> None:
    """Defines this command's flags in `flag_values` (default: absl's global FLAGS)."""
    from absl import flags

    kw = {"flag_values": flag_values if flag_values is not None else flags.FLAGS}
    flags.DEFINE_string(
        "input_dir", None, "Own-videos folder: <split>/, labels/, key_events.json.", **kw
    )
    flags.DEFINE_string("output_dir", None, "Records root; writes <output_dir>/<name>/.", **kw)
    flags.DEFINE_string("name", None, "Dataset name (the records folder, used in configs).", **kw)
    flags.DEFINE_integer("image_size", 224, "Stored frame side N (N x N); 0 keeps the size.", **kw)
    flags.DEFINE_enum(
        "resize_mode",
        "squash",
        video_io.RESIZE_MODES,
        "squash: whole frame to N x N; crop: shorter side to N, centre crop.",
        **kw,
    )
    flags.DEFINE_float("fps", 0.0, "Resample to this frame rate; 0 keeps every frame.", **kw)
    flags.DEFINE_float("folder_fps", 0.0, "Frame rate of frame folders (needed with --fps).", **kw)
    flags.DEFINE_integer("jpeg_quality", 95, "JPEG quality of stored frames, 1-100.", **kw)
    flags.DEFINE_integer("num_shards", 1, "Record files per split.", **kw)
    flags.DEFINE_list("splits", [], "Split folders to convert; default: every subfolder.", **kw)
    flags.DEFINE_bool("overwrite", False, "Replace an existing <output_dir>/<name>.", **kw)
    flags.DEFINE_bool("progress", True, "Show a progress bar.", **kw)
    flags.DEFINE_string(
        "verify", None, "Read back and summarise <root>/<dataset>, then exit.", **kw
    )


def run(f) -> None:
    """Runs the conversion (or --verify) with the parsed absl FlagValues `f`.

    Bad input ends the run with one `error: ...` line on stderr and exit status 1.
    """
    try:
        if f.verify:
            summary = {os.path.basename(os.path.normpath(f.verify)): verify(f.verify)}
            print(format_summary(summary))
            return
        missing = [k for k in ("input_dir", "output_dir", "name") if not f[k].value]
        if missing:
            raise ConversionError("missing flags: " + ", ".join(f"--{k}" for k in missing))
        frames = FrameOptions(f.image_size, f.resize_mode, f.fps or None, f.folder_fps or None)
        options = WriteOptions(frames, f.jpeg_quality, f.num_shards)
    except (*BAD_INPUT_ERRORS, ValueError, OSError) as e:
        fail(e)
    try:
        with errors.interrupt_on_signals():
            split_summary = convert(
                f.input_dir, f.output_dir, f.name, options, f.splits, f.overwrite, f.progress
            )
    except (*BAD_INPUT_ERRORS, OSError) as e:
        fail(e)
    except KeyboardInterrupt as e:
        interrupted(e)
    print(format_summary({f.name: split_summary}))


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
