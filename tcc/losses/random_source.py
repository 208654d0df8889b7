"""One place that turns a user's ``seed`` argument into uniform random numbers.

Every sampling loss in :mod:`tcc.losses` draws all the randomness of one call with a single
:func:`draw_uniform` call, so a call is reproducible from its seed alone and no sub-seed bookkeeping
is needed. Accepted seeds:

* ``None``: TensorFlow's stateful random op (``tf.random.uniform``); every call differs, a global
  seed (``tf.random.set_seed``) makes a program reproducible. Works eagerly, in ``tf.function``,
  under ``jit_compile=True`` (XLA ignores op seeds there) and in a ``tf.distribute`` replica.
* an ``int`` or a pair of ints / an int tensor of shape ``[]`` or ``[2]``: stateless random ops
  (Philox); the same seed gives the same draw every call, eagerly, in graphs and under XLA. Pass
  e.g. ``seed=[base_seed, step]`` so that the draws vary across training steps.
* a ``tf.random.Generator``: ``generator.uniform``; reproducible from the generator's state and
  different on every call. Under ``tf.distribute`` create it inside the strategy's scope.
"""

from __future__ import annotations

import tensorflow as tf

SeedLike = None | int | tuple | list | tf.Tensor | tf.random.Generator


def as_stateless_seed(seed: int | tuple | list | tf.Tensor) -> tf.Tensor:
    """Converts an int, a pair of ints or an int tensor into a stateless seed.

    Args:
        seed: an int, a sequence of two ints, or an integer tensor of shape ``[]`` or ``[2]``.

    Returns:
        An int64 tensor of shape ``[2]`` usable as ``seed=`` of ``tf.random.stateless_*`` ops.

    Raises:
        ValueError: if the seed is not an integer or a pair of integers.
    """
    if isinstance(seed, bool):
        raise ValueError(
            f"`seed` must be an int, a pair of ints or a Generator. Received: seed={seed!r}"
        )
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer:
        raise ValueError(
            f"`seed` must be an int, a pair of ints or a tf.random.Generator. "
            f"Received: seed with dtype {seed.dtype.name}"
        )
    seed = tf.cast(seed, tf.int64)
    if seed.shape.rank == 0:
        return tf.stack([seed, tf.constant(0, tf.int64)])
    if seed.shape.rank == 1 and seed.shape[0] == 2:
        return seed
    raise ValueError(
        f"`seed` must be a scalar or have shape [2]. Received: seed.shape={seed.shape}"
    )


def draw_uniform(shape, seed: SeedLike = None, dtype: tf.DType = tf.float32) -> tf.Tensor:
    """Draws uniform numbers in ``[0, 1)`` from the source described by ``seed``.

    Args:
        shape: the output shape (a list of ints or scalar int tensors, or a 1-D int tensor).
        seed: ``None``, an int / pair of ints / int tensor (stateless), or a
            ``tf.random.Generator``; see the module docstring.
        dtype: a floating dtype.

    Returns:
        A tensor of ``shape`` and ``dtype`` with values in ``[0, 1)``.
    """
    if seed is None:
        return tf.random.uniform(shape, dtype=dtype)
    if isinstance(seed, tf.random.Generator):
        return seed.uniform(shape, dtype=dtype)
    # Philox explicitly: the default algorithm differs between TF kernels and XLA.
    return tf.random.stateless_uniform(
        shape, seed=as_stateless_seed(seed), dtype=dtype, alg="philox"
    )


def uniform_to_index(uniform: tf.Tensor, upper) -> tf.Tensor:
    """Maps uniform numbers in ``[0, 1)`` to integers uniform in ``[0, upper)``.

    Args:
        uniform: float tensor of any shape, values in ``[0, 1)``.
        upper: positive int or scalar int tensor.

    Returns:
        An int32 tensor of the shape of ``uniform`` with values in ``[0, upper - 1]``.
    """
    upper = tf.cast(upper, tf.int32)
    index = tf.cast(tf.floor(uniform * tf.cast(upper, uniform.dtype)), tf.int32)
    # Rounding can map values just below 1 to `upper`; clip them back into range.
    return tf.clip_by_value(index, 0, upper - 1)
