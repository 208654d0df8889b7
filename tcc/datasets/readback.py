"""Reads converted records back: checks every example and summarises each split.

  python -m tcc.datasets.convert --verify=data/my_action     # the command line
  readback.verify("data/my_action")                          # {split: SplitSummary}

`verify` decodes every example of every `<root>/<dataset>/*.tfrecord` and raises a `RecordError`
naming the file and example for anything a training run would trip over (truncation, a missing
required feature, an undecodable frame, a label / frame count mismatch); `format_summary` is the
table that `tcc.datasets.convert` prints after writing or verifying.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import sys

import numpy as np
import tensorflow as tf

from tcc.datasets import records
from tcc.datasets.records import RecordError

MIN_FRAMES = 2  # shorter videos are rejected by the converter and flagged here (before resampling)


@dataclasses.dataclass
class SplitSummary:
    """Counts for the closing table: videos, frames, labelled videos, distinct phase ids."""

    videos: int = 0
    frames: int = 0
    labelled: int = 0
    phase_ids: set = dataclasses.field(default_factory=set)

    def add(self, num_frames: int, frame_labels: np.ndarray | None) -> None:
        self.videos += 1
        self.frames += num_frames
        if frame_labels is not None and np.any(frame_labels >= 0):
            self.labelled += 1
            self.phase_ids.update(int(v) for v in np.unique(frame_labels) if v >= 0)


def _split_of(path: str, dataset: str) -> str:
    stem = os.path.basename(path).split("-")[0]
    return stem[len(dataset) + 1 :] if stem.startswith(f"{dataset}_") else stem


def _check_raw(path: str) -> str:
    """Checks required features, lengths and JPEGs of every example of one file.

    Returns:
      'frames' or 'features': what the file's examples store.
    """
    kind = "frames"
    if os.path.getsize(path) == 0:
        raise RecordError(
            f"{path}: empty (0-byte) record file; re-create it (convert again) or remove it"
        )
    try:
        for i, serialized in enumerate(tf.data.TFRecordDataset(path)):
            seq = tf.train.SequenceExample.FromString(serialized.numpy())
            ctx, lists = seq.context.feature, seq.feature_lists.feature_list
            name = ctx["name"].bytes_list.value[0].decode() if "name" in ctx else ""
            where = f"{path}: example {i}" + (f" ({name})" if name else "")
            kind = "features" if "features" in lists and "video" not in lists else "frames"
            if not name:
                raise RecordError(f"{where}: missing required feature 'name'")
            if kind == "frames" and "video" not in lists:
                raise RecordError(f"{where}: missing required feature 'video'")
            stored = len(lists["video" if kind == "frames" else "features"].feature)
            if "len" in ctx and list(ctx["len"].int64_list.value) != [stored]:
                raise RecordError(
                    f"{where}: context 'len' is {list(ctx['len'].int64_list.value)} but "
                    f"{stored} frames are stored"
                )
            num_labels = len(lists["frame_labels"].feature) if "frame_labels" in lists else 0
            if num_labels not in (0, stored):
                raise RecordError(
                    f"{where}: {num_labels} frame_labels but {stored} frames; a record needs one "
                    "label per frame"
                )
            _warn_suspicious(where, stored, lists, kind)
            frames = lists["video"].feature if kind == "frames" else []
            for j, frame in enumerate(frames):
                try:
                    tf.io.decode_jpeg(frame.bytes_list.value[0], channels=3)
                except (tf.errors.InvalidArgumentError, IndexError):
                    raise RecordError(f"{where}: frame {j} is not a decodable JPEG") from None
    except tf.errors.DataLossError:
        raise RecordError(f"{path}: file is truncated or corrupt; re-create it") from None
    except RecordError:
        raise
    except Exception as e:  # noqa: BLE001 - protobuf DecodeError and friends
        raise RecordError(f"{path}: not a TFRecord of SequenceExamples ({e})") from None
    return kind


def _warn_suspicious(where: str, stored: int, lists, kind: str) -> None:
    """Warns (stderr) about a record that cannot be right: < 2 frames, or only NaN features."""
    if stored < MIN_FRAMES:
        print(f"warning: {where}: {stored} frame(s); too short to train on", file=sys.stderr)
    if kind == "features" and stored:
        values = np.array([v for f in lists["features"].feature for v in f.float_list.value])
        if values.size and np.isnan(values).all():
            print(f"warning: {where}: every feature value is NaN", file=sys.stderr)


def verify(dataset_dir: str) -> dict[str, SplitSummary]:
    """Reads back every record of `<root>/<dataset>` and summarises it per split.

    Raises:
      RecordError: if the folder holds no .tfrecord files, or naming the file and example for
        truncation, a missing required feature, an undecodable frame or a frame_labels / frame
        count mismatch.
    """
    dataset = os.path.basename(os.path.normpath(dataset_dir))
    files = sorted(glob.glob(os.path.join(dataset_dir, "*.tfrecord")))
    if not files:
        raise RecordError(
            f"{dataset_dir}: no .tfrecord files to verify; pass <records root>/<dataset>"
        )
    summaries: dict[str, SplitSummary] = {}
    for path in files:
        kind = _check_raw(path)
        summary = summaries.setdefault(_split_of(path, dataset), SplitSummary())
        for ex in records.read_file(path, decode=False, kind=kind):
            labels = ex["frame_labels"]
            summary.add(ex["len"], labels if np.any(labels >= 0) else None)
    return summaries


def format_summary(summaries: dict[str, dict[str, SplitSummary]]) -> str:
    """A text table: one row per dataset and split (videos, frames, labelled videos, phases)."""
    rows = [("dataset", "split", "videos", "frames", "labelled", "phases")]
    for dataset, splits in summaries.items():
        for split, s in splits.items():
            phases = str(len(s.phase_ids)) if s.phase_ids else "-"
            rows.append((dataset, split, str(s.videos), str(s.frames), str(s.labelled), phases))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    return "\n".join(lines)
