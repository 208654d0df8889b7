"""Checkpoints: save every N steps / on exit, keep the last K, resume, refuse a conflicting config.

Checkpoints are TensorFlow checkpoints (`tf.train.Checkpoint`) of every model variable, every
optimizer variable, the state of every random seed generator of the model (dropout; `rng/`) and
the step, managed by `tf.train.CheckpointManager` in
`<logdir>/checkpoints/`. Variables are listed explicitly, keyed by their position in
`model.weights` / `optimizer.variables` (`model/0012`), because TensorFlow's object-graph tracking
of Keras 3 models misses most of their weights, and Keras' automatic layer names (`dense_3`)
depend on how many layers a process created before. Shapes are checked on restore. The manager
writes the data files first and only then updates the `checkpoint` index file, itself replaced
atomically; so a reader that follows the index (resume, `tcc.evaluate --continuous_eval`) never sees
a partially written checkpoint.

Everything random in training is a function of these: the input stream is a function of (seed,
step) (`tcc.datasets.pipeline`), the losses draw with stateless seeds from the step
(`Algorithm.loss_seed`) and dropout from the saved seed-generator states. So on one device,
N steps, a resume and M more steps give the same weights as N + M steps straight. A checkpoint
written before the seed-generator states were saved still resumes, with a warning that dropout
then restarts its random stream.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator

import ml_collections
import tensorflow as tf
from absl import logging

from tcc import config as config_lib
from tcc import config_keys, errors
from tcc.errors import UserError


class ConfigConflictError(UserError, ValueError):
    """The logdir holds a run whose config differs from the requested one."""


class CheckpointGoneError(FileNotFoundError):
    """A checkpoint was removed (by training's rotation) before it could be read."""


def checkpoint_dir(logdir: str) -> str:
    """Where the checkpoints of a run live: `<logdir>/checkpoints`."""
    return os.path.join(logdir, "checkpoints")


def latest_checkpoint(logdir: str) -> str | None:
    """The path prefix of the newest complete checkpoint in `logdir`, or None."""
    return tf.train.latest_checkpoint(checkpoint_dir(logdir))


def _checkpoint_files(path: str) -> list[str]:
    """The files of checkpoint `path` (its `.index` and every `.data-i-of-n` shard).

    Raises:
      CheckpointGoneError: if any of them is missing.
    """
    files = [path + ".index"]
    shard = tf.io.gfile.glob(path + ".data-00000-of-*")
    match = re.search(r"-of-(\d+)$", shard[0]) if shard else None
    if match:
        total = int(match.group(1))
        files += [f"{path}.data-{i:05d}-of-{total:05d}" for i in range(total)]
    missing = [f for f in files if not tf.io.gfile.exists(f)]
    if not match or missing:
        raise CheckpointGoneError(f"checkpoint {path} is gone (missing {missing or 'its data'})")
    return files


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except FileNotFoundError:
        raise
    except OSError:  # no hard links on this file system
        shutil.copyfile(source, target)


@contextlib.contextmanager
def pinned(path: str, scratch_dir: str) -> Iterator[str]:
    """Keeps the files of checkpoint `path` readable while a reader uses them.

    Training deletes old checkpoints as it saves new ones. This hard-links the checkpoint's files
    into a fresh folder under `scratch_dir` (on the same file system), so a deletion of the
    originals cannot pull them away mid-read, and yields the pinned path prefix (same file name,
    so the step still reads from it). Falls back to copying where hard links are not supported,
    and to the original path for non-local file systems (`gs://...`). The folder is removed on
    exit.

    Raises:
      CheckpointGoneError: if the checkpoint was already (partly) removed.
    """
    if "://" in path:
        _checkpoint_files(path)
        yield path
        return
    os.makedirs(scratch_dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=".pinned-", dir=scratch_dir)
    try:
        for source in _checkpoint_files(path):
            target = os.path.join(folder, os.path.basename(source))
            try:
                _link_or_copy(source, target)
            except FileNotFoundError:
                raise CheckpointGoneError(
                    f"checkpoint {path} was removed while it was being pinned"
                ) from None
        yield os.path.join(folder, os.path.basename(path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def latest_step(logdir: str) -> int:
    """The step of the newest complete checkpoint in `logdir` (0 when there is none)."""
    path = latest_checkpoint(logdir)
    return int(path.rsplit("-", 1)[1]) if path else 0


def check_resumable_config(cfg: ml_collections.ConfigDict, logdir: str) -> None:
    """Refuses to resume a run in `logdir` under a config that changes what is being trained.

    A resume may change the keys of `config_keys.RESUMABLE_CLASSES` (run control, the step budget,
    where the data is read from); any other difference is refused.

    Only a run with a checkpoint is protected: the `config.json` of a run that failed before its
    first checkpoint is simply replaced.

    Raises:
      ConfigConflictError: listing the differing keys and what to do.
    """
    if not os.path.isfile(os.path.join(logdir, "config.json")) or latest_checkpoint(logdir) is None:
        return  # nothing trained yet: a failed first run does not pin its config
    diffs = resume_conflicts(config_lib.load_saved(logdir), cfg)
    if diffs:
        raise ConfigConflictError(
            f"{logdir} holds a run trained with a different config ({'; '.join(diffs[:5])}"
            f"{' ...' if len(diffs) > 5 else ''}). Use a new --logdir, or resume with the same "
            "config (only train.max_iters, logging.*, checkpoint.*, eval.* and data loading "
            "options may change)."
        )


def resume_conflicts(saved: ml_collections.ConfigDict, cfg: ml_collections.ConfigDict) -> list[str]:
    """The differences ('key: a -> b') of `cfg` from a run's saved config that a resume refuses:
    those of keys outside `config_keys.RESUMABLE_CLASSES`."""
    return config_keys.differences(saved, cfg, ignore=config_keys.RESUMABLE_CLASSES)


def variable_dict(variables) -> dict[str, object]:
    """Keys each variable by its position, e.g. `0003`."""
    return {f"{i:04d}": v for i, v in enumerate(variables)}


def seed_states(model) -> list:
    """The state variables of the model's random seed generators (dropout), in a fixed order.

    Keras lists them in `model.variables` but not in `model.weights`.
    """
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def model_checkpoint(model) -> tf.train.Checkpoint:
    """A checkpoint object holding only the model's variables (for evaluation and apps)."""
    return tf.train.Checkpoint(model=variable_dict(model.weights))


def restore_model_weights(model, path: str) -> None:
    """Loads the model variables of a training checkpoint into a built `model`.

    Raises:
      AssertionError: if a model variable is missing from the checkpoint (other architecture).
    """
    with errors.reading_checkpoint(path):
        status = model_checkpoint(model).restore(path)
        status.expect_partial()
        status.assert_existing_objects_matched()


class Checkpointer:
    """Saves and restores model, optimizer, the model's seed-generator states and step.

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
        self._parts = {
            "model": variable_dict(model.weights),
            "optimizer": variable_dict(optimizer.variables),
            "step": self.step,
        }
        self.rng = variable_dict(seed_states(model))
        # Run-control state saved with the weights (JSON; the divergence guard's history).
        self.run_state = tf.Variable("", dtype=tf.string, trainable=False, name="run_state")
        self.checkpoint = tf.train.Checkpoint(**self._parts, rng=self.rng, run=self.run_state)
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
        with errors.reading_checkpoint(path):
            saved = {name for name, _ in tf.train.list_variables(path)}
            parts = dict(self._parts)
            if any(name.startswith("rng/") for name in saved):
                parts["rng"] = self.rng
            elif self.rng:  # an older checkpoint
                logging.warning(
                    "%s holds no random-generator state (written by an older version): "
                    "dropout restarts its random stream, so this resume is not bit-exact.",
                    path,
                )
            if any(name.startswith("run/") for name in saved):
                parts["run"] = self.run_state
            tf.train.Checkpoint(**parts).restore(path).assert_consumed()
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
