"""The training loop: distributed steps, checkpoints, resume, summaries, progress, NaN guard.

`train(cfg)` runs the algorithm `cfg.training_algo` for `cfg.train.max_iters` steps under the
strategy `cfg.strategy`, in `cfg.logdir`:

- resumes from the newest checkpoint in the logdir (same step, same optimizer state), refusing a
  config that changes what is trained;
- saves a checkpoint every `checkpoint.save_interval` steps, at the end, and when interrupted by
  SIGTERM or Ctrl-C (then exits; the same command resumes);
- stops with `NonFiniteLossError` when the loss or the gradient norm is NaN/Inf, and with
  `DivergenceError` when one explodes (`tcc.training.divergence`: > `train.divergence_factor` x its
  recent median), without saving, so the newest checkpoint is the last good one;
- writes TensorBoard scalars (every loss term, lr, gradient norm, frames/s) to `<logdir>/train`
  every `logging.report_interval` steps, with a progress line (rate and ETA from the step rate,
  `tcc.training.progress`), the resolved config once, and an alignment picture of two training
  videos every `train.visualize_interval` steps;
- evaluates a val subset every `eval.interval` steps and at the end (`tcc.training.validation`);
- records what every session runs with (TensorFlow version, thread counts) in
  `<logdir>/sessions.jsonl` and warns when a resume changes them (`tcc.training.sessions`);
- returns at once when the logdir's run already reached `train.max_iters`;
- under `multi_worker_mirrored` only the chief writes into the logdir, every worker resumes from
  it, and a lost worker stops the others with `workers.WorkerLostError` (`tcc.training.workers`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
from collections.abc import Callable

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tcc import config as config_lib
from tcc.algos import build_algorithm
from tcc.datasets import data_root, metadata, pipeline
from tcc.training import (
    checkpoints,
    divergence,
    progress,
    sessions,
    summaries,
    validation,
    workers,
)
from tcc.training.optimizers import build_optimizer
from tcc.training.precision import set_precision
from tcc.training.strategy import build_strategy


class NonFiniteLossError(RuntimeError):
    """The loss or the gradients became NaN or Inf."""


class DivergenceError(NonFiniteLossError):
    """The loss or the gradient norm exploded (`tcc.training.divergence`)."""


class TrainingInterrupted(RuntimeError):
    """Training stopped on SIGTERM / SIGINT after saving a checkpoint."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


@dataclasses.dataclass
class TrainResult:
    """What a finished `train` call did."""

    logdir: str
    start_step: int
    final_step: int
    last_losses: dict[str, float]
    frames_per_second: float
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)  # every step


class _StopFlag:
    """Records SIGTERM / SIGINT so the loop can save and stop between steps."""

    def __init__(self):
        self.signum = 0
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals cannot be caught here
                pass
        return self

    def _handle(self, signum, frame):
        del frame
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def prepare_config(cfg: ml_collections.ConfigDict, root: str) -> ml_collections.ConfigDict:
    """Fills values the data decides (the number of phases for the supervised baseline)."""
    if cfg.training_algo == "supervised" and cfg.classification.num_classes == 0:
        cfg.classification.num_classes = metadata.num_phases(
            root, cfg.datasets, cfg.data.input_kind
        )
    return cfg


def build_model_and_optimizer(
    cfg: ml_collections.ConfigDict, strategy: tf.distribute.Strategy, feature_dim: int | None = None
):
    """Creates and builds the algorithm and its optimizer inside the strategy's scope."""
    with strategy.scope():
        model = build_algorithm(cfg)
        model.build_with_dummy_batch(cfg.train.num_frames, feature_dim=feature_dim)
        optimizer = build_optimizer(cfg.optimizer, max_iters=cfg.train.max_iters)
        model.compile(optimizer=optimizer)
        model.optimizer.build(model.trainable_variables)
        if cfg.jit_compile:
            model.enable_xla()
    return model, model.optimizer


def _distributed_step(model, strategy):
    @tf.function
    def step(iterator):
        batch = next(iterator)
        out = strategy.run(model.train_step, args=(batch,))
        return {
            k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in out.items()
        }

    return step


def train(
    cfg: ml_collections.ConfigDict,
    preflight: Callable[[ml_collections.ConfigDict], str] | None = None,
) -> TrainResult:
    """Trains `cfg.training_algo` as configured; see the module docstring.

    Args:
      cfg: the resolved config (its values checked by the caller: the entry points run
        `tcc.checks.check_config` first).
      preflight: `preflight(cfg) -> records root`, the checks of the data before anything is
        written to the logdir (the entry points pass `tcc.checks.preflight`); it runs after the
        strategy is built, because multi-worker collectives must be configured before
        TensorFlow's context starts, which reading the data does. None: the data root only.
    """
    logdir = cfg.logdir
    strategy = build_strategy(cfg.strategy, cfg.tpu, cfg.worker_heartbeat_timeout)
    root = preflight(cfg) if preflight is not None else data_root.resolve(cfg)
    keras.utils.set_random_seed(cfg.seed)
    set_precision(cfg.mixed_precision)
    cfg = prepare_config(cfg, root)
    checkpoints.check_resumable_config(cfg, logdir)
    done = checkpoints.latest_step(logdir)
    if done >= cfg.train.max_iters:  # complete: nothing to build; tcc.train says how to extend it
        return TrainResult(logdir, done, done, {}, 0.0)
    global_batch = cfg.train.batch_size
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise ValueError(
            f"train.batch_size={global_batch} must be divisible by the {replicas} replicas"
        )
    role = workers.worker_role(strategy, logdir)
    try:
        return _train(cfg, strategy, root, role)
    finally:
        role.cleanup()


def _train(cfg, strategy, root: str, role: workers.WorkerRole) -> TrainResult:
    """`train` after the checks, in the process's role (the chief writes the logdir)."""
    logdir, global_batch = cfg.logdir, cfg.train.batch_size
    if role.is_chief:  # only the chief writes into the logdir (see tcc.training.workers)
        config_lib.save(cfg, logdir)
    feature_dim = None
    if cfg.data.input_kind == "features":
        local = pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(cfg), batch_size=1, seed=cfg.seed, root=root
        )
        feature_dim = local.element_spec["frames"].shape[-1]
    model, optimizer = build_model_and_optimizer(cfg, strategy, feature_dim)
    ckpt = checkpoints.Checkpointer(
        role.write_dir, model, optimizer, cfg.checkpoint.max_to_keep, restore_dir=logdir
    )
    start = ckpt.restore_latest()
    if role.is_chief:  # what this session runs with: thread counts decide the last bits
        warning = sessions.record(logdir, sessions.current(start, strategy.num_replicas_in_sync))
        if warning:
            logging.warning(warning)
    # The input stream continues where it was at `start` (each pipeline serves its replicas).
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(cfg),
            batch_size=ctx.get_per_replica_batch_size(global_batch),
            input_context=ctx,
            seed=cfg.seed,
            root=root,
            start_batch=start * (ctx.num_replicas_in_sync // ctx.num_input_pipelines),
        )
    )
    writer = tf.summary.create_noop_writer()
    if role.is_chief:
        writer = tf.summary.create_file_writer(os.path.join(logdir, "train"))
    frames_per_step = global_batch * cfg.train.num_frames * cfg.data.num_steps
    logging.info(
        "Training %s on %s for %d steps (from step %d), %d replica(s), logdir %s (%s).",
        cfg.training_algo,
        ", ".join(cfg.datasets),
        cfg.train.max_iters,
        start,
        strategy.num_replicas_in_sync,
        logdir,
        role.description + (", chief" if role.is_chief else ", writes to a temporary folder"),
    )
    summaries.write_config(writer, cfg, start)
    run = _Run(cfg, model, optimizer, ckpt, writer, root, frames_per_step, role)
    logging.info("Tracing the training step (the first step takes longer) ...")
    return run.loop(iter(dataset), _distributed_step(model, strategy), start)


class _Run:
    """State of one training run between steps (timing, summaries, saving)."""

    def __init__(self, cfg, model, optimizer, ckpt, writer, root, frames_per_step, role):
        self.cfg, self.model, self.optimizer, self.ckpt = cfg, model, optimizer, ckpt
        self.writer, self.root, self.frames_per_step = writer, root, frames_per_step
        self._viz_iter = None
        self.fps = 0.0
        self.role = role
        self.guard = divergence.DivergenceGuard(
            cfg.train.divergence_factor, cfg.train.divergence_window
        )
        saved = ckpt.run_state.numpy().decode()
        if saved:
            self.guard.load_state(json.loads(saved).get("divergence", {}))
        self.timer = progress.StepTimer()
        # Not with several workers: the chief alone would run the model while the others, done or
        # stepping on, wait in collectives (use `tcc.evaluate --continuous_eval` beside them).
        validate = cfg.eval.interval > 0 and role.is_chief and not role.multi_worker
        if cfg.eval.interval > 0 and role.multi_worker and role.is_chief:
            logging.info(
                "No validation while training with several workers; run `python -m "
                "tcc.evaluate --continuous_eval --logdir=%s` beside them.",
                cfg.logdir,
            )
        self.validator = validation.Validator(cfg, model, root) if validate else None
        if self.validator:
            validation.log_plan(cfg, self.validator)

    def loop(self, iterator, step_fn, start: int) -> TrainResult:
        cfg = self.cfg
        max_iters = cfg.train.max_iters
        values: dict[str, float] = {}
        history: list[dict[str, float]] = []
        step = start
        with _StopFlag() as stop:
            while step < max_iters:
                with workers.step_guard(self.role, cfg.logdir, step):
                    out = step_fn(iterator)
                    values = {k: float(v) for k, v in out.items()}
                history.append(values)
                step += 1
                self.timer.step_done()
                self._check_finite(values, step)
                if step % cfg.logging.report_interval == 0 or step == max_iters:
                    self._report(step, values, self.timer.window_rate())
                visualize = cfg.train.visualize_interval and self.role.is_chief
                if visualize and step % cfg.train.visualize_interval == 0:
                    self._visualize(step)
                if self.validator and validation.is_due(cfg, step):
                    with self.timer.paused():
                        self.validator(step, cfg.logdir)
                if step % cfg.checkpoint.save_interval == 0:
                    self._save(step)
                if stop.signum:
                    self._save(step)
                    self.writer.flush()
                    raise TrainingInterrupted(
                        f"interrupted by signal {stop.signum} at step {step}; checkpoint saved "
                        f"in {self.cfg.logdir}. Run the same command again to resume.",
                        stop.signum,
                    )
        self._save(step)
        self.writer.flush()
        return TrainResult(cfg.logdir, start, step, values, self.fps, history)

    def _save(self, step: int) -> None:
        """Checkpoints the weights, optimizer, random streams and the divergence guard's history."""
        self.ckpt.run_state.assign(json.dumps({"divergence": self.guard.state()}))
        self.ckpt.save(step)

    def _check_finite(self, values: dict[str, float], step: int) -> None:
        keys = ("loss", "grad_norm")
        if isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer):
            keys = ("loss",)  # overflowing float16 gradients are expected: the step is skipped
        bad = [k for k in keys if not math.isfinite(values.get(k, 0.0))]
        exploded = None if bad else self.guard.check(values)
        if bad or exploded:
            what = f"{' and '.join(bad)} became {values[bad[0]]}" if bad else exploded.describe()
            last = self.ckpt.manager.latest_checkpoint or "none (no checkpoint was saved yet)"
            raise (NonFiniteLossError if bad else DivergenceError)(
                f"{what} at step {step}; training stopped without saving. Last good checkpoint: "
                f"{last}. Try a lower optimizer.lr.initial_lr, optimizer.clipnorm > 0, or check "
                "the input data" + ("." if bad else " (train.divergence_factor=0 disables this).")
            )

    def _report(self, step: int, values: dict[str, float], steps_per_sec: float | None) -> None:
        """Logs a progress line and writes the scalars; `steps_per_sec` None = not measured yet."""
        lr = float(np.asarray(keras.ops.convert_to_numpy(self.optimizer.learning_rate)))
        eta = self.timer.eta_seconds(self.cfg.train.max_iters - step)
        if eta is not None and self.validator:
            eta += self.validator.remaining_seconds(step)
        terms = " ".join(f"{k}={v:.4f}" for k, v in values.items() if k != "grad_norm")
        speed = f"first step {self.timer.first_step_seconds or 0:.1f} s (tracing)"
        scalars = {f"loss/{k}": v for k, v in values.items() if k != "grad_norm"}
        scalars.update({"grad_norm": values.get("grad_norm", 0.0), "learning_rate": lr})
        if steps_per_sec is not None:
            self.fps = steps_per_sec * self.frames_per_step
            speed = f"{steps_per_sec:.2f} steps/s {self.fps:.0f} frames/s"
            scalars.update({"frames_per_second": self.fps, "steps_per_second": steps_per_sec})
        logging.info(
            "step %d/%d %s grad_norm=%.3g lr=%.3g | %s | ETA %s",
            step,
            self.cfg.train.max_iters,
            terms,
            values.get("grad_norm", 0.0),
            lr,
            speed,
            progress.format_seconds(eta if step < self.cfg.train.max_iters else 0.0),
        )
        summaries.write_scalars(self.writer, step, scalars)

    def _visualize(self, step: int) -> None:
        if self._viz_iter is None:
            viz = pipeline.make_train_dataset(
                pipeline.InputOptions.from_config(self.cfg),
                batch_size=2,
                seed=self.cfg.seed + 1,
                root=self.root,
            )
            self._viz_iter = iter(viz)
        batch = next(self._viz_iter)
        embs = self.model(batch, training=False).numpy()
        names = [n.decode() for n in batch["names"].numpy()]
        frames = batch["steps"].numpy()
        summaries.write_alignment_image(self.writer, step, embs, names, frames)
