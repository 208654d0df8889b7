"""Tests of tcc.training.optimizers and tcc.training.precision on toy variables."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tcc.config import get_default_config
from tcc.training.optimizers import build_optimizer
from tcc.training.precision import set_precision, wrap_for_precision


def _opt_cfg(lr=None, **changes):
    cfg = get_default_config().optimizer
    for key, value in changes.items():
        cfg[key] = value
    for key, value in (lr or {}).items():
        cfg.lr[key] = value
    return cfg


def _apply_constant_grads(optimizer, variables, grads, steps):
    for _ in range(steps):
        optimizer.apply_gradients(
            zip([tf.constant(g, tf.float32) for g in grads], variables, strict=True)
        )


def test_adam_without_weight_decay_is_plain_adam():
    opt = build_optimizer(_opt_cfg(type="adam"))
    assert type(opt) is keras.optimizers.Adam
    assert opt.clipnorm is None and opt.weight_decay is None


def test_adam_with_weight_decay_is_adamw():
    opt = build_optimizer(_opt_cfg(type="adam", weight_decay=0.01))
    assert isinstance(opt, keras.optimizers.AdamW)
    assert opt.weight_decay == pytest.approx(0.01)


def test_sgd_takes_momentum_and_weight_decay_from_config():
    opt = build_optimizer(_opt_cfg(type="sgd", momentum=0.8, weight_decay=0.001, clipnorm=2.0))
    assert isinstance(opt, keras.optimizers.SGD)
    assert opt.momentum == pytest.approx(0.8)
    assert opt.weight_decay == pytest.approx(0.001)
    assert opt.clipnorm == pytest.approx(2.0)


def test_sgd_updates_follow_the_manual_schedule_step_by_step():
    lr = {
        "initial_lr": 0.1,
        "decay_type": "manual",
        "manual_lr_step_boundaries": [2, 4],
        "manual_lr_decay_rate": 0.5,
    }
    opt = build_optimizer(_opt_cfg(lr, type="sgd", momentum=0.0))
    var = tf.Variable([0.0])
    expected_lrs = [0.1, 0.1, 0.05, 0.05, 0.025]
    for step, expected in enumerate(expected_lrs):
        np.testing.assert_allclose(float(opt.learning_rate), expected, rtol=1e-6)
        _apply_constant_grads(opt, [var], [[1.0]], 1)
        assert int(opt.iterations) == step + 1
    np.testing.assert_allclose(var.numpy(), [-sum(expected_lrs)], rtol=1e-6)


def test_adamw_first_step_matches_numpy_with_warmup_and_decoupled_decay():
    lr = {"initial_lr": 0.01, "num_warmup_steps": 2}
    opt = build_optimizer(_opt_cfg(lr, type="adam", weight_decay=0.5))
    var = tf.Variable([1.0, -2.0])
    grad = np.array([0.3, -4.0])
    _apply_constant_grads(opt, [var], [grad], 2)  # lr at iterations 0, 1: 0.0, 0.005
    # Keras Adam, step t=2 with a constant gradient: m_hat = g, v_hat = g**2.
    eps, b1, b2, lr1 = 1e-7, 0.9, 0.999, 0.005
    m, v = (1 - b1**2) * grad, (1 - b2**2) * grad**2
    alpha = lr1 * np.sqrt(1 - b2**2) / (1 - b1**2)
    w1 = np.array([1.0, -2.0])  # the first step has lr 0: nothing moves
    w2 = w1 - lr1 * 0.5 * w1 - alpha * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(var.numpy(), w2, rtol=1e-5)


def test_clipnorm_clips_each_variable_gradient_to_the_norm():
    opt = build_optimizer(_opt_cfg({"initial_lr": 1.0}, type="sgd", momentum=0.0, clipnorm=1.0))
    a, b = tf.Variable([0.0, 0.0]), tf.Variable([0.0])
    _apply_constant_grads(opt, [a, b], [[3.0, 4.0], [0.5]], 1)
    np.testing.assert_allclose(a.numpy(), [-0.6, -0.8], rtol=1e-6)  # norm 5 -> 1
    np.testing.assert_allclose(b.numpy(), [-0.5], rtol=1e-6)  # below the norm: untouched


def test_zero_clipnorm_does_not_clip():
    opt = build_optimizer(_opt_cfg({"initial_lr": 1.0}, type="sgd", momentum=0.0, clipnorm=0.0))
    a = tf.Variable([0.0, 0.0])
    _apply_constant_grads(opt, [a], [[3.0, 4.0]], 1)
    np.testing.assert_allclose(a.numpy(), [-3.0, -4.0], rtol=1e-6)


def test_optimizer_steps_inside_tf_function():
    opt = build_optimizer(
        _opt_cfg(
            {
                "initial_lr": 0.1,
                "decay_type": "exp_decay",
                "exp_decay_steps": 1,
                "exp_decay_rate": 0.5,
            },
            type="sgd",
            momentum=0.0,
        )
    )
    var = tf.Variable([0.0])

    @tf.function
    def step():
        opt.apply_gradients([(tf.constant([1.0]), var)])

    for _ in range(3):
        step()
    np.testing.assert_allclose(var.numpy(), [-(0.1 + 0.05 + 0.025)], rtol=1e-6)


def test_optimizer_config_round_trip_keeps_the_schedule():
    lr = {"initial_lr": 0.2, "decay_type": "poly", "poly_power": 1.0}
    opt = build_optimizer(_opt_cfg(lr, type="adam"), max_iters=10)
    rebuilt = keras.optimizers.Adam.from_config(opt.get_config())
    rebuilt.iterations.assign(5)
    np.testing.assert_allclose(float(rebuilt.learning_rate), 0.1, rtol=1e-6)


def test_unknown_optimizer_type_lists_the_valid_ones():
    with pytest.raises(ValueError, match="adam, sgd.*rmsprop"):
        build_optimizer(_opt_cfg(type="rmsprop"))


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"clipnorm": -1.0}, "clipnorm"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"type": "sgd", "momentum": 1.0}, "momentum"),
    ],
)
def test_out_of_range_optimizer_value_names_the_key(changes, key):
    with pytest.raises(ValueError, match=f"optimizer.{key}.*Received"):
        build_optimizer(_opt_cfg(**changes))


def test_poly_optimizer_needs_max_iters():
    with pytest.raises(ValueError, match="max_iters"):
        build_optimizer(_opt_cfg({"decay_type": "poly"}))


@pytest.fixture
def float32_afterwards():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_set_precision_sets_the_global_policy(policy, float32_afterwards):
    assert set_precision(policy) == policy
    layer = keras.layers.Dense(2)
    assert layer.compute_dtype == policy.split("_")[1] and layer.variable_dtype == "float32"
    assert set_precision("") == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_unknown_precision_is_an_error_and_leaves_the_policy(float32_afterwards):
    with pytest.raises(ValueError, match="mixed_float16, mixed_bfloat16.*float64"):
        set_precision("float64")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_wrap_for_precision_adds_loss_scaling_only_for_float16():
    opt = build_optimizer(_opt_cfg())
    for policy in ("", "float32", "mixed_bfloat16"):
        assert wrap_for_precision(opt, policy) is opt
    wrapped = wrap_for_precision(opt, "mixed_float16")
    assert isinstance(wrapped, keras.mixed_precision.LossScaleOptimizer)
    assert wrapped.inner_optimizer is opt
    assert wrap_for_precision(wrapped, "mixed_float16") is wrapped
    with pytest.raises(ValueError, match="Received"):
        wrap_for_precision(opt, "fp8")
