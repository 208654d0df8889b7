"""Which frames of a video a training or evaluation example uses: pure, graph-friendly TF functions.

All randomness is stateless: every function that draws takes a `seed` int32/int64 [2] tensor, so the
same seed gives the same frames eagerly and inside `tf.data.Dataset.map`.

Rules (the original TCC's semantics unless noted):

* `offset_uniform_steps`: T distinct frame indices, drawn uniformly without replacement and sorted,
  from the frames `[random_offset, len)`. If fewer than T frames remain after the offset, the offset
  shrinks to `len - T` (the original instead fell back to `range(T)`). **Short videos** (`len < T`):
  every frame is used once and the `T - len` missing indices are drawn uniformly with replacement
  from the whole video; the result is sorted, so some frames repeat. It never fails for `len >= 1`.
* `stride_steps`: a uniformly random start, then every `stride`-th frame; the start is drawn from
  `[0, max(0, len - 1 - (T - 1) * stride)]` so a long enough video is covered without padding;
  indices past the end are clipped to the last frame (short videos repeat their last frame).
* `context_steps`: the `num_steps` frames embedded jointly for timestep t are
  `t - (num_steps - 1 - k) * frame_stride` for `k = 0 .. num_steps - 1`, clipped to `[0, len - 1]`:
  the context precedes the step (no information from the future) and ends with t itself, as in the
  original `get_steps`. Output order is timestep-major: `[t0 - s, t0, t1 - s, t1, ...]` for 2 steps.
* `context_stride`: `frame_stride` frames, or, with `data.frame_stride_fraction` f > 0,
  `max(1, round(f * len))` frames of each video (not in the original): the context then covers the
  same share of every video's motion whatever its length or frame rate.
* `chunk_steps` (evaluation): every k-th frame of the whole video, cut into chunks of C timesteps;
  the last chunk is padded by repeating its last valid step and flagged in `valid`.
"""

from __future__ import annotations

import tensorflow as tf


def offset_uniform_steps(
    seq_len: tf.Tensor, num_frames: int, seed: tf.Tensor, random_offset: int = 0
) -> tf.Tensor:
    """Draws `num_frames` sorted frame indices uniformly from one video.

    Args:
      seq_len: int scalar, number of frames L of the video (>= 1).
      num_frames: T, number of timesteps to draw.
      seed: int [2] stateless seed.
      random_offset: first frame that may be drawn when the video is long enough (the original's
        `RANDOM_OFFSET`); reduced to `L - T` when fewer than T frames would remain.

    Returns:
      int32 [T] sorted indices in [0, L). Distinct when L >= T; see the module doc for L < T.
    """
    seq_len = tf.cast(seq_len, tf.int32)
    seed_pick, seed_extra = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    low = tf.clip_by_value(seq_len - num_frames, 0, random_offset)
    available = seq_len - low
    # Distinct draws: the T largest of `available` i.i.d. uniforms index a uniform random subset.
    scores = tf.random.stateless_uniform([available], seed=seed_pick)
    top = tf.math.top_k(scores, k=tf.minimum(available, num_frames)).indices + low
    missing = num_frames - tf.shape(top)[0]
    extra = tf.random.stateless_uniform(
        [missing], seed=seed_extra, minval=0, maxval=seq_len, dtype=tf.int32
    )
    steps = tf.sort(tf.concat([top, extra], axis=0))
    return tf.ensure_shape(steps, [num_frames])


def stride_steps(seq_len: tf.Tensor, num_frames: int, stride: int, seed: tf.Tensor) -> tf.Tensor:
    """Draws a random start and then every `stride`-th frame, clipped to the last frame.

    Args:
      seq_len: int scalar, number of frames L (>= 1).
      num_frames: T.
      stride: frames between consecutive timesteps (>= 1).
      seed: int [2] stateless seed.

    Returns:
      int32 [T] non-decreasing indices in [0, L).
    """
    if stride < 1:
        raise ValueError(f"data.stride must be >= 1; received stride={stride}")
    seq_len = tf.cast(seq_len, tf.int32)
    max_start = tf.maximum(0, seq_len - 1 - (num_frames - 1) * stride)
    start = tf.random.stateless_uniform(
        [], seed=seed, minval=0, maxval=max_start + 1, dtype=tf.int32
    )
    steps = tf.minimum(start + stride * tf.range(num_frames, dtype=tf.int32), seq_len - 1)
    return tf.ensure_shape(steps, [num_frames])


def sample_steps(
    strategy: str,
    seq_len: tf.Tensor,
    num_frames: int,
    seed: tf.Tensor,
    stride: int = 16,
    random_offset: int = 0,
) -> tf.Tensor:
    """Dispatches to `offset_uniform_steps` or `stride_steps` by name; returns int32 [T]."""
    if strategy == "offset_uniform":
        return offset_uniform_steps(seq_len, num_frames, seed, random_offset=random_offset)
    if strategy == "stride":
        return stride_steps(seq_len, num_frames, stride, seed)
    raise ValueError(
        "data.sampling_strategy must be 'offset_uniform' or 'stride' for training ('all' is the "
        f"evaluation mode, see make_eval_dataset). Received: sampling_strategy={strategy!r}"
    )


def context_stride(seq_len: tf.Tensor, frame_stride: int, fraction: float = 0.0) -> tf.Tensor:
    """Frames between context frames for one video: int32 [].

    Args:
      seq_len: int scalar L.
      frame_stride: the stride in frames when `fraction` is 0 (>= 1).
      fraction: > 0: the stride is `max(1, round(fraction * L))` instead (half away from zero).
    """
    if fraction <= 0.0:
        return tf.constant(int(frame_stride), tf.int32)
    length = tf.cast(seq_len, tf.float32)
    return tf.maximum(1, tf.cast(tf.floor(fraction * length + 0.5), tf.int32))


def context_steps(
    steps: tf.Tensor, seq_len: tf.Tensor, num_steps: int, frame_stride: int | tf.Tensor
) -> tf.Tensor:
    """Expands each timestep into its `num_steps` context frames (preceding it, clipped).

    Args:
      steps: int [T] frame indices of the timesteps.
      seq_len: int scalar L.
      num_steps: context frames per timestep (>= 1); the last one is the step itself.
      frame_stride: frames between context frames (>= 1): a Python int, or an int32 [] tensor
        such as `context_stride`'s.

    Returns:
      int32 [T * num_steps], timestep-major, each in [0, L).
    """
    if num_steps < 1 or (isinstance(frame_stride, int) and frame_stride < 1):
        raise ValueError(
            "data.num_steps and data.frame_stride must be >= 1; received "
            f"num_steps={num_steps}, frame_stride={frame_stride}"
        )
    steps = tf.cast(steps, tf.int32)
    stride = tf.cast(frame_stride, tf.int32)
    offsets = (tf.range(num_steps, dtype=tf.int32) - (num_steps - 1)) * stride  # [S] <= 0
    ctx = steps[:, None] + offsets[None, :]
    ctx = tf.clip_by_value(ctx, 0, tf.cast(seq_len, tf.int32) - 1)
    return tf.reshape(ctx, [-1])


def num_chunks(seq_len: tf.Tensor, stride: int, chunk_size: int) -> tf.Tensor:
    """Number of chunks of `chunk_size` timesteps covering every `stride`-th frame; int32 []."""
    n = (tf.cast(seq_len, tf.int32) + stride - 1) // stride
    return tf.maximum(1, (n + chunk_size - 1) // chunk_size)


def chunk_steps(
    seq_len: tf.Tensor, chunk_index: tf.Tensor, stride: int, chunk_size: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """The timesteps of one evaluation chunk: frames `0, k, 2k, ...`, C per chunk, padded.

    Args:
      seq_len: int scalar L (>= 1).
      chunk_index: int scalar c in [0, num_chunks).
      stride: k, keep every k-th frame.
      chunk_size: C.

    Returns:
      (steps int32 [C], valid bool [C]); padding repeats the last valid step and is False in
      `valid`.
    """
    if stride < 1 or chunk_size < 1:
        raise ValueError(
            f"eval stride and chunk size must be >= 1; received stride={stride}, "
            f"chunk_size={chunk_size}"
        )
    n = (tf.cast(seq_len, tf.int32) + stride - 1) // stride
    idx = tf.cast(chunk_index, tf.int32) * chunk_size + tf.range(chunk_size, dtype=tf.int32)
    valid = idx < n
    steps = tf.minimum(idx, n - 1) * stride
    return steps, valid
