"""Scales at which the experiments run: `micro` (smoke test), `cpu` (the demo's training, 2
cores), `keypoints` (Penn Action joints on 2 cores), `keypoints_synthetic` (embedded keypoints),
`paper` (GPUs).

A preset names a config file in `configs/` (the base: data, model, training budget) and overrides
applied on top of it. `--config=FILE` replaces the preset's file and keeps its overrides. A config
file may also define `experiment_overrides(experiment: str) -> dict[str, object]`, e.g. to give
each experiment its own training budget.

The base config of one experiment is built in this order (later wins):
config file -> preset overrides -> the file's `experiment_overrides(name)` -> `--config.a.b=v`.
The grid then sets `eval.tasks`, each run its own keys (`training_algo`, loss weights, ...), and the
runner `seed` and `logdir`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Mapping, Sequence

import ml_collections

from tcc import config as config_lib
from tcc import errors

CONFIGS_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))

# A few training steps of a tiny model on a small embedded dataset: checks the whole pipeline
# (train, resume, evaluate, aggregate, plot) in minutes, numbers meaningless.
MICRO_OVERRIDES: dict[str, object] = {
    "train.max_iters": 3,
    "train.batch_size": 2,
    "train.num_frames": 6,
    "train.visualize_interval": 0,
    "data.image_size": 32,
    "data.synthetic_num_train": 8,
    "data.synthetic_num_val": 4,
    "data.num_parallel_calls": 1,
    "data.shuffle_queue_size": 8,
    "model.embedding_size": 8,
    "model.conv_embedder.conv_layers": [[16, 3, True]],
    "model.conv_embedder.fc_layers": [16],
    "model.conv_embedder.capacity_scalar": 1.0,
    "sal.fc_layers": [[16, True], [2, False]],
    "eval.num_frames": 16,
    "eval.val_iters": 1,
    "eval.few_shot_num_episodes": 2,
    "eval.few_shot_num_labeled": [1, 2],
    "checkpoint.save_interval": 1000,
    "logging.report_interval": 1,
}

# The paper trains from scratch with a VGG-M-like encoder (Table 4) and fine-tunes an ImageNet
# ResNet-50 elsewhere (Tables 3, 5, 6, Figure 5; pass the weights file with
# --config.model.base_model.weights=...).
PAPER_EXPERIMENT_OVERRIDES: dict[str, dict[str, object]] = {
    "from_scratch": {
        "model.base_model.network": "vggm",
        "model.base_model.weights": "",
        "model.train_base": "train_all",
    },
}


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named scale.

    Attributes:
      name: the `--preset` value.
      config_file: base config in `configs/` ('' = the package defaults, the embedded dataset).
      overrides: applied to every experiment.
      experiment_overrides: {experiment: overrides} applied after `overrides`.
      description: one line for `--help` and the docs.
      tag: default RESULTS.md section suffix (`--tag`), so its tables sit beside the others.
    """

    name: str
    config_file: str
    overrides: Mapping[str, object] = dataclasses.field(default_factory=dict)
    experiment_overrides: Mapping[str, Mapping[str, object]] = dataclasses.field(
        default_factory=dict
    )
    description: str = ""
    tag: str = ""


PRESETS: dict[str, Preset] = {
    "micro": Preset(
        "micro",
        "",
        MICRO_OVERRIDES,
        description="3 steps of a tiny model on 8+4 small embedded videos (smoke test)",
    ),
    "cpu": Preset(
        "cpu",
        "experiments_cpu.py",
        description="the default demo's training (embedded dataset, small encoder, 3800 "
        "steps) for every method; ~1-2.5 h per experiment on 2 CPU cores "
        "(configs/experiments_cpu.py)",
    ),
    "keypoints": Preset(
        "keypoints",
        "experiments_keypoints.py",
        tag="keypoints",
        description="real Penn Action joints (squats, push-ups, pull-ups), "
        "sequence model, <= ~30 min per experiment on 2 CPU cores "
        "(configs/experiments_keypoints.py)",
    ),
    "keypoints_synthetic": Preset(
        "keypoints_synthetic",
        "experiments_keypoints_synthetic.py",
        tag="keypoints_synthetic",
        description="embedded synthetic pouring keypoints (12 noisy 2D points, generated on "
        "first use), sequence model, 2000 steps (configs/experiments_keypoints_synthetic.py)",
    ),
    "paper": Preset(
        "paper",
        "pouring.py",
        experiment_overrides=PAPER_EXPERIMENT_OVERRIDES,
        description="the paper's scale (150k steps, ResNet-50 / VGG-M, 224 px) on "
        "Pouring; --config=configs/penn_action.py for Penn Action",
    ),
}


def format_override(key: str, value: object) -> str:
    """`key=value` in the syntax of `tcc.config.apply_overrides` (strings plain, others repr)."""
    return f"{key}={value}" if isinstance(value, str) else f"{key}={value!r}"


def apply(cfg: ml_collections.ConfigDict, overrides: Mapping[str, object]) -> None:
    """Sets typed `overrides` {dotted key: value} in place; unknown keys are errors."""
    config_lib.apply_overrides(cfg, [format_override(k, v) for k, v in overrides.items()])


def _file_experiment_overrides(path: str, experiment: str) -> dict[str, object]:
    """`experiment_overrides(experiment)` of a config file, or {} if it defines none."""
    spec = importlib.util.spec_from_file_location("tcc_experiment_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hook = getattr(module, "experiment_overrides", None)
    return dict(hook(experiment)) if hook else {}


def get_preset(name: str) -> Preset:
    """The preset called `name` (KeyError listing the valid ones)."""
    if name not in PRESETS:
        raise errors.UnknownNameError(
            f"unknown preset {name!r}{errors.did_you_mean(name, PRESETS)}; valid: "
            f"{', '.join(PRESETS)}. Received: --preset={name}"
        )
    return PRESETS[name]


def experiment_config(
    experiment: str,
    preset: str = "cpu",
    config_path: str | None = None,
    overrides: Sequence[str] = (),
) -> ml_collections.ConfigDict:
    """The base config of `experiment` at `preset` scale (see the module docstring for the order).

    Args:
      experiment: experiment name (selects the per-experiment overrides).
      preset: `micro`, `cpu` or `paper`.
      config_path: a config file replacing the preset's own.
      overrides: command-line overrides `a.b=v`, applied last.

    Returns:
      The config every run of the experiment starts from.
    """
    chosen = get_preset(preset)
    path = config_path or (
        os.path.join(CONFIGS_DIR, chosen.config_file) if chosen.config_file else ""
    )
    if path and not os.path.isfile(path):
        raise FileNotFoundError(
            f"config file {path!r} of preset {preset!r} not found; run from the repository root "
            "or pass --config=path/to/config.py"
        )
    cfg = config_lib.load(path or None)
    apply(cfg, chosen.overrides)
    apply(cfg, chosen.experiment_overrides.get(experiment, {}))
    if path:
        apply(cfg, _file_experiment_overrides(path, experiment))
    return config_lib.apply_overrides(cfg, list(overrides))
