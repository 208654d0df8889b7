"""Bit-exact resume: N steps, a resume and M more steps give the weights of N + M steps straight.

Dropout is on in every case (the embedder's, the SaL head's, the classifier's), the resume point
falls inside an epoch of the tiny data, and the loss terms sample at random (TCC's stochastic
cycles, SaL triplets, TCN positives), so every source of randomness must come back exactly. The
divergence guard's history (`run/` in the checkpoint) must come back too.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_config
from test_feature_training import feature_config, write_arm_records

from tcc.training import checkpoints, loop


def _saved(logdir: str) -> dict[str, np.ndarray]:
    """Every value of the newest checkpoint of `logdir`, by checkpoint key."""
    reader = tf.train.load_checkpoint(checkpoints.latest_checkpoint(logdir))
    return {
        k: reader.get_tensor(k)
        for k in reader.get_variable_to_shape_map()
        if k.startswith(("model/", "optimizer/", "rng/", "step/", "run/"))
    }


@pytest.fixture(scope="module")
def arm_root(tmp_path_factory) -> str:
    return write_arm_records(str(tmp_path_factory.mktemp("arm")), num_train=8, num_val=2)


CASES = {
    # name: (frames or features, N, M, overrides)
    "alignment-frames": (
        "frames",
        5,  # 6 videos / batch 2: the resume is inside the second epoch
        2,
        {
            "alignment.stochastic_matching": True,
            "model.conv_embedder.fc_dropout_rate": 0.5,
        },
    ),
    "sal-frames": ("frames", 2, 2, {"training_algo": "sal", "sal.dropout_rate": 0.3}),
    "tcn-features": (
        "features",
        3,
        2,
        {"training_algo": "tcn", "model.sequence_embedder.fc_dropout_rate": 0.5},
    ),
    "supervised-features": (
        "features",
        2,
        2,
        {
            "training_algo": "supervised",
            "classification.dropout_rate": 0.3,
            "model.sequence_embedder.fc_dropout_rate": 0.5,
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_n_steps_resume_m_steps_equal_n_plus_m_steps_straight(tiny_root, arm_root, tmp_path, case):
    kind, n, m, overrides = CASES[case]
    make = tiny_config if kind == "frames" else feature_config
    root = tiny_root if kind == "frames" else arm_root
    # The divergence guard is on: its history is checkpointed, so it judges the resumed steps
    # as it judges the straight run's.
    common = {**overrides, "checkpoint.save_interval": 100}

    def run(logdir, steps):
        return loop.train(
            make(root, str(tmp_path / logdir), **common, **{"train.max_iters": steps})
        )

    straight = run("straight", n + m)
    run("resumed", n)
    resumed = run("resumed", n + m)
    assert (resumed.start_step, resumed.final_step) == (n, n + m)
    a, b = _saved(str(tmp_path / "straight")), _saved(str(tmp_path / "resumed"))
    assert a.keys() == b.keys()
    assert any(k.startswith("rng/") for k in a)  # dropout's generator state is checkpointed
    guard = json.loads(a["run/.ATTRIBUTES/VARIABLE_VALUE"])["divergence"]
    assert len(guard["loss"]["recent"]) == n + m  # the guard's history spans the resume
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # The same losses at every step after the resume.
    assert straight.history[n:] == resumed.history


def test_a_checkpoint_without_generator_states_still_resumes(tiny_root, tmp_path):
    """Checkpoints written before the seed-generator states were saved (no `rng/` keys)."""
    cfg = tiny_config(tiny_root, str(tmp_path), **{"train.max_iters": 2})
    loop.train(cfg)
    strategy = tf.distribute.get_strategy()
    model, optimizer = loop.build_model_and_optimizer(cfg, strategy)
    ckpt = checkpoints.Checkpointer(str(tmp_path), model, optimizer)
    assert ckpt.restore_latest() == 2 and ckpt.rng
    old_style = tf.train.Checkpoint(**ckpt._parts)  # model, optimizer, step: no rng
    manager = tf.train.CheckpointManager(old_style, checkpoints.checkpoint_dir(str(tmp_path)), 5)
    ckpt.step.assign(3)
    manager.save(checkpoint_number=3)
    assert not any(k.startswith("rng/") for k in _saved(str(tmp_path)))
    result = loop.train(tiny_config(tiny_root, str(tmp_path), **{"train.max_iters": 4}))
    assert (result.start_step, result.final_step) == (3, 4)
