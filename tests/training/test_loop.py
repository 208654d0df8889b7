"""Tests for the training loop: every algorithm, learning, resume, NaN guard, interruption."""

import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import SUBPROCESS_TIMEOUT, tiny_config

from tcc.algos import ALGORITHMS
from tcc.algos.alignment import Alignment
from tcc.config import get_default_config
from tcc.training import checkpoints, loop


@pytest.mark.parametrize("algo", ["alignment", "sal", "tcn", "combined", "supervised"])
def test_every_algorithm_trains_a_few_steps_with_finite_losses(tiny_root, tmp_path, algo):
    overrides = {"training_algo": algo, "train.max_iters": 2}
    if algo == "combined":
        overrides.update({"combined.sal_loss_weight": 0.5, "combined.tcn_loss_weight": 0.5})
    cfg = tiny_config(tiny_root, str(tmp_path / algo), **overrides)
    result = loop.train(cfg)
    assert result.final_step == 2
    assert all(math.isfinite(v) for v in result.last_losses.values())
    expected_terms = {
        "alignment": {"alignment_loss"},
        "sal": {"sal_loss"},
        "tcn": {"tcn_loss"},
        "combined": {"alignment_loss", "sal_loss", "tcn_loss"},
        "supervised": {"classification_loss"},
    }[algo]
    assert expected_terms <= set(result.last_losses)
    assert checkpoints.latest_checkpoint(str(tmp_path / algo)).endswith("ckpt-2")


def test_supervised_loss_goes_down_on_an_easy_task(tiny_root, tmp_path):
    cfg = tiny_config(
        tiny_root,
        str(tmp_path),
        training_algo="supervised",
        **{
            "train.max_iters": 40,
            "optimizer.lr.initial_lr": 3e-3,
            "checkpoint.save_interval": 100,
        },
    )
    history = [h["classification_loss"] for h in loop.train(cfg).history]
    assert np.mean(history[-5:]) < 0.6 * np.mean(history[:5])


def test_alignment_loss_goes_down_on_an_easy_task(tiny_root, tmp_path):
    cfg = tiny_config(
        tiny_root,
        str(tmp_path),
        **{
            "train.max_iters": 40,
            "optimizer.lr.initial_lr": 1e-3,
            "checkpoint.save_interval": 100,
            # cycle-back classification: the default regression_mse_var of this tiny unnormalised
            # model spikes (single steps at 20-100x) in ways that depend on the CPU's kernels, so
            # a mean over 8 steps did not fall on every machine; the ratio here is 0.35-0.65
            # over seeds 0-2
            "alignment.loss_type": "classification",
        },
    )
    history = [h["alignment_loss"] for h in loop.train(cfg).history]
    assert np.mean(history[-8:]) < 0.8 * np.mean(history[:8])


def test_the_default_context_share_of_each_video_trains_end_to_end(tiny_root, tmp_path):
    cfg = tiny_config(tiny_root, str(tmp_path), **{"data.frame_stride_fraction": 0.3})
    assert get_default_config().data.frame_stride_fraction == 0.3  # the demo's default
    result = loop.train(cfg)
    assert result.final_step == 4
    assert all(np.isfinite(h["alignment_loss"]) for h in result.history)


def test_resume_continues_at_the_saved_step_with_the_saved_optimizer_state(tiny_root, tmp_path):
    logdir = str(tmp_path)
    first = loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 2}))
    assert (first.start_step, first.final_step) == (0, 2)
    saved = tf.train.load_checkpoint(checkpoints.latest_checkpoint(logdir))

    cfg = tiny_config(tiny_root, logdir, **{"train.max_iters": 2})
    strategy = tf.distribute.get_strategy()
    model, optimizer = loop.build_model_and_optimizer(cfg, strategy)
    ckpt = checkpoints.Checkpointer(logdir, model, optimizer)
    assert ckpt.restore_latest() == 2
    assert int(optimizer.iterations) == 2
    for key, var in checkpoints.variable_dict(optimizer.variables).items():
        stored = saved.get_tensor(f"optimizer/{key}/.ATTRIBUTES/VARIABLE_VALUE")
        np.testing.assert_array_equal(np.asarray(var), stored)

    second = loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 4}))
    assert (second.start_step, second.final_step) == (2, 4)


def test_resume_refuses_a_conflicting_config(tiny_root, tmp_path):
    loop.train(tiny_config(tiny_root, str(tmp_path), **{"train.max_iters": 1}))
    with pytest.raises(checkpoints.ConfigConflictError, match="alignment.loss_type"):
        loop.train(
            tiny_config(tiny_root, str(tmp_path), **{"alignment.loss_type": "regression_mse"})
        )


class _NanAfterThree(Alignment):
    """Alignment whose loss becomes NaN from the fourth step on (a fault injection)."""

    def compute_losses(self, batch, embs, training):
        terms = super().compute_losses(batch, embs, training)
        optimizer = getattr(self, "optimizer", None)
        if optimizer is None:  # the dummy build step before compile()
            return terms
        poison = tf.where(optimizer.iterations >= 3, np.nan, 0.0)
        return {k: v + poison for k, v in terms.items()}


if "test_nan_after_three" not in ALGORITHMS:
    ALGORITHMS.register("test_nan_after_three")(_NanAfterThree)


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_root, tmp_path):
    cfg = tiny_config(
        tiny_root, str(tmp_path), training_algo="test_nan_after_three", **{"train.max_iters": 10}
    )
    with pytest.raises(loop.NonFiniteLossError, match=r"at step 4.*ckpt-2"):
        loop.train(cfg)
    latest = checkpoints.latest_checkpoint(str(tmp_path))
    assert latest.endswith("ckpt-2")
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        value = reader.get_tensor(name)
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.all(np.isfinite(value)), name


def _train_command(root: str, logdir: str, max_iters: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tcc.train",
        "--alsologtostderr",
        f"--logdir={logdir}",
        f"--config.data.path={root}",
        "--config.datasets=[tiny]",
        "--config.data.image_size=32",
        "--config.train.batch_size=2",
        "--config.train.num_frames=6",
        f"--config.train.max_iters={max_iters}",
        "--config.checkpoint.save_interval=1000",
        "--config.model.embedding_size=8",
        "--config.model.conv_embedder.conv_layers=[[16,3,True]]",
        "--config.model.conv_embedder.fc_layers=[16]",
        "--config.train.visualize_interval=0",
        "--config.logging.report_interval=1",
    ]


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(tiny_root, tmp_path):
    logdir = str(tmp_path / "run")
    command = _train_command(tiny_root, logdir, 100000)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + SUBPROCESS_TIMEOUT
    for line in proc.stdout:
        if "step 3/" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert proc.returncode == 128 + signal.SIGTERM, out[-2000:]
    assert "checkpoint saved" in out
    stopped_at = int(checkpoints.latest_checkpoint(logdir).rsplit("-", 1)[1])
    assert stopped_at >= 3

    resumed = subprocess.run(
        _train_command(tiny_root, logdir, stopped_at + 2),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"step {stopped_at}" in resumed.stderr
    assert checkpoints.latest_checkpoint(logdir).endswith(f"ckpt-{stopped_at + 2}")
    assert os.path.isfile(os.path.join(logdir, "config.json"))


@pytest.mark.parametrize(
    "overrides",
    [{"jit_compile": True}, {"mixed_precision": "mixed_float16"}],
    ids=["xla", "mixed_float16"],
)
def test_training_runs_with_xla_and_mixed_precision(tiny_root, tmp_path, overrides):
    import keras

    # Cycle-back classification keeps the first steps of an untrained toy model tame; the
    # variance-aware loss on batch statistics of 2 videos starts with gradient norms of 1e8.
    overrides = {"train.max_iters": 3, "alignment.loss_type": "classification", **overrides}
    cfg = tiny_config(tiny_root, str(tmp_path), **overrides)
    try:
        result = loop.train(cfg)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.final_step == 3
    # Under float16 loss scaling, overflowing gradient steps are skipped (grad_norm inf is
    # expected there); the loss itself must stay finite.
    assert all(math.isfinite(h["loss"]) for h in result.history)


def test_training_runs_with_mixed_bfloat16(tiny_root, tmp_path):
    # TF 2.21's oneDNN CPU kernels produce NaN bfloat16 gradients in graph mode on this machine's
    # CPU (eager is fine); without oneDNN the same run is finite. See README (mixed precision).
    command = _train_command(tiny_root, str(tmp_path / "bf16"), 3)
    command += [
        "--config.mixed_precision=mixed_bfloat16",
        "--config.alignment.loss_type=classification",
    ]
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert checkpoints.latest_checkpoint(str(tmp_path / "bf16")).endswith("ckpt-3")
