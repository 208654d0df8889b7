"""Evaluate an embed function: embed each dataset once, run the tasks, write the metrics.

Evaluation needs only an *embed function* (`tcc.evaluation.embed`); restoring it from a trained
run's checkpoint is the run layer's job (`tcc.runs.evaluate_checkpoint`, used by
`python -m tcc.evaluate`). From Python:

  run = tcc.runs.open_run(logdir)
  records = runner.evaluate(run.embed_fn(), run.cfg, f"{logdir}/eval", run.step, root)
"""

from __future__ import annotations

import json
import os

import ml_collections
import tensorflow as tf
from absl import logging

from tcc import atomic
from tcc.datasets.input_options import InputOptions
from tcc.evaluation import embed as embed_lib
from tcc.evaluation.phase_classification import MissingLabelsError
from tcc.evaluation.plots import few_shot_png
from tcc.evaluation.projector import write_projector
from tcc.evaluation.tasks import TASKS, EvalContext, EvalOptions, LossFn


def _append_jsonl(path: str, record: dict) -> None:
    """Appends one JSON line with a single write, flushed to disk."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def evaluate_dataset(ctx: EvalContext) -> dict[str, float]:
    """Runs every task of `ctx.options.tasks` on one dataset; skipped tasks are logged."""
    metrics: dict[str, float] = {}
    for name in ctx.options.tasks:
        task = TASKS.get(name)
        try:
            metrics.update(task(ctx))
        except MissingLabelsError as e:
            logging.warning("Skipping %s on %s: %s", name, ctx.dataset, e)
    return metrics


def evaluate(
    embed_fn: embed_lib.EmbedFn,
    cfg: ml_collections.ConfigDict,
    eval_dir: str,
    step: int,
    root: str,
    algo_loss: LossFn | None = None,
    projector_dir: str | None = None,
) -> list[dict]:
    """Evaluates an embed function on every dataset of `cfg.datasets`.

    Appends one line per dataset to `<eval_dir>/metrics.jsonl`, writes TensorBoard scalars
    `metrics/<dataset>/<metric>` to `eval_dir` and a few-shot curve PNG per dataset; with
    `projector_dir`, also a TensorBoard embedding projector of the val embeddings in
    `<projector_dir>/<dataset>`.

    Args:
      embed_fn: frames [1, C * num_steps, ...] -> embeddings [1, C, D].
      cfg: the run config (its data options embed the videos; `EvalOptions.from_config`).
      eval_dir: where the metrics go.
      step: the training step the embed function comes from (the records' `step`).
      root: the records root.
      algo_loss: (dataset, split) -> training loss, for the `algo_loss` task.
      projector_dir: where to write projectors (None: none).

    Returns:
      The records written: `{"step", "dataset", "split", "metrics"}`.
    """
    options = EvalOptions.from_config(cfg)
    writer = tf.summary.create_file_writer(eval_dir)
    records = []
    for dataset in cfg.datasets:
        val = embed_lib.embed_split(
            embed_fn, InputOptions.from_config(cfg), dataset, "val", root=root
        )
        train = None
        if options.needs_train:
            train = embed_lib.embed_split(
                embed_fn, InputOptions.from_config(cfg), dataset, "train", root=root
            )
        ctx = EvalContext(options, dataset, train, val, algo_loss=algo_loss)
        metrics = evaluate_dataset(ctx)
        record = {"step": step, "dataset": dataset, "split": "val", "metrics": metrics}
        _append_jsonl(os.path.join(eval_dir, "metrics.jsonl"), record)
        with writer.as_default(step=step):
            for key, value in metrics.items():
                tf.summary.scalar(f"metrics/{dataset}/{key}", value)
            if ctx.extras.get("few_shot_curve"):
                png = few_shot_png({dataset: ctx.extras["few_shot_curve"]}, title=dataset)
                atomic.write_bytes(os.path.join(eval_dir, f"few_shot_{dataset}.png"), png)
                tf.summary.image(f"few_shot/{dataset}", tf.io.decode_png(png)[None])
        records.append(record)
        if projector_dir is not None:
            write_projector(os.path.join(projector_dir, dataset), val)
    writer.flush()
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
