"""Evaluate checkpoints: restore, embed once, run the tasks, write metrics.jsonl + TensorBoard.

Used by `python -m tcc.evaluate`; callable from Python:

  cfg = tcc.config.load_saved(logdir)
  path = tcc.training.checkpoints.latest_checkpoint(logdir)
  records = runner.evaluate_checkpoint(cfg, logdir, path)
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Iterator

import ml_collections
import tensorflow as tf
from absl import logging

from tcc import errors
from tcc.evaluation import embed as embed_lib
from tcc.evaluation.phase_classification import MissingLabelsError
from tcc.evaluation.plots import few_shot_png
from tcc.evaluation.tasks import TASKS, EvalContext

_TRAIN_TASKS = ("phase_classification", "phase_progression", "few_shot")


def checkpoint_step(path: str) -> int:
    """The training step of a checkpoint path such as `.../ckpt-1500`."""
    match = re.search(r"-(\d+)$", path)
    if not match:
        raise ValueError(f"cannot read the step from checkpoint path {path!r}")
    return int(match.group(1))


def restore_model(cfg: ml_collections.ConfigDict, checkpoint_path: str, root: str):
    """Builds the algorithm of `cfg` and loads the model weights of a checkpoint."""
    from tcc.algos import build_algorithm
    from tcc.datasets import pipeline

    feature_dim = None
    if cfg.data.input_kind == "features":
        spec = pipeline.make_eval_dataset(
            pipeline.InputOptions.from_config(cfg), cfg.datasets[0], "val", root=root
        ).element_spec
        feature_dim = spec["frames"].shape[-1]
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(cfg.train.num_frames, feature_dim=feature_dim)
    from tcc.training.checkpoints import restore_model_weights

    restore_model_weights(model, checkpoint_path)
    return model


def _append_jsonl(path: str, record: dict) -> None:
    """Appends one JSON line with a single write, flushed to disk."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _write_png(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def evaluate_dataset(ctx: EvalContext) -> dict[str, float]:
    """Runs every task of `ctx.cfg.eval.tasks` on one dataset; skipped tasks are logged."""
    metrics: dict[str, float] = {}
    for name in ctx.cfg.eval.tasks:
        task = TASKS.get(name)
        try:
            metrics.update(task(ctx))
        except MissingLabelsError as e:
            logging.warning("Skipping %s on %s: %s", name, ctx.dataset, e)
    return metrics


def evaluate_checkpoint(
    cfg: ml_collections.ConfigDict,
    logdir: str,
    checkpoint_path: str,
    root: str | None = None,
    projector: bool = False,
) -> list[dict]:
    """Evaluates one checkpoint on every dataset of `cfg.datasets`.

    Appends one line per dataset to `<logdir>/eval/metrics.jsonl`, writes TensorBoard scalars
    `metrics/<dataset>/<metric>` to `<logdir>/eval` and a few-shot curve PNG per dataset; with
    `projector`, also a TensorBoard embedding projector of the val embeddings in
    `<logdir>/projector`.

    Returns:
      The records written: `{"step", "dataset", "split", "metrics"}`.
    """
    from tcc.datasets import data_root

    root = root or data_root.resolve(cfg)
    step = checkpoint_step(checkpoint_path)
    model = restore_model(cfg, checkpoint_path, root)
    embed_fn = embed_lib.model_embed_fn(model)
    eval_dir = os.path.join(logdir, "eval")
    writer = tf.summary.create_file_writer(eval_dir)
    records = []
    needs_train = any(t in _TRAIN_TASKS for t in cfg.eval.tasks) and "train" in cfg.eval.splits
    for dataset in cfg.datasets:
        val = embed_lib.embed_split(embed_fn, cfg, dataset, "val", root=root)
        train = (
            embed_lib.embed_split(embed_fn, cfg, dataset, "train", root=root)
            if needs_train
            else None
        )
        ctx = EvalContext(cfg, dataset, train, val, model=model, root=root)
        metrics = evaluate_dataset(ctx)
        record = {"step": step, "dataset": dataset, "split": "val", "metrics": metrics}
        _append_jsonl(os.path.join(eval_dir, "metrics.jsonl"), record)
        with writer.as_default(step=step):
            for key, value in metrics.items():
                tf.summary.scalar(f"metrics/{dataset}/{key}", value)
            if "few_shot_curve" in ctx.extras and ctx.extras["few_shot_curve"]:
                png = few_shot_png({dataset: ctx.extras["few_shot_curve"]}, title=dataset)
                _write_png(os.path.join(eval_dir, f"few_shot_{dataset}.png"), png)
                tf.summary.image(f"few_shot/{dataset}", tf.io.decode_png(png)[None])
        records.append(record)
        if projector:
            from tcc.apps.projector import write_projector

            write_projector(os.path.join(logdir, "projector", dataset), val)
    writer.flush()
    return records


def follow_checkpoints(
    logdir: str, last_step: int, timeout: float = 3600.0, poll_seconds: float = 1.0
) -> Iterator[str]:
    """Yields the newest complete checkpoint of a run each time there is a newer one.

    Reads only the checkpoint index file (`<logdir>/checkpoints/checkpoint`), which training
    replaces atomically after a checkpoint's files are completely written, so a half-written
    checkpoint is never yielded. When several checkpoints appeared since the last one yielded
    (evaluation is slower than training), it moves to the newest and logs the ones it skips. Stops
    after yielding one at or past `last_step`, or after `timeout` seconds without a new one.
    """
    from tcc.training.checkpoints import checkpoint_dir

    directory = checkpoint_dir(logdir)
    done = -1
    deadline = time.monotonic() + timeout
    while True:
        state = tf.train.get_checkpoint_state(directory)
        newest = state.model_checkpoint_path if state else ""
        if newest and checkpoint_step(newest) > done:
            step = checkpoint_step(newest)
            skipped = [
                os.path.basename(p)
                for p in state.all_model_checkpoint_paths
                if done < checkpoint_step(p) < step
            ]
            if skipped:
                logging.warning(
                    "Skipping %s: a newer checkpoint exists; evaluating the newest, %s.",
                    ", ".join(skipped),
                    os.path.basename(newest),
                )
            yield newest
            done = step
            if step >= last_step:
                return
            deadline = time.monotonic() + timeout
            continue
        if time.monotonic() >= deadline:
            logging.warning(
                "No new checkpoint in %s for %.0f s; stopping (training may have stopped).",
                directory,
                timeout,
            )
            return
        time.sleep(poll_seconds)


def evaluate_checkpoints(
    cfg: ml_collections.ConfigDict,
    logdir: str,
    paths: Iterable[str],
    root: str | None = None,
    projector: bool = False,
) -> list[dict]:
    """`evaluate_checkpoint` on each of `paths` (e.g. `follow_checkpoints`), safe beside training.

    Each checkpoint is pinned (`tcc.training.checkpoints.pinned`) while it is read, so the
    rotation of a concurrent training cannot remove it mid-read; one already removed is skipped
    with a warning, and the next path (the newest, when following) is evaluated instead.

    Returns:
      The records of every evaluated checkpoint.
    """
    from tcc.training import checkpoints

    records = []
    scratch = os.path.join(logdir, "eval")
    for path in paths:
        try:
            with checkpoints.pinned(path, scratch) as readable:
                logging.info("Evaluating %s", path)
                try:
                    records.extend(
                        evaluate_checkpoint(cfg, logdir, readable, root=root, projector=projector)
                    )
                except errors.CheckpointError as e:  # name the user's checkpoint, not the pin
                    raise errors.CheckpointError(str(e).replace(readable, path)) from e
        except checkpoints.CheckpointGoneError:
            logging.warning(
                "Skipped %s: training's checkpoint rotation removed it before it could be read; "
                "moving on to the newest checkpoint.",
                path,
            )
    return records


def _metric_sort_key(key: str) -> tuple[str, float]:
    """Sorts `few_shot@2` before `few_shot@10`."""
    name, _, suffix = key.partition("@")
    try:
        return name, float(suffix)
    except ValueError:
        return name, 0.0


def format_table(records: list[dict]) -> str:
    """A plain-text table: one row per metric, one column per (dataset, step)."""
    keys = sorted(
        {k for r in records for k in r["metrics"] if not k.endswith("_ci95")},
        key=_metric_sort_key,
    )
    columns = [f"{r['dataset']}@{r['step']}" for r in records]
    rows = [
        [k, *(f"{r['metrics'][k]:.4f}" if k in r["metrics"] else "-" for r in records)]
        for k in keys
    ]
    header = ["metric", *columns]
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            [cells[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
