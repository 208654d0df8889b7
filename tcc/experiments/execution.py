"""Runs experiment jobs: in this process one after the other, or as parallel subprocesses.

A job is finished when its `final_metrics.json` is at `train.max_iters`; `execute_all` skips
finished jobs and runs the others. With `parallel > 1` each job is a subprocess
(`python -m tcc.experiments --run_logdir=DIR`, output in `DIR/run.log`) given
`cpu_count // parallel` threads. An `on_done` callback may hand back more jobs as each one
finishes (the runner's final seeds of a weight search).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from absl import logging

from tcc import config as config_lib
from tcc.experiments.jobs import RESULT_FILE, Job, execute, load_result, prepare


def _describe(job: Job) -> str:
    return f"{job.experiment}/{job.run}/seed{job.seed}"


OnDone = Callable[[Job], list[Job]]  # a finished job -> the jobs it makes ready


def _no_more(job: Job) -> list[Job]:
    return []


def _run_inline(jobs: list[Job], reuse: bool = True, on_done: OnDone = _no_more) -> list[str]:
    from tcc.training.loop import TrainingInterrupted

    jobs, failures, i = list(jobs), [], 0
    while i < len(jobs):
        job = jobs[i]
        i += 1
        logging.info(
            "[%d/%d] %s: training and evaluating in %s", i, len(jobs), _describe(job), job.logdir
        )
        try:
            prepare(job, reuse)
            result = execute(job)
        except TrainingInterrupted:  # Ctrl-C / SIGTERM: checkpoint saved, stop the experiment
            raise
        except Exception as e:  # noqa: BLE001 (one failed run must not stop the grid)
            logging.exception("%s failed", _describe(job))
            failures.append(f"{_describe(job)}: {e}")
            continue
        logging.info(
            "[%d/%d] %s done in %.0f s: %s",
            i,
            len(jobs),
            _describe(job),
            result["seconds"],
            {k: round(v, 4) for k, v in result["cells"].items()},
        )
        jobs += on_done(job)
    return failures


def _start(job: Job, threads: int, reuse: bool) -> tuple[subprocess.Popen, object]:
    prepare(job, reuse)
    config_lib.save(job.cfg, job.logdir)
    log = open(os.path.join(job.logdir, "run.log"), "ab")  # noqa: SIM115 (closed when it ends)
    cmd = [
        sys.executable,
        "-m",
        "tcc.experiments",
        f"--run_logdir={job.logdir}",
        f"--threads={threads}",
    ]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log


def _run_parallel(
    jobs: list[Job],
    parallel: int,
    poll: float = 2.0,
    reuse: bool = True,
    on_done: OnDone = _no_more,
) -> list[str]:
    threads = max(1, (os.cpu_count() or 1) // parallel)
    pending, running, failures, done, total = list(jobs), {}, [], 0, len(jobs)
    try:
        while pending or running:
            while pending and len(running) < parallel:
                job = pending.pop(0)
                try:
                    process, log = _start(job, threads, reuse)
                except Exception as e:  # noqa: BLE001
                    failures.append(f"{_describe(job)}: {e}")
                    continue
                running[process] = (job, log)
                logging.info(
                    "started %s (pid %d), log %s/run.log", _describe(job), process.pid, job.logdir
                )
            time.sleep(poll)
            for process in [p for p in running if p.poll() is not None]:
                job, log = running.pop(process)
                log.close()
                done += 1
                ok = process.returncode == 0 and load_result(job.logdir) is not None
                if not ok:
                    failures.append(
                        f"{_describe(job)}: exit code {process.returncode}, see "
                        f"{job.logdir}/run.log"
                    )
                logging.info(
                    "[%d/%d] %s %s", done, total, _describe(job), "done" if ok else "FAILED"
                )
                if ok:
                    more = on_done(job)
                    pending += more
                    total += len(more)
    except KeyboardInterrupt:
        for process, (_, log) in running.items():  # they save a checkpoint on SIGTERM
            process.terminate()
            process.wait()
            log.close()
        raise
    return failures


def finished(job: Job) -> bool:
    """Whether the job's `final_metrics.json` is at its `train.max_iters`."""
    result = load_result(job.logdir)
    return result is not None and result["step"] >= job.cfg.train.max_iters


def _unfinished(jobs: list[Job]) -> tuple[list[Job], list[str]]:
    """(the jobs to run, one message per finished job whose logdir has another config)."""
    todo, failures = [], []
    for job in jobs:
        if not finished(job):
            todo.append(job)
            continue
        try:
            prepare(job)  # refuses a finished run trained under another config
        except ValueError as e:
            failures.append(f"{_describe(job)}: {e}")
            continue
        logging.info(
            "skipping %s: finished at step %d (%s)",
            _describe(job),
            load_result(job.logdir)["step"],
            os.path.join(job.logdir, RESULT_FILE),
        )
    return todo, failures


def execute_all(
    jobs: list[Job], parallel: int = 1, reuse: bool = True, on_done: OnDone = _no_more
) -> list[str]:
    """Runs the unfinished jobs; returns one message per failed job.

    A job is finished when its `final_metrics.json` is at `train.max_iters` (a larger
    `train.max_iters` continues it from its checkpoint) and its logdir's config matches. With
    `reuse`, an unfinished job without checkpoints first adopts the model of an identical finished
    run of another experiment (`jobs.find_trained`) and then only evaluates. `on_done(job)` is
    called after each job that succeeds; the unfinished jobs it returns are run too.
    """

    def more(job: Job) -> list[Job]:
        todo, errors = _unfinished(on_done(job))
        failures.extend(errors)
        return todo

    todo, failures = _unfinished(jobs)
    if todo and parallel > 1:
        failures += _run_parallel(todo, parallel, reuse=reuse, on_done=more)
    elif todo:
        failures += _run_inline(todo, reuse=reuse, on_done=more)
    return failures
