"""The combined loss: weighted terms, each divided by its chance level when normalize_terms."""

import math

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config

from tcc.algos import build_algorithm
from tcc.algos.alignment import alignment_loss
from tcc.losses.cycle_consistency import compute_alignment_loss


def _combined(tmp_path, normalize: bool, loss_type: str = "regression_mse_var", **weights):
    cfg = tiny_config(
        str(tmp_path),
        str(tmp_path / "logdir"),
        training_algo="combined",
        **{"combined.normalize_terms": normalize, "alignment.loss_type": loss_type},
        **{f"combined.{k}": v for k, v in weights.items()},
    )
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames)
    return cfg, model


def _batch(num_videos=3, num_steps=6, seed=0):
    rng = np.random.default_rng(seed)
    steps = np.sort(rng.choice(40, (num_videos, num_steps), replace=True), axis=1)
    return {
        "steps": tf.constant(steps, tf.int32),
        "seq_lens": tf.fill([num_videos], 40),
    }


@pytest.mark.parametrize("loss_type", ["regression_mse_var", "classification", "regression_mse"])
def test_alignment_term_is_divided_by_its_value_on_constant_embeddings(tmp_path, loss_type):
    cfg, model = _combined(tmp_path, True, loss_type, alignment_loss_weight=0.5)
    batch = _batch()
    embs = tf.constant(np.random.default_rng(1).normal(size=(3, 6, 8)), tf.float32)
    terms = model.compute_losses(batch, embs, training=True)
    a = cfg.alignment
    kwargs = dict(
        steps=batch["steps"],
        seq_lens=batch["seq_lens"],
        loss_type=loss_type,
        temperature=a.softmax_temperature,
        variance_lambda=a.variance_lambda,
        label_smoothing=a.label_smoothing,
    )
    raw = float(compute_alignment_loss(embs, **kwargs))
    # Independent chance level: every soft nearest neighbour is the uniform average.
    steps = batch["steps"].numpy() / 40.0
    if loss_type == "classification":
        chance = math.log(6)
    else:
        err = (steps - steps.mean(axis=1, keepdims=True)) ** 2  # target t, prediction = mean
        var = steps.var(axis=1, keepdims=True)
        if loss_type == "regression_mse":
            chance = float(np.mean(np.repeat(err, 2, axis=0)))
        else:  # each row regresses onto the other video's (j) steps, cycling back to its own
            chance = float(np.mean(err / var + a.variance_lambda * np.log(var)))
    assert float(terms["alignment_loss"]) == pytest.approx(0.5 * raw / chance, rel=1e-4)


def test_constant_embeddings_give_weight_times_one_for_tcc_and_tcn(tmp_path):
    cfg, model = _combined(tmp_path, True, alignment_loss_weight=0.25, tcn_loss_weight=0.75)
    embs = tf.ones([3, 6, 8])
    terms = model.compute_losses(_batch(), embs, training=True)
    assert float(terms["alignment_loss"]) == pytest.approx(0.25, rel=1e-5)
    assert float(terms["tcn_loss"]) == pytest.approx(0.75, rel=1e-5)


def test_sal_term_is_divided_by_log_2(tmp_path):
    tf.random.set_seed(3)
    _, norm = _combined(tmp_path, True, alignment_loss_weight=0.0, sal_loss_weight=1.0)
    _, raw = _combined(tmp_path, False, alignment_loss_weight=0.0, sal_loss_weight=1.0)
    raw.sal_head.set_weights(norm.sal_head.get_weights())
    embs = tf.constant(np.random.default_rng(2).normal(size=(3, 6, 8)), tf.float32)
    tf.random.set_seed(5)
    a = float(norm.compute_losses(_batch(), embs, training=False)["sal_loss"])
    tf.random.set_seed(5)
    b = float(raw.compute_losses(_batch(), embs, training=False)["sal_loss"])
    assert a == pytest.approx(b / math.log(2.0), rel=1e-5)


def test_without_normalization_terms_are_plain_weighted_losses(tmp_path):
    cfg, model = _combined(tmp_path, False, alignment_loss_weight=0.3)
    batch = _batch()
    embs = tf.constant(np.random.default_rng(4).normal(size=(3, 6, 8)), tf.float32)
    got = float(model.compute_losses(batch, embs, training=True)["alignment_loss"])
    assert got == pytest.approx(
        0.3 * float(alignment_loss(model.options.alignment, batch, embs)), rel=1e-6
    )


def test_the_chance_level_carries_no_gradient(tmp_path):
    cfg, model = _combined(tmp_path, True, alignment_loss_weight=1.0)
    batch = _batch()
    embs = tf.Variable(np.random.default_rng(5).normal(size=(3, 6, 8)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        norm = model.compute_losses(batch, embs, training=True)["alignment_loss"]
        raw = alignment_loss(model.options.alignment, batch, embs)
    ratio = float(raw / norm)
    np.testing.assert_allclose(
        tape.gradient(norm, embs).numpy() * ratio,
        tape.gradient(raw, embs).numpy(),
        rtol=1e-4,
        atol=1e-7,
    )
