"""Tests for examples/collapse_check.py: loss and spread with dropout on and off, on a tiny run."""

import importlib.util
import os

import numpy as np
import pytest
from conftest import tiny_config

from tcc import runs
from tcc.training import loop

_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "collapse_check.py")
_spec = importlib.util.spec_from_file_location("collapse_check", _PATH)
collapse_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(collapse_check)


def _trained(tiny_root, tmp_path_factory, dropout: float) -> runs.Run:
    logdir = str(tmp_path_factory.mktemp(f"collapse_{dropout}"))
    cfg = tiny_config(
        tiny_root,
        logdir,
        **{"train.max_iters": 2, "model.conv_embedder.fc_dropout_rate": dropout},
    )
    loop.train(cfg)
    return runs.open_run(logdir)


def test_without_dropout_both_passes_agree(tiny_root, tmp_path_factory):
    report = collapse_check.collapse_report(
        _trained(tiny_root, tmp_path_factory, 0.0), num_batches=2
    )
    assert set(report) == {
        "loss_dropout",
        "loss_no_dropout",
        "spread_dropout",
        "spread_no_dropout",
        "spread_inference",
    }
    assert all(np.isfinite(v) for v in report.values())
    np.testing.assert_allclose(report["loss_dropout"], report["loss_no_dropout"], rtol=1e-5)
    np.testing.assert_allclose(report["spread_dropout"], report["spread_no_dropout"], rtol=1e-5)
    assert report["spread_inference"] > 0


def test_dropout_changes_the_pass_and_the_rates_are_restored(tiny_root, tmp_path_factory):
    run = _trained(tiny_root, tmp_path_factory, 0.5)
    report = collapse_check.collapse_report(run, num_batches=2)
    assert report["spread_dropout"] != pytest.approx(report["spread_no_dropout"], rel=1e-3)
    rates = [x.rate for x in run.model._flatten_layers() if hasattr(x, "rate")]
    assert rates and all(r == 0.5 for r in rates)


def test_spread_is_the_std_over_timesteps():
    embs = np.zeros((2, 3, 4))
    embs[0, :, 0] = [0.0, 1.0, 2.0]  # std sqrt(2/3) in one of 8 (video, dimension) pairs
    assert collapse_check._spread(embs) == pytest.approx(np.sqrt(2 / 3) / 8)


def test_importing_the_example_defines_no_flags():
    # Its flags live under `__main__`: a module-level `--logdir` broke every entry point imported
    # after it in the same process (absl's DuplicateFlagError).
    from absl import flags

    before = set(flags.FLAGS)
    spec = importlib.util.spec_from_file_location("collapse_check_again", _PATH)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert set(flags.FLAGS) == before
