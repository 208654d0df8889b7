"""Tests of tcc.training.strategy (multi-device cases run in a fresh Python process)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf
from conftest import SUBPROCESS_TIMEOUT

from tcc.training.strategy import build_strategy, configure_logical_cpus

_MIRRORED_ON_TWO_CPUS = textwrap.dedent(
    """
    import json
    import tensorflow as tf
    from tcc.training.strategy import build_strategy, configure_logical_cpus

    configure_logical_cpus(2)
    strategy = build_strategy("mirrored")
    per_replica = strategy.run(
        lambda: tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group + 1,
                        tf.float32))
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
    configure_logical_cpus(2)  # same number after initialisation: a no-op
    try:
        configure_logical_cpus(3)
        late_error = ""
    except RuntimeError as e:
        late_error = str(e)
    print(json.dumps({
        "type": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "sum_of_replica_ids": float(total),
        "late_error": late_error,
    }))
    """
)


def test_default_strategy_is_the_single_replica_default():
    strategy = build_strategy("default")
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1


def test_mirrored_runs_two_replicas_on_two_logical_cpus():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-c", _MIRRORED_ON_TWO_CPUS],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["type"] == "MirroredStrategy"
    assert result["replicas"] == 2
    assert [d.split("/")[-1].upper() for d in result["devices"]] == ["DEVICE:CPU:0", "DEVICE:CPU:1"]
    assert result["sum_of_replica_ids"] == 3.0  # replicas 0 and 1 each contributed
    assert "already initialised 2 CPU device(s)" in result["late_error"]


def test_configure_logical_cpus_rejects_fewer_than_one():
    with pytest.raises(ValueError, match="Received: n=0"):
        configure_logical_cpus(0)


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="default, mirrored, multi_worker_mirrored, tpu.*horovod"):
        build_strategy("horovod")


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "non-empty 'cluster'"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}}', "'task' with 'type' and 'index'"),
    ],
)
def test_multi_worker_mirrored_rejects_a_malformed_tf_config(tf_config, message, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(ValueError, match=message):
        build_strategy("multi_worker_mirrored")


def test_tpu_without_a_reachable_tpu_says_how_to_fix_it(monkeypatch):
    for var in ("TPU_NAME", "TPU_CONFIG", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(RuntimeError, match="could not reach a TPU.*--config.tpu"):
        build_strategy("tpu", tpu="")
