"""Mixed precision from `cfg.mixed_precision`: '' (float32), `mixed_float16` or `mixed_bfloat16`.

`set_precision` sets Keras' global dtype policy, so it must run before the models are built (layers
read the policy when they are created). With a mixed policy layers compute in float16 / bfloat16
and keep float32 variables; losses should be computed in float32 (cast the embeddings first).

`mixed_float16` also needs loss scaling, or small gradients underflow to zero in float16: the
optimizer must be a `keras.mixed_precision.LossScaleOptimizer` (`wrap_for_precision` does it).
`Model.compile()` wraps it automatically under that policy; a custom training step must compute
`optimizer.scale_loss(loss)`, take gradients of the scaled loss and pass them to
`optimizer.apply(...)`, which unscales them and skips steps whose gradients are not finite (then
lowers the scale). `mixed_bfloat16` (TPUs, recent GPUs and CPUs) has float32's range and needs no
loss scaling.
"""

from __future__ import annotations

import keras

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def _policy_name(policy: str) -> str:
    name = policy or "float32"
    if name not in POLICIES:
        raise ValueError(
            f"unknown mixed_precision policy; valid: '' (= float32), {', '.join(POLICIES)}. "
            f"Received: mixed_precision={policy!r}"
        )
    return name


def set_precision(policy: str) -> str:
    """Sets Keras' global dtype policy (call before building any model).

    Args:
      policy: `cfg.mixed_precision`: '' or 'float32' (full precision), 'mixed_float16' or
        'mixed_bfloat16'.

    Returns:
      The name of the policy now in effect ('' becomes 'float32').

    Raises:
      ValueError: for any other policy, listing the valid ones.
    """
    name = _policy_name(policy)
    keras.mixed_precision.set_global_policy(name)
    return keras.mixed_precision.global_policy().name


def wrap_for_precision(
    optimizer: keras.optimizers.Optimizer, policy: str
) -> keras.optimizers.Optimizer:
    """Wraps `optimizer` in a dynamic `LossScaleOptimizer` when `policy` is 'mixed_float16'.

    Other policies need no loss scaling and get `optimizer` back unchanged, as does an optimizer
    that is already a `LossScaleOptimizer`. The wrapper forwards `learning_rate` and `iterations`
    to the inner optimizer (`wrapped.inner_optimizer`).

    Args:
      optimizer: a Keras optimizer, e.g. from `tcc.training.optimizers.build_optimizer`.
      policy: `cfg.mixed_precision` ('', 'float32', 'mixed_float16' or 'mixed_bfloat16').

    Returns:
      The optimizer to train with.

    Raises:
      ValueError: for an unknown policy, listing the valid ones.
    """
    name = _policy_name(policy)
    loss_scale = keras.mixed_precision.LossScaleOptimizer
    if name != "mixed_float16" or isinstance(optimizer, loss_scale):
        return optimizer
    return loss_scale(optimizer)
