"""TFRecord schema for videos and feature sequences: write (atomic, sharded) and parse.

One `tf.train.SequenceExample` per video, compatible with the files written by the original TCC
scripts:

  context:
    name          bytes    video name
    len           int64    number of frames T
    label         int64    video-level class, -1 if none
    fps           float    optional
    phase_names   bytes    optional, one entry per phase id (a bytes list)
    num_features  int64    optional, F of `features`
  feature lists:
    video         bytes    one JPEG per frame                       (pixel datasets)
    features      float    one [F] vector per frame                  (feature / pose datasets)
    frame_labels  int64    one phase id per frame                    (optional; -1 = unlabelled)

Files are `<root>/<dataset>/<split>-00000-of-00004.tfrecord`; the original naming
`<root>/<dataset>_<split>-0-of-2.tfrecord` (or inside `<root>/<dataset>/`) is also found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from tcc import atomic, errors
from tcc.errors import UserError


class RecordError(UserError, ValueError):
    """A record file or example is malformed; the message names the file and the problem."""


@dataclasses.dataclass
class VideoExample:
    """One video (or feature sequence) to be written as a SequenceExample.

    Attributes:
      name: unique name of the video within its split.
      frames: uint8 [T, H, W, 3] (JPEG-encoded on write) or a sequence of T JPEG byte strings.
      frame_labels: int [T] phase id per frame, or None when the video is unlabelled.
      label: video-level class id, -1 if none.
      features: float32 [T, F] per-frame features (pose keypoints, CNN features), or None.
      fps: frames per second of the stored frames, if known.
      phase_names: names of the phase ids, if known.
    """

    name: str
    frames: np.ndarray | Sequence[bytes] | None = None
    frame_labels: np.ndarray | None = None
    label: int = -1
    features: np.ndarray | None = None
    fps: float | None = None
    phase_names: Sequence[str] | None = None

    def __len__(self) -> int:
        if self.frames is not None:
            return len(self.frames)
        if self.features is not None:
            return len(self.features)
        return 0


def _bytes(values: Sequence[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values: Sequence[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _floats(values: Sequence[float]) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def encode_jpeg(frame: np.ndarray, quality: int = 95) -> bytes:
    """Encodes one uint8 [H, W, 3] frame as JPEG bytes."""
    return tf.io.encode_jpeg(tf.convert_to_tensor(frame, tf.uint8), quality=quality).numpy()


def _frame_bytes(frames: np.ndarray | Sequence[bytes], quality: int) -> list[bytes]:
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise RecordError(
                f"frames must be uint8 [T, H, W, 3]; received dtype={frames.dtype} "
                f"shape={frames.shape}"
            )
        return [encode_jpeg(f, quality) for f in frames]
    return [bytes(f) for f in frames]


def serialize_example(example: VideoExample, jpeg_quality: int = 95) -> bytes:
    """Serialises a `VideoExample` into a SequenceExample byte string.

    Raises:
      RecordError: if neither frames nor features are given, or lengths disagree.
    """
    n = len(example)
    if n == 0:
        raise RecordError(f"video {example.name!r} has no frames and no features")
    feature_lists: dict[str, tf.train.FeatureList] = {}
    context: dict[str, tf.train.Feature] = {
        "name": _bytes([example.name.encode()]),
        "len": _ints([n]),
        "label": _ints([example.label]),
    }
    if example.frames is not None:
        frames = _frame_bytes(example.frames, jpeg_quality)
        feature_lists["video"] = tf.train.FeatureList(feature=[_bytes([f]) for f in frames])
    if example.features is not None:
        feats = np.asarray(example.features, np.float32)
        feats = feats.reshape(len(feats), -1)
        if len(feats) != n:
            raise RecordError(f"video {example.name!r}: {len(feats)} feature rows but {n} frames")
        context["num_features"] = _ints([feats.shape[1]])
        feature_lists["features"] = tf.train.FeatureList(feature=[_floats(r) for r in feats])
    if example.frame_labels is not None:
        labels = np.asarray(example.frame_labels).reshape(-1)
        if len(labels) != n:
            raise RecordError(
                f"video {example.name!r}: {len(labels)} frame labels but {n} frames; "
                "give one label per frame"
            )
        feature_lists["frame_labels"] = tf.train.FeatureList(feature=[_ints([v]) for v in labels])
    if example.fps is not None:
        context["fps"] = _floats([float(example.fps)])
    if example.phase_names:
        context["phase_names"] = _bytes([p.encode() for p in example.phase_names])
    seq = tf.train.SequenceExample(
        context=tf.train.Features(feature=context),
        feature_lists=tf.train.FeatureLists(feature_list=feature_lists),
    )
    return seq.SerializeToString(deterministic=True)


def shard_path(root: str, dataset: str, split: str, index: int, num_shards: int) -> str:
    """Path of one output shard: `<root>/<dataset>/<split>-00000-of-00004.tfrecord`."""
    return os.path.join(root, dataset, f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord")


def write_split(
    examples: Iterable[VideoExample],
    root: str,
    dataset: str,
    split: str,
    num_shards: int = 1,
    jpeg_quality: int = 95,
) -> list[str]:
    """Writes the videos of one split, round-robin over shards, atomically.

    Every shard is staged by `tcc.atomic.path` and renamed only after all shards are complete,
    so an interrupted or failed write leaves no partial `.tfrecord` files behind. Existing shards of
    the same split are replaced.

    Returns:
      The list of shard paths.
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1; received num_shards={num_shards}")
    os.makedirs(os.path.join(root, dataset), exist_ok=True)
    finals = [shard_path(root, dataset, split, i, num_shards) for i in range(num_shards)]
    with contextlib.ExitStack() as staged:  # on exit: every shard renamed, or every temp removed
        temps = [staged.enter_context(atomic.path(p)) for p in finals]
        writers = [tf.io.TFRecordWriter(p) for p in temps]
        try:
            for i, example in enumerate(examples):
                writers[i % num_shards].write(serialize_example(example, jpeg_quality))
        finally:
            for w in writers:
                w.close()
        for old in split_files(root, dataset, split, must_exist=False):
            if old not in finals:
                os.remove(old)
    return finals


def split_files(root: str, dataset: str, split: str, must_exist: bool = True) -> list[str]:
    """Finds the record files of one split in either naming convention.

    Looks for `<root>/<dataset>/<split>-*.tfrecord` (this package), and for the original TCC names
    `<root>/<dataset>_<split>-*.tfrecord` and `<root>/<dataset>/<dataset>_<split>-*.tfrecord`.

    Raises:
      FileNotFoundError: if `must_exist` and nothing matches; the message lists what was tried.
    """
    patterns = [
        os.path.join(root, dataset, f"{split}-*.tfrecord"),
        os.path.join(root, f"{dataset}_{split}-*.tfrecord"),
        os.path.join(root, dataset, f"{dataset}_{split}-*.tfrecord"),
    ]
    for pattern in patterns:
        files = sorted(glob.glob(pattern))
        if files:
            return files
    if must_exist:
        raise _missing_split(root, dataset, split)
    return []


def available_splits(root: str) -> dict[str, list[str]]:
    """The datasets and splits under a records root (both naming conventions): {dataset: splits}."""
    found: dict[str, set[str]] = {}
    for path in glob.glob(os.path.join(root, "*.tfrecord")) + glob.glob(
        os.path.join(root, "*", "*.tfrecord")
    ):
        stem = re.sub(r"(-\d+-of-\d+)?\.tfrecord$", "", os.path.basename(path))
        parent = os.path.basename(os.path.dirname(path))
        if os.path.dirname(path) != os.path.normpath(root):  # <root>/<dataset>/[<dataset>_]<split>
            split = stem[len(parent) + 1 :] if stem.startswith(f"{parent}_") else stem
            found.setdefault(parent, set()).add(split)
        elif "_" in stem:  # <root>/<dataset>_<split>
            dataset, split = stem.rsplit("_", 1)
            found.setdefault(dataset, set()).add(split)
    return {k: sorted(v) for k, v in sorted(found.items())}


def _missing_split(root: str, dataset: str, split: str) -> errors.MissingDataError:
    """The error for a dataset / split without records: says what the root does hold."""
    fix = "convert your data with `python -m tcc.datasets.convert` or set --config.data.path"
    if not os.path.isdir(root):
        return errors.MissingDataError(
            f"records root {root!r} (data.path) does not exist, for dataset {dataset!r}; {fix}"
        )
    have = available_splits(root)
    if dataset not in have:
        names = list(have)
        return errors.MissingDataError(
            f"no dataset {dataset!r} under {root!r}{errors.did_you_mean(dataset, names)} "
            f"(datasets there: {', '.join(names) or 'none'}); fix `datasets` or {fix}"
        )
    return errors.MissingDataError(
        f"dataset {dataset!r} under {root!r} has no split {split!r}"
        f"{errors.did_you_mean(split, have[dataset])} (splits there: "
        f"{', '.join(have[dataset])}); pick one of them or {fix}"
    )


_CONTEXT_SPEC = {
    "name": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "len": tf.io.FixedLenFeature([], tf.int64, default_value=-1),
    "label": tf.io.FixedLenFeature([], tf.int64, default_value=-1),
    "num_features": tf.io.FixedLenFeature([], tf.int64, default_value=0),
}


def parse_example(serialized: tf.Tensor, kind: str = "frames") -> dict[str, tf.Tensor]:
    """Parses one serialised SequenceExample (graph friendly, usable in `tf.data.map`).

    Args:
      serialized: scalar string tensor.
      kind: 'frames' to read the JPEG `video` feature list, 'features' to read `features`.

    Returns:
      dict with `name` string [], `len` int32 [], `label` int32 [], `frame_labels` int32 [T]
      (all -1 when the record has none), and `video` string [T] (kind 'frames') or `features`
      float32 [T, F] (kind 'features'). `len` is the number of stored frames.
    """
    seq_spec = {"frame_labels": tf.io.RaggedFeature(tf.int64)}
    if kind == "frames":
        seq_spec["video"] = tf.io.FixedLenSequenceFeature([], tf.string)
    elif kind == "features":
        seq_spec["features"] = tf.io.RaggedFeature(tf.float32)
    else:
        raise ValueError(f"kind must be 'frames' or 'features'; received kind={kind!r}")
    context, seq = tf.io.parse_single_sequence_example(
        serialized, context_features=_CONTEXT_SPEC, sequence_features=seq_spec
    )
    if kind == "frames":
        data = seq["video"]
    else:
        data = seq["features"].to_tensor()
    num = tf.shape(data, out_type=tf.int32)[0]
    labels = tf.cast(seq["frame_labels"].flat_values, tf.int32)
    labels = tf.cond(tf.size(labels) > 0, lambda: labels, lambda: -tf.ones([num], tf.int32))
    tf.debugging.assert_equal(
        tf.size(labels),
        num,
        message="frame_labels count differs from the number of frames",
    )
    return {
        "name": context["name"],
        "len": num,
        "label": tf.cast(context["label"], tf.int32),
        "frame_labels": labels,
        "video" if kind == "frames" else "features": data,
    }


def read_split(
    root: str, dataset: str, split: str, decode: bool = True, kind: str = "frames"
) -> Iterator[dict]:
    """Iterates over the videos of one split eagerly, as numpy dicts (for tools and tests).

    Yields:
      dict with `name` (str), `len`, `label`, `frame_labels` int32 [T], and either `frames` uint8
      [T, H, W, 3] (when `decode`; else `video`, a list of JPEG bytes) or `features` float32 [T, F].

    Raises:
      RecordError: naming the file, if a record is truncated, corrupt or inconsistent.
    """
    for path in split_files(root, dataset, split):
        yield from read_file(path, decode=decode, kind=kind)


def _clean_tf_message(error: Exception) -> str:
    """The first line of a TensorFlow error without its `{{function_node ...}}` prefix."""
    text = getattr(error, "message", None) or str(error)
    text = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    if text.startswith("{{"):
        text = text.split("}}", 1)[-1].strip()
    return text[:200]


def read_file(path: str, decode: bool = True, kind: str = "frames") -> Iterator[dict]:
    """Iterates over the examples of one record file; see `read_split`."""
    try:
        for i, serialized in enumerate(tf.data.TFRecordDataset(path)):
            try:
                ex = parse_example(serialized, kind=kind)
            except (tf.errors.InvalidArgumentError, ValueError) as e:
                msg = _clean_tf_message(e)
                raise RecordError(f"{path}: example {i} is malformed ({msg})") from None
            out = {
                "name": ex["name"].numpy().decode(),
                "len": int(ex["len"]),
                "label": int(ex["label"]),
                "frame_labels": ex["frame_labels"].numpy(),
            }
            if kind == "features":
                out["features"] = ex["features"].numpy()
            elif decode:
                out["frames"] = np.stack(
                    [tf.io.decode_jpeg(b, channels=3).numpy() for b in ex["video"]]
                )
            else:
                out["video"] = list(ex["video"].numpy())
            yield out
    except tf.errors.DataLossError:
        raise RecordError(
            f"{path}: file is truncated or corrupt (DataLossError); re-create it with "
            "`python -m tcc.datasets.convert`"
        ) from None
