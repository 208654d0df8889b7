"""MirroredStrategy on 2 logical CPU devices matches one device with the same global batch.

Runs in a subprocess because logical devices must be configured before TensorFlow starts. The
comparison uses the supervised algorithm: its loss is a mean over videos, so the mean of the
per-replica losses equals the global loss. (TCC, TCN and SaL form their pairs / negatives within
each replica's batch, as the original did, so their global loss differs by construction.)
"""

import os
import subprocess
import sys
import textwrap

from conftest import SUBPROCESS_TIMEOUT

_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests_dir!r})
    from tcc.training.strategy import configure_logical_cpus
    configure_logical_cpus(2)
    import numpy as np
    import tensorflow as tf
    from conftest import tiny_config, write_tiny_records
    from tcc.datasets import pipeline
    from tcc.training import loop, strategy as strategy_lib

    root = write_tiny_records({root!r})
    cfg = tiny_config(root, {logdir!r}, training_algo="supervised",
                      **{{"train.batch_size": 4, "classification.num_classes": 3,
                         "model.conv_embedder.fc_dropout_rate": 0.0,
                         "model.train_base": "frozen",
                         "model.conv_embedder.conv_layers": "[[16,3,False]]"}})
    # Batch norm in training mode normalises with per-replica batch statistics, which differ
    # from the global batch's; with it frozen / absent the two runs must agree exactly.
    options = pipeline.InputOptions.from_config(cfg)
    batches = list(pipeline.make_train_dataset(options, batch_size=4, seed=0, root=root,
                                               augment=False).take(2))

    single = tf.distribute.get_strategy()
    mirrored = strategy_lib.build_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    model_a, _ = loop.build_model_and_optimizer(cfg, single)
    model_b, _ = loop.build_model_and_optimizer(cfg, mirrored)
    model_b.set_weights(model_a.get_weights())

    step_a = tf.function(model_a.train_step)

    @tf.function
    def step_b(batch):
        out = mirrored.run(model_b.train_step, args=(batch,))
        return {{k: mirrored.reduce("MEAN", v, axis=None) for k, v in out.items()}}

    for batch in batches:
        out_a = step_a(batch)
        halves = mirrored.experimental_distribute_values_from_function(
            lambda ctx, b=batch: {{k: v[2 * ctx.replica_id_in_sync_group:
                                    2 * ctx.replica_id_in_sync_group + 2] for k, v in b.items()}})
        out_b = step_b(halves)
        np.testing.assert_allclose(float(out_a["loss"]), float(out_b["loss"]), rtol=1e-5)
    for wa, wb in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
    changed = max(float(np.abs(w0 - w).max()) for w0, w in
                  zip(model_a.get_weights(), model_b.get_weights()))
    print("OK", changed)
    """
)

# The full loop under MirroredStrategy (its own process: two MirroredStrategy objects in one
# process share collective instance keys and abort each other).
_LOOP_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests_dir!r})
    from tcc.training.strategy import configure_logical_cpus
    configure_logical_cpus(2)
    import numpy as np
    from conftest import tiny_config, write_tiny_records
    from tcc.training import loop

    root = write_tiny_records({root!r})
    cfg = tiny_config(root, {logdir!r}, strategy="mirrored",
                      **{{"train.batch_size": 4, "train.max_iters": 2}})
    result = loop.train(cfg)
    assert result.final_step == 2 and np.isfinite(result.last_losses["loss"])
    print("LOOP OK")
    """
)


def _run(script: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=env,
    )


def test_mirrored_two_devices_match_a_single_device_with_the_same_global_batch(tmp_path):
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _SCRIPT.format(
        tests_dir=tests_dir, root=str(tmp_path / "data"), logdir=str(tmp_path / "run")
    )
    result = _run(script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout


def test_training_loop_runs_tcc_under_mirrored_strategy(tmp_path):
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _LOOP_SCRIPT.format(
        tests_dir=tests_dir, root=str(tmp_path / "data"), logdir=str(tmp_path / "run")
    )
    result = _run(script)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOOP OK" in result.stdout
