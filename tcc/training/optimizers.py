"""The Keras optimizer described by `cfg.optimizer`: Adam / AdamW or SGD with momentum.

Two different kinds of weight decay exist in this package; do not confuse them:

* `model.l2_reg_weight` (the paper's "L2 weight decay 1e-5") is a Keras L2 *regulariser* set on
  the models' layers (`tcc.models`): it adds `l2_reg_weight * sum(w ** 2)` to the loss
  (`model.losses`), so it passes through the gradients, is rescaled by Adam's adaptive step and is
  clipped with them.
* `optimizer.weight_decay` here is *decoupled* weight decay (Loshchilov & Hutter, AdamW): after
  each step every trainable variable is shrunk by `w -= learning_rate * weight_decay * w`,
  independently of the gradients and the loss. Keras scales it by the *current* learning rate, so it
  follows the schedule. It applies to all trainable variables, including biases and batch-norm
  parameters; call `optimizer.exclude_from_weight_decay(var_names=[...])` before the first step to
  exempt some. Default 0 (off), as in the paper.

`optimizer.clipnorm > 0` sets Keras' `clipnorm`: each variable's gradient is clipped to that L2 norm
separately (not the global norm over all variables). Under a `tf.distribute` strategy Keras clips
each replica's gradients before they are summed across replicas, so with clipping on, a
multi-replica run is not numerically identical to a single-device run with the same global batch.
"""

from __future__ import annotations

from typing import Any

import keras

from tcc.training.schedules import build_lr_schedule

ConfigDict = Any  # an ml_collections.ConfigDict sub-tree such as `cfg.optimizer`

OPTIMIZER_TYPES = ("adam", "sgd")


def _non_negative(value: float, key: str) -> float:
    value = float(value)
    if value < 0:
        raise ValueError(f"optimizer.{key} must be >= 0 (0 = off). Received: {key}={value!r}")
    return value


def build_optimizer(
    opt_cfg: ConfigDict, max_iters: int | None = None
) -> keras.optimizers.Optimizer:
    """Builds the optimizer of `cfg.optimizer` with the learning-rate schedule of `optimizer.lr`.

    `adam` gives `keras.optimizers.Adam`, or `keras.optimizers.AdamW` when `weight_decay > 0`;
    `sgd` gives `keras.optimizers.SGD` with `momentum` (and Keras' decoupled `weight_decay` when
    > 0). Keras' default betas and epsilon are kept (as in the original TCC code). With
    `mixed_float16`, wrap the result with `tcc.training.precision.wrap_for_precision`.

    Args:
      opt_cfg: the `optimizer` config sub-tree (type, momentum, weight_decay, clipnorm, lr.*).
      max_iters: training length in steps (`cfg.train.max_iters`); required for `lr.decay_type`
        `poly`.

    Returns:
      A fresh, unbuilt Keras optimizer; `optimizer.learning_rate` is the schedule's value at
      `optimizer.iterations`.

    Raises:
      ValueError: for an unknown optimizer type (listing the valid ones) or an out-of-range value.
    """
    opt_type = opt_cfg.type
    if opt_type not in OPTIMIZER_TYPES:
        raise ValueError(
            f"unknown optimizer.type; valid: {', '.join(OPTIMIZER_TYPES)}. "
            f"Received: type={opt_type!r}"
        )
    clipnorm = _non_negative(opt_cfg.clipnorm, "clipnorm")
    weight_decay = _non_negative(opt_cfg.weight_decay, "weight_decay")
    common = {
        "learning_rate": build_lr_schedule(opt_cfg.lr, max_iters),
        "clipnorm": clipnorm if clipnorm > 0 else None,
    }
    if opt_type == "adam":
        if weight_decay > 0:
            return keras.optimizers.AdamW(weight_decay=weight_decay, **common)
        return keras.optimizers.Adam(**common)
    momentum = float(opt_cfg.momentum)
    if not 0 <= momentum < 1:
        raise ValueError(f"optimizer.momentum must be in [0, 1). Received: momentum={momentum!r}")
    return keras.optimizers.SGD(
        momentum=momentum, weight_decay=weight_decay if weight_decay > 0 else None, **common
    )
