"""The paper's experiments: grids of runs, a resumable (parallel) runner, aggregation to RESULTS.md.

Command line: `python -m tcc.experiments --experiment=loss_ablation --seeds=3 --output_dir=DIR`
(see `tcc/experiments/__main__.py` and docs/experiments.md). From Python:

  from tcc.experiments import presets, runner
  base = presets.experiment_config("loss_ablation", preset="micro")
  summary, failures = runner.run_experiment("loss_ablation", base, seeds=[0, 1], output_dir=DIR)

Importing this package does not import TensorFlow (runs do, when they start).
"""

from tcc.experiments.grid import EXPERIMENTS, Column, Experiment, Run, get_experiment
from tcc.experiments.presets import PRESETS, experiment_config

__all__ = [
    "EXPERIMENTS",
    "PRESETS",
    "Column",
    "Experiment",
    "Run",
    "experiment_config",
    "get_experiment",
]
