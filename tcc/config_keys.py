"""What each config key decides, and how two configs are compared.

Every leaf key of `tcc.config.get_default_config()` has exactly one class
(tests/config/test_key_classes.py fails on a new key without one):

- `MODEL`: what is trained and how its steps are computed (algorithm, architecture, losses,
  optimizer, seed, batch shape, precision, strategy);
- `DATA`: what it is trained on (datasets, their content, sampling, augmentation, poses);
- `DATA_STREAM`: where the data is read from and the shuffle buffer;
- `BUDGET`: how many steps (`train.max_iters`);
- `RUN`: run control only (where, how often, how fast); never changes the trained weights.

Two rules compare configs by these classes (`differences`: 'key: a -> b' lines, leaving out the
keys of loss sections that neither config's algorithm reads):

- resume checks: a resumed run may change the keys of `RESUMABLE_CLASSES` (`DATA_STREAM`, `BUDGET`,
  `RUN`) and nothing else (`tcc.training.checkpoints.check_resumable_config`);
- run reuse: two runs train the same model when they differ in `RUN` keys only
  (`tcc.experiments.jobs.same_training`), so the experiment runner reuses a finished one.

This module reads a config but does not build or load one (that is `tcc.config`, which it does
not import).
"""

from __future__ import annotations

from collections.abc import Collection

import ml_collections

ConfigDict = ml_collections.ConfigDict

MODEL = "model"  # what is trained and how its steps are computed: algorithm, architecture,
#                 losses, optimizer, seed, batch shape, precision, strategy
DATA = "data"  # what it is trained on: datasets, their content, sampling, augmentation, poses
DATA_STREAM = "data_stream"  # where the data is read from and the shuffle buffer: a resume may
#                 change them (the data moved, less memory); another run's model is not reused
BUDGET = "budget"  # how many steps: a resume extends it; a reused run must match it
RUN = "run"  # run control only (where, how often, how fast); never changes the trained weights
KEY_CLASSES_ALL = (MODEL, DATA, DATA_STREAM, BUDGET, RUN)
RESUMABLE_CLASSES = frozenset({DATA_STREAM, BUDGET, RUN})

# Dotted key or section (ending in '.') -> class; the longest matching entry wins.
_KEY_CLASS = {
    "training_algo": MODEL,
    "datasets": DATA,
    "logdir": RUN,
    "seed": MODEL,
    "strategy": MODEL,
    "tpu": MODEL,
    "worker_heartbeat_timeout": RUN,
    "mixed_precision": MODEL,
    "jit_compile": MODEL,
    "loss_scope": MODEL,
    "sync_batch_norm": MODEL,
    "data.": DATA,
    "data.path": DATA_STREAM,
    "data.tfds_data_dir": DATA_STREAM,
    "data.shuffle_queue_size": DATA_STREAM,
    "data.cache_dir": RUN,
    "data.num_parallel_calls": RUN,
    "data.num_prefetch_batches": RUN,
    "augmentation.": DATA,
    "pose.": DATA,
    "train.max_iters": BUDGET,
    "train.batch_size": MODEL,
    "train.num_frames": MODEL,
    "train.visualize_interval": RUN,
    "train.divergence_factor": RUN,
    "train.divergence_window": RUN,
    "eval.": RUN,
    "model.": MODEL,
    "alignment.": MODEL,
    "sal.": MODEL,
    "tcn.": MODEL,
    "combined.": MODEL,
    "classification.": MODEL,
    "optimizer.": MODEL,
    "checkpoint.": RUN,
    "logging.": RUN,
}


def key_class(key: str) -> str:
    """The class of dotted leaf key `key` (`MODEL`, `DATA`, `DATA_STREAM`, `BUDGET` or `RUN`).

    Raises:
      KeyError: if no entry of the classification covers `key`.
    """
    matches = [k for k in _KEY_CLASS if key == k or (k.endswith(".") and key.startswith(k))]
    if not matches:
        raise KeyError(f"config key {key!r} has no class; add it to tcc.config_keys._KEY_CLASS")
    return _KEY_CLASS[max(matches, key=len)]


def algorithm_sections(cfg: ConfigDict) -> set[str]:
    """The loss sections (`alignment.`, `sal.`, `tcn.`, `combined.`, `classification.`) that the
    config's `training_algo` reads; the others cannot change what it trains."""
    algo = cfg.training_algo
    if algo == "combined":
        w = cfg.combined
        used = {
            "alignment.": w.alignment_loss_weight,
            "sal.": w.sal_loss_weight,
            "tcn.": w.tcn_loss_weight,
        }
        return {"combined."} | {  # a weight that is no number: counted as read (checked later)
            section
            for section, weight in used.items()
            if not isinstance(weight, (int, float)) or weight > 0
        }
    return {
        "alignment": {"alignment."},
        "sal": {"sal."},
        "tcn": {"tcn."},
        "supervised": {"classification."},
    }.get(algo, set(_ALGORITHM_SECTIONS))


_ALGORITHM_SECTIONS = ("alignment.", "sal.", "tcn.", "combined.", "classification.")


def differences(a: ConfigDict, b: ConfigDict, ignore: Collection[str] = ()) -> list[str]:
    """`diff(a, b)` without the keys whose class is in `ignore` ('key: a -> b' lines).

    Keys of a loss section that neither config's algorithm reads (`algorithm_sections`, e.g. `tcn.*`
    of two TCC runs) are left out too: they do not change what is trained.
    """
    fa, fb = flatten_values(a), flatten_values(b)
    read = algorithm_sections(a) | algorithm_sections(b)
    unread = tuple(s for s in _ALGORITHM_SECTIONS if s not in read)
    return [
        f"{k}: {fa.get(k)!r} -> {fb.get(k)!r}"
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k)
        and (not ignore or key_class(k) not in ignore)
        and not k.startswith(unread)
    ]


def diff(a: ConfigDict, b: ConfigDict) -> list[str]:
    """Keys whose values differ between two configs, as 'key: a -> b' lines."""
    return differences(a, b)


def flatten_values(cfg: ConfigDict, prefix: str = "") -> dict[str, object]:
    """Every leaf of `cfg` as `{"a.b.c": value}`, sorted by key (tuples become lists)."""
    out = {}
    for key, value in cfg.items():
        if isinstance(value, ConfigDict):
            out.update(flatten_values(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out
