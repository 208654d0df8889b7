"""Deterministic cycle-consistency loss against a NumPy pairwise implementation, plus properties."""

import itertools

import losses_numpy_reference as ref
import numpy as np
import pytest
import tensorflow as tf

from tcc.losses import compute_alignment_loss

LOSS_TYPES = ["classification", "regression_mse", "regression_mse_var", "regression_huber"]
SIMILARITIES = ["l2", "cosine"]


def _random_batch(num_videos, num_steps=5, dim=4, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    embs = scale * rng.standard_normal((num_videos, num_steps, dim))
    steps = np.sort(rng.choice(40, size=(num_videos, num_steps), replace=False), axis=1)
    seq_lens = steps[:, -1] + rng.integers(1, 10, size=num_videos)
    return embs, steps, seq_lens


def _rel_diff(actual, expected):
    return abs(float(actual) - expected) / max(abs(expected), 1e-12)


def _reference_cases():
    """Every loss type x similarity x normalisation, with and without steps / seq_lens.

    Classification ignores steps and seq_lens, so it is checked once per similarity and
    embedding normalisation.
    """
    cases = []
    for loss_type, similarity_type, normalize_embeddings in itertools.product(
        LOSS_TYPES, SIMILARITIES, [False, True]
    ):
        if loss_type == "classification":
            variants = [(True, False)]
        else:
            variants = list(itertools.product([False, True], [False, True]))
        for normalize_indices, with_steps in variants:
            cases.append(
                (loss_type, similarity_type, normalize_embeddings, normalize_indices, with_steps)
            )
    return cases


@pytest.mark.parametrize(
    "loss_type,similarity_type,normalize_embeddings,normalize_indices,with_steps",
    _reference_cases(),
)
def test_deterministic_loss_matches_numpy_pairwise_reference_in_float64(
    loss_type, similarity_type, normalize_embeddings, normalize_indices, with_steps
):
    embs, steps, seq_lens = _random_batch(3, seed=3)
    options = dict(
        loss_type=loss_type,
        similarity_type=similarity_type,
        normalize_embeddings=normalize_embeddings,
        normalize_indices=normalize_indices,
        temperature=0.3,
    )
    if with_steps:
        options.update(steps=steps, seq_lens=seq_lens)
    expected = ref.deterministic_loss(embs, **options)
    actual = compute_alignment_loss(tf.constant(embs, tf.float64), **options)
    assert actual.dtype == tf.float64
    assert _rel_diff(actual, expected) <= 1e-5


@pytest.mark.parametrize("num_videos", [2, 4])
@pytest.mark.parametrize("loss_type,similarity_type", itertools.product(LOSS_TYPES, SIMILARITIES))
def test_deterministic_loss_matches_numpy_reference_in_float32(
    num_videos, loss_type, similarity_type
):
    embs, steps, seq_lens = _random_batch(num_videos, num_steps=6, dim=8, seed=7)
    options = dict(
        loss_type=loss_type, similarity_type=similarity_type, steps=steps, seq_lens=seq_lens
    )
    expected = ref.deterministic_loss(embs, **options)
    actual = compute_alignment_loss(tf.constant(embs, tf.float32), **options)
    assert actual.dtype == tf.float32 and actual.shape == ()
    assert _rel_diff(actual, expected) <= 1e-4


def test_default_arguments_match_reference_defaults():
    embs, _, _ = _random_batch(3, num_steps=4, dim=3, seed=3)
    expected = ref.deterministic_loss(embs)  # classification, l2, temperature 0.1, ls 0.1
    assert _rel_diff(compute_alignment_loss(embs), expected) <= 1e-5


def test_positional_arguments_follow_original_order():
    embs, steps, seq_lens = _random_batch(3, seed=4)
    positional = compute_alignment_loss(
        embs,
        3,
        steps,
        seq_lens,
        False,
        True,
        "regression_mse_var",
        "cosine",
        20,
        2,
        0.2,
        0.1,
        0.01,
        0.1,
        False,
    )
    keywords = compute_alignment_loss(
        embs,
        steps=steps,
        seq_lens=seq_lens,
        normalize_embeddings=True,
        loss_type="regression_mse_var",
        similarity_type="cosine",
        temperature=0.2,
        variance_lambda=0.01,
        normalize_indices=False,
    )
    assert float(positional) == float(keywords)


def _central_differences(loss_fn, embs, delta=1e-6):
    """d loss / d embs by central differences, all perturbed inputs evaluated in one graph."""
    perturbed = []
    for index in np.ndindex(embs.shape):
        step = np.zeros_like(embs)
        step[index] = delta
        perturbed += [embs + step, embs - step]
    values = tf.function(lambda xs: tf.map_fn(loss_fn, xs))(tf.constant(np.stack(perturbed)))
    values = values.numpy()
    return ((values[0::2] - values[1::2]) / (2 * delta)).reshape(embs.shape)


@pytest.mark.parametrize(
    "num_videos,loss_type,similarity_type",
    [(3, loss, sim) for loss, sim in itertools.product(LOSS_TYPES, SIMILARITIES)]
    + [(2, "regression_mse_var", "l2"), (2, "classification", "cosine")],
)
def test_gradient_matches_finite_differences(num_videos, loss_type, similarity_type):
    embs, steps, seq_lens = _random_batch(num_videos, num_steps=3, dim=2, seed=11)
    options = dict(
        loss_type=loss_type,
        similarity_type=similarity_type,
        steps=steps,
        seq_lens=seq_lens,
        temperature=0.5,
        huber_delta=0.05,
    )
    x = tf.constant(embs, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = compute_alignment_loss(x, **options)
    numerical = _central_differences(lambda e: compute_alignment_loss(e, **options), embs)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), numerical, rtol=1e-4, atol=1e-7)


def test_no_gradient_flows_into_steps():
    embs, steps, seq_lens = _random_batch(3, seed=5)
    steps = tf.constant(steps, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(steps)
        loss = compute_alignment_loss(
            embs, steps=steps, seq_lens=seq_lens, loss_type="regression_mse"
        )
    assert tape.gradient(loss, steps) is None


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_identical_videos_have_lower_loss_than_videos_with_shuffled_embeddings(loss_type):
    rng = np.random.default_rng(0)
    base = np.cumsum(rng.standard_normal((8, 16)), axis=0)  # a smooth trajectory of 8 frames
    identical = np.stack([base] * 3)
    shuffled = np.stack([rng.permutation(base.ravel()).reshape(base.shape) for _ in range(3)])
    options = dict(loss_type=loss_type, temperature=0.1)
    assert float(compute_alignment_loss(identical, **options)) < float(
        compute_alignment_loss(shuffled, **options)
    )


def test_classification_loss_is_invariant_to_reordering_frames_of_a_video():
    embs, _, _ = _random_batch(2, num_steps=6, seed=9)
    permuted = embs.copy()
    permuted[1] = embs[1][np.random.default_rng(1).permutation(6)]
    np.testing.assert_allclose(
        compute_alignment_loss(embs).numpy(), compute_alignment_loss(permuted).numpy(), rtol=1e-6
    )


@pytest.mark.parametrize("loss_type,similarity_type", itertools.product(LOSS_TYPES, SIMILARITIES))
def test_two_video_and_batched_formulations_agree(loss_type, similarity_type):
    embs, steps, seq_lens = _random_batch(2, seed=13)
    options = dict(loss_type=loss_type, similarity_type=similarity_type)
    # A static B = 2 uses the two-video formulation; an unknown B uses the batched one.
    dynamic = tf.function(
        lambda x, s, n: compute_alignment_loss(x, steps=s, seq_lens=n, **options),
        input_signature=[
            tf.TensorSpec([None, None, 4], tf.float64),
            tf.TensorSpec([None, None], tf.int64),
            tf.TensorSpec([None], tf.int64),
        ],
    )
    static = compute_alignment_loss(embs, steps=steps, seq_lens=seq_lens, **options)
    np.testing.assert_allclose(dynamic(embs, steps, seq_lens).numpy(), static.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "embs_shape,kwargs,message",
    [
        ((2, 1, 4), {}, "at least 2 timesteps"),
        ((1, 5, 4), {}, "B >= 2"),
        ((2, 5, 4), dict(stochastic_matching=True, cycle_length=3), "cycle_length"),
        ((2, 5, 4), dict(loss_type="mse"), "loss_type"),
        ((2, 5, 4), dict(similarity_type="dot"), "similarity_type"),
        ((2, 5, 4), dict(batch_size=3), "batch_size"),
        ((2, 5, 4), dict(steps=np.zeros((2, 4))), "steps"),
        ((2, 5, 4), dict(seq_lens=np.ones(3)), "seq_lens"),
        ((2, 5, 4), dict(temperature=0.0), "temperature"),
        ((2, 5, 4), dict(cycle_length=1, stochastic_matching=True), "cycle_length"),
        ((2, 5), {}, r"\[B, T, D\]"),
    ],
)
def test_invalid_arguments_raise_a_clear_error(embs_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compute_alignment_loss(np.zeros(embs_shape, np.float32), **kwargs)


@pytest.mark.parametrize("shape", [(3, 1, 4), (1, 5, 4)])
def test_unknown_shapes_are_checked_when_the_graph_runs(shape):
    loss_fn = tf.function(
        compute_alignment_loss, input_signature=[tf.TensorSpec([None, None, 4], tf.float32)]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="needs"):
        loss_fn(np.zeros(shape, np.float32))


def test_integer_embeddings_are_rejected():
    with pytest.raises(ValueError, match="floating"):
        compute_alignment_loss(np.zeros((2, 3, 4), np.int32))
