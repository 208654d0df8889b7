"""Tests of tcc.training.schedules against NumPy formulas written here."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tcc.config import get_default_config
from tcc.training.schedules import DECAY_TYPES, WarmupDecaySchedule, build_lr_schedule


def _lr_cfg(**changes):
    cfg = get_default_config().optimizer.lr
    for key, value in changes.items():
        cfg[key] = value
    return cfg


def _numpy_lr(steps, cfg, max_iters=None, staircase=False):
    """Independent reference: the formulas of the module docstring, in float64."""
    s = np.asarray(steps, np.float64)
    lr0 = cfg.initial_lr
    if cfg.decay_type == "fixed":
        lr = np.full_like(s, lr0)
    elif cfg.decay_type == "exp_decay":
        p = s / cfg.exp_decay_steps
        lr = lr0 * cfg.exp_decay_rate ** (np.floor(p) if staircase else p)
    elif cfg.decay_type == "manual":
        k = np.array([sum(x >= b for b in cfg.manual_lr_step_boundaries) for x in s])
        lr = lr0 * cfg.manual_lr_decay_rate**k
    else:
        frac = np.clip(s, 0, max_iters) / max_iters
        lr = (lr0 - cfg.poly_end_lr) * (1 - frac) ** cfg.poly_power + cfg.poly_end_lr
    if cfg.num_warmup_steps > 0:
        lr = lr * np.minimum(s / cfg.num_warmup_steps, 1.0)
    return lr


def _evaluate(schedule, steps):
    return np.array([float(schedule(tf.constant(s, tf.int64))) for s in steps])


def test_fixed_is_constant_after_linear_warmup_from_zero():
    cfg = _lr_cfg(initial_lr=0.2, decay_type="fixed", num_warmup_steps=10)
    steps = [0, 1, 5, 9, 10, 11, 1000]
    got = _evaluate(build_lr_schedule(cfg), steps)
    np.testing.assert_allclose(got, [0.0, 0.02, 0.1, 0.18, 0.2, 0.2, 0.2], rtol=1e-6)
    np.testing.assert_allclose(got, _numpy_lr(steps, cfg), rtol=1e-6)


def test_exp_decay_is_continuous_power_of_rate():
    cfg = _lr_cfg(initial_lr=1e-3, decay_type="exp_decay", exp_decay_rate=0.5, exp_decay_steps=100)
    steps = [0, 1, 50, 100, 250, 1000]
    got = _evaluate(build_lr_schedule(cfg), steps)
    np.testing.assert_allclose(got, 1e-3 * 0.5 ** (np.array(steps) / 100.0), rtol=1e-5)
    assert got[2] < got[1] < got[0]  # decays between period boundaries, not in steps


def test_exp_decay_staircase_decays_in_whole_periods():
    cfg = _lr_cfg(initial_lr=1e-3, decay_type="exp_decay", exp_decay_rate=0.5, exp_decay_steps=100)
    steps = [0, 99, 100, 199, 250]
    got = _evaluate(build_lr_schedule(cfg, staircase=True), steps)
    np.testing.assert_allclose(got, 1e-3 * np.array([1, 1, 0.5, 0.5, 0.25]), rtol=1e-6)


def test_exp_decay_with_warmup_matches_numpy_and_is_continuous_at_warmup_end():
    cfg = _lr_cfg(
        initial_lr=0.1,
        decay_type="exp_decay",
        exp_decay_rate=0.97,
        exp_decay_steps=1000,
        num_warmup_steps=200,
    )
    steps = [0, 1, 100, 199, 200, 201, 5000]
    got = _evaluate(build_lr_schedule(cfg), steps)
    np.testing.assert_allclose(got, _numpy_lr(steps, cfg), rtol=1e-5)
    np.testing.assert_allclose(got[3], got[4], rtol=1e-2)  # no jump at the end of warmup


def test_manual_multiplies_by_rate_at_each_boundary_inclusive():
    cfg = _lr_cfg(
        initial_lr=1.0,
        decay_type="manual",
        manual_lr_step_boundaries=[5, 10],
        manual_lr_decay_rate=0.1,
    )
    steps = [0, 4, 5, 9, 10, 11, 100]
    got = _evaluate(build_lr_schedule(cfg), steps)
    np.testing.assert_allclose(got, [1, 1, 0.1, 0.1, 0.01, 0.01, 0.01], rtol=1e-6)


def test_manual_with_warmup_matches_numpy():
    cfg = _lr_cfg(
        initial_lr=0.5,
        decay_type="manual",
        manual_lr_step_boundaries=[3, 8],
        manual_lr_decay_rate=0.5,
        num_warmup_steps=4,
    )
    steps = list(range(12))
    np.testing.assert_allclose(
        _evaluate(build_lr_schedule(cfg), steps), _numpy_lr(steps, cfg), rtol=1e-6
    )


def test_manual_without_boundaries_is_constant():
    cfg = _lr_cfg(initial_lr=0.3, decay_type="manual", manual_lr_step_boundaries=[])
    np.testing.assert_allclose(_evaluate(build_lr_schedule(cfg), [0, 10, 10**6]), 0.3, rtol=1e-6)


def test_poly_decays_to_end_lr_at_max_iters_and_stays():
    cfg = _lr_cfg(initial_lr=1.0, decay_type="poly", poly_end_lr=0.1, poly_power=2.0)
    steps = [0, 25, 50, 100, 150]
    got = _evaluate(build_lr_schedule(cfg, max_iters=100), steps)
    expected = [1.0, 0.9 * 0.75**2 + 0.1, 0.9 * 0.25 + 0.1, 0.1, 0.1]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_poly_with_warmup_matches_numpy():
    cfg = _lr_cfg(initial_lr=0.01, decay_type="poly", poly_power=1.0, num_warmup_steps=10)
    steps = [0, 3, 10, 11, 60, 99, 100]
    np.testing.assert_allclose(
        _evaluate(build_lr_schedule(cfg, max_iters=100), steps),
        _numpy_lr(steps, cfg, max_iters=100),
        rtol=1e-5,
        atol=1e-9,
    )


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.float32, tf.float64])
def test_schedule_accepts_int_and_float_steps_in_tf_function_and_returns_float32(dtype):
    cfg = _lr_cfg(initial_lr=0.1, decay_type="exp_decay", num_warmup_steps=5)
    schedule = build_lr_schedule(cfg)
    lr = tf.function(schedule)(tf.constant(7, dtype))
    assert lr.dtype == tf.float32
    np.testing.assert_allclose(float(lr), _numpy_lr([7], cfg)[0], rtol=1e-6)


def test_schedule_accepts_a_python_step():
    schedule = build_lr_schedule(_lr_cfg(initial_lr=0.1, num_warmup_steps=4))
    np.testing.assert_allclose(float(schedule(2)), 0.05, rtol=1e-6)


@pytest.mark.parametrize("decay_type", DECAY_TYPES)
def test_config_round_trip_gives_the_same_values(decay_type):
    cfg = _lr_cfg(
        decay_type=decay_type,
        initial_lr=0.01,
        num_warmup_steps=3,
        manual_lr_step_boundaries=[4, 9],
        exp_decay_steps=5,
    )
    schedule = build_lr_schedule(cfg, max_iters=20)
    config = schedule.get_config()
    json.dumps(config)  # plain Python values only
    rebuilt = WarmupDecaySchedule.from_config(config)
    assert rebuilt.get_config() == config
    steps = [0, 2, 4, 9, 15, 25]
    np.testing.assert_allclose(_evaluate(rebuilt, steps), _evaluate(schedule, steps), rtol=0)


def test_keras_serialize_deserialize_finds_the_registered_class():
    cfg = _lr_cfg(decay_type="manual", initial_lr=0.2, manual_lr_step_boundaries=[2])
    schedule = build_lr_schedule(cfg)
    blob = keras.optimizers.schedules.serialize(schedule)
    rebuilt = keras.optimizers.schedules.deserialize(json.loads(json.dumps(blob)))
    assert isinstance(rebuilt, WarmupDecaySchedule)
    np.testing.assert_allclose(_evaluate(rebuilt, [0, 1, 2, 3]), [0.2, 0.2, 0.02, 0.02], rtol=1e-6)


def test_unknown_decay_type_lists_the_valid_ones():
    with pytest.raises(ValueError, match="fixed, exp_decay, manual, poly.*cosine"):
        build_lr_schedule(_lr_cfg(decay_type="cosine"))


def test_poly_without_max_iters_is_an_error():
    with pytest.raises(ValueError, match="max_iters"):
        build_lr_schedule(_lr_cfg(decay_type="poly"))


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"decay_type": "exp_decay", "exp_decay_steps": 0}, "exp_decay_steps"),
        ({"decay_type": "exp_decay", "exp_decay_rate": 1.5}, "exp_decay_rate"),
        (
            {"decay_type": "manual", "manual_lr_step_boundaries": [9, 5]},
            "manual_lr_step_boundaries",
        ),
        ({"decay_type": "manual", "manual_lr_step_boundaries": [-1]}, "manual_lr_step_boundaries"),
        ({"num_warmup_steps": -1}, "num_warmup_steps"),
        ({"initial_lr": -0.1}, "initial_lr"),
    ],
)
def test_out_of_range_parameter_names_the_key(changes, key):
    with pytest.raises(ValueError, match=f"optimizer.lr.{key}.*Received"):
        build_lr_schedule(_lr_cfg(**changes), max_iters=10)


def test_irrelevant_parameters_are_not_validated():
    cfg = _lr_cfg(decay_type="fixed", exp_decay_steps=0)
    schedule = build_lr_schedule(cfg)
    np.testing.assert_allclose(float(schedule(0)), cfg.initial_lr, rtol=1e-6)
