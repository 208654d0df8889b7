"""Tests of tcc.datasets.sampling: which frames training and evaluation examples use."""

import numpy as np
import pytest
import tensorflow as tf

from tcc.datasets import sampling


def _seed(i: int) -> tf.Tensor:
    return tf.constant([i, 17], tf.int64)


@pytest.mark.parametrize("seq_len", [20, 21, 50, 200])
def test_offset_uniform_is_sorted_distinct_in_range_and_after_offset(seq_len):
    for i in range(20):
        steps = sampling.offset_uniform_steps(seq_len, 20, _seed(i), random_offset=1).numpy()
        assert steps.dtype == np.int32 and steps.shape == (20,)
        assert np.all(np.diff(steps) > 0)
        assert steps.min() >= min(1, seq_len - 20) and steps.max() < seq_len


def test_offset_uniform_shrinks_offset_when_too_few_frames_remain():
    steps = sampling.offset_uniform_steps(10, 10, _seed(0), random_offset=3).numpy()
    np.testing.assert_array_equal(steps, np.arange(10))
    steps = sampling.offset_uniform_steps(12, 10, _seed(0), random_offset=5).numpy()
    assert np.all(np.diff(steps) > 0) and steps.min() >= 2


@pytest.mark.parametrize("seq_len", [1, 3, 7])
def test_offset_uniform_short_video_uses_every_frame_and_repeats_some(seq_len):
    steps = sampling.offset_uniform_steps(seq_len, 8, _seed(3), random_offset=1).numpy()
    assert steps.shape == (8,)
    assert np.all(np.diff(steps) >= 0)
    np.testing.assert_array_equal(np.unique(steps), np.arange(seq_len))


def test_offset_uniform_draws_frames_uniformly():
    seq_len, t, n = 12, 4, 3000
    draws = (
        tf.data.Dataset.range(n)
        .map(
            lambda i: sampling.offset_uniform_steps(
                seq_len, t, tf.stack([i, tf.constant(17, tf.int64)])
            )
        )
        .batch(n)
        .get_single_element()
        .numpy()
    )
    counts = np.bincount(draws.reshape(-1), minlength=seq_len)
    expected = n * t / seq_len  # each frame is in a uniform 4-subset of 12 with probability 1/3
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_offset_uniform_depends_only_on_the_seed():
    a = sampling.offset_uniform_steps(100, 10, _seed(5)).numpy()
    b = sampling.offset_uniform_steps(100, 10, _seed(5)).numpy()
    c = sampling.offset_uniform_steps(100, 10, _seed(6)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sampling_inside_tf_data_matches_eager():
    def sample(length):
        s = sampling.offset_uniform_steps(length, 6, _seed(9))
        return s, sampling.stride_steps(length, 6, 4, _seed(9))

    ds = tf.data.Dataset.from_tensor_slices(tf.constant([3, 30, 100], tf.int64)).map(sample)
    for length, (uni, stri) in zip([3, 30, 100], ds, strict=True):
        eager_uni, eager_stri = sample(tf.constant(length, tf.int64))
        np.testing.assert_array_equal(uni.numpy(), eager_uni.numpy())
        np.testing.assert_array_equal(stri.numpy(), eager_stri.numpy())


@pytest.mark.parametrize("seq_len", [1, 10, 60, 61, 300])
def test_stride_steps_are_a_clipped_arithmetic_progression(seq_len):
    t, stride = 5, 15
    starts = set()
    for i in range(30):
        steps = sampling.stride_steps(seq_len, t, stride, _seed(i)).numpy()
        start = steps[0]
        expected = np.minimum(start + stride * np.arange(t), seq_len - 1)
        np.testing.assert_array_equal(steps, expected)
        assert 0 <= start <= max(0, seq_len - 1 - (t - 1) * stride)
        starts.add(int(start))
    if seq_len - 1 - (t - 1) * stride >= 0:
        assert steps[-1] < seq_len  # long enough: never clipped
    if seq_len >= 100:
        assert len(starts) > 1


def test_stride_rejects_stride_below_one():
    with pytest.raises(ValueError, match="stride"):
        sampling.stride_steps(10, 3, 0, _seed(0))


def test_sample_steps_rejects_unknown_strategy_naming_it():
    with pytest.raises(ValueError, match="'all'"):
        sampling.sample_steps("all", 10, 3, _seed(0))


def test_context_steps_precede_each_step_and_clip_at_the_start():
    steps = tf.constant([0, 4, 20, 39])
    ctx = sampling.context_steps(steps, 40, num_steps=3, frame_stride=5).numpy()
    s = steps.numpy()
    expected = np.clip(s[:, None] - np.array([10, 5, 0])[None, :], 0, 39).reshape(-1)
    np.testing.assert_array_equal(ctx, expected)
    np.testing.assert_array_equal(ctx[:6], [0, 0, 0, 0, 0, 4])
    np.testing.assert_array_equal(ctx.reshape(4, 3)[:, -1], s)


def test_context_steps_with_one_step_is_the_identity():
    steps = tf.constant([1, 2, 9])
    np.testing.assert_array_equal(sampling.context_steps(steps, 10, 1, 15).numpy(), [1, 2, 9])


def test_context_stride_is_frame_stride_or_a_rounded_share_of_the_length():
    assert int(sampling.context_stride(7, 15)) == 15
    assert int(sampling.context_stride(7, 15, 0.0)) == 15
    lengths = [1, 2, 3, 5, 10, 41, 67, 80, 120, 301]
    for fraction in (0.05, 0.25, 0.3, 0.5):
        got = [int(sampling.context_stride(n, 15, fraction)) for n in lengths]
        expected = [max(1, int(np.floor(fraction * n + 0.5))) for n in lengths]
        assert got == expected, fraction
    assert int(sampling.context_stride(tf.constant(80), 15, 0.3)) == 24


def test_context_steps_take_a_tensor_stride():
    steps = tf.constant([0, 10, 39])
    ctx = sampling.context_steps(steps, 40, 2, sampling.context_stride(40, 15, 0.25)).numpy()
    np.testing.assert_array_equal(ctx, [0, 0, 0, 10, 29, 39])


def test_context_steps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="frame_stride=0"):
        sampling.context_steps(tf.constant([1]), 10, 2, 0)


@pytest.mark.parametrize(
    "seq_len,stride,chunk", [(1, 1, 4), (10, 1, 4), (12, 1, 4), (13, 3, 2), (7, 10, 3), (64, 2, 32)]
)
def test_chunk_steps_cover_every_kth_frame_exactly_once(seq_len, stride, chunk):
    n = int(sampling.num_chunks(seq_len, stride, chunk))
    assert n == max(1, -(-len(range(0, seq_len, stride)) // chunk))
    got = []
    for c in range(n):
        steps, valid = (x.numpy() for x in sampling.chunk_steps(seq_len, c, stride, chunk))
        assert steps.shape == (chunk,) and valid.shape == (chunk,)
        got.extend(steps[valid])
        if not valid.all():
            assert c == n - 1
            np.testing.assert_array_equal(steps[~valid], steps[valid][-1])
    np.testing.assert_array_equal(got, np.arange(0, seq_len, stride))
