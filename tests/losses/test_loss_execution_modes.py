"""The TCC loss eagerly, in tf.function (static and dynamic shapes), under XLA, under
tf.distribute, in half precision, and on extreme inputs."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from conftest import SUBPROCESS_TIMEOUT

from tcc.losses import compute_alignment_loss

LOSS_TYPES = ["classification", "regression_mse", "regression_mse_var", "regression_huber"]


def _embs(num_videos=3, num_steps=6, dim=4, seed=0, dtype=np.float32):
    return (0.5 * np.random.default_rng(seed).standard_normal((num_videos, num_steps, dim))).astype(
        dtype
    )


def _loss_and_gradient(embs, **options):
    embs = tf.convert_to_tensor(embs)
    with tf.GradientTape() as tape:
        tape.watch(embs)
        loss = compute_alignment_loss(embs, **options)
    return loss, tape.gradient(loss, embs)


_MODES_CASES = [  # (number of videos, stochastic matching)
    (2, False),  # the two-video formulation
    (3, False),  # the batched formulation
    (3, True),
]


def _losses_and_gradients(batches):
    return [
        _loss_and_gradient(
            x, loss_type="regression_mse_var", stochastic_matching=stochastic, seed=4
        )
        for x, (_, stochastic) in zip(batches, _MODES_CASES, strict=True)
    ]


@pytest.mark.parametrize("jit_compile", [False, True])
def test_tf_function_and_xla_match_eager(jit_compile):
    batches = [tf.constant(_embs(num_videos)) for num_videos, _ in _MODES_CASES]
    expected = _losses_and_gradients(batches)
    compiled = tf.function(_losses_and_gradients, jit_compile=jit_compile)(batches)
    for (loss, grad), (eager_loss, eager_grad) in zip(compiled, expected, strict=True):
        np.testing.assert_allclose(loss.numpy(), eager_loss.numpy(), rtol=1e-4)
        np.testing.assert_allclose(grad.numpy(), eager_grad.numpy(), rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize(
    "stochastic,num_videos", [(False, None), (True, None), (False, 2), (False, 3)]
)
def test_tf_function_with_unknown_batch_or_time_dimensions(stochastic, num_videos):
    options = dict(loss_type="regression_mse", stochastic_matching=stochastic, seed=[1, 2])
    loss_fn = tf.function(
        lambda x: compute_alignment_loss(x, **options),
        input_signature=[tf.TensorSpec([num_videos, None, 4], tf.float32)],
    )
    for shape in [(num_videos or 2, 5), (num_videos or 4, 3)]:
        embs = _embs(*shape)
        np.testing.assert_allclose(
            loss_fn(embs).numpy(), compute_alignment_loss(embs, **options).numpy(), rtol=1e-5
        )


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_half_precision_embeddings_are_computed_in_float32(dtype):
    embs = tf.cast(_embs(), dtype)
    loss = compute_alignment_loss(embs, loss_type="regression_mse_var")
    expected = compute_alignment_loss(tf.cast(embs, tf.float32), loss_type="regression_mse_var")
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6)


def _extreme_batches():
    rng = np.random.default_rng(0)
    return {
        "all_identical": np.ones((3, 5, 4), np.float32),
        "all_zero": np.zeros((3, 5, 4), np.float32),
        "identical_videos": np.stack([rng.standard_normal((5, 4))] * 3).astype(np.float32),
        "huge_norms": (1e4 * rng.standard_normal((3, 5, 4))).astype(np.float32),
        "huge_offset": (1e4 + rng.standard_normal((3, 5, 4))).astype(np.float32),
        "tiny_norms": (1e-20 * rng.standard_normal((3, 5, 4))).astype(np.float32),
        "two_huge_videos": (1e4 * rng.standard_normal((2, 5, 4))).astype(np.float32),
    }


def _assert_finite_loss_and_gradient(embs, **options):
    loss, grad = _loss_and_gradient(embs, seed=0, **options)
    assert np.isfinite(loss.numpy()), options
    assert np.all(np.isfinite(grad.numpy())), options


@pytest.mark.parametrize("batch_name", list(_extreme_batches()))
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_extreme_inputs_give_finite_loss_and_gradient(batch_name, loss_type):
    embs = _extreme_batches()[batch_name]
    for similarity_type in ["l2", "cosine"]:
        _assert_finite_loss_and_gradient(
            embs,
            # Large unnormalised steps make regression errors and variances large too.
            steps=np.tile(np.arange(0, 500, 100), (embs.shape[0], 1)),
            normalize_indices=False,
            loss_type=loss_type,
            similarity_type=similarity_type,
        )


@pytest.mark.parametrize("batch_name", ["all_zero", "huge_norms", "identical_videos"])
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_extreme_inputs_with_stochastic_matching_and_normalised_embeddings_stay_finite(
    batch_name, loss_type
):
    embs = _extreme_batches()[batch_name]
    _assert_finite_loss_and_gradient(
        embs, loss_type=loss_type, stochastic_matching=True, cycle_length=3
    )
    _assert_finite_loss_and_gradient(embs, loss_type=loss_type, normalize_embeddings=True)


_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    from tcc.losses import (
        compute_alignment_loss, compute_tcn_loss, sample_triplets, shuffle_and_learn_loss
    )

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    embs = 0.5 * np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)

    def replica_loss(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            deterministic = compute_alignment_loss(x, loss_type="regression_mse_var")
            stochastic = compute_alignment_loss(x, stochastic_matching=True, seed=3)
            tcn = compute_tcn_loss(x, seed=4)
            triplets, labels = sample_triplets(x, seed=5)
            sal = shuffle_and_learn_loss(triplets[:, :2], labels)
            total = deterministic + stochastic + tcn + sal
        return deterministic, stochastic, tcn, sal, tape.gradient(total, x)

    @tf.function
    def distributed_step(x):
        return strategy.run(replica_loss, args=(x,))

    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(embs[ctx.replica_id_in_sync_group])
    )
    results = distributed_step(values)
    out = {"devices": len(strategy.extended.worker_devices), "replicas": []}
    for replica in range(2):
        got = [strategy.experimental_local_results(r)[replica].numpy() for r in results]
        want = [t.numpy() for t in replica_loss(tf.constant(embs[replica]))]
        out["replicas"].append(
            [float(np.max(np.abs(g - w) / (np.abs(w) + 1e-6))) for g, w in zip(got, want)]
        )
    print("RESULT " + json.dumps(out))
    """
)


def test_losses_run_inside_a_mirrored_strategy_replica_on_two_logical_cpus():
    # Logical devices must be configured before TensorFlow initialises its devices, which has
    # already happened in this process: run in a fresh interpreter.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    completed = subprocess.run(
        [sys.executable, "-c", _MIRRORED_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    line = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT ") :])
    assert result["devices"] == 2
    for replica_errors in result["replicas"]:
        assert max(replica_errors) < 1e-4, result
