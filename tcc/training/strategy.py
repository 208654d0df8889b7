"""The `tf.distribute` strategy named by `cfg.strategy`, and splitting the host CPU for tests.

Strategies:

* `default`: `tf.distribute.get_strategy()`, the no-op default strategy (one device: the GPU if
  TensorFlow sees one, else the CPU).
* `mirrored`: synchronous data parallelism on one host. Replicates over every visible GPU; with
  no GPU, over every *logical* CPU device, which is a single replica unless the CPU was split with
  `configure_logical_cpus(n)` first (useful to try or test multi-replica code on a laptop).
* `multi_worker_mirrored`: synchronous data parallelism over several hosts. The cluster comes from
  the `TF_CONFIG` environment variable, set on every host, identical except for `task.index`:
  `{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}`.
  Without `TF_CONFIG` it runs as a single worker on the local devices. Create it before any other
  TensorFlow operation of the program.
* `tpu`: `TPUStrategy` over the Cloud TPU named by `cfg.tpu` (a name, a `grpc://` address, or
  `'local'` on a TPU VM).

The global batch is split across `strategy.num_replicas_in_sync` replicas.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf
from absl import logging

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")


def configure_logical_cpus(n: int) -> None:
    """Splits the first physical CPU into `n` logical devices (`/device:CPU:0` ... `CPU:n-1`).

    Lets `mirrored` run `n` replicas on a machine without GPUs. TensorFlow fixes its devices the
    first time it runs an operation or lists logical devices, so call this at program start.
    Calling it again later with the same `n` is a no-op.

    Args:
      n: number of logical CPU devices, >= 1.

    Raises:
      ValueError: if `n < 1`.
      RuntimeError: if TensorFlow already initialised its devices with a different number.
    """
    if int(n) < 1:
        raise ValueError(f"the number of logical CPU devices must be >= 1. Received: n={n!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(int(n))]
        )
    except RuntimeError:
        current = len(tf.config.list_logical_devices("CPU"))
        if current == int(n):
            return
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices: TensorFlow already initialised "
            f"{current} CPU device(s). Call configure_logical_cpus() at the start of the program, "
            f"before any TensorFlow operation or device query. Received: n={n!r}"
        ) from None


def build_strategy(
    name: str, tpu: str = "", heartbeat_timeout: float = 120.0
) -> tf.distribute.Strategy:
    """Creates the distribution strategy `name` (see the module docstring).

    Args:
      name: one of `STRATEGIES` (`cfg.strategy`).
      tpu: `cfg.tpu`, the TPU to connect to; used only by `tpu`.
      heartbeat_timeout: `multi_worker_mirrored` only: seconds without a heartbeat after which
        TensorFlow's coordination service declares a worker lost and aborts the collectives of
        the others (`cfg.worker_heartbeat_timeout`); 0 keeps TensorFlow's default (a few
        seconds), which a heavily loaded host can miss.

    Returns:
      The strategy; `strategy.num_replicas_in_sync` is the number of replicas.

    Raises:
      ValueError: for an unknown name (listing the valid ones) or a malformed `TF_CONFIG`.
      RuntimeError: for `tpu` when no TPU can be reached.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return _mirrored()
    if name == "multi_worker_mirrored":
        _check_tf_config(os.environ.get("TF_CONFIG", ""))
        return _multi_worker(heartbeat_timeout)
    if name == "tpu":
        return _tpu(tpu)
    raise ValueError(
        f"unknown strategy; valid: {', '.join(STRATEGIES)}. Received: strategy={name!r}"
    )


def _mirrored() -> tf.distribute.MirroredStrategy:
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy(devices=[d.name for d in gpus])
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) == 1:
        logging.warning(
            "strategy='mirrored' found no GPU and one CPU device: running a single replica. "
            "Call tcc.training.strategy.configure_logical_cpus(n) at program start for n."
        )
    return tf.distribute.MirroredStrategy(devices=[d.name for d in cpus])


def _multi_worker(heartbeat_timeout: float) -> tf.distribute.MultiWorkerMirroredStrategy:
    """MultiWorkerMirroredStrategy, with the coordination service configured as TensorFlow
    would (leader: the chief or worker 0) but with `heartbeat_timeout` seconds."""
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    spec = resolver.cluster_spec()
    jobs = [job for job in ("chief", "worker") if job in spec.jobs]
    if heartbeat_timeout > 0 and resolver.task_type in jobs:
        # The strategy keeps a coordination service configured before it is created.
        from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2  # noqa: PLC0415
        from tensorflow.python.distribute import multi_worker_util  # noqa: PLC0415
        from tensorflow.python.eager import context  # noqa: PLC0415

        if context.context().coordination_service is None:
            context.context().configure_coordination_service(
                service_type="standalone",
                service_leader=multi_worker_util.coordination_leader(spec),
                coordinated_jobs=[
                    coordination_config_pb2.CoordinatedJob(name=j, num_tasks=spec.num_tasks(j))
                    for j in jobs
                ],
                heartbeat_timeout_in_ms=int(heartbeat_timeout * 1000),
            )
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def _check_tf_config(text: str) -> None:
    """Raises ValueError unless `text` is empty or a TF_CONFIG with a cluster and a task."""
    if not text:
        logging.warning(
            "strategy='multi_worker_mirrored' without TF_CONFIG: running as a single worker."
        )
        return
    example = (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"TF_CONFIG is not valid JSON ({e}); expected e.g. {example}. Received: {text!r}"
        ) from None
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    task = spec.get("task") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(
            f"TF_CONFIG needs a non-empty 'cluster'; e.g. {example}. Received: {text!r}"
        )
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(
            f"TF_CONFIG needs 'task' with 'type' and 'index'; e.g. {example}. Received: {text!r}"
        )


def _tpu(tpu: str) -> tf.distribute.TPUStrategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or None)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, OSError, tf.errors.OpError) as e:
        raise RuntimeError(
            f"strategy='tpu' could not reach a TPU ({type(e).__name__}: {e}). Set --config.tpu to "
            "the TPU name or grpc:// address ('local' on a TPU VM), or choose another strategy "
            f"(default, mirrored, multi_worker_mirrored). Received: tpu={tpu!r}"
        ) from e
    return tf.distribute.TPUStrategy(resolver)
