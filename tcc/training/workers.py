"""Who writes what under multi-worker training, and a clear stop when a worker is lost.

Under `multi_worker_mirrored` every worker runs the same program, with one shared `--logdir` on
a file system all hosts see. Only the chief (worker 0, or the task of type `chief`) writes there:
checkpoints, `config.json`, TensorBoard events and the alignment pictures. Every other worker still
takes part in each checkpoint save (TensorFlow may need collectives to read distributed variables)
but writes it to its own temporary folder, removed at the end; it reads (resumes from) the chief's
logdir. With the default, `mirrored` and `tpu` strategies the one process is the chief.

A worker that dies (killed, lost host) makes the collectives of the others fail within
TensorFlow's peer health check; `step_guard` turns those errors into one `WorkerLostError` naming
the step and the way to resume (restart every worker with the same command: they resume from the
chief's newest checkpoint).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import socket
import tempfile
from collections.abc import Iterator

import tensorflow as tf
from absl import logging

# What a collective raises when a peer worker stopped or cannot be reached.
PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
    tf.errors.AbortedError,
    tf.errors.InternalError,
)


class WorkerLostError(RuntimeError):
    """A peer worker stopped or became unreachable during multi-worker training."""


@dataclasses.dataclass
class WorkerRole:
    """This process's place in the cluster.

    Attributes:
      is_chief: whether this process writes into the logdir.
      write_dir: where this process writes: the logdir for the chief, else a temporary folder.
      description: e.g. `'worker 1 of 2'`, for messages.
      multi_worker: whether there is more than one worker process.
    """

    is_chief: bool
    write_dir: str
    description: str
    multi_worker: bool

    def cleanup(self) -> None:
        """Removes a non-chief worker's temporary folder (a no-op for the chief)."""
        if not self.is_chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)


def worker_role(strategy: tf.distribute.Strategy, logdir: str) -> WorkerRole:
    """The role of this process under `strategy`, writing into `logdir` if it is the chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    workers = sum(len(v) for k, v in spec.items() if k in ("chief", "worker"))
    is_chief = bool(strategy.extended.should_checkpoint)
    if is_chief:
        write_dir = logdir
    else:
        write_dir = tempfile.mkdtemp(prefix=f"tcc_{task_type}{task_id}_")
    description = f"{task_type or 'worker'} {task_id or 0} of {max(workers, 1)}"
    return WorkerRole(is_chief, write_dir, description, workers > 1)


@contextlib.contextmanager
def step_guard(role: WorkerRole, logdir: str, step: int) -> Iterator[None]:
    """Turns a failed collective of multi-worker training into `WorkerLostError` (see the module
    docstring); single-process errors pass through unchanged."""
    try:
        yield
    except PEER_ERRORS as e:
        if not role.multi_worker:
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        logging.error("multi-worker step %d failed: %s", step, e)
        raise WorkerLostError(
            f"{role.description}: a peer worker stopped or became unreachable during step "
            f"{step + 1} ({type(e).__name__}: {first[:200]}). Training stopped. Restart every "
            f"worker with the same command to resume from the chief's newest checkpoint in "
            f"{logdir}."
        ) from None


def free_loopback_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on 127.0.0.1, for a local test cluster (held open together
    while picking; another program could still take one before the workers bind it)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_tf_config(ports: list[int], index: int) -> str:
    """The `TF_CONFIG` JSON of worker `index` of a cluster of local workers on `ports`."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
