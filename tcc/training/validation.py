"""Validation curves during training: a cheap evaluation of the val split every N steps.

Every `eval.interval` steps and at the last step, the training process evaluates, per dataset of
`cfg.datasets`, a fixed subset of the data with the functions of `tcc.evaluation`:

- `kendalls_tau`: on the first `eval.interval_videos` val videos, every `eval.interval_stride`-th
  frame (no labels needed);
- `phase_classification`: the SVM of the full evaluation's phase classification, fitted on the
  first K train videos and scored on the same val videos, K = the videos of the smallest label
  fraction f of `eval.classification_fractions` (max(1, floor(f * N)) of the N train videos, as in
  the full evaluation), at most `eval.interval_train_videos`; skipped for unlabelled data;
- `algo_loss`: the algorithm's own loss on `eval.val_iters` val batches without augmentation (the
  same batches every time, so the curve shows the model, not the sampling).

Values go to the `eval` TensorBoard run as `val/<dataset>/<metric>` (the full evaluation of
`python -m tcc.evaluate` writes `metrics/<dataset>/<metric>` there), to
`<logdir>/eval/validation.jsonl` (one `{"step", "dataset", "split", "metrics"}` line per evaluation
and dataset; `metrics.jsonl` stays one line per evaluated checkpoint of the full task list) and to
the console.

The cost is bounded by design, not measured and adapted: per evaluation and dataset, at most
`interval_videos + interval_train_videos` videos are embedded (forward pass only, at a stride) plus
`val_iters` loss batches, against `eval.interval` training steps (forward and backward).
`cost_fraction` computes that ratio; with the defaults it is under 6 % on the embedded dataset.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time

import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tcc.datasets import pipeline, records
from tcc.evaluation import embed as embed_lib
from tcc.evaluation.kendalls_tau import kendalls_tau
from tcc.evaluation.phase_classification import MissingLabelsError, phase_classification

# A training step runs the forward and the backward pass: about three forward passes.
TRAIN_STEP_FORWARD_PASSES = 3.0
# Above this share of the training compute (`cost_fraction`), the run warns at start.
MAX_COST_FRACTION = 0.1


def is_due(cfg: ml_collections.ConfigDict, step: int) -> bool:
    """True at every `eval.interval`-th step and at `train.max_iters` (never if interval is 0)."""
    interval = int(cfg.eval.interval)
    return interval > 0 and (step % interval == 0 or step == int(cfg.train.max_iters))


def num_train_videos(cfg: ml_collections.ConfigDict, num_train: int) -> int:
    """Train videos the classifier is fitted on: those of the smallest label fraction, capped."""
    fraction = min(float(f) for f in cfg.eval.classification_fractions)
    count = max(1, int(math.floor(fraction * num_train + 1e-9)))
    return min(count, max(1, int(cfg.eval.interval_train_videos)))


def images_per_evaluation(cfg: ml_collections.ConfigDict, num_train: int, max_len: int) -> int:
    """Upper bound of the images one evaluation of one dataset runs through the network.

    Args:
      cfg: the run config.
      num_train: train videos of the dataset.
      max_len: frames of its longest video.
    """
    chunk = int(cfg.eval.num_frames)
    timesteps = math.ceil(math.ceil(max_len / int(cfg.eval.interval_stride)) / chunk) * chunk
    videos = int(cfg.eval.interval_videos) + num_train_videos(cfg, num_train)
    loss_batches = int(cfg.eval.val_iters) * int(cfg.train.batch_size) * int(cfg.train.num_frames)
    return (videos * timesteps + loss_batches) * int(cfg.data.num_steps)


def cost_fraction(cfg: ml_collections.ConfigDict, num_train: int, max_len: int) -> float:
    """Upper bound of validation compute / training compute between two evaluations.

    Counts network passes over images: an evaluation embeds `images_per_evaluation` images per
    dataset (forward only); `eval.interval` training steps each run
    `train.batch_size * train.num_frames * data.num_steps` images forward and backward. The
    classifier and Kendall's tau work on embeddings and are negligible next to the network.
    """
    if int(cfg.eval.interval) <= 0:
        return 0.0
    per_step = int(cfg.train.batch_size) * int(cfg.train.num_frames) * int(cfg.data.num_steps)
    train = int(cfg.eval.interval) * per_step * TRAIN_STEP_FORWARD_PASSES
    return len(cfg.datasets) * images_per_evaluation(cfg, num_train, max_len) / train


@dataclasses.dataclass
class Chunks:
    """The evaluation chunks of the first videos of a split, kept in memory between evaluations.

    Frames are stored as uint8 (the records' own precision; 4x smaller than the model's float32
    input) and converted back for each evaluation.

    Attributes:
      inputs: uint8 [K, C * num_steps, S, S, 3] frames or float32 [K, C * num_steps, F] features.
      valid: bool [K, C], the real (not padding) timesteps.
      labels: int32 [K, C] phase labels (-1 = none).
      video: int32 [K], the position in `names` of each chunk's video.
      names: the videos, in record order.
    """

    inputs: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    video: np.ndarray
    names: list[str]

    def split_videos(self, values: np.ndarray) -> list[np.ndarray]:
        """Per video, the valid timesteps of per-chunk `values` [K, C, ...] -> [T_i, ...]."""
        counts = np.bincount(self.video, weights=self.valid.sum(1), minlength=len(self.names))
        return np.split(values[self.valid], np.cumsum(counts.astype(int))[:-1])


def _compress(frames: np.ndarray) -> np.ndarray:
    """Model-range frames in [-1, 1] -> uint8; features stay float32."""
    if frames.ndim < 4:
        return frames.astype(np.float32)
    return np.round((frames + 1.0) * 127.5).astype(np.uint8)


def _decompress(inputs: np.ndarray) -> np.ndarray:
    """The inverse of `_compress`: float32 model inputs."""
    if inputs.dtype != np.uint8:
        return inputs
    return inputs.astype(np.float32) / 127.5 - 1.0


def collect_chunks(
    cfg: ml_collections.ConfigDict, dataset: str, split: str, max_videos: int, root: str
) -> Chunks:
    """Reads the eval chunks (`pipeline.make_eval_dataset`, stride `eval.interval_stride`) of the
    first `max_videos` videos of a split."""
    ds = pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(cfg),
        dataset,
        split,
        stride=int(cfg.eval.interval_stride),
        root=root,
    )
    parts: dict[str, list] = {"inputs": [], "valid": [], "labels": [], "video": []}
    names: list[str] = []
    for chunk in ds:
        if int(chunk["chunk_index"][0]) == 0:
            if len(names) == max_videos:
                break
            names.append(chunk["names"][0].numpy().decode())
        parts["inputs"].append(_compress(chunk["frames"][0].numpy()))
        parts["valid"].append(chunk["valid"][0].numpy())
        parts["labels"].append(chunk["frame_labels"][0].numpy())
        parts["video"].append(len(names) - 1)
    if not names:
        raise ValueError(f"in-training validation found no {split} video of {dataset}")
    arrays = {k: np.stack(v) for k, v in parts.items()}
    return Chunks(arrays["inputs"], arrays["valid"], arrays["labels"], arrays["video"], names)


@dataclasses.dataclass
class _Subset:
    """What one dataset is validated on: val chunks, train chunks (labelled data), loss batches."""

    val: Chunks
    train: Chunks | None
    loss_batches: list[dict]


class Validator:
    """Runs the in-training validation of a run and writes its results (see the module doc).

    The data (val and train chunks, the loss batches) are read once, at the first evaluation.

    Args:
      cfg: the run config.
      model: the algorithm being trained (a built `keras.Model`).
      root: records root of the datasets.
    """

    def __init__(self, cfg: ml_collections.ConfigDict, model, root: str):
        self.cfg, self.model, self.root = cfg, model, root
        self._embed_fn = embed_lib.model_embed_fn(model)
        self._test_step = tf.function(model.test_step, reduce_retracing=True)
        self._subsets: dict[str, _Subset] = {}
        self._num_train: dict[str, int] = {}
        self._writer = None
        self.images = 0  # run through the network by the last evaluation, over all datasets
        self.seconds: list[float] = []  # wall time of every evaluation

    def train_videos(self, dataset: str) -> int:
        """How many of the first train videos of `dataset` the classifier is fitted on."""
        if dataset not in self._num_train:
            lengths = video_lengths(self.cfg, self.root, dataset, "train")
            count = len(lengths) if lengths is not None else int(self.cfg.eval.interval_videos)
            self._num_train[dataset] = num_train_videos(self.cfg, count)
        return self._num_train[dataset]

    def _subset(self, dataset: str) -> _Subset:
        if dataset not in self._subsets:
            cfg = self.cfg
            val = collect_chunks(cfg, dataset, "val", int(cfg.eval.interval_videos), self.root)
            train = None
            if (val.labels >= 0).any():
                train = collect_chunks(cfg, dataset, "train", self.train_videos(dataset), self.root)
            else:
                self._skip(dataset, "phase classification: the val videos have no labels")
            ds = pipeline.make_train_dataset(
                pipeline.InputOptions.from_config(cfg),
                split="val",
                seed=cfg.seed,
                root=self.root,
                datasets=[dataset],
                augment=False,
            )
            batches = [
                {k: v.numpy() for k, v in b.items()} for b in ds.take(int(cfg.eval.val_iters))
            ]
            for batch in batches:
                batch["frames"] = _compress(batch["frames"])
            self._subsets[dataset] = _Subset(val, train, batches)
        return self._subsets[dataset]

    def _embed(self, chunks: Chunks) -> list[np.ndarray]:
        """Per video, float [T_i, D] embeddings of the chunks' valid timesteps."""
        size = max(1, int(self.cfg.eval.batch_size))
        out = []
        for i in range(0, len(chunks.inputs), size):
            batch = _decompress(chunks.inputs[i : i + size])
            count = len(batch)
            if count < size:  # one traced shape: pad the last batch
                batch = np.concatenate([batch, np.repeat(batch[-1:], size - count, 0)])
            out.append(np.asarray(self._embed_fn(batch))[:count])
        self.images += chunks.inputs.shape[0] * chunks.inputs.shape[1]
        return chunks.split_videos(np.concatenate(out))

    def evaluate(self, dataset: str) -> dict[str, float]:
        """The validation metrics of one dataset for the current weights."""
        data = self._subset(dataset)
        val_embs = self._embed(data.val)
        distance = self.cfg.eval.kendalls_tau_distance
        metrics = {"kendalls_tau": float(kendalls_tau(val_embs, stride=1, distance=distance))}
        if data.train is not None:
            train_embs = self._embed(data.train)
            try:
                accuracy = phase_classification(
                    train_embs,
                    data.train.split_videos(data.train.labels),
                    val_embs,
                    data.val.split_videos(data.val.labels),
                    fractions=(1.0,),
                )[1.0]
                metrics["phase_classification"] = float(accuracy)
            except MissingLabelsError as e:
                self._skip(dataset, f"phase classification: {e}")
        losses = []
        for batch in data.loss_batches:
            inputs = dict(batch, frames=_decompress(batch["frames"]))
            losses.append(float(self._test_step(inputs)["loss"]))
            self.images += inputs["frames"].shape[0] * inputs["frames"].shape[1]
        metrics["algo_loss"] = float(np.mean(losses))
        return metrics

    def __call__(self, step: int, logdir: str) -> dict[str, dict[str, float]]:
        """Evaluates every dataset at `step`; writes TensorBoard, validation.jsonl and a line.

        Returns:
          {dataset: {metric: value}}.
        """
        start = time.perf_counter()
        self.images = 0
        results = {name: self.evaluate(name) for name in self.cfg.datasets}
        eval_dir = os.path.join(logdir, "eval")
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(eval_dir)
        with self._writer.as_default(step=step):
            for name, metrics in results.items():
                for key, value in metrics.items():
                    tf.summary.scalar(f"val/{name}/{key}", value)
        self._writer.flush()
        with open(os.path.join(eval_dir, "validation.jsonl"), "a", encoding="utf-8") as f:
            for name, metrics in results.items():
                record = {"step": step, "dataset": name, "split": "val", "metrics": metrics}
                f.write(json.dumps(record, sort_keys=True) + "\n")
        self.seconds.append(time.perf_counter() - start)
        for name, metrics in results.items():
            logging.info(
                "validation at step %d on %s (%s): %s (%.1f s)",
                step,
                name,
                self.describe(name),
                " ".join(f"{k}={v:.4f}" for k, v in metrics.items()),
                self.seconds[-1],
            )
        return results

    def remaining_seconds(self, step: int) -> float:
        """Estimated time of the evaluations after `step` (the fastest one so far, each; the
        first also reads the data)."""
        interval, last = int(self.cfg.eval.interval), int(self.cfg.train.max_iters)
        if interval <= 0 or step >= last:
            return 0.0
        due = last // interval - step // interval + (1 if last % interval else 0)
        return due * min(self.seconds, default=0.0)

    def describe(self, dataset: str) -> str:
        """What `evaluate(dataset)` measured, for the console: the subset, so that nobody takes
        it for `tcc.evaluate`'s full val split."""
        data = self._subset(dataset)
        text = f"subset: {len(data.val.names)} val videos at frame stride "
        text += str(int(self.cfg.eval.interval_stride))
        if data.train is not None:
            text += f", classifier on {len(data.train.names)} train videos"
        return text

    def _skip(self, dataset: str, message: str) -> None:
        logging.info("In-training validation of %s skips %s", dataset, message)


def video_lengths(
    cfg: ml_collections.ConfigDict, root: str, dataset: str, split: str
) -> list[int] | None:
    """Frame counts of the videos of a records split (None for `data.source='tfds'`)."""
    if cfg.data.get("source", "records") != "records":
        return None
    kind = cfg.data.input_kind
    return [int(v["len"]) for v in records.read_split(root, dataset, split, False, kind)]


def log_plan(cfg: ml_collections.ConfigDict, validator: Validator) -> None:
    """Logs what the validation evaluates and the upper bound of its share of the compute."""
    if int(cfg.eval.interval) <= 0:
        return
    name = cfg.datasets[0]
    lengths = video_lengths(cfg, validator.root, name, "val") or [int(cfg.eval.num_frames)]
    train = video_lengths(cfg, validator.root, name, "train") or []
    fraction = cost_fraction(cfg, len(train), max(lengths + train))
    logging.info(
        "Validation every %d steps on the first %d val videos (frame stride %d) and %d train "
        "videos per dataset: at most %.1f%% of the training compute (eval.interval=0 turns it "
        "off).",
        cfg.eval.interval,
        cfg.eval.interval_videos,
        cfg.eval.interval_stride,
        validator.train_videos(name),
        100 * fraction,
    )
    if fraction > MAX_COST_FRACTION:
        logging.warning(
            "Validation may take more than %d%% of the training time: raise eval.interval or "
            "eval.interval_stride, or lower eval.interval_videos.",
            round(100 * MAX_COST_FRACTION),
        )
