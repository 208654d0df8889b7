"""The divergence guard: exploding losses / gradient norms stop training, normal runs never do."""

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config

from tcc.algos import ALGORITHMS
from tcc.algos.alignment import Alignment
from tcc.training import checkpoints, loop
from tcc.training.divergence import DivergenceGuard


def _first_divergence(guard: DivergenceGuard, losses, grad_norms=None):
    """(step index, Divergence) of the first flagged step, or None."""
    grad_norms = np.ones(len(losses)) if grad_norms is None else grad_norms
    for i, (loss, norm) in enumerate(zip(losses, grad_norms, strict=True)):
        found = guard.check({"loss": float(loss), "grad_norm": float(norm)})
        if found:
            return i, found
    return None


def _noisy_decay(rng, steps, start=5.0, floor=0.05, sigma=0.6):
    """A converging loss curve with heavy multiplicative noise (log-normal, sigma in log units)."""
    t = np.arange(steps)
    return (floor + (start - floor) * np.exp(-t / (steps / 5))) * rng.lognormal(0, sigma, steps)


def test_noisy_converging_curves_never_stop():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        losses = _noisy_decay(rng, 3000)
        norms = _noisy_decay(rng, 3000, start=0.5, floor=0.5, sigma=1.0)
        assert _first_divergence(DivergenceGuard(), losses, norms) is None, seed


def test_a_converged_loss_jumping_back_to_its_start_level_does_not_stop():
    losses = np.concatenate(
        [np.full(20, 2.0), np.geomspace(2.0, 1e-4, 200), [1.5], np.full(5, 1e-4)]
    )
    assert _first_divergence(DivergenceGuard(window=20), losses) is None


def test_a_converged_gradient_norm_back_at_its_earlier_level_does_not_stop():
    # Seen in a supervised run on one labelled video: the norm rises while it learns, falls to
    # ~5e-4 once the video is fitted, then one step is back at 3.3: not an explosion.
    norms = np.concatenate(
        [np.full(20, 0.5), np.linspace(0.5, 5.0, 100), np.geomspace(5.0, 5e-4, 200), [3.3]]
    )
    assert 3.3 > 1000 * 5e-4 and 3.3 > np.median(norms[:20])  # the rule before this test
    assert _first_divergence(DivergenceGuard(window=20), np.ones(len(norms)), norms) is None
    norms[-1] = 50.0  # far beyond anything the run has had
    step, found = _first_divergence(DivergenceGuard(window=20), np.ones(len(norms)), norms)
    assert step == len(norms) - 1 and found.key == "grad_norm"


@pytest.mark.parametrize("key", ["loss", "grad_norm"])
def test_a_spike_of_orders_of_magnitude_is_flagged_at_its_step(key):
    rng = np.random.default_rng(0)
    values = _noisy_decay(rng, 100, sigma=0.3)
    values[60] *= 1e4
    losses, norms = (values, None) if key == "loss" else (np.ones(100), values)
    step, found = _first_divergence(DivergenceGuard(window=20), losses, norms)
    assert step == 60 and found.key == key
    assert f"{key} exploded to" in found.describe() and "previous 20 step(s)" in found.describe()


def test_a_guard_restored_from_its_state_decides_as_the_uninterrupted_one():
    rng = np.random.default_rng(1)
    norms = np.concatenate(
        [np.linspace(0.5, 5.0, 60), np.geomspace(5.0, 5e-4, 100), [3.3, 2e-4, 4.5, 1e-4, 4e3]]
    )
    losses = _noisy_decay(rng, len(norms), sigma=0.3)
    straight = _first_divergence(DivergenceGuard(window=20), losses, norms)
    assert straight is not None and straight[0] == len(norms) - 1  # 4e3, not 3.3 nor 4.5
    first = DivergenceGuard(window=20)
    assert _first_divergence(first, losses[:100], norms[:100]) is None
    state = json.loads(json.dumps(first.state()))  # as saved in a checkpoint
    resumed = DivergenceGuard(window=20)
    resumed.load_state(state)
    assert resumed.state() == first.state()
    step, found = _first_divergence(resumed, losses[100:], norms[100:])
    assert 100 + step == straight[0] and found == straight[1]
    fresh = _first_divergence(DivergenceGuard(window=20), losses[100:], norms[100:])
    assert fresh is not None and 100 + fresh[0] < straight[0]  # without the history: too early


def test_a_slow_climb_is_flagged_once_far_above_its_start():
    losses = 3.0 * 1.1 ** np.arange(200)  # +10 % per step: never 1000x its recent median
    step, found = _first_divergence(DivergenceGuard(factor=1000, window=20), losses)
    start = np.median(losses[:20])
    assert losses[step] > 1000 * start >= losses[step - 1]
    assert "first 20 step(s)" in found.describe()


def test_warm_up_non_finite_values_and_factor_zero():
    huge_early = np.concatenate([[1e9], np.ones(30)])
    assert _first_divergence(DivergenceGuard(window=10), huge_early) is None
    with_nans = np.concatenate([np.ones(15), [np.nan, np.inf], np.ones(5), [1e6]])
    assert _first_divergence(DivergenceGuard(window=10), with_nans)[0] == len(with_nans) - 1
    spike = np.concatenate([np.ones(30), [1e6]])
    assert _first_divergence(DivergenceGuard(factor=0, window=10), spike) is None


class _ExplodeAtTwelve(Alignment):
    """Alignment whose loss (and so its gradients) is scaled by 1e4 from step 12 on."""

    def compute_losses(self, batch, embs, training):
        terms = super().compute_losses(batch, embs, training)
        optimizer = getattr(self, "optimizer", None)
        if optimizer is None:  # the dummy build step before compile()
            return terms
        scale = tf.where(optimizer.iterations >= 11, 1e4, 1.0)
        return {k: v * scale for k, v in terms.items()}


if "test_explode_at_twelve" not in ALGORITHMS:
    ALGORITHMS.register("test_explode_at_twelve")(_ExplodeAtTwelve)


def test_a_huge_learning_rate_on_tiny_data_stops_at_the_explosion(tiny_root, tmp_path):
    cfg = tiny_config(
        tiny_root, str(tmp_path), **{"train.max_iters": 20, "optimizer.lr.initial_lr": 10.0}
    )
    with pytest.raises(loop.DivergenceError, match=r"loss exploded to .* at step \d+; training"):
        loop.train(cfg)


def test_an_exploding_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_root, tmp_path):
    cfg = tiny_config(
        tiny_root,
        str(tmp_path),
        training_algo="test_explode_at_twelve",
        **{
            "train.max_iters": 30,
            "train.divergence_window": 5,
            "checkpoint.save_interval": 5,
            "optimizer.lr.initial_lr": 1e-4,
        },
    )
    with pytest.raises(loop.DivergenceError) as caught:
        loop.train(cfg)
    message = str(caught.value)
    assert "\n" not in message
    assert "exploded to" in message and "at step 12" in message and "ckpt-10" in message
    assert "train.divergence_factor=0" in message
    assert isinstance(caught.value, loop.NonFiniteLossError)  # the CLI's one-line error path
    assert checkpoints.latest_checkpoint(str(tmp_path)).endswith("ckpt-10")


@pytest.mark.parametrize("algo", ["alignment", "sal", "tcn", "supervised"])
def test_normal_training_runs_past_the_warm_up_without_being_stopped(tiny_root, tmp_path, algo):
    cfg = tiny_config(
        tiny_root,
        str(tmp_path),
        training_algo=algo,
        **{
            "train.max_iters": 30,
            "train.divergence_window": 5,
            "checkpoint.save_interval": 100,
            "optimizer.lr.initial_lr": 1e-3,
        },
    )
    result = loop.train(cfg)  # raises DivergenceError if the guard fired
    assert result.final_step == 30
