"""Checks before work starts: config values, and the data against the config.

`check_config(cfg)` range-checks the values of a resolved config (sizes and intervals >= 1,
`train.max_iters` >= 0, known names for algorithms, tasks, strategies, ...). `check_data(cfg,
root, splits)` reads every record of the splits once (cached per file while the process lives)
and checks them against the config: files present, not empty, not truncated, of the configured
kind (frames / features) and width, one label per frame, label ids within the dataset's phases,
and `data.num_steps` within the shortest video. `preflight(cfg)` does both for training; the entry
points (`tcc.train`, `tcc.experiments`) run `check_config` and hand `preflight` to
`tcc.training.loop.train`, which calls it before it creates anything in the logdir.
`remove_leftovers` deletes what killed runs leave behind. Every problem is an `errors.UserError`
whose message names the key, file or video and says how to fix it.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
from collections.abc import Sequence

import ml_collections
import numpy as np
from absl import logging

from tcc import errors

_CHOICES = {
    "strategy": ("default", "mirrored", "multi_worker_mirrored", "tpu"),
    "mixed_precision": ("", "mixed_float16", "mixed_bfloat16"),
    "data.source": ("records", "tfds"),
    "data.input_kind": ("frames", "features"),
    "data.sampling_strategy": ("offset_uniform", "stride"),
    "model.train_base": ("frozen", "only_bn", "train_all"),
    "model.sequence_embedder.context_pooling": ("flatten", "max"),
    "optimizer.type": ("adam", "sgd"),
    "optimizer.lr.decay_type": ("fixed", "exp_decay", "manual", "poly"),
    "alignment.similarity_type": ("l2", "cosine"),
    "alignment.loss_type": (
        "classification",
        "regression_mse",
        "regression_mse_var",
        "regression_huber",
    ),
    "model.base_model.network": ("resnet50v2", "vggm", "small"),
    "pose.num_channels": (2, 3),
    "tcn.negatives": ("batch", "video"),
}
_AT_LEAST_ONE = (
    "data.image_size",
    "data.num_steps",
    "data.frame_stride",
    "data.stride",
    "data.sample_all_stride",
    "train.batch_size",
    "train.num_frames",
    "eval.batch_size",
    "eval.num_frames",
    "eval.kendalls_tau_stride",
    "checkpoint.save_interval",
    "checkpoint.max_to_keep",
    "logging.report_interval",
    "model.embedding_size",
    "alignment.cycle_length",
)
_AT_LEAST_ZERO = (
    "train.max_iters",
    "train.visualize_interval",
    "data.random_offset",
    "data.shuffle_queue_size",
    "eval.val_iters",
    "classification.num_classes",
    "pose.num_joints",
    "pose.motion_stride",
    "optimizer.lr.num_warmup_steps",
    "optimizer.clipnorm",
    "optimizer.weight_decay",
)


def _get(cfg: ml_collections.ConfigDict, key: str):
    node = cfg
    for part in key.split("."):
        node = node[part]
    return node


def _bad(key: str, value, rule: str) -> errors.BadValueError:
    return errors.BadValueError(
        f"config {key}={value!r} {rule}, in the config (file or --config.{key}); set "
        f"--config.{key} to a valid value"
    )


def check_config(cfg: ml_collections.ConfigDict) -> None:
    """Range-checks and name-checks a resolved config (no data is read).

    Raises:
      errors.BadValueError: a value out of range, naming the key and the rule.
      errors.UnknownNameError: an unknown algorithm, eval task or choice, with the closest names.
    """
    from tcc.algos import ALGORITHMS  # noqa: PLC0415 (heavy: only when a config is checked)
    from tcc.evaluation.tasks import TASKS

    if cfg.training_algo not in ALGORITHMS:
        raise errors.unknown_name(
            "training_algo", cfg.training_algo, ALGORITHMS.names(), "--config.training_algo"
        )
    for key, valid in _CHOICES.items():
        value = _get(cfg, key)
        if value not in valid:
            raise errors.unknown_name(f"value of {key}", value, list(valid), f"--config.{key}")
    for key in _AT_LEAST_ONE:
        value = _get(cfg, key)
        if not isinstance(value, (int, float)) or value < 1:
            raise _bad(key, value, "must be >= 1")
    for key in _AT_LEAST_ZERO:
        value = _get(cfg, key)
        if not isinstance(value, (int, float)) or value < 0:
            raise _bad(key, value, "must be >= 0")
    for key in ("optimizer.lr.initial_lr", "tcn.temperature"):
        if not _get(cfg, key) > 0:
            raise _bad(key, _get(cfg, key), "must be > 0")
    if not 0.0 <= cfg.data.per_dataset_fraction <= 1.0:
        raise _bad("data.per_dataset_fraction", cfg.data.per_dataset_fraction, "must be in [0, 1]")
    if not 0.0 <= cfg.data.frame_stride_fraction < 1.0:
        raise _bad(
            "data.frame_stride_fraction",
            cfg.data.frame_stride_fraction,
            "must be in [0, 1) (0 = data.frame_stride frames)",
        )
    names = list(cfg.datasets)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise _bad("datasets", names, "must be a non-empty list of dataset names")
    for task in cfg.eval.tasks:
        if task not in TASKS:
            raise errors.unknown_name("eval task", task, TASKS.names(), "--config.eval.tasks")
    for split in cfg.eval.splits:
        if not isinstance(split, str) or not split:
            raise _bad("eval.splits", list(cfg.eval.splits), "must list split names")
    if cfg.data.input_kind == "features":
        from tcc.datasets import pose  # noqa: PLC0415

        try:
            pose.PoseOptions.from_config(cfg.pose, cfg.data.frame_stride)
        except ValueError as e:
            raise errors.BadValueError(f"{e}; fix the pose.* keys of the config") from None


@dataclasses.dataclass(frozen=True)
class VideoStats:
    """What the checks need of one record: name, stored frames, labels, feature width."""

    name: str
    length: int
    num_labels: int
    max_label: int
    kind: str  # 'frames' | 'features'
    width: int  # features per frame (0 for frames)
    all_nan: bool  # every feature value is NaN
    label_ids: frozenset = frozenset()  # distinct phase ids >= 0


_SCANS: dict[tuple[str, int, int], list[VideoStats]] = {}


def scan_file(path: str) -> list[VideoStats]:
    """Reads one record file (cached by path, size and mtime) and summarises every video.

    Raises:
      errors.DataError: for an empty, truncated or non-record file, naming it.
    """
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key in _SCANS:
        return _SCANS[key]
    fix = "re-create it with `python -m tcc.datasets.convert` or remove it"
    if stat.st_size == 0:
        raise errors.DataError(f"{path} is an empty (0-byte) record file; {fix}")
    import tensorflow as tf  # noqa: PLC0415

    out = []
    try:
        for serialized in tf.data.TFRecordDataset(path):
            out.append(_video_stats(tf.train.SequenceExample.FromString(serialized.numpy())))
    except tf.errors.DataLossError:
        raise errors.DataError(f"{path} is truncated or corrupt; {fix}") from None
    except Exception as e:  # noqa: BLE001 - protobuf DecodeError and friends
        raise errors.DataError(
            f"{path} is not a TFRecord file of SequenceExamples ({type(e).__name__}); {fix}"
        ) from None
    _SCANS[key] = out
    return out


def _video_stats(seq) -> VideoStats:
    ctx, lists = seq.context.feature, seq.feature_lists.feature_list
    name = ctx["name"].bytes_list.value[0].decode() if "name" in ctx else "?"
    kind = "features" if "features" in lists and "video" not in lists else "frames"
    frames = lists["video" if kind == "frames" else "features"].feature
    labels = [f.int64_list.value[0] for f in lists["frame_labels"].feature if f.int64_list.value]
    width, all_nan = 0, False
    if kind == "features" and len(frames):
        width = len(frames[0].float_list.value)
        values = np.array([v for f in frames for v in f.float_list.value], np.float32)
        all_nan = bool(values.size) and bool(np.isnan(values).all())
    ids = frozenset(int(i) for i in labels if i >= 0)
    return VideoStats(
        name, len(frames), len(labels), max(labels, default=-1), kind, width, all_nan, ids
    )


def dataset_num_phases(root: str, dataset: str) -> int | None:
    """The number of named phases of a dataset, or None when no phase names are known.

    From its `dataset.json` (`tcc.datasets.metadata`) when that names the phases, else its
    `phases.json` (folders converted before `dataset.json` existed), else the catalog.
    """
    from tcc.datasets import metadata  # noqa: PLC0415

    meta = metadata.read(root, dataset)
    if meta is not None and meta.phase_names:
        return meta.num_phases
    path = os.path.join(root, dataset, "phases.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return len(json.load(f))
    from tcc.datasets import catalog  # noqa: PLC0415

    info = catalog.DATASETS.get(dataset)
    return info.num_phases if info is not None else None


def check_data(
    cfg: ml_collections.ConfigDict, root: str, splits: Sequence[str] = ("train",)
) -> dict[str, list[tuple[str, VideoStats]]]:
    """Checks the records of `cfg.datasets` / `splits` under `root` against the config.

    Returns:
      {dataset/split: [(file, VideoStats), ...]} for further checks.

    Raises:
      errors.MissingDataError: a missing root, dataset or split (naming what exists).
      errors.DataError: an empty / corrupt file, a record of the wrong kind or width, labels that
        do not count one per frame or exceed the dataset's phases; naming file and video.
    """
    from tcc.datasets import records  # noqa: PLC0415

    found = {}
    kind = cfg.data.input_kind
    for dataset in cfg.datasets:
        num_phases = dataset_num_phases(root, dataset)
        for split in splits:
            videos = []
            for path in records.split_files(root, dataset, split):
                for v in scan_file(path):
                    _check_video(cfg, path, v, kind, num_phases, dataset)
                    videos.append((path, v))
            if not videos:
                raise errors.DataError(
                    f"dataset {dataset!r} split {split!r} under {root!r} holds no videos; "
                    "convert some videos into it"
                )
            widths = {v.width for _, v in videos}
            if len(widths) > 1:
                raise errors.DataError(
                    f"videos of {dataset}/{split} have different feature widths {sorted(widths)}"
                    f", in {videos[0][0]}; re-convert them with one feature layout"
                )
            found[f"{dataset}/{split}"] = videos
    return found


def _check_video(cfg, path: str, v: VideoStats, kind: str, num_phases, dataset: str) -> None:
    where = f"in {path} (video {v.name!r})"
    if v.kind != kind:
        raise errors.DataError(
            f"records hold {v.kind} but the config has data.input_kind={kind!r}, {where}; set "
            f"--config.data.input_kind={v.kind} or point data.path at {kind} records"
        )
    if v.num_labels not in (0, v.length):
        raise errors.DataError(
            f"{v.num_labels} frame_labels for {v.length} frames, {where}; a record needs one label "
            "per frame: re-convert the video with fixed labels"
        )
    if num_phases is not None and v.max_label >= num_phases:
        raise errors.DataError(
            f"phase id {v.max_label} but dataset {dataset!r} has {num_phases} phases, {where}; "
            "fix the labels (ids 0..phases-1) or phases.json"
        )
    if kind == "features" and cfg.pose.num_joints:
        from tcc.datasets import pose  # noqa: PLC0415

        options = pose.PoseOptions.from_config(cfg.pose, cfg.data.frame_stride)
        expected = options.num_joints * options.joint_width
        if v.width != expected:
            raise errors.DataError(
                f"records have {v.width} values per frame but pose.num_joints={options.num_joints}"
                f" x {options.joint_width} (pose.num_channels={options.num_channels}, "
                f"pose.visibility={options.visibility}) = {expected}, {where}; set the pose.* keys "
                "to the data's layout"
            )


def check_training_data(cfg: ml_collections.ConfigDict, root: str) -> None:
    """`check_data` on the training split plus the training-only rules.

    - `data.num_steps` context frames must fit the shortest video (error); a context span
      `(num_steps - 1) * frame_stride + 1` longer than it only repeats frames (warning);
    - supervised training: label ids below `classification.num_classes`, or, when that is 0 and
      no phase count is known, ids 0..max without gaps (a stray id would size the head);
    - all-NaN feature videos and 1-frame videos are warned about, naming them.
    """
    found = check_data(cfg, root, ("train",))
    for key, videos in found.items():
        shortest_path, shortest = min(videos, key=lambda pv: pv[1].length)
        where = f"in {shortest_path} (video {shortest.name!r}, {shortest.length} frames)"
        if cfg.data.num_steps > shortest.length:
            raise errors.DataError(
                f"data.num_steps={cfg.data.num_steps} context frames do not fit the shortest "
                f"video of {key}, {where}; lower --config.data.num_steps or drop the video"
            )
        span = (cfg.data.num_steps - 1) * cfg.data.frame_stride + 1
        if span > shortest.length and not cfg.data.frame_stride_fraction:
            logging.warning(
                "the context of data.num_steps=%d x data.frame_stride=%d spans %d frames, more "
                "than the shortest video of %s, %s; its first context frames repeat frame 0",
                cfg.data.num_steps,
                cfg.data.frame_stride,
                span,
                key,
                where,
            )
        for path, v in videos:
            if v.all_nan:
                logging.warning(
                    "video %r in %s has only NaN features; it trains on zeros", v.name, path
                )
            if v.length < 2:
                logging.warning("video %r in %s has %d frame(s)", v.name, path, v.length)
        if cfg.training_algo == "supervised":
            _check_class_ids(cfg, root, key, videos)


def _check_class_ids(cfg, root: str, key: str, videos) -> None:
    num_classes = int(cfg.classification.num_classes)
    top_path, top = max(videos, key=lambda pv: pv[1].max_label)
    where = f"in {top_path} (video {top.name!r})"
    if num_classes and top.max_label >= num_classes:
        raise errors.DataError(
            f"phase id {top.max_label} >= classification.num_classes={num_classes}, {where}; fix "
            "the labels or --config.classification.num_classes"
        )
    if num_classes or dataset_num_phases(root, key.split("/")[0]) is not None:
        return
    ids = set().union(*(v.label_ids for _, v in videos))
    missing = sorted(set(range(top.max_label + 1)) - ids)
    if missing and top.max_label >= 1:
        raise errors.DataError(
            f"phase ids of {key} skip {missing[:5]}{' ...' if len(missing) > 5 else ''} but go up "
            f"to {top.max_label}, {where}; a head of {top.max_label + 1} classes would be trained."
            " Fix the labels, or set --config.classification.num_classes"
        )


def preflight(cfg: ml_collections.ConfigDict) -> str:
    """Everything checkable before a training run writes to its logdir: config values, data.

    Also removes the leftovers of a killed run in `cfg.logdir` (`remove_leftovers`).

    Returns:
      the records root (`tcc.datasets.data_root.resolve`; the embedded data is made here).
    """
    from tcc.datasets import data_root  # noqa: PLC0415

    check_config(cfg)
    root = data_root.resolve(cfg)
    if cfg.data.source == "records":
        check_training_data(cfg, root)
    remove_leftovers(cfg.logdir)
    return root


def load_run_config(logdir: str | None, overrides: list[str]):
    """The config a training run saved in `logdir`, with overrides; checks `--logdir`."""
    if not logdir:
        raise errors.BadValueError(
            "no run to work on: --logdir is missing, on the command line; pass "
            "--logdir=<the training run directory>"
        )
    from tcc import config as config_lib  # noqa: PLC0415

    return config_lib.load_saved(logdir, overrides)


def check_eval_inputs(cfg, splits: list[str]) -> str:
    """`checks.check_config` and `checks.check_data` on `splits`; returns the records root."""
    from tcc.datasets import data_root  # noqa: PLC0415

    check_config(cfg)
    root = data_root.resolve(cfg)
    if cfg.data.source == "records":
        check_data(cfg, root, splits)
    return root


def checkpoint_path(logdir: str, path: str | None) -> str:
    """`path` if given and present, else the newest checkpoint of `logdir`.

    Raises:
      errors.CheckpointError: naming the missing checkpoint and what exists.
    """
    from tcc.training import checkpoints  # noqa: PLC0415

    newest = checkpoints.latest_checkpoint(logdir)
    if path is None:
        if newest is None:
            raise errors.CheckpointError(
                f"no checkpoint in {checkpoints.checkpoint_dir(logdir)}, of --logdir={logdir}; "
                "train first (python -m tcc.train --logdir=...)"
            )
        return newest
    if not os.path.exists(f"{path}.index"):
        raise errors.CheckpointError(
            f"checkpoint {path} does not exist (no {path}.index), from --checkpoint; pass a "
            f"checkpoint prefix such as {newest or '<logdir>/checkpoints/ckpt-N'}"
        )
    return path


def remove_leftovers(logdir: str) -> list[str]:
    """Removes what a killed run leaves in `logdir`: `checkpoints/ckpt-N_temp/`, `*.tmp` files.

    A checkpoint save writes `ckpt-N_temp/` and renames it when complete, so such a folder is
    never a usable checkpoint. Returns the removed paths.
    """
    removed = []
    for path in glob.glob(os.path.join(logdir, "checkpoints", "*_temp")) + glob.glob(
        os.path.join(logdir, "*.tmp")
    ):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
        removed.append(path)
    if removed:
        logging.info("Removed leftovers of an interrupted run: %s", ", ".join(removed))
    return removed
