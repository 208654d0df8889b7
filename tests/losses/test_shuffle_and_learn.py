"""Shuffle and Learn: triplet sampling rules, gathering, and the classification loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tcc.losses import sample_triplet_indices, sample_triplets, shuffle_and_learn_loss


def _is_between(middle, first, last):
    return min(first, last) < middle < max(first, last)


@pytest.mark.parametrize("random_reverse", [False, True])
def test_ordered_triplets_are_monotonic_and_shuffled_ones_are_not(random_reverse):
    indices, labels = sample_triplet_indices(50, 9, 8, 0.75, random_reverse, seed=0)
    indices, labels = indices.numpy(), labels.numpy()
    for (first, middle, last), label in zip(indices, labels, strict=True):
        assert 0 <= min(first, middle, last) and max(first, middle, last) < 9
        assert abs(first - last) >= 2  # b and d have c between them
        assert _is_between(middle, first, last) == (label == 1)
        if not random_reverse:
            assert first < last


def test_exactly_the_shuffle_fraction_of_samples_is_shuffled():
    _, labels = sample_triplet_indices(3, 10, num_samples=8, shuffle_fraction=0.75, seed=1)
    assert labels.shape == (24,) and int(np.sum(labels == 0)) == 18
    _, labels = sample_triplet_indices(5, 10, num_samples=3, shuffle_fraction=0.5, seed=1)
    assert int(np.sum(labels == 0)) == 7  # floor(0.5 * 15)


def test_both_shuffle_kinds_and_both_directions_occur():
    indices, labels = sample_triplet_indices(100, 12, 8, 0.75, True, seed=2)
    indices, labels = indices.numpy(), labels.numpy()
    shuffled = indices[labels == 0]
    before = np.sum(shuffled[:, 1] < shuffled[:, [0, 2]].min(1))
    after = np.sum(shuffled[:, 1] > shuffled[:, [0, 2]].max(1))
    reversed_ = np.sum(indices[:, 0] > indices[:, 2])
    assert before > 100 and after > 100 and 300 < reversed_ < 500  # of 600 / 600 / 800


def test_triplets_concatenate_embeddings_of_their_own_video():
    num_videos, num_steps = 3, 7
    # Embedding of (video b, timestep t) is [b, t].
    grid = np.stack(np.meshgrid(np.arange(num_videos), np.arange(num_steps), indexing="ij"), -1)
    triplets, labels = sample_triplets(grid.astype(np.float32), num_samples=4, seed=5)
    indices, expected_labels = sample_triplet_indices(num_videos, num_steps, 4, seed=5)
    triplets = triplets.numpy().reshape(12, 3, 2)
    np.testing.assert_array_equal(
        triplets[:, :, 0], np.repeat(np.arange(3), 4)[:, None] * [1, 1, 1]
    )
    np.testing.assert_array_equal(triplets[:, :, 1], indices.numpy())
    np.testing.assert_array_equal(labels, expected_labels)


def test_gradients_flow_to_the_sampled_embeddings_only():
    embs = tf.constant(np.random.default_rng(0).standard_normal((2, 6, 3)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(embs)
        triplets, _ = sample_triplets(embs, num_samples=1, seed=3)
        total = tf.reduce_sum(triplets)
    counts = tape.gradient(total, embs).numpy()[..., 0]
    assert counts.sum() == 6 and set(np.unique(counts)) <= {0.0, 1.0}


def test_sampling_under_xla_matches_eager():
    embs = tf.constant(np.random.default_rng(1).standard_normal((2, 8, 3)), tf.float32)
    eager = sample_triplets(embs, seed=[1, 2])
    compiled = tf.function(lambda x: sample_triplets(x, seed=[1, 2]), jit_compile=True)(embs)
    np.testing.assert_array_equal(eager[0].numpy(), compiled[0].numpy())
    np.testing.assert_array_equal(eager[1].numpy(), compiled[1].numpy())


def test_videos_with_fewer_than_five_timesteps_are_rejected():
    with pytest.raises(ValueError, match="T >= 5"):
        sample_triplets(np.zeros((2, 4, 3), np.float32))


def test_loss_hand_checked_values():
    confident = np.array([[0.0, 10.0]])  # float64 keeps log(1 + e^-10) exact enough
    np.testing.assert_allclose(shuffle_and_learn_loss([[0.0, 0.0]], [1]).numpy(), np.log(2))
    np.testing.assert_allclose(
        shuffle_and_learn_loss(confident, [1]).numpy(), np.log1p(np.exp(-10.0)), rtol=1e-9
    )
    np.testing.assert_allclose(
        shuffle_and_learn_loss(confident, [0]).numpy(), 10.0 + np.log1p(np.exp(-10.0)), rtol=1e-9
    )
    # Smoothing 0.2: target [0.1, 0.9] for label 1.
    log_probs = np.array([-10.0, 0.0]) - np.log(np.exp(-10.0) + 1.0)
    expected = -(0.1 * log_probs[0] + 0.9 * log_probs[1])
    np.testing.assert_allclose(
        shuffle_and_learn_loss(confident, [1], label_smoothing=0.2).numpy(), expected, rtol=1e-6
    )


def test_loss_matches_keras_categorical_crossentropy_with_label_smoothing():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((16, 2)).astype(np.float32)
    labels = rng.integers(0, 2, 16)
    expected = keras.losses.categorical_crossentropy(
        np.eye(2)[labels], logits, from_logits=True, label_smoothing=0.1
    )
    np.testing.assert_allclose(
        shuffle_and_learn_loss(logits, labels, 0.1).numpy(), np.mean(expected), rtol=1e-5
    )
