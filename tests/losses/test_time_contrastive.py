"""TCN n-pairs loss: pair sampling rules, a hand-checked case and a NumPy reference."""

import numpy as np
import pytest
import tensorflow as tf

from tcc.losses import compute_tcn_loss, sample_tcn_positives


def _numpy_tcn_loss(
    embs, positive_steps, reg_lambda, negatives="batch", normalize=False, temperature=1.0
):
    """Reference from the documented rule; loops over anchors."""
    num_videos, num_steps, _ = embs.shape
    anchors, positives, anchor_ids, positive_ids = [], [], [], []
    for b in range(num_videos):
        for t in range(1, num_steps):
            p = positive_steps[b, t - 1]
            anchors.append(embs[b, t])
            positives.append(embs[b, p])
            anchor_ids.append((b, t))
            positive_ids.append((b, p))
    anchors, positives = np.array(anchors), np.array(positives)
    unit = (lambda x: x / np.linalg.norm(x)) if normalize else (lambda x: x)
    losses = []
    for a, anchor in enumerate(anchors):
        kept = [
            c
            for c in range(len(positives))
            if positive_ids[c] != anchor_ids[a]
            and (negatives == "batch" or positive_ids[c][0] == anchor_ids[a][0])
        ]
        logits = np.array([unit(anchor) @ unit(positives[c]) / temperature for c in kept])
        targets = np.array([positive_ids[c] == positive_ids[a] for c in kept], np.float64)
        targets /= targets.sum()
        log_norm = np.log(np.sum(np.exp(logits - logits.max()))) + logits.max()
        losses.append(-np.sum(targets * (logits - log_norm)))
    l2 = (
        0.25
        * reg_lambda
        * (np.mean(np.sum(anchors**2, axis=1)) + np.mean(np.sum(positives**2, axis=1)))
    )
    return np.mean(losses) + l2


def test_positives_lie_in_the_window_before_their_anchor():
    positives = sample_tcn_positives(3, 12, positive_window=5, seed=0).numpy()
    anchors = np.arange(1, 12)[None, :]
    assert positives.shape == (3, 11)
    assert np.all(positives < anchors) and np.all(positives >= np.maximum(anchors - 5, 0))


def test_positive_offsets_cover_the_whole_window():
    positives = sample_tcn_positives(400, 8, positive_window=3, seed=1).numpy()
    offsets = np.arange(1, 8)[None, :] - positives
    assert set(np.unique(offsets[:, 4:])) == {1, 2, 3}
    assert set(np.unique(offsets[:, 0])) == {1}  # anchor 1 can only pair with frame 0


def test_hand_checked_case_with_a_window_of_one():
    # One video, frames e0, e1, e2: anchors 1 and 2 with positives 0 and 1. Anchor 1's frame is
    # the positive of anchor 2, so that column is left out of anchor 1's row, whose loss is 0.
    e = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    row_2 = np.log(np.exp(e[2] @ e[0]) + np.exp(e[2] @ e[1])) - e[2] @ e[1]  # log 2
    l2 = 0.25 * 0.1 * ((1.0 + 2.0) / 2 + (1.0 + 1.0) / 2)
    expected = (0.0 + row_2) / 2 + l2
    loss = compute_tcn_loss(e[None], positive_window=1, reg_lambda=0.1)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(expected, np.log(2) / 2 + 0.0625)


@pytest.mark.parametrize("positive_window", [1, 3, 5])
def test_loss_matches_numpy_reference_on_random_embeddings(positive_window):
    embs = np.random.default_rng(positive_window).standard_normal((3, 7, 4))
    positives = sample_tcn_positives(3, 7, positive_window, seed=9).numpy()
    expected = _numpy_tcn_loss(embs, positives, reg_lambda=0.002)
    loss = compute_tcn_loss(tf.constant(embs), positive_window, reg_lambda=0.002, seed=9)
    assert loss.dtype == tf.float64
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "negatives,normalize,temperature",
    [("video", False, 1.0), ("batch", True, 0.1), ("video", True, 0.3), ("batch", False, 2.0)],
)
def test_options_match_numpy_reference_on_random_embeddings(negatives, normalize, temperature):
    embs = np.random.default_rng(11).standard_normal((3, 8, 5))
    positives = sample_tcn_positives(3, 8, 3, seed=2).numpy()
    expected = _numpy_tcn_loss(embs, positives, 0.01, negatives, normalize, temperature)
    loss = compute_tcn_loss(
        tf.constant(embs),
        3,
        reg_lambda=0.01,
        seed=2,
        negatives=negatives,
        normalize_embeddings=normalize,
        temperature=temperature,
    )
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10)


def test_video_negatives_ignore_the_other_videos():
    # With negatives='video' every row only sees its own video's columns: moving the other video
    # anywhere leaves the loss unchanged, and the loss is the mean of the one-video losses.
    rng = np.random.default_rng(4)
    embs = rng.standard_normal((2, 6, 3))
    moved = embs.copy()
    moved[1] = 5.0 * rng.standard_normal((6, 3))
    kwargs = dict(positive_window=2, reg_lambda=0.0, seed=7, negatives="video")
    first = compute_tcn_loss(embs, **kwargs).numpy()
    second = compute_tcn_loss(moved, **kwargs).numpy()
    assert first != pytest.approx(second)  # video 1's own rows changed...
    positives = sample_tcn_positives(2, 6, 2, seed=7).numpy()
    per_video = [_numpy_tcn_loss(moved[b : b + 1], positives[b : b + 1], 0.0) for b in range(2)]
    np.testing.assert_allclose(second, np.mean(per_video), rtol=1e-10)  # ...but never mixed
    batch = compute_tcn_loss(moved, positive_window=2, reg_lambda=0.0, seed=7).numpy()
    assert batch > second  # with batch negatives video 1's frames also compete


def test_normalised_loss_ignores_the_scale_of_the_embeddings():
    embs = np.random.default_rng(6).standard_normal((2, 7, 4))
    kwargs = dict(reg_lambda=0.0, seed=1, normalize_embeddings=True, temperature=0.2)
    np.testing.assert_allclose(
        compute_tcn_loss(embs, **kwargs).numpy(), compute_tcn_loss(9.0 * embs, **kwargs).numpy()
    )


def test_regularisation_term_is_a_quarter_lambda_times_mean_squared_norms():
    embs = np.random.default_rng(0).standard_normal((2, 4, 3))
    with_reg = compute_tcn_loss(embs, positive_window=1, reg_lambda=1.0)
    without = compute_tcn_loss(embs, positive_window=1, reg_lambda=0.0)
    anchors, positives = embs[:, 1:].reshape(-1, 3), embs[:, :-1].reshape(-1, 3)
    expected = 0.25 * (np.mean(np.sum(anchors**2, 1)) + np.mean(np.sum(positives**2, 1)))
    np.testing.assert_allclose((with_reg - without).numpy(), expected, rtol=1e-10)


def test_videos_far_apart_only_contribute_their_own_pairs():
    # Pairs never mix videos: when video 1 is shifted far away in embedding space, its rows and
    # columns stop interacting with video 0 and the loss becomes the mean of per-video losses.
    rng = np.random.default_rng(3)
    video_0, video_1 = rng.standard_normal((2, 6, 3))
    far = np.stack([video_0 - 30.0, video_1 + 30.0])
    positives = sample_tcn_positives(2, 6, 2, seed=4).numpy()
    per_video = [
        _numpy_tcn_loss(far[b : b + 1], positives[b : b + 1], reg_lambda=0.0) for b in range(2)
    ]
    loss = compute_tcn_loss(far, positive_window=2, reg_lambda=0.0, seed=4)
    np.testing.assert_allclose(loss.numpy(), np.mean(per_video), rtol=1e-6)


def test_same_seed_gives_same_loss_and_xla_matches_eager():
    embs = tf.constant(np.random.default_rng(5).standard_normal((2, 9, 4)), tf.float32)
    eager = compute_tcn_loss(embs, seed=[3, 4])
    compiled = tf.function(lambda x: compute_tcn_loss(x, seed=[3, 4]), jit_compile=True)
    np.testing.assert_allclose(compiled(embs).numpy(), eager.numpy(), rtol=1e-5)
    np.testing.assert_allclose(compute_tcn_loss(embs, seed=[3, 4]).numpy(), eager.numpy())


def test_identical_frames_give_finite_loss_and_gradient():
    embs = tf.ones((2, 6, 4), tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(embs)
        loss = compute_tcn_loss(embs, seed=0)
    assert loss.dtype == tf.float32 and np.isfinite(loss.numpy())
    assert np.all(np.isfinite(tape.gradient(loss, embs).numpy()))


@pytest.mark.parametrize(
    "shape,kwargs,message",
    [
        ((2, 1, 4), {}, "T >= 2"),
        ((2, 5, 4), dict(positive_window=0), "positive_window"),
        ((2, 5, 4), dict(negatives="videos"), "negatives"),
        ((2, 5, 4), dict(temperature=0.0), "temperature"),
    ],
)
def test_invalid_arguments_raise_a_clear_error(shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compute_tcn_loss(np.zeros(shape, np.float32), **kwargs)
