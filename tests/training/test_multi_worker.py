"""Multi-worker training with real worker processes on free loopback ports (127.0.0.1).

- Two `tcc.train` workers with one shared `--logdir`: only the chief writes there (config,
  checkpoints, TensorBoard events); a worker killed mid-training makes the other stop with a clear
  message; the same command on both resumes from the chief's newest checkpoint.
- Equality: one device, MirroredStrategy on 2 logical CPU devices and 2 workers give the same
  losses and weights for the same global batch, for every algorithm with batch norm synchronised
  and without (`distributed_cases.py`, one process per strategy running every case).

Every launch has a generous timeout and the tests make no timing assumptions beyond it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
from conftest import write_tiny_records

from tcc.training import checkpoints, workers

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# Seconds for a whole launch of the workers on a loaded 2-core machine (TCC_TEST_LAUNCH_TIMEOUT).
LAUNCH_TIMEOUT = float(os.environ.get("TCC_TEST_LAUNCH_TIMEOUT", "900"))


def _env(tmp_dir: str, tf_config: str | None = None) -> dict[str, str]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]),
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        TMPDIR=tmp_dir,
    )
    if tf_config is not None:
        env["TF_CONFIG"] = tf_config
    return env


def _start_workers(command: list[str], log_prefix: str, tmp_dir: str) -> list[subprocess.Popen]:
    """Starts two workers of `command` (a cluster on two free loopback ports), logs to files."""
    ports = workers.free_loopback_ports(2)
    procs = []
    for index in range(2):
        tf_config = workers.local_tf_config(ports, index)
        log = open(f"{log_prefix}{index}.log", "w")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(
                command,
                env=_env(tmp_dir, tf_config),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        )
        log.close()
    return procs


def _wait(procs: list[subprocess.Popen], timeout: float) -> list[int]:
    """Waits for every process until a shared deadline; kills the remaining ones after it."""
    deadline = time.monotonic() + timeout
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=max(deadline - time.monotonic(), 1)))
        except subprocess.TimeoutExpired:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            raise AssertionError(f"workers still running after {timeout} s") from None
    return codes


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


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
        "--config.train.batch_size=2",  # one video per replica: TCC pairs span the workers
        "--config.train.num_frames=6",
        f"--config.train.max_iters={max_iters}",
        "--config.checkpoint.save_interval=2",
        "--config.model.embedding_size=8",
        "--config.model.conv_embedder.conv_layers=[[16,3,True]]",
        "--config.model.conv_embedder.fc_layers=[16]",
        "--config.train.visualize_interval=2",
        "--config.logging.report_interval=1",
        "--config.strategy=multi_worker_mirrored",
        "--config.sync_batch_norm=True",
    ]


def _wait_for_line(path: str, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and text in _read(path):
            return
        if proc.poll() is not None:
            raise AssertionError(
                f"worker exited ({proc.returncode}) before {text!r}:\n" + _read(path)[-3000:]
            )
        time.sleep(1.0)
    raise AssertionError(f"{text!r} not logged within {timeout} s:\n" + _read(path)[-3000:])


def test_two_workers_share_one_logdir_survive_a_killed_worker_and_resume(tmp_path):
    root = write_tiny_records(str(tmp_path / "data"))
    logdir = str(tmp_path / "run")
    tmp_dir = str(tmp_path / "worker_tmp")
    os.makedirs(tmp_dir)
    logs = str(tmp_path / "first_")

    # 1. Train until the chief saved step 4, then kill worker 1.
    procs = _start_workers(_train_command(root, logdir, 100000), logs, tmp_dir)
    try:
        _wait_for_line(logs + "0.log", "ckpt-4.", procs[0], LAUNCH_TIMEOUT)
        procs[1].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        code = _wait(procs[:1], LAUNCH_TIMEOUT)[0]
        stopped_after = time.monotonic() - killed_at
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    chief_log = _read(logs + "0.log")
    assert code == 1, chief_log[-3000:]
    assert "a peer worker stopped or became unreachable" in chief_log, chief_log[-3000:]
    assert "Restart every worker with the same command" in chief_log
    print(f"the chief stopped {stopped_after:.0f} s after worker 1 was killed")

    # Only the chief wrote into the shared logdir.
    newest = int(checkpoints.latest_checkpoint(logdir).rsplit("-", 1)[1])
    assert newest >= 4
    assert os.path.isfile(os.path.join(logdir, "config.json"))
    assert "writes to a temporary folder" in _read(logs + "1.log")
    events = os.listdir(os.path.join(logdir, "train"))
    assert events and all(f".{procs[0].pid}." in name for name in events), events
    leftovers = set(os.listdir(tmp_dir))  # the killed worker could not remove its folder
    chiefs = [procs[0].pid]

    # 2. The same command on both workers resumes from the chief's newest checkpoint.
    logs = str(tmp_path / "second_")
    procs = _start_workers(_train_command(root, logdir, newest + 2), logs, tmp_dir)
    codes = _wait(procs, LAUNCH_TIMEOUT)
    for index, code in enumerate(codes):
        log = _read(f"{logs}{index}.log")
        assert code == 0, log[-3000:]
        assert f"(from step {newest})" in log, log[-3000:]
        assert f"step {newest + 2}/{newest + 2}" in log
    assert checkpoints.latest_checkpoint(logdir).endswith(f"ckpt-{newest + 2}")
    assert set(os.listdir(tmp_dir)) == leftovers  # the finished worker removed its folder
    chiefs.append(procs[0].pid)
    events = os.listdir(os.path.join(logdir, "train"))
    assert len(events) == 2 and all(any(f".{p}." in e for p in chiefs) for e in events), events


def _load(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _max_differences(a: dict, b: dict, key_a: str, key_b: str) -> tuple[float, float]:
    """Max abs difference of the step losses and of the final weights of two runs of a case."""
    loss = float(np.abs(a[f"{key_a}/loss"] - b[f"{key_b}/loss"]).max())
    names = [k[len(key_a) + 1 :] for k in a if k.startswith(f"{key_a}/w")]
    assert names
    weight = max(float(np.abs(a[f"{key_a}/{n}"] - b[f"{key_b}/{n}"]).max()) for n in names)
    return loss, weight


def test_one_device_two_devices_and_two_workers_give_the_same_losses_and_weights(tmp_path):
    from distributed_cases import CASES, case_key

    out = str(tmp_path)
    tmp_dir = str(tmp_path / "worker_tmp")
    os.makedirs(tmp_dir)
    script = [sys.executable, os.path.join(HERE, "distributed_cases.py"), f"--out={out}"]
    log = open(tmp_path / "single_and_mirrored.log", "w")  # noqa: SIM115
    local = subprocess.Popen(
        [*script, "--mode=single_and_mirrored"],
        env=_env(tmp_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    log.close()
    procs = [local, *_start_workers([*script, "--mode=worker"], out + "/worker", tmp_dir)]
    codes = _wait(procs, LAUNCH_TIMEOUT)
    names = ["single_and_mirrored", "worker0", "worker1"]
    for name, code in zip(names, codes, strict=True):
        assert code == 0, _read(f"{out}/{name}.log")[-3000:]
    local = _load(f"{out}/single_and_mirrored.npz")
    worker0, worker1 = _load(f"{out}/worker0.npz"), _load(f"{out}/worker1.npz")

    rows = []
    for case in CASES:
        key = case_key(*case)
        single = f"single/{key}"
        moved = max(
            float(np.abs(local[k] - local[k.replace("/w", "/init")]).max())
            for k in local
            if k.startswith(f"{single}/w")
        )
        assert moved > 1e-3, (key, moved)  # the steps changed the weights
        mirrored = _max_differences(local, local, single, f"mirrored/{key}")
        two_workers = _max_differences(local, worker0, single, f"workers/{key}")
        control = case[1] == "local" or case[2] == "replica"
        if not control:  # (unsynchronised batch norm keeps each worker's own moving statistics)
            between = _max_differences(worker0, worker1, f"workers/{key}", f"workers/{key}")
            assert between == (0, 0), (key, between)
        rows.append((key, *mirrored, *two_workers))
        for loss_diff, weight_diff in (mirrored, two_workers):
            if control:  # unsynchronised batch norm / per-replica pairs differ from one device
                assert max(loss_diff, weight_diff) > 1e-3, (key, loss_diff, weight_diff)
            else:
                assert loss_diff < 1e-5 and weight_diff < 1e-5, (key, loss_diff, weight_diff)
    print("case | 2 devices: loss, weights | 2 workers: loss, weights (max abs diff vs 1 device)")
    for key, *diffs in rows:
        print(key, " ".join(f"{d:.1e}" for d in diffs))
