"""Checkpoints: save every N steps / on exit, keep the last K, resume, refuse a conflicting config.

Checkpoints are TensorFlow checkpoints (`tf.train.Checkpoint`) of every model variable, every
optimizer variable and the step, managed by `tf.train.CheckpointManager` in
`<logdir>/checkpoints/`. Variables are listed explicitly, keyed by their position in
`model.weights` / `optimizer.variables` (`model/0012`), because TensorFlow's object-graph tracking
of Keras 3 models misses most of their weights, and Keras' automatic layer names (`dense_3`)
depend on how many layers a process created before. Shapes are checked on restore. The manager
writes the data files first and only then updates the `checkpoint` index file, itself replaced
atomically; so a reader that follows the index (resume, `tcc.evaluate --continuous_eval`) never sees
a partially written checkpoint.
"""

from __future__ import annotations

import os

import ml_collections
import tensorflow as tf
from absl import logging

from tcc import config as config_lib

# Keys that may change when a run is resumed; any other difference is refused.
RESUMABLE_KEYS = (
    "logdir",
    "train.max_iters",
    "train.visualize_interval",
    "worker_heartbeat_timeout",
    "checkpoint.",
    "logging.",
    "eval.",
    "data.num_parallel_calls",
    "data.num_prefetch_batches",
    "data.shuffle_queue_size",
    "data.cache_dir",
    "data.path",
)


class ConfigConflictError(ValueError):
    """The logdir holds a run whose config differs from the requested one."""


def checkpoint_dir(logdir: str) -> str:
    """Where the checkpoints of a run live: `<logdir>/checkpoints`."""
    return os.path.join(logdir, "checkpoints")


def latest_checkpoint(logdir: str) -> str | None:
    """The path prefix of the newest complete checkpoint in `logdir`, or None."""
    return tf.train.latest_checkpoint(checkpoint_dir(logdir))


def latest_step(logdir: str) -> int:
    """The step of the newest complete checkpoint in `logdir` (0 when there is none)."""
    path = latest_checkpoint(logdir)
    return int(path.rsplit("-", 1)[1]) if path else 0


def check_resumable_config(cfg: ml_collections.ConfigDict, logdir: str) -> None:
    """Refuses to resume a run in `logdir` under a config that changes what is being trained.

    Raises:
      ConfigConflictError: listing the differing keys and what to do.
    """
    if not os.path.isfile(os.path.join(logdir, "config.json")):
        return
    saved = config_lib.load_saved(logdir)
    diffs = [
        d for d in config_lib.diff(saved, cfg) if not any(d.startswith(k) for k in RESUMABLE_KEYS)
    ]
    if diffs:
        raise ConfigConflictError(
            f"{logdir} holds a run trained with a different config ({'; '.join(diffs[:5])}"
            f"{' ...' if len(diffs) > 5 else ''}). Use a new --logdir, or resume with the same "
            "config (only train.max_iters, logging.*, checkpoint.*, eval.* and data loading "
            "options may change)."
        )


def variable_dict(variables) -> dict[str, object]:
    """Keys each variable by its position, e.g. `0003`."""
    return {f"{i:04d}": v for i, v in enumerate(variables)}


def model_checkpoint(model) -> tf.train.Checkpoint:
    """A checkpoint object holding only the model's variables (for evaluation and apps)."""
    return tf.train.Checkpoint(model=variable_dict(model.weights))


def restore_model_weights(model, path: str) -> None:
    """Loads the model variables of a training checkpoint into a built `model`.

    Raises:
      AssertionError: if a model variable is missing from the checkpoint (other architecture).
    """
    status = model_checkpoint(model).restore(path)
    status.expect_partial()
    status.assert_existing_objects_matched()


class Checkpointer:
    """Saves and restores model, optimizer and step.

    Args:
      logdir: the run directory.
      model: the algorithm (a built `keras.Model`).
      optimizer: its optimizer (built: its variables exist).
      max_to_keep: how many recent checkpoints to keep.
      restore_dir: the run directory to resume from, if not `logdir` (a non-chief worker saves
        into a temporary `logdir` but resumes from the chief's).
    """

    def __init__(
        self, logdir: str, model, optimizer, max_to_keep: int = 5, restore_dir: str | None = None
    ):
        self.restore_dir = restore_dir
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.checkpoint = tf.train.Checkpoint(
            model=variable_dict(model.weights),
            optimizer=variable_dict(optimizer.variables),
            step=self.step,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint,
            checkpoint_dir(logdir),
            max_to_keep=max_to_keep,
            checkpoint_name="ckpt",
        )

    def restore_latest(self) -> int:
        """Restores the newest checkpoint if there is one; returns the step to continue from."""
        path = self.manager.latest_checkpoint
        if self.restore_dir is not None:
            path = latest_checkpoint(self.restore_dir)
        if path is None:
            return 0
        self.checkpoint.restore(path).assert_consumed()
        logging.info("Resumed from %s (step %d).", path, int(self.step))
        return int(self.step)

    def save(self, step: int) -> str:
        """Writes a checkpoint for `step` (a no-op if that step is already saved)."""
        self.step.assign(step)
        latest = self.manager.latest_checkpoint
        if latest is not None and latest.endswith(f"-{step}"):
            return latest
        path = self.manager.save(checkpoint_number=step)
        logging.info("Saved checkpoint %s.", path)
        return path
