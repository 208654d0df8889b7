"""Runs every algorithm, batch norm synchronised and off, for a few steps on fixed global batches
under one strategy and saves the losses and final weights; run as a script by the tests of
`test_multi_worker.py` (one process per strategy / worker; not collected by pytest).

    python distributed_cases.py --mode single_and_mirrored --out DIR   # 1 device and 2 CPU devices
    TF_CONFIG=... python distributed_cases.py --mode worker --out DIR  # one of the 2 workers

Every replica takes its slice of the same global batch (replica r: videos [r b, (r + 1) b)), so
the runs are comparable. Inputs are feature sequences [B, T * num_steps, F] with a tiny Conv1D
(+ batch norm) sequence embedder, so that a case takes a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

ALGOS = ("alignment", "tcn", "sal", "combined", "supervised")
# (algorithm, batch norm: 'off' | 'sync' | 'local', loss_scope). The last two are controls that
# must NOT match one device: unsynchronised batch norm and per-replica TCC pairs.
CASES = [
    *((algo, bn, "global") for algo in ALGOS for bn in ("off", "sync")),
    ("alignment", "local", "global"),
    ("alignment", "off", "replica"),
]
GLOBAL_BATCH, NUM_FRAMES, FEATURES, STEPS = 4, 6, 5, 3


def case_key(algo: str, bn: str, scope: str) -> str:
    """The name of a case in the result files."""
    return f"{algo}/bn_{bn}/{scope}"


def case_config(algo: str, bn: str, scope: str):
    """The config of one case: features, a tiny embedder (with batch norm in training mode unless
    `bn == 'off'`), no dropout, stochastic TCC (so the sampling must agree across replicas)."""
    from tcc import config as config_lib

    cfg = config_lib.get_default_config()
    overrides = {
        "training_algo": algo,
        "data.input_kind": "features",
        "train.batch_size": GLOBAL_BATCH,
        "train.num_frames": NUM_FRAMES,
        "model.embedding_size": 4,
        "model.sequence_embedder.conv_layers": f"[[6, 2, {bn != 'off'}]]",
        "model.sequence_embedder.fc_layers": "[8]",
        "model.sequence_embedder.fc_dropout_rate": 0.0,
        "sal.fc_layers": "[[8, True], [2, False]]",
        "sal.num_samples": 3,
        "alignment.stochastic_matching": True,
        "alignment.fraction": 0.5,
        "combined.alignment_loss_weight": 1.0,
        "combined.sal_loss_weight": 0.5,
        "combined.tcn_loss_weight": 0.5,
        "classification.num_classes": 3,
        "classification.dropout_rate": 0.0,
        "optimizer.type": "sgd",  # unlike Adam, sensitive to the scale of the gradient
        "optimizer.lr.initial_lr": 0.1,
        "sync_batch_norm": bn == "sync",
        "loss_scope": scope,
    }
    return config_lib.apply_overrides(cfg, [f"{k}={v}" for k, v in overrides.items()])


def global_batches(cfg) -> list[dict]:
    """`STEPS` fixed global batches (numpy) of the case's shapes."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = NUM_FRAMES * cfg.data.num_steps
    out = []
    for _ in range(STEPS):
        steps = np.sort(rng.choice(40, size=(GLOBAL_BATCH, NUM_FRAMES)), axis=1)
        out.append(
            {
                "frames": rng.normal(size=(GLOBAL_BATCH, t, FEATURES)).astype(np.float32),
                "steps": steps.astype(np.int32),
                "seq_lens": rng.integers(30, 40, GLOBAL_BATCH).astype(np.int32),
                "frame_labels": rng.integers(-1, 3, (GLOBAL_BATCH, NUM_FRAMES)).astype(np.int32),
                "seq_labels": np.zeros(GLOBAL_BATCH, np.int32),
            }
        )
    return out


def run_cases(strategy, prefix: str) -> dict:
    """Trains every case for `STEPS` steps under `strategy`; returns arrays keyed by
    `<prefix>/<case_key>/loss` ([STEPS] reported total losses), `.../w<i>` (final weights) and
    `.../init<i>` (initial weights)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from tcc.training import loop

    replicas = strategy.num_replicas_in_sync
    per_replica = GLOBAL_BATCH // replicas
    results = {}
    for case in CASES:
        cfg = case_config(*case)
        keras.utils.set_random_seed(0)
        model, _ = loop.build_model_and_optimizer(cfg, strategy, feature_dim=FEATURES)
        key = f"{prefix}/{case_key(*case)}"
        for i, w in enumerate(model.get_weights()):
            results[f"{key}/init{i:03d}"] = np.asarray(w)

        @tf.function
        def step(batch, model=model):
            out = strategy.run(model.train_step, args=(batch,))
            return strategy.reduce(tf.distribute.ReduceOp.MEAN, out["loss"], axis=None)

        losses = []
        for batch in global_batches(cfg):

            def shard(ctx, batch=batch):
                lo = ctx.replica_id_in_sync_group * per_replica
                return {k: tf.constant(v[lo : lo + per_replica]) for k, v in batch.items()}

            losses.append(float(step(strategy.experimental_distribute_values_from_function(shard))))
        results[f"{key}/loss"] = np.array(losses)
        print("done", key, losses, flush=True)
        for i, w in enumerate(model.get_weights()):
            results[f"{key}/w{i:03d}"] = np.asarray(w)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("single_and_mirrored", "worker"), required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import numpy as np

    from tcc.training import strategy as strategy_lib

    if args.mode == "single_and_mirrored":
        strategy_lib.configure_logical_cpus(2)
        import tensorflow as tf

        results = run_cases(tf.distribute.get_strategy(), "single")
        mirrored = strategy_lib.build_strategy("mirrored")
        assert mirrored.num_replicas_in_sync == 2, mirrored.num_replicas_in_sync
        results.update(run_cases(mirrored, "mirrored"))
        name = "single_and_mirrored.npz"
    else:
        strategy = strategy_lib.build_strategy("multi_worker_mirrored")
        assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
        results = run_cases(strategy, "workers")
        name = f"worker{json.loads(os.environ['TF_CONFIG'])['task']['index']}.npz"
    np.savez(os.path.join(args.out, name), **results)
    print("CASES DONE", flush=True)


if __name__ == "__main__":
    main()
