"""Learning-rate schedules `fixed`, `exp_decay`, `manual` and `poly`, each with linear warmup.

The schedule is a serialisable `keras.optimizers.schedules.LearningRateSchedule`: the optimizer
calls it with its own iteration counter, so the learning rate is part of the optimizer state and
is restored with it from a checkpoint.

Formulas (step `s`, float; `lr0 = optimizer.lr.initial_lr`):

  fixed:      lr0
  exp_decay:  lr0 * exp_decay_rate ** (s / exp_decay_steps)      (continuous; floor() if staircase)
  manual:     lr0 * manual_lr_decay_rate ** k,  k = number of boundaries b with s >= b
  poly:       (lr0 - poly_end_lr) * (1 - min(s, max_iters) / max_iters) ** poly_power + poly_end_lr

Warmup (`num_warmup_steps = W > 0`) multiplies the value above by `min(s / W, 1)`: the learning rate
starts at exactly 0 at step 0 (as in the original TCC code; the very first update therefore moves
no weight, but does update Adam's moment estimates) and reaches the schedule's own value at step W,
so the curve is continuous. The original ramped towards `initial_lr` instead and jumped to the
decayed value at the end of warmup; the two agree for `fixed`.

Differences from the original TCC code, which called TF1 functions that no longer exist in TF 2:
its `exp_decay` was a staircase (available here with `staircase=True`), and `poly` always decayed
to 0 with power 1 (here `poly_end_lr` and `poly_power`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

ConfigDict = Any  # an ml_collections.ConfigDict sub-tree such as `cfg.optimizer.lr`

DECAY_TYPES = ("fixed", "exp_decay", "manual", "poly")


@keras.saving.register_keras_serializable(package="tcc")
class WarmupDecaySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """One of the decay types of `DECAY_TYPES` with optional linear warmup (see module docstring).

    Args:
      initial_lr: learning rate at the end of warmup for `fixed`; the start of the decay otherwise.
      decay_type: one of `DECAY_TYPES`.
      num_warmup_steps: steps of linear warmup from 0; 0 disables warmup.
      exp_decay_rate: `exp_decay` factor per `exp_decay_steps` steps, in (0, 1].
      exp_decay_steps: `exp_decay` period in steps, > 0.
      manual_lr_step_boundaries: `manual` steps at which the rate is multiplied again; strictly
        increasing, >= 0.
      manual_lr_decay_rate: `manual` factor applied at each boundary, > 0.
      poly_end_lr: `poly` learning rate reached at `poly_decay_steps` and kept afterwards.
      poly_power: `poly` exponent, > 0.
      poly_decay_steps: `poly` length in steps (the training length), > 0 for `poly`.
      staircase: `exp_decay` only: decay in whole periods (`floor(s / exp_decay_steps)`).
      name: name scope of the computation.

    Raises:
      ValueError: for an unknown `decay_type` or an out-of-range parameter of the chosen type.
    """

    def __init__(
        self,
        initial_lr: float,
        decay_type: str = "fixed",
        num_warmup_steps: int = 0,
        exp_decay_rate: float = 0.97,
        exp_decay_steps: int = 1000,
        manual_lr_step_boundaries: Sequence[int] = (),
        manual_lr_decay_rate: float = 0.1,
        poly_end_lr: float = 0.0,
        poly_power: float = 1.0,
        poly_decay_steps: int = 0,
        staircase: bool = False,
        name: str = "warmup_decay",
    ):
        super().__init__()
        self.initial_lr = float(initial_lr)
        self.decay_type = decay_type
        self.num_warmup_steps = int(num_warmup_steps)
        self.exp_decay_rate = float(exp_decay_rate)
        self.exp_decay_steps = int(exp_decay_steps)
        self.manual_lr_step_boundaries = [int(b) for b in manual_lr_step_boundaries]
        self.manual_lr_decay_rate = float(manual_lr_decay_rate)
        self.poly_end_lr = float(poly_end_lr)
        self.poly_power = float(poly_power)
        self.poly_decay_steps = int(poly_decay_steps)
        self.staircase = bool(staircase)
        self.name = name
        self._validate()

    def _validate(self) -> None:
        checks = [
            (self.decay_type in DECAY_TYPES, "decay_type", f"one of {', '.join(DECAY_TYPES)}"),
            (self.initial_lr >= 0, "initial_lr", ">= 0"),
            (self.num_warmup_steps >= 0, "num_warmup_steps", ">= 0 (0 = no warmup)"),
        ]
        if self.decay_type == "exp_decay":
            checks += [
                (0 < self.exp_decay_rate <= 1, "exp_decay_rate", "in (0, 1]"),
                (self.exp_decay_steps > 0, "exp_decay_steps", "> 0"),
            ]
        elif self.decay_type == "manual":
            bounds = self.manual_lr_step_boundaries
            increasing = all(a < b for a, b in zip(bounds[:-1], bounds[1:], strict=True))
            checks += [
                (
                    increasing and all(b >= 0 for b in bounds),
                    "manual_lr_step_boundaries",
                    "strictly increasing steps >= 0",
                ),
                (self.manual_lr_decay_rate > 0, "manual_lr_decay_rate", "> 0"),
            ]
        elif self.decay_type == "poly":
            checks += [
                (
                    self.poly_decay_steps > 0,
                    "poly_decay_steps",
                    "> 0: pass max_iters=cfg.train.max_iters to build_lr_schedule",
                ),
                (self.poly_power > 0, "poly_power", "> 0"),
                (self.poly_end_lr >= 0, "poly_end_lr", ">= 0"),
            ]
        for ok, key, expected in checks:
            if not ok:
                raise ValueError(
                    f"optimizer.lr.{key} must be {expected} (decay_type={self.decay_type!r}). "
                    f"Received: {key}={getattr(self, key)!r}"
                )

    def __call__(self, step: tf.Tensor | int | float) -> tf.Tensor:
        """The learning rate at `step`.

        Args:
          step: scalar training step, any int or float dtype (the optimizer passes its int64
            iteration counter); a Python number also works. Works inside `tf.function`.

        Returns:
          Scalar float32 tensor.
        """
        with tf.name_scope(self.name):
            step = tf.cast(step, tf.float32)
            decay = {
                "fixed": self._fixed,
                "exp_decay": self._exp_decay,
                "manual": self._manual,
                "poly": self._poly,
            }[self.decay_type]
            lr = decay(step)
            if self.num_warmup_steps > 0:
                lr = lr * tf.minimum(step / float(self.num_warmup_steps), 1.0)
            return tf.cast(lr, tf.float32)

    def _fixed(self, step: tf.Tensor) -> tf.Tensor:
        return tf.fill(tf.shape(step), tf.constant(self.initial_lr, tf.float32))

    def _exp_decay(self, step: tf.Tensor) -> tf.Tensor:
        periods = step / float(self.exp_decay_steps)
        if self.staircase:
            periods = tf.floor(periods)
        return self.initial_lr * tf.pow(tf.constant(self.exp_decay_rate, tf.float32), periods)

    def _manual(self, step: tf.Tensor) -> tf.Tensor:
        bounds = tf.constant(
            self.manual_lr_step_boundaries, tf.float32, shape=[len(self.manual_lr_step_boundaries)]
        )
        passed = tf.reduce_sum(tf.cast(step[..., None] >= bounds, tf.float32), axis=-1)
        return self.initial_lr * tf.pow(tf.constant(self.manual_lr_decay_rate, tf.float32), passed)

    def _poly(self, step: tf.Tensor) -> tf.Tensor:
        total = float(self.poly_decay_steps)
        remaining = 1.0 - tf.minimum(tf.maximum(step, 0.0), total) / total
        span = self.initial_lr - self.poly_end_lr
        return span * tf.pow(remaining, self.poly_power) + self.poly_end_lr

    def get_config(self) -> dict[str, Any]:
        """All constructor arguments, as plain Python values (JSON-serialisable)."""
        return {
            "initial_lr": self.initial_lr,
            "decay_type": self.decay_type,
            "num_warmup_steps": self.num_warmup_steps,
            "exp_decay_rate": self.exp_decay_rate,
            "exp_decay_steps": self.exp_decay_steps,
            "manual_lr_step_boundaries": list(self.manual_lr_step_boundaries),
            "manual_lr_decay_rate": self.manual_lr_decay_rate,
            "poly_end_lr": self.poly_end_lr,
            "poly_power": self.poly_power,
            "poly_decay_steps": self.poly_decay_steps,
            "staircase": self.staircase,
            "name": self.name,
        }


def build_lr_schedule(
    lr_cfg: ConfigDict, max_iters: int | None = None, staircase: bool = False
) -> WarmupDecaySchedule:
    """Builds the learning-rate schedule described by `cfg.optimizer.lr`.

    Args:
      lr_cfg: the `optimizer.lr` config sub-tree (initial_lr, decay_type, exp_decay_rate,
        exp_decay_steps, manual_lr_step_boundaries, manual_lr_decay_rate, poly_end_lr,
        poly_power, num_warmup_steps).
      max_iters: training length in steps (`cfg.train.max_iters`); required for `poly`.
      staircase: `exp_decay` only; True reproduces the original TCC's step-wise decay. The
        default is the continuous decay.

    Returns:
      A `WarmupDecaySchedule`: call it with a scalar step to get a float32 scalar.

    Raises:
      ValueError: for an unknown decay type (listing the valid ones), a missing `max_iters` for
        `poly`, or an out-of-range parameter.
    """
    decay_type = lr_cfg.decay_type
    if decay_type not in DECAY_TYPES:
        raise ValueError(
            f"unknown optimizer.lr.decay_type; valid: {', '.join(DECAY_TYPES)}. "
            f"Received: decay_type={decay_type!r}"
        )
    if decay_type == "poly" and not (max_iters and max_iters > 0):
        raise ValueError(
            "optimizer.lr.decay_type='poly' decays over the whole run: pass "
            f"max_iters=cfg.train.max_iters (> 0). Received: max_iters={max_iters!r}"
        )
    return WarmupDecaySchedule(
        initial_lr=lr_cfg.initial_lr,
        decay_type=decay_type,
        num_warmup_steps=lr_cfg.num_warmup_steps,
        exp_decay_rate=lr_cfg.exp_decay_rate,
        exp_decay_steps=lr_cfg.exp_decay_steps,
        manual_lr_step_boundaries=list(lr_cfg.manual_lr_step_boundaries),
        manual_lr_decay_rate=lr_cfg.manual_lr_decay_rate,
        poly_end_lr=lr_cfg.poly_end_lr,
        poly_power=lr_cfg.poly_power,
        poly_decay_steps=max_iters or 0,
        staircase=staircase,
    )
