"""Random cycles for the stochastic cycle-consistency loss."""

from __future__ import annotations

import tensorflow as tf

from tcc.losses.random_source import SeedLike, draw_uniform, uniform_to_index


@tf.autograph.experimental.do_not_convert
def sample_cycles(
    num_cycles: int,
    batch_size,
    num_steps,
    cycle_length: int = 2,
    seed: SeedLike = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Draws ``num_cycles`` independent cycles through distinct videos and their start frames.

    Each cycle is an ordered draw without replacement of ``cycle_length`` videos out of
    ``batch_size`` (the top-``cycle_length`` positions of i.i.d. uniform noise, so every ordered
    tuple of distinct videos is equally likely), independently for every cycle; the start frame is
    uniform over the ``num_steps`` timesteps of the first video. The cycle visits
    ``cycles[c, 0] -> cycles[c, 1] -> ... -> cycles[c, -1] -> cycles[c, 0]``.

    Args:
        num_cycles: number of cycles ``C`` (python int >= 1).
        batch_size: number of videos ``B`` (int or scalar int tensor), ``>= cycle_length``.
        num_steps: number of timesteps ``T`` per video (int or scalar int tensor).
        cycle_length: number of distinct videos per cycle ``L`` (python int >= 2).
        seed: see :mod:`tcc.losses.random_source`.

    Returns:
        ``(cycles, start_frames)``: int32 ``[C, L]`` video indices and int32 ``[C]`` frame
        indices.
    """
    if isinstance(batch_size, int) and cycle_length > batch_size:
        raise ValueError(
            f"A cycle visits `cycle_length` distinct videos, so it cannot be longer than the "
            f"batch. Received: cycle_length={cycle_length}, batch_size={batch_size}"
        )
    noise = draw_uniform([num_cycles, batch_size + 1], seed)
    cycles = tf.math.top_k(noise[:, :-1], k=cycle_length, sorted=True).indices
    start_frames = uniform_to_index(noise[:, -1], num_steps)
    return tf.cast(cycles, tf.int32), start_frames
