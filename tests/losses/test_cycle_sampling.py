"""Stochastic cycle-consistency: cycle sampling, seeding, and agreement with the definition."""

import collections
import itertools

import losses_numpy_reference as ref
import numpy as np
import pytest
import tensorflow as tf

from tcc.losses import compute_alignment_loss, sample_cycles

LOSS_TYPES = ["classification", "regression_mse", "regression_mse_var", "regression_huber"]


def _embs(num_videos=4, num_steps=5, dim=4, seed=0):
    return 0.5 * np.random.default_rng(seed).standard_normal((num_videos, num_steps, dim))


@pytest.mark.parametrize("cycle_length", [2, 3, 4])
def test_sampled_cycles_visit_distinct_videos_and_start_in_range(cycle_length):
    cycles, starts = sample_cycles(200, 4, 7, cycle_length, seed=3)
    cycles, starts = cycles.numpy(), starts.numpy()
    assert cycles.shape == (200, cycle_length) and starts.shape == (200,)
    assert all(len(set(row)) == cycle_length for row in cycles)
    assert cycles.min() >= 0 and cycles.max() < 4
    assert starts.min() >= 0 and starts.max() < 7


def test_cycles_vary_when_num_cycles_is_a_multiple_of_the_batch_size():
    # The original generator returned one identical cycle in exactly this setting.
    cycles, starts = sample_cycles(num_cycles=4 * 100, batch_size=4, num_steps=20, seed=0)
    pairs = collections.Counter(map(tuple, cycles.numpy()))
    assert set(pairs) == set(itertools.permutations(range(4), 2))  # all 12 ordered pairs
    assert len(set(starts.numpy())) > 10


def test_ordered_pairs_are_drawn_uniformly():
    cycles, _ = sample_cycles(12000, 4, 5, 2, seed=1)
    counts = collections.Counter(map(tuple, cycles.numpy()))
    expected = 12000 / 12
    chi_square = sum((c - expected) ** 2 / expected for c in counts.values())
    assert len(counts) == 12 and chi_square < 40  # 11 degrees of freedom; p < 1e-4 beyond 40


def test_same_integer_seed_gives_same_cycles_and_other_seeds_differ():
    first = sample_cycles(30, 5, 9, 3, seed=42)
    again = sample_cycles(30, 5, 9, 3, seed=42)
    other = sample_cycles(30, 5, 9, 3, seed=[42, 1])
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_generator_seed_gives_new_cycles_every_call_and_is_reproducible():
    draws = [sample_cycles(30, 5, 9, 2, seed=tf.random.Generator.from_seed(7)) for _ in range(2)]
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    generator = tf.random.Generator.from_seed(7)
    first, second = (
        sample_cycles(30, 5, 9, 2, seed=generator),
        sample_cycles(30, 5, 9, 2, seed=generator),
    )
    assert not np.array_equal(first[0], second[0])


def test_invalid_seed_is_rejected():
    with pytest.raises(ValueError, match="seed"):
        sample_cycles(3, 4, 5, seed=[1, 2, 3])
    with pytest.raises(ValueError, match="seed"):
        sample_cycles(3, 4, 5, seed=1.5)


@pytest.mark.parametrize("cycle_length", [2, 3])
@pytest.mark.parametrize(
    "loss_type,similarity_type", itertools.product(LOSS_TYPES, ["l2", "cosine"])
)
def test_stochastic_loss_matches_numpy_reference_on_the_same_cycles(
    cycle_length, loss_type, similarity_type
):
    embs = _embs()
    rng = np.random.default_rng(2)
    steps = np.sort(rng.choice(30, size=(4, 5), replace=False), axis=1)
    seq_lens = np.array([31, 40, 35, 33])
    options = dict(
        steps=steps,
        seq_lens=seq_lens,
        loss_type=loss_type,
        similarity_type=similarity_type,
        temperature=0.3,
    )
    cycles, starts = sample_cycles(16, 4, 5, cycle_length, seed=5)
    expected = ref.stochastic_loss(embs, cycles.numpy(), starts.numpy(), **options)
    actual = compute_alignment_loss(
        tf.constant(embs),
        stochastic_matching=True,
        num_cycles=16,
        cycle_length=cycle_length,
        seed=5,
        **options,
    )
    assert abs(float(actual) - expected) <= 1e-5 * abs(expected)


@pytest.mark.parametrize("loss_type", ["classification", "regression_mse"])
def test_stochastic_mean_over_many_cycles_approaches_deterministic_loss(loss_type):
    # With cycle_length=2 a random cycle is a uniformly drawn ordered pair (i, j), i != j, and a
    # uniform start frame: exactly one row of the deterministic loss, drawn uniformly. The
    # stochastic loss is therefore an unbiased estimate of the deterministic one; with n cycles
    # its standard error is std(rows) / sqrt(n).
    embs = _embs(num_videos=3, num_steps=6)
    rows = ref.deterministic_rows(embs, loss_type=loss_type)
    num_cycles = 20000
    stochastic = compute_alignment_loss(
        embs, stochastic_matching=True, num_cycles=num_cycles, loss_type=loss_type, seed=123
    )
    standard_error = np.std(rows) / np.sqrt(num_cycles)
    assert abs(float(stochastic) - np.mean(rows)) < 4 * standard_error
    assert standard_error < 0.01 * np.mean(rows)  # the check is tight, not vacuous


def test_unseeded_stochastic_loss_varies_between_calls_of_one_function():
    loss_fn = tf.function(
        lambda x: compute_alignment_loss(x, stochastic_matching=True, num_cycles=4)
    )
    embs = tf.constant(_embs(), tf.float32)
    values = {float(loss_fn(embs)) for _ in range(5)}
    assert len(values) > 1


def test_stochastic_loss_works_with_a_single_pair_of_videos():
    loss = compute_alignment_loss(_embs(num_videos=2), stochastic_matching=True, seed=0)
    assert np.isfinite(float(loss))
