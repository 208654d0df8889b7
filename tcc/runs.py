"""A trained run, restored from its logdir: config, algorithm, checkpoint -> an embed function.

The run layer sits above training and evaluation: evaluation and the apps receive only the embed
function it hands out (DESIGN.md, "evaluation needs only an embed function").

  run = runs.open_run(logdir)                  # config.json (+ overrides), newest checkpoint
  embed = run.embed_fn()                       # frames [1, C * num_steps, ...] -> [1, C, D]
  inputs = InputOptions.from_config(run.cfg)   # tcc.datasets.input_options
  split = embed_split(embed, inputs, dataset, "val")  # tcc.evaluation.embed: [T_i, D] per video

`evaluate_checkpoint` / `evaluate_checkpoints` / `follow_checkpoints` are the checkpoint side of
`python -m tcc.evaluate` (one checkpoint, or each new one while training writes them).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tcc import checks, errors
from tcc.algos import build_algorithm
from tcc.datasets import data_root, pipeline
from tcc.evaluation import embed as embed_lib
from tcc.evaluation import runner
from tcc.evaluation.tasks import LossFn
from tcc.training import checkpoints


def checkpoint_step(path: str) -> int:
    """The training step of a checkpoint path such as `.../ckpt-1500`."""
    match = re.search(r"-(\d+)$", path)
    if not match:
        raise ValueError(f"cannot read the step from checkpoint path {path!r}")
    return int(match.group(1))


def restore_model(
    cfg: ml_collections.ConfigDict, checkpoint_path: str, root: str | None = None
) -> keras.Model:
    """Builds the algorithm of `cfg` and loads the model weights of a checkpoint.

    Args:
      cfg: the run's config.
      checkpoint_path: a checkpoint prefix (`<logdir>/checkpoints/ckpt-N`).
      root: the records root; only read for feature inputs (their width sizes the model).

    Raises:
      errors.CheckpointError: a truncated or corrupt checkpoint.
      AssertionError: a checkpoint of another architecture.
    """
    feature_dim = None
    if cfg.data.input_kind == "features":
        root = root or data_root.resolve(cfg)
        spec = pipeline.make_eval_dataset(
            pipeline.InputOptions.from_config(cfg), cfg.datasets[0], "val", root=root
        ).element_spec
        feature_dim = spec["frames"].shape[-1]
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames, feature_dim=feature_dim)
    checkpoints.restore_model_weights(model, checkpoint_path)
    return model


class Run:
    """A trained run: its logdir, config and checkpoint; the model is restored on first use.

    Attributes:
      logdir: the training run directory.
      cfg: its config (`config.json` with overrides).
    """

    def __init__(
        self,
        logdir: str,
        cfg: ml_collections.ConfigDict,
        checkpoint: str | None = None,
        root: str | None = None,
    ):
        """Args: the logdir, its config, a checkpoint (None: the newest), the records root."""
        self.logdir, self.cfg = logdir, cfg
        self._checkpoint, self._root = checkpoint, root
        self._model: keras.Model | None = None
        self._embed: embed_lib.EmbedFn | None = None

    @property
    def checkpoint_path(self) -> str:
        """The checkpoint prefix (the named one, else the newest).

        Raises:
          errors.CheckpointError: no such checkpoint, naming what exists.
        """
        if self._checkpoint is None or not os.path.exists(f"{self._checkpoint}.index"):
            self._checkpoint = checks.checkpoint_path(self.logdir, self._checkpoint)
        return self._checkpoint

    @property
    def step(self) -> int:
        """The training step of the checkpoint."""
        return checkpoint_step(self.checkpoint_path)

    @property
    def model(self) -> keras.Model:
        """The algorithm with the checkpoint's weights (restored once).

        Raises:
          errors.CheckpointError: a missing checkpoint, or one this config cannot restore.
        """
        if self._model is None:
            path = self.checkpoint_path
            # Checkpoint keys include Keras' auto-generated layer names, which count up per
            # process: start from fresh counters so that a second run restored in the same
            # process (tests, notebooks, examples/gallery.py) builds the names training did.
            keras.backend.clear_session()
            try:
                self._model = restore_model(self.cfg, path, self._root)
            except errors.UserError:
                raise
            except (AssertionError, ValueError, OSError, tf.errors.OpError) as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                raise errors.CheckpointError(
                    f"cannot restore {path} with the config of {self.logdir} ({first}); "
                    "was the checkpoint written by this run?"
                ) from None
        return self._model

    def embed_fn(self) -> embed_lib.EmbedFn:
        """frames [1, C * num_steps, ...] -> float [1, C, D], the model in inference mode."""
        if self._embed is None:
            self._embed = embed_lib.model_embed_fn(self.model)
        return self._embed


def open_run(
    logdir: str | None,
    overrides: Sequence[str] = (),
    checkpoint: str | None = None,
    root: str | None = None,
) -> Run:
    """The run trained in `logdir`: its saved config with `overrides`; nothing restored yet.

    Args:
      logdir: the training run directory (holds `config.json` and `checkpoints/`).
      overrides: `key=value` config overrides (e.g. evaluation options).
      checkpoint: a checkpoint prefix; None for the newest.
      root: the records root (default: the config's, resolved when needed).

    Raises:
      errors.BadValueError: no logdir given, or it does not exist.
      errors.UserError: a missing or bad `config.json` (from `tcc.config.load_saved`).
    """
    if logdir and not os.path.isdir(logdir):
        raise errors.BadValueError(f"--logdir={logdir} does not exist; train first or fix the path")
    cfg = checks.load_run_config(logdir, list(overrides))
    return Run(logdir, cfg, checkpoint, root)


def algo_loss_fn(model: keras.Model, cfg: ml_collections.ConfigDict, root: str) -> LossFn:
    """(dataset, split) -> the algorithm's loss on `cfg.eval.val_iters` batches, no update."""

    def algo_loss(dataset: str, split: str) -> float:
        ds = pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(cfg),
            split=split,
            batch_size=cfg.train.batch_size,
            seed=cfg.seed,
            root=root,
            datasets=[dataset],
            augment=False,
        )
        values = [
            float(model.test_step(batch)["loss"])
            for batch, _ in zip(ds, range(int(cfg.eval.val_iters)), strict=False)
        ]
        return float(np.mean(values))

    return algo_loss


def evaluate_checkpoint(
    cfg: ml_collections.ConfigDict,
    logdir: str,
    checkpoint_path: str,
    root: str | None = None,
    projector: bool = False,
) -> list[dict]:
    """Restores one checkpoint and evaluates it (`tcc.evaluation.runner.evaluate`).

    Writes into `<logdir>/eval` (metrics.jsonl, TensorBoard, few-shot PNGs) and, with
    `projector`, `<logdir>/projector/<dataset>`.

    Returns:
      The records written: `{"step", "dataset", "split", "metrics"}`.
    """
    root = root or data_root.resolve(cfg)
    model = restore_model(cfg, checkpoint_path, root)
    return runner.evaluate(
        embed_lib.model_embed_fn(model),
        cfg,
        os.path.join(logdir, "eval"),
        checkpoint_step(checkpoint_path),
        root,
        algo_loss=algo_loss_fn(model, cfg, root),
        projector_dir=os.path.join(logdir, "projector") if projector else None,
    )


def follow_checkpoints(
    logdir: str, last_step: int, timeout: float = 3600.0, poll_seconds: float = 1.0
) -> Iterator[str]:
    """Yields the newest complete checkpoint of a run each time there is a newer one.

    Reads only the checkpoint index file (`<logdir>/checkpoints/checkpoint`), which training
    replaces atomically after a checkpoint's files are completely written, so a half-written
    checkpoint is never yielded. When several checkpoints appeared since the last one yielded
    (evaluation is slower than training), it moves to the newest and logs the ones it skips. Stops
    after yielding one at or past `last_step`, or after `timeout` seconds without a new one.
    """
    directory = checkpoints.checkpoint_dir(logdir)
    done = -1
    deadline = time.monotonic() + timeout
    while True:
        state = tf.train.get_checkpoint_state(directory)
        newest = state.model_checkpoint_path if state else ""
        if newest and checkpoint_step(newest) > done:
            step = checkpoint_step(newest)
            skipped = [
                os.path.basename(p)
                for p in state.all_model_checkpoint_paths
                if done < checkpoint_step(p) < step
            ]
            if skipped:
                logging.warning(
                    "Skipping %s: a newer checkpoint exists; evaluating the newest, %s.",
                    ", ".join(skipped),
                    os.path.basename(newest),
                )
            yield newest
            done = step
            if step >= last_step:
                return
            deadline = time.monotonic() + timeout
            continue
        if time.monotonic() >= deadline:
            logging.warning(
                "No new checkpoint in %s for %.0f s; stopping (training may have stopped).",
                directory,
                timeout,
            )
            return
        time.sleep(poll_seconds)


def evaluate_checkpoints(
    cfg: ml_collections.ConfigDict,
    logdir: str,
    paths: Iterable[str],
    root: str | None = None,
    projector: bool = False,
) -> list[dict]:
    """`evaluate_checkpoint` on each of `paths` (e.g. `follow_checkpoints`), safe beside training.

    Each checkpoint is pinned (`tcc.training.checkpoints.pinned`) while it is read, so the
    rotation of a concurrent training cannot remove it mid-read; one already removed is skipped
    with a warning, and the next path (the newest, when following) is evaluated instead.

    Returns:
      The records of every evaluated checkpoint.
    """
    records = []
    scratch = os.path.join(logdir, "eval")
    for path in paths:
        try:
            with checkpoints.pinned(path, scratch) as readable:
                logging.info("Evaluating %s", path)
                try:
                    records.extend(
                        evaluate_checkpoint(cfg, logdir, readable, root=root, projector=projector)
                    )
                except errors.CheckpointError as e:  # name the user's checkpoint, not the pin
                    raise errors.CheckpointError(str(e).replace(readable, path)) from e
        except checkpoints.CheckpointGoneError:
            logging.warning(
                "Skipped %s: training's checkpoint rotation removed it before it could be read; "
                "moving on to the newest checkpoint.",
                path,
            )
    return records
