"""In-process checks of the multi-replica pieces (the cross-process runs are in
test_multi_worker.py): loss scope, synchronised batch norm, step-seeded sampling, worker roles."""

import json

import keras
import pytest
import tensorflow as tf
from conftest import tiny_config

from tcc.algos import build_algorithm, cross_replica
from tcc.training import workers


def _model(tmp_path, **overrides):
    cfg = tiny_config(str(tmp_path), str(tmp_path / "run"), **overrides)
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames)
    return model


def test_an_unknown_loss_scope_is_refused_naming_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: global, replica.*'everywhere'"):
        _model(tmp_path, loss_scope="everywhere")


def test_sync_batch_norm_synchronises_every_batch_norm_layer(tmp_path):
    def flags(model):
        return [
            x.synchronized
            for x in model._flatten_layers()
            if isinstance(x, keras.layers.BatchNormalization)
        ]

    assert flags(_model(tmp_path)) and not any(flags(_model(tmp_path)))
    synced = flags(_model(tmp_path, sync_batch_norm=True))
    assert synced and all(synced)


def test_outside_a_strategy_the_global_batch_is_the_local_batch():
    x = tf.random.normal([2, 3, 4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        gathered = cross_replica.gather_own_gradient(x)
        loss = tf.reduce_sum(gathered**2)
    assert gathered is x
    tf.debugging.assert_near(tape.gradient(loss, x), 2 * x)


def test_loss_sampling_depends_on_the_seed_and_step_only(tmp_path):
    model = _model(tmp_path, **{"alignment.stochastic_matching": True})
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    batch = {
        "frames": tf.random.stateless_normal([2, 12, 32, 32, 3], seed=[1, 2]),
        "steps": tf.tile(tf.range(6)[None], [2, 1]),
        "seq_lens": tf.fill([2], 6),
    }
    first, _ = model._total_loss(batch, training=False)
    again, _ = model._total_loss(batch, training=False)
    model.optimizer.iterations.assign(7)
    later, _ = model._total_loss(batch, training=False)
    assert float(first) == float(again)
    assert float(first) != float(later)


def test_a_single_process_is_the_chief_and_writes_the_logdir(tmp_path):
    role = workers.worker_role(tf.distribute.get_strategy(), str(tmp_path))
    assert role.is_chief and role.write_dir == str(tmp_path) and not role.multi_worker
    role.cleanup()
    assert tmp_path.is_dir()


def test_a_failed_collective_becomes_a_worker_lost_error_only_with_several_workers(tmp_path):
    lost = workers.WorkerRole(True, str(tmp_path), "worker 0 of 2", True)
    with pytest.raises(workers.WorkerLostError, match="during step 5 .*Restart every worker"):
        with workers.step_guard(lost, str(tmp_path), 4):
            raise tf.errors.UnavailableError(None, None, "peer down")
    alone = workers.WorkerRole(True, str(tmp_path), "worker 0 of 1", False)
    with pytest.raises(tf.errors.UnavailableError):
        with workers.step_guard(alone, str(tmp_path), 4):
            raise tf.errors.UnavailableError(None, None, "peer down")


def test_local_cluster_helpers_give_distinct_loopback_ports():
    ports = workers.free_loopback_ports(2)
    assert len(set(ports)) == 2
    spec = json.loads(workers.local_tf_config(ports, 1))
    assert spec["cluster"]["worker"] == [f"127.0.0.1:{p}" for p in ports]
    assert spec["task"] == {"type": "worker", "index": 1}
