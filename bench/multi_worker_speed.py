"""Training steps/s of one process vs. two local workers (multi_worker_mirrored on loopback ports).

  python bench/multi_worker_speed.py                  # default config, global batch 4, 30 steps
  python bench/multi_worker_speed.py --steps=60 --extra=--config.sync_batch_norm=true

Both runs train the same config with the same global batch; the two workers split it (2 videos
each) and exchange gradients and the gathered embeddings over gRPC on 127.0.0.1. The rate is the
mean over the steps after the first report (tracing and start-up excluded), read from the
progress lines of `tcc.train`. On one machine the two workers share its cores, so this measures
the overhead of the multi-worker machinery, not a speed-up.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

from tcc.training import workers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _command(logdir: str, steps: int, strategy: str, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tcc.train",
        "--alsologtostderr",
        f"--logdir={logdir}",
        f"--config.train.max_iters={steps}",
        "--config.train.batch_size=4",
        "--config.logging.report_interval=5",
        "--config.checkpoint.save_interval=100000",
        "--config.train.visualize_interval=0",
        f"--config.strategy={strategy}",
        *extra,
    ]


def _rate(log: str) -> float:
    """Mean steps/s of the progress lines after the first one."""
    rates = [float(x) for x in re.findall(r"\| ([0-9.]+) steps/s", log)]
    if len(rates) < 2:
        raise RuntimeError("too few progress lines; train more --steps:\n" + log[-2000:])
    return sum(rates[1:]) / len(rates[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--extra", action="append", default=[], help="more tcc.train flags")
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        one = subprocess.run(
            _command(f"{tmp}/one", args.steps, "default", args.extra),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        ports = workers.free_loopback_ports(2)
        procs = [
            subprocess.Popen(
                _command(f"{tmp}/two", args.steps, "multi_worker_mirrored", args.extra),
                env=dict(env, TF_CONFIG=workers.local_tf_config(ports, i)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for i in range(2)
        ]
        logs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError("a worker failed:\n" + "\n".join(log[-2000:] for log in logs))
    single, chief = _rate(one.stderr), _rate(logs[0])
    print("| run | replicas | steps/s |")
    print("|---|---|---|")
    print(f"| one process (default strategy) | 1 | {single:.2f} |")
    print(f"| two local workers (multi_worker_mirrored) | 2 | {chief:.2f} |")


if __name__ == "__main__":
    main()
