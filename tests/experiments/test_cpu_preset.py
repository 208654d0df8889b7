"""The CPU preset of RESULTS.md trains the default demo's model, for every experiment.

BENCHMARKS.md measures the demo's time to quality (val tau >= 0.8 and classification@0.1 >= 75 %
at 3 seeds within about 15 CPU-minutes); that measurement is the CPU preset's only if every key
that changes the trained weights (model, data, budget) is the same.
"""

import pytest

from tcc import config as config_lib
from tcc import config_keys
from tcc.experiments import grid, presets

TRAINING_CLASSES = {config_keys.MODEL, config_keys.DATA, config_keys.BUDGET}


@pytest.mark.parametrize("experiment", sorted(grid.EXPERIMENTS))
def test_cpu_preset_trains_the_default_demo(experiment):
    cpu = presets.experiment_config(experiment, "cpu")
    default = config_lib.get_default_config()
    ignore = {config_keys.RUN, config_keys.DATA_STREAM}
    assert config_keys.differences(default, cpu, ignore=ignore) == []
    assert {config_keys.key_class(k) for k in config_keys.flatten_values(cpu)} >= TRAINING_CLASSES


def test_cpu_preset_changes_only_run_control():
    cpu = presets.experiment_config("from_scratch", "cpu")
    changed = [
        line.split(":")[0] for line in config_keys.diff(config_lib.get_default_config(), cpu)
    ]
    assert changed, "the preset sets its own evaluation and logging keys"
    assert {config_keys.key_class(k) for k in changed} == {config_keys.RUN}
