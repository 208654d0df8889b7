"""Evaluation tasks: registry entries that wrap the pure task functions for `tcc.evaluate`.

A task gets an `EvalContext` (the embedded train and val splits of one dataset, the config and,
for `algo_loss`, the model and the records root) and returns flat metrics
`{"phase_classification@0.1": 0.83, ...}` with the key names of `metrics.jsonl` (DESIGN.md). Label
tasks on unlabelled data raise `MissingLabelsError`; the caller logs the message and goes on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections
import numpy as np

from tcc.evaluation.embed import EmbeddedSplit
from tcc.evaluation.few_shot import few_shot_classification
from tcc.evaluation.kendalls_tau import kendalls_tau
from tcc.evaluation.phase_classification import phase_classification
from tcc.evaluation.phase_progression import phase_progression
from tcc.evaluation.retrieval import retrieval_ap
from tcc.registry import Registry

TASKS = Registry("eval task")


@dataclasses.dataclass
class EvalContext:
    """Everything a task may read."""

    cfg: ml_collections.ConfigDict
    dataset: str
    train: EmbeddedSplit | None
    val: EmbeddedSplit
    model: Any = None
    root: str | None = None
    extras: dict = dataclasses.field(default_factory=dict)  # task outputs beyond scalars


def _labels_or_none(split: EmbeddedSplit) -> list[np.ndarray] | None:
    return split.labels if split.has_labels else None


@TASKS.register("kendalls_tau")
def kendalls_tau_task(ctx: EvalContext) -> dict[str, float]:
    """Mean Kendall's tau-b of nearest-neighbour alignments over all ordered val pairs."""
    stride = int(ctx.cfg.eval.kendalls_tau_stride)
    value = kendalls_tau(ctx.val.embs, stride=stride, distance=ctx.cfg.eval.kendalls_tau_distance)
    return {"kendalls_tau": float(value)}


def _require_train(ctx: EvalContext, task: str) -> EmbeddedSplit:
    if ctx.train is None:
        raise ValueError(f"{task} needs the train split embedded; add 'train' to eval.splits")
    return ctx.train


@TASKS.register("phase_classification")
def phase_classification_task(ctx: EvalContext) -> dict[str, float]:
    """SVM per-frame phase accuracy on val when trained on fractions of the train videos."""
    train = _require_train(ctx, "phase_classification")
    result = phase_classification(
        train.embs,
        _labels_or_none(train),
        ctx.val.embs,
        _labels_or_none(ctx.val),
        fractions=tuple(ctx.cfg.eval.classification_fractions),
    )
    return {f"phase_classification@{f}": float(v) for f, v in result.items()}


@TASKS.register("phase_progression")
def phase_progression_task(ctx: EvalContext) -> dict[str, float]:
    """Mean R² of linear regressions predicting progress towards each phase boundary."""
    train = _require_train(ctx, "phase_progression")
    value = phase_progression(
        train.embs, _labels_or_none(train), ctx.val.embs, _labels_or_none(ctx.val)
    )
    return {"phase_progression": float(value)}


@TASKS.register("few_shot")
def few_shot_task(ctx: EvalContext) -> dict[str, float]:
    """Few-shot phase classification with k labelled train videos (mean over episodes)."""
    train = _require_train(ctx, "few_shot")
    max_k = sum(1 for lab in train.labels if (lab >= 0).any())
    ks = tuple(k for k in ctx.cfg.eval.few_shot_num_labeled if k <= max_k)
    result = few_shot_classification(
        train.embs,
        _labels_or_none(train),
        ctx.val.embs,
        _labels_or_none(ctx.val),
        num_labeled=ks,
        episodes=int(ctx.cfg.eval.few_shot_num_episodes),
        seed=int(ctx.cfg.seed) + 42,
    )
    ctx.extras["few_shot_curve"] = result
    metrics = {f"few_shot@{k}": float(mean) for k, (mean, _) in result.items()}
    metrics.update({f"few_shot@{k}_ci95": float(ci) for k, (_, ci) in result.items()})
    return metrics


@TASKS.register("retrieval")
def retrieval_task(ctx: EvalContext) -> dict[str, float]:
    """Fine-grained frame retrieval: same-phase precision among the K nearest other-video frames."""
    result = retrieval_ap(
        ctx.val.embs, _labels_or_none(ctx.val), ks=tuple(ctx.cfg.eval.retrieval_ks)
    )
    return {f"retrieval_ap@{k}": float(v) for k, v in result.items()}


@TASKS.register("algo_loss")
def algo_loss_task(ctx: EvalContext) -> dict[str, float]:
    """The training loss of the algorithm on `eval.val_iters` val batches (no weight update)."""
    from tcc.datasets import pipeline  # TensorFlow only where this task runs

    if ctx.model is None:
        raise ValueError("algo_loss needs the model; it is only available from tcc.evaluate")
    cfg = ctx.cfg
    ds = pipeline.make_train_dataset(
        pipeline.InputOptions.from_config(cfg),
        split=ctx.val.split,
        batch_size=cfg.train.batch_size,
        seed=cfg.seed,
        root=ctx.root,
        datasets=[ctx.dataset],
        augment=False,
    )
    values = []
    for batch, _ in zip(ds, range(int(cfg.eval.val_iters)), strict=False):
        terms = ctx.model.test_step(batch)
        values.append(float(terms["loss"]))
    return {"algo_loss": float(np.mean(values))}
