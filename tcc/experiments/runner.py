"""Runs an experiment grid: one logdir per run and seed, resumable, optionally in parallel.

Every (run, seed) is a `jobs.Job` with its own logdir `<output_dir>/<experiment>/<run>/seed<k>`.
A job whose `final_metrics.json` is at `train.max_iters` is skipped, so the same command finishes
an interrupted experiment; an unfinished one resumes from its checkpoint. With `parallel > 1` jobs
run as subprocesses (`python -m tcc.experiments --run_logdir=DIR`, output in `DIR/run.log`), each
given `cpu_count // parallel` threads.

Runs that another experiment under the same output_dir has already trained with the same
training config and seed (TCC, SaL, TCN in `from_scratch`, `combined` and `few_shot`) are only
evaluated: `jobs.prepare` copies their checkpoints (disable with `reuse=False`).

Runs of a weight-search group are first trained with the first `search_seeds` seeds; the best on
val (`aggregate.select_groups`) is then trained with the remaining seeds. The searches go first,
and a group's remaining seeds start as soon as its own search is finished, so that no core waits
for another group's search.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence

import ml_collections

from tcc import errors
from tcc.experiments import aggregate
from tcc.experiments.execution import (  # noqa: F401 (re-exported: the runner's public API)
    OnDone,
    execute_all,
    finished,
)
from tcc.experiments.grid import Experiment, Run, get_experiment
from tcc.experiments.jobs import (  # noqa: F401 (re-exported: the runner's public API)
    RESULT_FILE,
    Job,
    execute,
    load_result,
    make_job,
    prepare,
    run_logdir,
    run_saved_job,
)


def _plan(
    base,
    experiment: Experiment,
    runs: list[Run],
    seeds: Sequence[int],
    output_dir: str,
    search_phase: bool,
    selected: dict[str, str],
) -> list[Job]:
    jobs = []
    searched = list(seeds[: experiment.search_seeds])
    for run in runs:
        if not run.group:
            chosen = seeds if search_phase else []
        elif search_phase:
            chosen = searched
        else:
            chosen = (
                [s for s in seeds if s not in searched]
                if selected.get(run.group) == run.name
                else []
            )
        jobs.extend(make_job(base, experiment, run, s, output_dir) for s in chosen)
    return jobs


def _release_finals(
    base,
    experiment: Experiment,
    runs: list[Run],
    seeds: list[int],
    output_dir: str,
    search: list[Job],
) -> OnDone:
    """An `on_done` giving, once all of a group's `search` jobs are finished, its selected run's
    jobs for the remaining seeds."""
    searched = seeds[: experiment.search_seeds]
    group_of = {r.name: r.group for r in runs if r.group}
    released: set[str] = set()

    def on_done(job: Job) -> list[Job]:
        group = group_of.get(job.run)
        if group is None or group in released:
            return []
        if not all(finished(j) for j in search if group_of.get(j.run) == group):
            return []
        released.add(group)
        results = aggregate.load_results(experiment, output_dir)
        selected = aggregate.select_groups(experiment, results, searched)
        members = [r for r in runs if r.group == group]
        return _plan(base, experiment, members, seeds, output_dir, False, selected)

    return on_done


def select_runs(
    experiment: Experiment, runs: Sequence[Run], run_filter: Sequence[str]
) -> list[Run]:
    """The runs whose name matches one of the shell patterns (all when the filter is empty)."""
    if not run_filter:
        return list(runs)
    chosen = [r for r in runs if any(fnmatch.fnmatchcase(r.name, p) for p in run_filter)]
    if not chosen:
        names = [r.name for r in runs]
        raise errors.BadValueError(
            f"--runs={','.join(run_filter)} matches no run of {experiment.name}"
            f"{errors.did_you_mean(run_filter[0], names)}; valid: {', '.join(names)}"
        )
    return chosen


def run_experiment(
    name: str,
    base: ml_collections.ConfigDict,
    seeds: Sequence[int],
    output_dir: str,
    run_filter: Sequence[str] = (),
    parallel: int = 1,
    results_file: str | None = None,
    tag: str = "",
    command: str = "",
    reuse: bool = True,
) -> tuple[aggregate.Summary, list[str]]:
    """Trains, evaluates and aggregates experiment `name`.

    Args:
      name: a `grid.EXPERIMENTS` name.
      base: the experiment's base config (`presets.experiment_config`).
      seeds: the seeds, e.g. [0, 1, 2].
      output_dir: root of the logdirs.
      run_filter: shell patterns of run names to run (default all).
      parallel: jobs at a time (> 1: subprocesses).
      results_file: the Markdown file whose section for this experiment is (re)written;
        default `<output_dir>/RESULTS.md`.
      tag: distinguishes sections of one experiment at several scales (`few_shot:keypoints`).
      command: the command line, quoted under the table.
      reuse: evaluate, instead of retraining, a run whose identical model (same training config
        and seed) another experiment under `output_dir` has already trained.

    Returns:
      (the aggregated summary, one message per failed job).
    """
    experiment = get_experiment(name, base)
    runs = select_runs(experiment, experiment.runs, run_filter)
    seeds = list(seeds)
    grouped = {r.name for r in runs if r.group}
    search = _plan(base, experiment, runs, seeds, output_dir, True, {})
    search.sort(key=lambda job: job.run not in grouped)  # searches first, the rest fills in
    on_done = _release_finals(base, experiment, runs, seeds, output_dir, search)
    failures = execute_all(search, parallel, reuse, on_done)
    results = aggregate.load_results(experiment, output_dir)
    selected = aggregate.select_groups(experiment, results, seeds[: experiment.search_seeds])
    failures += execute_all(
        _plan(base, experiment, runs, seeds, output_dir, False, selected), parallel, reuse
    )
    results = aggregate.load_results(experiment, output_dir)
    summary = aggregate.summarize(experiment, results, seeds)
    meta = {"command": command, "datasets": list(base.datasets), "seeds": seeds}
    aggregate.write_outputs(
        experiment,
        summary,
        meta,
        output_dir,
        results_file or os.path.join(output_dir, "RESULTS.md"),
        tag,
    )
    return summary, failures
