"""`--help` / `--helpconfig` of the command lines: every config key, its default and its meaning.

`python -m tcc.train --helpconfig` lists the keys only; `--help` adds them after the command's own
flags. With `--config=FILE` the values shown are that file's. This module makes the text;
`tcc.cli.handle_help` answers the flags.
"""

from __future__ import annotations

from tcc import config as config_lib
from tcc import config_keys

_WIDTH = 46  # of the key=value column

DESCRIPTIONS: dict[str, str] = {
    "training_algo": "what to train: alignment (TCC) | sal | tcn | combined | supervised",
    "datasets": "dataset names under data.path (one dataset per batch, mixed evenly)",
    "logdir": "run directory: checkpoints/, train/ and eval/ TensorBoard runs, config.json",
    "seed": "seed of data order, sampling, augmentation and initialisation",
    "strategy": "tf.distribute strategy: default | mirrored | multi_worker_mirrored | tpu",
    "tpu": "TPU address for strategy=tpu",
    "worker_heartbeat_timeout": "multi_worker_mirrored: seconds without a heartbeat = worker lost",
    "loss_scope": "several replicas: global (losses over the global batch) | replica (original)",
    "mixed_precision": "'' | mixed_float16 (GPU) | mixed_bfloat16 (TPU / recent CPUs)",
    "jit_compile": "compile the forward and backward pass with XLA",
    "data.path": "records root; '' = the embedded synthetic dataset, generated on first use",
    "data.image_size": "frame side in pixels (frames are resized to it)",
    "data.num_steps": "context frames per timestep",
    "data.frame_stride": "frames between the context frames of a timestep",
    "data.frame_stride_fraction": "> 0: that stride as a share of each video's length instead",
    "data.stride": "frames between timesteps for sampling_strategy='stride'",
    "data.random_offset": "first frame offset_uniform sampling may start at (when long enough)",
    "data.shuffle_queue_size": "videos in the shuffle buffer",
    "data.num_parallel_calls": "parallel decoding calls; -1 = tf.data.AUTOTUNE",
    "data.num_prefetch_batches": "batches prepared ahead of the training step",
    "data.per_dataset_fraction": "fraction of each dataset's train videos used",
    "data.synthetic_seed": "embedded dataset: generator seed",
    "data.synthetic_num_train": "embedded dataset: train videos",
    "data.synthetic_num_val": "embedded dataset: val videos",
    "augmentation.random_flip": "flip a whole video horizontally with probability 0.5",
    "augmentation.brightness": "random brightness change per video",
    "augmentation.brightness_max_delta": "largest brightness change (in [0, 1] pixel units)",
    "augmentation.contrast": "random contrast change per video",
    "augmentation.contrast_lower": "smallest contrast factor",
    "augmentation.contrast_upper": "largest contrast factor",
    "augmentation.hue": "random hue change per video",
    "augmentation.hue_max_delta": "largest hue change",
    "augmentation.saturation": "random saturation change per video",
    "augmentation.saturation_lower": "smallest saturation factor",
    "augmentation.saturation_upper": "largest saturation factor",
    "augmentation.random_crop": "crop one random square box per video (resized back)",
    "augmentation.crop_min_fraction": "smallest crop side, as a fraction of the frame side",
    "train.max_iters": "training steps (raise it and rerun to continue a finished run)",
    "train.divergence_factor": "stop when loss / grad norm > this x its recent median (0 = off)",
    "train.divergence_window": "steps of history the divergence guard takes its medians over",
    "train.batch_size": "videos per step (global, over all replicas)",
    "train.num_frames": "timesteps sampled per video",
    "train.visualize_interval": "steps between alignment pictures in TensorBoard; 0 = none",
    "eval.batch_size": "eval chunks embedded per call",
    "eval.num_frames": "timesteps per eval chunk",
    "eval.val_iters": "val batches the algo_loss task averages",
    "eval.tasks": "tasks of python -m tcc.evaluate",
    "eval.kendalls_tau_stride": "Kendall's tau: every k-th frame",
    "eval.kendalls_tau_distance": "Kendall's tau: sqeuclidean | euclidean | cosine",
    "eval.classification_fractions": "phase classification: fractions of labelled train videos",
    "eval.few_shot_num_labeled": "few-shot: numbers of labelled train videos",
    "eval.few_shot_num_episodes": "few-shot: random episodes per number",
    "eval.retrieval_ks": "retrieval: K of AP@K",
    "eval.splits": "splits tcc.evaluate embeds (the label tasks fit on 'train')",
    "eval.interval": "steps between in-training validations (and at the end); 0 = off",
    "eval.interval_videos": "in-training validation: the first N val videos of each dataset",
    "eval.interval_stride": "in-training validation: every k-th frame",
    "eval.interval_train_videos": "in-training validation: at most N train videos for the SVM",
    "model.base_model.layer": "resnet50v2: the layer the encoder is cut at",
    "model.embedding_size": "embedding dimension D",
    "model.l2_normalize": "L2-normalise the embeddings",
    "model.l2_reg_weight": "L2 weight regularisation of the embedder",
    "model.train_embedding": "train the embedder (False freezes it)",
    "model.conv_embedder.fc_layers": "widths of the fully connected layers",
    "model.conv_embedder.fc_dropout_rate": "dropout before each fully connected layer",
    "model.sequence_embedder.capacity_scalar": "scales the layer widths",
    "model.sequence_embedder.fc_layers": "widths of the fully connected layers",
    "model.sequence_embedder.fc_dropout_rate": "dropout before each fully connected layer",
    "alignment.stochastic_matching": "stochastic cycles (sampled pairs) instead of all pairs",
    "alignment.loss_type": "regression_mse_var (paper) | regression_mse | regression_huber |"
    " classification",
    "alignment.similarity_type": "l2 | cosine",
    "alignment.cycle_length": "videos in a cycle (2 = there and back)",
    "alignment.label_smoothing": "classification loss: label smoothing",
    "alignment.softmax_temperature": "temperature of the soft nearest neighbour",
    "alignment.normalize_indices": "regress frame indices divided by the sequence length",
    "alignment.normalize_embeddings": "L2-normalise embeddings inside the loss",
    "alignment.variance_lambda": "weight of the log-variance term of regression_mse_var",
    "alignment.huber_delta": "delta of regression_huber",
    "sal.dropout_rate": "Shuffle-and-Learn classifier: dropout",
    "sal.fc_layers": "Shuffle-and-Learn classifier: [width, relu] per layer",
    "sal.shuffle_ratio": "fraction of shuffled (negative) triplets",
    "sal.num_samples": "triplets per video",
    "sal.label_smoothing": "Shuffle-and-Learn classifier: label smoothing",
    "tcn.positive_window": "TCN: frames within which a positive is drawn",
    "tcn.reg_lambda": "TCN: embedding regularisation weight",
    "tcn.negatives": "TCN: batch (every anchor's positive) | video (own video's only)",
    "tcn.normalize_embeddings": "TCN: cosine similarity instead of the dot product",
    "tcn.temperature": "TCN: the logits are divided by it",
    "combined.alignment_loss_weight": "training_algo=combined: weight of TCC",
    "combined.sal_loss_weight": "training_algo=combined: weight of Shuffle-and-Learn",
    "combined.tcn_loss_weight": "training_algo=combined: weight of TCN",
    "classification.label_smoothing": "supervised baseline: label smoothing",
    "classification.dropout_rate": "supervised baseline: dropout before the classifier",
    "optimizer.momentum": "sgd: momentum",
    "optimizer.weight_decay": "decoupled weight decay (0 = none)",
    "optimizer.lr.initial_lr": "learning rate (at the start of the schedule)",
    "optimizer.lr.exp_decay_rate": "exp_decay: factor per exp_decay_steps",
    "optimizer.lr.exp_decay_steps": "exp_decay: steps per factor",
    "optimizer.lr.manual_lr_step_boundaries": "manual: steps where the rate drops",
    "optimizer.lr.manual_lr_decay_rate": "manual: factor at each boundary",
    "optimizer.lr.poly_end_lr": "poly: final rate",
    "optimizer.lr.poly_power": "poly: power",
    "optimizer.lr.num_warmup_steps": "linear warm-up steps",
    "checkpoint.save_interval": "steps between checkpoints (also saved at the end and on Ctrl-C)",
    "checkpoint.max_to_keep": "checkpoints kept",
    "logging.report_interval": "steps between progress lines and train scalars",
}


def default_comments() -> dict[str, str]:
    """The trailing `# ...` comments of `tcc/config.py`'s defaults, by key."""
    import inspect  # noqa: PLC0415
    import re  # noqa: PLC0415

    out = {}
    for line in inspect.getsource(config_lib.get_default_config).splitlines():
        match = re.match(r"\s*c\.([\w.]+)\s*=.*?#\s*(.+)$", line)
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def describe(key: str, comments: dict[str, str] | None = None) -> str:
    """The one-line meaning of a key: `DESCRIPTIONS`, else its comment in `tcc/config.py`."""
    comments = default_comments() if comments is None else comments
    return DESCRIPTIONS.get(key) or comments.get(key, "")


def config_help(cfg: config_lib.ConfigDict | None = None) -> str:
    """The table of every key of `cfg` (default: the defaults): key, value, meaning."""
    cfg = cfg if cfg is not None else config_lib.get_default_config()
    values = config_keys.flatten_values(cfg)
    comments = default_comments()
    lines = [
        "Config keys: override any with --config.<key>=<value> (lists as [a,b]); an unknown key is "
        "an error naming the closest ones.",
    ]
    for key, value in values.items():
        setting, meaning = f"{key}={value!r}", describe(key, comments)
        if len(setting) > _WIDTH:  # long values get their own line
            lines.append(f"  {setting}")
            setting = ""
        lines.append(f"  {setting.ljust(_WIDTH)}  {meaning}".rstrip())
    return "\n".join(lines)
