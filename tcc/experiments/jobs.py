"""One job of an experiment: a run trained with one seed, in its own logdir, then evaluated.

A job's logdir is `<output_dir>/<experiment>/<run>/seed<k>`. `execute` trains through
`tcc.training.loop.train` (which resumes from the newest checkpoint in the logdir), evaluates the
last checkpoint with `tcc.runs.evaluate_checkpoint` and writes `final_metrics.json`
atomically: the job's metrics averaged over datasets and the table cells it fills. Everything else
about scheduling is in `runner`.

Experiments share runs: TCC, SaL and TCN appear in `from_scratch`, `combined` and `few_shot` with
the same training config. Before training, `prepare` looks for a finished logdir of another
experiment under the same output_dir whose config trains exactly the same model (equal except for
what only evaluation, logging and checkpointing read) with the same seed and step budget; if there
is one, its checkpoints are copied and the job only evaluates. `trained_in` in the job's
`final_metrics.json` names that logdir.
"""

from __future__ import annotations

import copy
import dataclasses
import glob
import json
import os
import shutil
import time

import ml_collections
import numpy as np
from absl import logging

from tcc import atomic, config_keys
from tcc import config as config_lib
from tcc.experiments import presets
from tcc.experiments.grid import Experiment, Run

RESULT_FILE = "final_metrics.json"
SPEC_FILE = "run_spec.json"
TRAINED_IN_FILE = "trained_in.json"


@dataclasses.dataclass
class Job:
    """One run trained with one seed.

    Attributes:
      experiment, run, row, seed: what it is (see `grid.Run`).
      cfg: its resolved config (`cfg.logdir` is the job's logdir).
      columns: {column label: metrics key} it reports.
    """

    experiment: str
    run: str
    row: str
    seed: int
    cfg: ml_collections.ConfigDict
    columns: dict[str, str]

    @property
    def logdir(self) -> str:
        """`<output_dir>/<experiment>/<run>/seed<k>`."""
        return self.cfg.logdir

    def spec(self) -> dict:
        """The job without its config (written to `run_spec.json`)."""
        return {
            "experiment": self.experiment,
            "run": self.run,
            "row": self.row,
            "seed": self.seed,
            "columns": self.columns,
        }


def run_logdir(output_dir: str, experiment: str, run: str, seed: int) -> str:
    """`<output_dir>/<experiment>/<run>/seed<seed>`."""
    return os.path.join(output_dir, experiment, run, f"seed{seed}")


def load_result(logdir: str) -> dict | None:
    """The `final_metrics.json` of a finished job, or None."""
    path = os.path.join(logdir, RESULT_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def count_train_videos(cfg: ml_collections.ConfigDict, root: str) -> int:
    """The number of training videos of the smallest dataset of `cfg.datasets`."""
    from tcc.datasets import records

    counts = {
        name: sum(
            1
            for _ in records.read_split(root, name, "train", decode=False, kind=cfg.data.input_kind)
        )
        for name in cfg.datasets
    }
    if len(set(counts.values())) > 1:
        logging.warning(
            "Datasets differ in size %s: k labelled videos are counted on the "
            "smallest; run few_shot on one dataset for exact k.",
            counts,
        )
    return min(counts.values())


def _label_fraction(cfg: ml_collections.ConfigDict, k: int) -> float:
    """The fraction of training videos that selects exactly the first k (floor(f * N) = k)."""
    from tcc.datasets import data_root

    n = count_train_videos(cfg, data_root.resolve(cfg))
    if k > n:
        raise ValueError(
            f"cannot label {k} videos: the train split has {n}. Lower "
            "eval.few_shot_num_labeled. Received: "
            f"{list(cfg.eval.few_shot_num_labeled)}"
        )
    return min(1.0, (k + 0.5) / n)


def make_job(
    base: ml_collections.ConfigDict, experiment: Experiment, run: Run, seed: int, output_dir: str
) -> Job:
    """Resolves the config of one run and seed (see `presets` for the order of overrides)."""
    cfg = copy.deepcopy(base)
    presets.apply(cfg, {"eval.tasks": list(experiment.eval_tasks)})
    presets.apply(cfg, run.overrides)
    cfg.seed = int(seed)
    cfg.logdir = run_logdir(output_dir, experiment.name, run.name, seed)
    columns = {
        c.label: c.metric for c in experiment.columns if not run.columns or c.label in run.columns
    }
    if run.labelled_videos:
        fraction = _label_fraction(cfg, run.labelled_videos)
        tasks = [t for t in cfg.eval.tasks if t != "few_shot"]
        presets.apply(
            cfg,
            {
                "data.per_dataset_fraction": fraction,
                "eval.classification_fractions": [fraction],
                "eval.tasks": sorted(set(tasks) | {"phase_classification"}),
            },
        )
        columns = dict.fromkeys(columns, f"phase_classification@{fraction}")
    return Job(experiment.name, run.name, run.row, int(seed), cfg, columns)


def same_training(a: ml_collections.ConfigDict, b: ml_collections.ConfigDict) -> bool:
    """Whether two resolved configs train the same model (seed and step budget included).

    They do when they differ in run-control keys only
    (`config_keys.key_class(key) == config_keys.RUN`).
    """
    return not config_keys.differences(a, b, ignore={config_keys.RUN})


def find_trained(job: Job) -> str | None:
    """A finished logdir of another experiment (same output_dir) that trained this job's model.

    Candidates are `<output_dir>/*/*/seed<k>` with a `final_metrics.json` at exactly
    `train.max_iters`, a checkpoint, and a config equal to the job's up to run-control keys
    (`same_training`); a logdir that itself reused another's model is not a candidate (its
    origin is).
    """
    from tcc.training import checkpoints

    output_dir = os.path.dirname(os.path.dirname(os.path.dirname(job.logdir)))
    for logdir in sorted(glob.glob(os.path.join(output_dir, "*", "*", f"seed{job.seed}"))):
        if os.path.abspath(logdir) == os.path.abspath(job.logdir):
            continue
        result = load_result(logdir)
        if (
            result is None
            or result.get("trained_in")
            or result["step"] != job.cfg.train.max_iters
            or checkpoints.latest_checkpoint(logdir) is None
        ):
            continue
        if same_training(config_lib.load_saved(logdir), job.cfg):
            return logdir
    return None


def _adopt(job: Job, source: str) -> None:
    """Copies the checkpoints of `source` into the job's logdir (atomically) and records it."""
    from tcc.training import checkpoints

    with atomic.directory(checkpoints.checkpoint_dir(job.logdir)) as staging:
        shutil.copytree(checkpoints.checkpoint_dir(source), staging, dirs_exist_ok=True)
    atomic.write_json(os.path.join(job.logdir, TRAINED_IN_FILE), {"trained_in": source})
    logging.info("%s: reusing the model trained in %s (same training config)", job.logdir, source)


def prepare(job: Job, reuse: bool = True) -> None:
    """Generates the data if needed, fills data-dependent keys, refuses a conflicting logdir.

    With `reuse`, a job with no checkpoint of its own adopts the checkpoints of an identical
    finished run of another experiment (`find_trained`), so that it only evaluates.
    """
    from tcc.datasets import data_root
    from tcc.training import checkpoints, loop

    root = data_root.resolve(job.cfg)
    loop.prepare_config(job.cfg, root)  # before the resume check, so a resumed run compares equal
    checkpoints.check_resumable_config(job.cfg, job.logdir)
    if reuse and checkpoints.latest_checkpoint(job.logdir) is None:
        source = find_trained(job)
        if source is not None:
            _adopt(job, source)
    atomic.write_json(os.path.join(job.logdir, SPEC_FILE), job.spec())


def _mean_metrics(records: list[dict]) -> dict[str, float]:
    """Metrics averaged over the evaluated datasets (keys present in every one)."""
    keys = set.intersection(*(set(r["metrics"]) for r in records))
    return {k: float(np.mean([r["metrics"][k] for r in records])) for k in sorted(keys)}


def execute(job: Job) -> dict:
    """Trains (or resumes) and evaluates one job; writes and returns its `final_metrics.json`."""
    import keras

    from tcc import checks, runs
    from tcc.datasets import data_root
    from tcc.training import checkpoints, loop

    start = time.perf_counter()
    root = data_root.resolve(job.cfg)
    checks.check_config(job.cfg)
    trained = loop.train(job.cfg, preflight=checks.preflight)
    path = checkpoints.latest_checkpoint(job.logdir)
    records = runs.evaluate_checkpoint(job.cfg, job.logdir, path, root)
    metrics = _mean_metrics(records)
    trained_in = os.path.join(job.logdir, TRAINED_IN_FILE)
    result = {
        **job.spec(),
        "trained_in": json.loads(_read(trained_in))["trained_in"]
        if os.path.isfile(trained_in)
        else "",
        "step": trained.final_step,
        "metrics": metrics,
        "per_dataset": {r["dataset"]: r["metrics"] for r in records},
        "cells": {label: metrics[m] for label, m in job.columns.items() if m in metrics},
        "seconds": time.perf_counter() - start,
    }
    atomic.write_json(os.path.join(job.logdir, RESULT_FILE), result)
    keras.utils.clear_session()
    return result


def run_saved_job(logdir: str) -> dict:
    """Executes the job prepared in `logdir` (its `config.json` and `run_spec.json`)."""
    cfg = config_lib.load_saved(logdir)
    with open(os.path.join(logdir, SPEC_FILE), encoding="utf-8") as f:
        spec = json.load(f)
    return execute(
        Job(spec["experiment"], spec["run"], spec["row"], spec["seed"], cfg, spec["columns"])
    )
