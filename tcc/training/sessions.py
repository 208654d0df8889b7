"""What each training session of a run ran with: `<logdir>/sessions.jsonl`, one line per start.

A seed reproduces a run bit for bit only with the same TensorFlow version, thread counts and
oneDNN setting: the parallel CPU reductions add in another order with another thread count
(README, "Resuming and interruptions"). So every start of `tcc.train` on a logdir appends what it
runs with, e.g.

  {"step": 0, "time": "2026-12-06T14:30:00Z", "tensorflow": "2.21.0", "keras": "3.12.0",
   "intra_op_threads": 2, "inter_op_threads": 2, "threads_from": "default", "onednn": "on",
   "replicas": 1}

and a resume whose setting differs from the previous session's says so in one warning line (the
run continues; it is just no longer the uninterrupted run to the last bit). `threads_from` is
`set` (`tf.config.threading`, as `tcc.experiments` does per run), `env` (`TF_NUM_INTRAOP_THREADS` /
`TF_NUM_INTEROP_THREADS`) or `default` (TensorFlow's: the CPUs this process may run on).
"""

from __future__ import annotations

import datetime
import json
import os

import keras
import tensorflow as tf

from tcc import atomic

FILE = "sessions.jsonl"
# The entries that decide the numerics of a CPU step, compared between sessions.
NUMERICS = ("tensorflow", "intra_op_threads", "inter_op_threads", "onednn")


def _count(configured: int, env_var: str) -> tuple[int, str]:
    """The effective count of one TensorFlow thread pool and where it comes from."""
    if configured > 0:
        return configured, "set"
    value = os.environ.get(env_var, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value), "env"
    return len(os.sched_getaffinity(0)), "default"


def current(step: int, replicas: int) -> dict:
    """This process's session record for a training that starts (or resumes) at `step`."""
    intra, source = _count(
        tf.config.threading.get_intra_op_parallelism_threads(), "TF_NUM_INTRAOP_THREADS"
    )
    inter, _ = _count(
        tf.config.threading.get_inter_op_parallelism_threads(), "TF_NUM_INTEROP_THREADS"
    )
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip()
    return {
        "step": int(step),
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "intra_op_threads": intra,
        "inter_op_threads": inter,
        "threads_from": source,
        "onednn": "off" if onednn in ("0", "false", "False") else "on",
        "replicas": int(replicas),
    }


def read(logdir: str) -> list[dict]:
    """The session records of a run, oldest first ([] for a run without any).

    The file only informs, so a line that is not a JSON object (e.g. edited by hand) is skipped
    rather than stopping the training.
    """
    path = os.path.join(logdir, FILE)
    if not os.path.isfile(path):
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def differences(previous: dict, now: dict) -> list[str]:
    """The numerics-deciding entries that differ, as `key previous -> now` (empty if none)."""
    return [
        f"{key} {previous.get(key)} -> {now[key]}"
        for key in NUMERICS
        if key in previous and previous[key] != now[key]
    ]


def record(logdir: str, session: dict) -> str | None:
    """Appends `session` to the run's records (rewritten atomically).

    Returns:
      A warning for the console when the run resumes (step > 0) with other numerics than its
      previous session, else None.
    """
    history = read(logdir)
    lines = [json.dumps(s, sort_keys=True) for s in [*history, session]]
    atomic.write_text(os.path.join(logdir, FILE), "\n".join(lines) + "\n")
    if not history or session["step"] == 0:
        return None
    changed = differences(history[-1], session)
    if not changed:
        return None
    return (
        f"Resuming at step {session['step']} with {', '.join(changed)} (the previous session of "
        f"this run, {FILE}): training continues, but not bit for bit as it would have without "
        "the interruption (README, 'Resuming and interruptions')."
    )
