"""Default configuration, loading, command-line overrides, validation and saving.

Keys mirror the original TCC config in lower case (`training_algo`, `train.max_iters`,
`data.num_steps`, `alignment.loss_type`, ...). A config file is a Python file whose
`get_config()` returns an `ml_collections.ConfigDict`; it starts from `get_default_config()` and
changes what it needs. On the command line, `--config=configs/x.py --config.train.batch_size=4`.
Unknown keys, in a file or an override, are errors that name the closest valid keys.

What each key decides (model, data, run control, ...) and how two configs are compared (resume
checks, run reuse) is `tcc.config_keys`.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import os
from collections.abc import Sequence

import ml_collections

from tcc import atomic, errors

ConfigDict = ml_collections.ConfigDict


def get_default_config() -> ConfigDict:
    """The defaults: the embedded demo (synthetic pouring, small encoder, CPU friendly)."""
    c = ConfigDict()
    c.training_algo = "alignment"  # alignment | sal | tcn | combined | supervised
    c.datasets = ["synthetic_pouring"]
    c.logdir = "/tmp/tcc/default"
    c.seed = 0
    c.strategy = "default"  # default | mirrored | multi_worker_mirrored | tpu
    c.tpu = ""
    # multi_worker_mirrored: seconds without a heartbeat before a worker counts as lost.
    c.worker_heartbeat_timeout = 120.0
    c.mixed_precision = ""  # '' | mixed_float16 | mixed_bfloat16
    c.jit_compile = False
    # Under several replicas: 'global' = TCC pairs, TCN negatives and SaL samples span the global
    # batch (embeddings gathered across replicas); 'replica' = within each replica (the original).
    c.loss_scope = "global"
    c.sync_batch_norm = False  # batch-norm statistics over all replicas (same update on any count)

    c.data = ConfigDict()
    c.data.path = ""  # '' = the embedded synthetic dataset, generated on first use
    c.data.source = "records"  # records | tfds (TFDS builders: tcc.datasets.sources.tfds_builders)
    c.data.tfds_data_dir = ""  # source=tfds: TFDS data_dir; '' = the TFDS default
    c.data.cache_dir = ""  # '' = $TCC_CACHE_DIR or ~/.cache/tcc
    c.data.synthetic_seed = 0
    # 480 train videos (the first 60 are the old default's): with 60 the small encoder learns
    # the training videos' appearance and val tau stalls (BENCHMARKS.md, time to quality).
    c.data.synthetic_num_train = 480
    c.data.synthetic_num_val = 20
    c.data.input_kind = "frames"  # frames | features
    c.data.image_size = 48  # the demo's; 48 px learns more per CPU-minute than 64 or 32
    c.data.num_steps = 2  # context frames per timestep
    c.data.frame_stride = 15  # frames between context frames
    # > 0: frames between context frames = this share of each video's length instead (at least
    # 1), so every video's context covers the same share of its motion; 0 = data.frame_stride.
    # 0.3 learns faster than 15 frames on the embedded scenes and on real motion (BENCHMARKS.md,
    # "A context that scales with the video").
    c.data.frame_stride_fraction = 0.3
    c.data.sampling_strategy = "offset_uniform"  # offset_uniform | stride | all
    c.data.stride = 16  # for sampling_strategy='stride'
    c.data.random_offset = 1
    c.data.sample_all_stride = 1  # eval: every k-th frame
    c.data.shuffle_queue_size = 256
    c.data.num_parallel_calls = -1  # -1 = tf.data.AUTOTUNE
    c.data.num_prefetch_batches = 2
    c.data.per_dataset_fraction = 1.0

    c.augmentation = ConfigDict()
    c.augmentation.random_flip = True
    c.augmentation.brightness = True
    c.augmentation.brightness_max_delta = 32.0 / 255
    c.augmentation.contrast = True
    c.augmentation.contrast_lower = 0.5
    c.augmentation.contrast_upper = 1.5
    c.augmentation.hue = False
    c.augmentation.hue_max_delta = 0.2
    c.augmentation.saturation = False
    c.augmentation.saturation_lower = 0.5
    c.augmentation.saturation_upper = 1.5
    c.augmentation.random_crop = False
    c.augmentation.crop_min_fraction = 0.8

    c.pose = ConfigDict()  # feature / keypoint preprocessing (input_kind='features'), docs/poses.md
    c.pose.num_joints = 0  # 0 = plain features, no pose preprocessing
    c.pose.num_channels = 2  # coordinates per joint: 2 (x, y) or 3 (x, y, z)
    c.pose.visibility = False  # one more value per joint after its coordinates; <= 0 = missing
    c.pose.center_and_scale = True  # centre every frame, one scale per video
    c.pose.interpolate_missing = True  # fill missing joints (NaN / invisible) over time
    c.pose.flip_pairs = []  # [[left_joint, right_joint], ...] swapped on horizontal flip
    c.pose.flip_probability = 0.0  # training: mirror a video horizontally with this probability
    c.pose.facing_pairs = []  # [[front_joint, back_joint], ...]: mirror all to face right
    c.pose.facing_min_offset = 0.0  # facing only if |knee - hip| >= this x pose extent; 0 = always
    c.pose.motion = False  # append x_t - x_(t - motion_stride) to every frame
    c.pose.motion_stride = 0  # frames back for motion; 0 = data.frame_stride

    c.train = ConfigDict()
    c.train.max_iters = 3800  # the demo: ~15 CPU-minutes at 48 px, val tau >= 0.8 (BENCHMARKS.md)
    c.train.batch_size = 4
    c.train.num_frames = 20
    c.train.visualize_interval = 500
    # Divergence guard (tcc/training/divergence.py): stop when the loss or gradient norm exceeds
    # factor x the median of the last `window` steps (and its start level), or factor x its start
    # level (the median of the first `window` steps); 0 = off.
    c.train.divergence_factor = 1000.0
    c.train.divergence_window = 20

    c.eval = ConfigDict()
    c.eval.batch_size = 1
    c.eval.num_frames = 32  # frames per eval chunk
    c.eval.val_iters = 4
    c.eval.tasks = [
        "algo_loss",
        "kendalls_tau",
        "phase_classification",
        "phase_progression",
        "few_shot",
        "retrieval",
    ]
    c.eval.kendalls_tau_stride = 2
    c.eval.kendalls_tau_distance = "sqeuclidean"
    c.eval.classification_fractions = [0.1, 0.5, 1.0]
    c.eval.few_shot_num_labeled = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    c.eval.few_shot_num_episodes = 50
    c.eval.retrieval_ks = [5, 10, 15]
    c.eval.splits = ["train", "val"]
    # In-training validation (tcc/training/validation.py): every `interval` steps and at the end.
    c.eval.interval = 100  # 0 = off; `python -m tcc.evaluate --continuous_eval` runs every task
    c.eval.interval_videos = 8  # the first N val videos of each dataset
    c.eval.interval_stride = 2  # every k-th frame of those videos
    c.eval.interval_train_videos = 8  # phase classification: at most N train videos

    c.model = ConfigDict()
    c.model.base_model = ConfigDict()
    c.model.base_model.network = "small"  # small | resnet50v2 | vggm
    c.model.base_model.layer = "conv4_block3_out"
    c.model.base_model.weights = ""  # '' = none | 'imagenet' | path to a local .h5
    c.model.train_base = "train_all"  # frozen | only_bn | train_all
    c.model.train_embedding = True
    c.model.embedding_size = 128
    c.model.l2_normalize = False
    c.model.l2_reg_weight = 1e-5
    c.model.conv_embedder = ConfigDict()  # paper Table 1 at capacity_scalar=1: 512 / 512
    c.model.conv_embedder.conv_layers = [[256, 3, True], [256, 3, True]]  # (channels, k, bn)
    c.model.conv_embedder.fc_layers = [256, 256]
    c.model.conv_embedder.fc_dropout_rate = 0.1
    c.model.conv_embedder.capacity_scalar = 0.25  # scales conv / fc widths (not embedding_size)
    c.model.sequence_embedder = ConfigDict()  # for input_kind='features' (poses, CNN features)
    c.model.sequence_embedder.conv_layers = []  # temporal Conv1D over the context window
    c.model.sequence_embedder.fc_layers = [256, 256]
    c.model.sequence_embedder.fc_dropout_rate = 0.1
    c.model.sequence_embedder.capacity_scalar = 1.0
    c.model.sequence_embedder.context_pooling = "flatten"  # flatten | max

    c.alignment = ConfigDict()
    c.alignment.stochastic_matching = False
    c.alignment.loss_type = "regression_mse_var"
    c.alignment.similarity_type = "l2"
    c.alignment.cycle_length = 2
    c.alignment.fraction = 1.0  # stochastic: num_cycles = B * T * fraction
    c.alignment.label_smoothing = 0.1
    c.alignment.softmax_temperature = 0.1
    c.alignment.normalize_indices = True
    c.alignment.normalize_embeddings = False
    c.alignment.variance_lambda = 0.001
    c.alignment.huber_delta = 0.1

    c.sal = ConfigDict()
    c.sal.dropout_rate = 0.0
    c.sal.fc_layers = [[128, True], [64, True], [2, False]]
    c.sal.shuffle_ratio = 0.75
    c.sal.num_samples = 8
    c.sal.label_smoothing = 0.0

    c.tcn = ConfigDict()
    c.tcn.positive_window = 5
    c.tcn.reg_lambda = 0.002
    # Not the original's TCN (negatives "batch", dot product, temperature 1), which does not
    # train on the demo's pixels (its loss stalls where it only tells videos apart; RESULTS.md,
    # "TCN on pixels"): negatives from the anchor's own video only, cosine similarity / 0.3.
    # The paper and pose presets set the original's back.
    c.tcn.negatives = "video"  # batch | video: see tcc/losses/time_contrastive.py
    c.tcn.normalize_embeddings = True
    c.tcn.temperature = 0.3

    c.combined = ConfigDict()  # weights of the terms of training_algo='combined'
    c.combined.alignment_loss_weight = 1.0
    c.combined.sal_loss_weight = 0.0
    c.combined.tcn_loss_weight = 0.0
    c.combined.normalize_terms = True  # divide every term by its chance level (algos/combined.py)

    c.classification = ConfigDict()  # the supervised baseline
    c.classification.label_smoothing = 0.0
    c.classification.dropout_rate = 0.0
    c.classification.num_classes = 0  # 0 = read from the data (max phase id + 1)

    c.optimizer = ConfigDict()
    c.optimizer.type = "adam"  # adam | sgd (momentum)
    c.optimizer.momentum = 0.9
    c.optimizer.weight_decay = 0.0
    c.optimizer.clipnorm = 0.0  # 0 = no clipping
    c.optimizer.lr = ConfigDict()
    # 1e-3 for the small encoder trained from scratch on the embedded data (at 1e-4 it barely
    # moves in the demo's budget); the paper's configs (configs/pouring.py, ...) use 1e-4.
    c.optimizer.lr.initial_lr = 1e-3
    c.optimizer.lr.decay_type = "fixed"  # fixed | exp_decay | manual | poly
    c.optimizer.lr.exp_decay_rate = 0.97
    c.optimizer.lr.exp_decay_steps = 1000
    c.optimizer.lr.manual_lr_step_boundaries = [5000, 10000]
    c.optimizer.lr.manual_lr_decay_rate = 0.1
    c.optimizer.lr.poly_end_lr = 0.0
    c.optimizer.lr.poly_power = 1.0
    c.optimizer.lr.num_warmup_steps = 0

    c.checkpoint = ConfigDict()
    c.checkpoint.save_interval = 500
    c.checkpoint.max_to_keep = 5

    c.logging = ConfigDict()
    c.logging.report_interval = 50
    return c


def flat_keys(cfg: ConfigDict, prefix: str = "") -> list[str]:
    """Every key of `cfg`, dotted (`train.batch_size`), sub-dicts included."""
    return _flat_keys(cfg, prefix)


def _flat_keys(cfg: ConfigDict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in cfg.items():
        path = f"{prefix}{key}"
        keys.append(path)
        if isinstance(value, ConfigDict):
            keys.extend(_flat_keys(value, path + "."))
    return keys


def _unknown_key_error(key: str, valid: Sequence[str]) -> errors.UnknownNameError:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return errors.UnknownNameError(
        f"unknown config key {key!r}{hint} (see tcc/config.py for all keys)"
    )


def validate(cfg: ConfigDict, reference: ConfigDict | None = None) -> None:
    """Checks that `cfg` has no key the defaults do not define.

    Raises:
      KeyError: naming the first unknown key and the closest valid keys.
    """
    reference = reference or get_default_config()
    valid = set(_flat_keys(reference))
    for key in _flat_keys(cfg):
        if key not in valid:
            raise _unknown_key_error(key, sorted(valid))


def _parse_value(text: str, current: object) -> object:
    """Parses an override string to the type of the value it replaces."""
    if isinstance(current, bool):
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(f"expected a boolean, received {text!r}")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, str):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if isinstance(current, (list, tuple)):
            value = [v.strip() for v in text.strip("[]()").split(",") if v.strip()]
        else:
            return text
    if isinstance(current, (list, tuple)) and not isinstance(value, (list, tuple)):
        value = [value]
    return list(value) if isinstance(value, tuple) else value


def apply_overrides(cfg: ConfigDict, overrides: Sequence[str]) -> ConfigDict:
    """Applies `a.b=value` overrides in place (types follow the current values).

    Raises:
      KeyError: for an unknown key, naming the closest valid keys.
      ValueError: for a value that cannot be parsed to the key's type.
    """
    valid = _flat_keys(cfg)
    for item in overrides:
        if "=" not in item:
            raise errors.BadValueError(
                f"config override must look like key=value; received {item!r}"
            )
        key, text = item.split("=", 1)
        if key not in valid or isinstance(_get(cfg, key), ConfigDict):
            raise _unknown_key_error(key, valid)
        current = _get(cfg, key)
        try:
            value = _parse_value(text, current)
        except ValueError as e:
            raise errors.BadValueError(
                f"config override {key}={text!r}: {e}; give a value of the key's type"
            ) from None
        parent, leaf = _parent(cfg, key)
        with parent.ignore_type():
            parent[leaf] = value
    return cfg


def _get(cfg: ConfigDict, key: str) -> object:
    node = cfg
    for part in key.split("."):
        node = node[part]
    return node


def _parent(cfg: ConfigDict, key: str) -> tuple[ConfigDict, str]:
    parts = key.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def load_config_file(path: str) -> ConfigDict:
    """Loads `get_config()` from a Python config file and validates its keys."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    spec = importlib.util.spec_from_file_location("tcc_user_config", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise errors.BadValueError(
            f"config file {path!r} line {e.lineno}: {e.msg}; fix the Python syntax"
        ) from e
    if not hasattr(module, "get_config"):
        raise errors.BadValueError(
            f"config file {path!r} defines no get_config(); define one returning a ConfigDict "
            "(see configs/default.py)"
        )
    cfg = module.get_config()
    try:
        validate(cfg)
    except KeyError as e:
        raise errors.UnknownNameError(f"{path}: {e.args[0]}") from None
    return cfg


def load(path: str | None = None, overrides: Sequence[str] = ()) -> ConfigDict:
    """Loads a config file (or the defaults when `path` is empty) and applies overrides."""
    cfg = load_config_file(path) if path else get_default_config()
    return apply_overrides(cfg, overrides)


def split_override_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separates `--config.a.b=v` (or `--config.a.b v`) arguments from the other arguments.

    Returns:
      (remaining argv, overrides as 'a.b=v' strings).
    """
    rest, overrides = [], []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--config."):
            body = arg[len("--config.") :]
            if "=" not in body and i + 1 < len(args):
                body = f"{body}={args[i + 1]}"
                i += 1
            overrides.append(body)
        else:
            rest.append(arg)
        i += 1
    return rest, overrides


def save(cfg: ConfigDict, logdir: str, name: str = "config.json") -> str:
    """Writes the resolved config to `<logdir>/config.json` atomically; returns the path."""
    return atomic.write_json(os.path.join(logdir, name), cfg.to_dict())


# Keys whose default changed when they were added: a saved config without the key comes from a run
# that behaved as the value here (not as today's default), e.g. the original TCN before 2026-12-06.
KEYS_ADDED_LATER = {
    "data.frame_stride_fraction": 0.0,
    "tcn.negatives": "batch",
    "tcn.normalize_embeddings": False,
    "tcn.temperature": 1.0,
}


def load_saved(logdir: str, overrides: Sequence[str] = ()) -> ConfigDict:
    """Reloads the config saved by training in `<logdir>/config.json`, with overrides."""
    path = os.path.join(logdir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: is {logdir!r} a training logdir? Train first with "
            "`python -m tcc.train --logdir=...`"
        )
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise errors.BadValueError(
            f"{path} is not valid JSON ({e}); restore it, or train again in a new --logdir"
        ) from None
    cfg = get_default_config()
    _merge(cfg, data, path)
    for key, value in KEYS_ADDED_LATER.items():  # a run older than the key ran its old behaviour
        if not _has_key(data, key):
            parent, leaf = _parent(cfg, key)
            parent[leaf] = value
    return apply_overrides(cfg, overrides)


def _has_key(data: dict, key: str) -> bool:
    """Whether the nested dict `data` holds the dotted `key`."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _merge(cfg: ConfigDict, data: dict, source: str, prefix: str = "") -> None:
    for key, value in data.items():
        if key not in cfg:
            raise _unknown_key_error(prefix + key, _flat_keys(get_default_config()))
        if isinstance(cfg[key], ConfigDict):
            _merge(cfg[key], value, source, prefix + key + ".")
        else:
            with cfg.ignore_type():
                cfg[key] = value
