"""Runs one of the paper's experiments: `python -m tcc.experiments --experiment=NAME`.

  python -m tcc.experiments --experiment=loss_ablation --preset=micro --seeds=2 \\
      --output_dir=/tmp/exp_micro                                   # smoke test, a few minutes
  python -m tcc.experiments --experiment=from_scratch --seeds=3 \\
      --output_dir=/tmp/tcc_experiments/cpu --results_file=RESULTS.md   # CPU scale, <= ~1 h
  python -m tcc.experiments --experiment=combined --preset=paper \\
      --config.data.path=/data/tcc_records --config.model.base_model.weights=/data/r50v2.h5 \\
      --output_dir=/data/experiments --parallel=4                   # the paper's scale, GPUs

  python examples/penn_joints.py --input_dir=../shared/data/penn_action_joints \\
      --output_dir=data/penn_joints --derived_events
  python -m tcc.experiments --experiment=few_shot --preset=keypoints --seeds=3   # joints, CPU

Experiments: loss_ablation, from_scratch, combined, few_shot, or `all`. Running the same command
again skips finished runs and resumes unfinished ones from their checkpoints. `--config.a.b=v`
overrides apply to every run. See docs/experiments.md.
"""

from __future__ import annotations

import os
import shlex
import sys

from absl import app, flags, logging

from tcc import cli, errors

FLAGS = flags.FLAGS
flags.DEFINE_string("experiment", None, "loss_ablation | from_scratch | combined | few_shot | all")
flags.DEFINE_string(
    "preset",
    "cpu",
    "Scale: micro (smoke test) | cpu (2 cores, <= ~1 h per "
    "experiment) | keypoints (Penn Action joints, 2 cores) | keypoints_synthetic (embedded "
    "keypoints, 2 cores) | paper (GPUs, the "
    "paper's settings).",
)
flags.DEFINE_string("config", None, "Config file replacing the preset's (e.g. configs/x.py).")
flags.DEFINE_integer("seeds", 3, "Number of seeds: 0, 1, ..., seeds-1.")
flags.DEFINE_string(
    "output_dir",
    None,
    "Root of the run logdirs (default: /tmp/tcc_experiments/<preset>); use one per preset.",
)
flags.DEFINE_list("runs", [], "Shell patterns of run names to run (default: all), e.g. tcc,sal*.")
flags.DEFINE_integer("parallel", 1, "Runs at a time (> 1: as subprocesses).")
flags.DEFINE_string(
    "results_file",
    "",
    "Markdown file receiving the tables (default: "
    "<output_dir>/RESULTS.md; the repository's RESULTS.md for published runs).",
)
flags.DEFINE_string(
    "tag",
    None,
    "Suffix of the RESULTS.md section (default: the preset's, "
    "'keypoints' for --preset=keypoints, else none).",
)
flags.DEFINE_bool(
    "reuse",
    True,
    "Evaluate, instead of retraining, a run another experiment in --output_dir already trained "
    "with the same training config and seed (e.g. TCC in from_scratch, combined and few_shot).",
)
flags.DEFINE_string("run_logdir", None, "Internal: execute the job prepared in this logdir.")
flags.DEFINE_integer("threads", 0, "Internal: TensorFlow threads of a --run_logdir job.")

_OVERRIDES: list[str] = []


def _run_worker() -> None:
    import tensorflow as tf

    from tcc.experiments import runner

    if FLAGS.threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    result = runner.run_saved_job(FLAGS.run_logdir)
    logging.info("done in %.0f s: %s", result["seconds"], result["cells"])


def _output_dir() -> str:
    return FLAGS.output_dir or os.path.join("/tmp/tcc_experiments", FLAGS.preset)


def _check_base(name: str) -> None:
    """`checks.check_config` and the training-data checks on the experiment's base config."""
    from tcc import checks
    from tcc.datasets import data_root
    from tcc.experiments import presets

    base = presets.experiment_config(name, FLAGS.preset, FLAGS.config, _OVERRIDES)
    checks.check_config(base)
    if base.data.source == "records":
        checks.check_training_data(base, data_root.resolve(base))


def _run_experiment(name: str, command: str) -> list[str]:
    from tcc.experiments import presets, runner

    base = presets.experiment_config(name, FLAGS.preset, FLAGS.config, _OVERRIDES)
    tag = presets.get_preset(FLAGS.preset).tag if FLAGS.tag is None else FLAGS.tag
    summary, failures = runner.run_experiment(
        name,
        base,
        range(FLAGS.seeds),
        _output_dir(),
        FLAGS.runs,
        FLAGS.parallel,
        FLAGS.results_file or None,
        tag,
        command,
        FLAGS.reuse,
    )
    from tcc.experiments import aggregate, grid

    print(f"\n{name} ({FLAGS.preset} preset):\n")
    print(aggregate.markdown_table(grid.get_experiment(name, base), summary))
    return failures


def main(argv: list[str]) -> None:
    """Runs the experiments the flags name; user errors raise `errors.UserError` (see `run`)."""
    del argv
    if FLAGS.run_logdir:
        _run_worker()
        return
    from tcc.experiments import presets
    from tcc.experiments.grid import EXPERIMENTS

    valid = [*EXPERIMENTS, "all"]
    if not FLAGS.experiment:
        raise errors.BadValueError(
            f"no experiment chosen, on the command line; pass --experiment=NAME, one of "
            f"{', '.join(valid)}"
        )
    if FLAGS.experiment not in valid:
        raise errors.unknown_name("experiment", FLAGS.experiment, valid, "--experiment")
    presets.get_preset(FLAGS.preset)
    names = list(EXPERIMENTS) if FLAGS.experiment == "all" else [FLAGS.experiment]
    if FLAGS.seeds < 1 or FLAGS.parallel < 1:
        raise errors.BadValueError(
            f"--seeds and --parallel must be >= 1. Received: --seeds={FLAGS.seeds} "
            f"--parallel={FLAGS.parallel}, on the command line; pass values >= 1"
        )
    for name in names:  # every config and its data, before any run starts
        _check_base(name)
    command = "python -m tcc.experiments " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    from tcc.training.loop import TrainingInterrupted

    failures = []
    try:
        for name in names:
            failures += _run_experiment(name, command)
    except TrainingInterrupted as e:
        logging.warning("%s The same tcc.experiments command resumes the experiment.", e)
        sys.exit(128 + e.signum)
    if failures:
        for failure in failures:
            logging.error("run failed: %s", failure)
        raise errors.UserError(
            f"{len(failures)} run(s) failed, first: {failures[0]} (the others are aggregated; "
            "their logs are in their logdirs); rerun the same command to retry"
        )
    results = FLAGS.results_file or os.path.join(_output_dir(), "RESULTS.md")
    print(f"\ntables: {results}  |  logdirs: {_output_dir()}")


def run(argv: list[str] | None = None) -> None:
    """Console entry point: user errors end as one `error:` line (`tcc.errors`)."""
    app.run(errors.wrap(main), argv=argv, flags_parser=cli.make_flags_parser(_OVERRIDES))


if __name__ == "__main__":
    run()
