"""Evaluation tasks: registry entries that wrap the pure task functions for `tcc.evaluate`.

A task gets an `EvalContext` (the embedded train and val splits of one dataset, the evaluation
options and, for `algo_loss`, a function that computes the training loss) and returns flat
metrics `{"phase_classification@0.1": 0.83, ...}` with the key names of `metrics.jsonl`
(DESIGN.md). Label tasks on unlabelled data raise `MissingLabelsError`; the caller logs the
message and goes on. `EvalOptions.from_config` is the one place that reads the config's `eval.*`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from tcc.evaluation.embed import EmbeddedSplit
from tcc.evaluation.few_shot import few_shot_classification
from tcc.evaluation.kendalls_tau import kendalls_tau
from tcc.evaluation.phase_classification import phase_classification
from tcc.evaluation.phase_progression import phase_progression
from tcc.evaluation.retrieval import retrieval_ap
from tcc.registry import Registry

TASKS = Registry("eval task")


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """What the tasks read of a run's config (its `eval.*` keys and the seed).

    Attributes:
      tasks: names of the tasks to run, in order (`TASKS`).
      splits: the splits to embed ('val' always; 'train' for the tasks that fit on it).
      kendalls_tau_stride: every k-th frame for Kendall's tau.
      kendalls_tau_distance: its frame distance (`tcc.evaluation.distances.METRICS`).
      classification_fractions: fractions of labelled train videos for phase classification.
      few_shot_num_labeled: the numbers k of labelled train videos for few-shot classification.
      few_shot_num_episodes: episodes averaged per k.
      few_shot_seed: seed of the few-shot episodes.
      retrieval_ks: the K of retrieval AP@K.
    """

    tasks: tuple[str, ...] = ("kendalls_tau",)
    splits: tuple[str, ...] = ("train", "val")
    kendalls_tau_stride: int = 1
    kendalls_tau_distance: str = "sqeuclidean"
    classification_fractions: tuple[float, ...] = (0.1, 0.5, 1.0)
    few_shot_num_labeled: tuple[int, ...] = (1,)
    few_shot_num_episodes: int = 50
    few_shot_seed: int = 42
    retrieval_ks: tuple[int, ...] = (5, 10, 15)

    @classmethod
    def from_config(cls, cfg: Any) -> EvalOptions:
        """The options of a resolved run config (`cfg.eval.*`, `cfg.seed`)."""
        e = cfg.eval
        return cls(
            tasks=tuple(e.tasks),
            splits=tuple(e.splits),
            kendalls_tau_stride=int(e.kendalls_tau_stride),
            kendalls_tau_distance=str(e.kendalls_tau_distance),
            classification_fractions=tuple(float(f) for f in e.classification_fractions),
            few_shot_num_labeled=tuple(int(k) for k in e.few_shot_num_labeled),
            few_shot_num_episodes=int(e.few_shot_num_episodes),
            few_shot_seed=int(cfg.seed) + 42,
            retrieval_ks=tuple(int(k) for k in e.retrieval_ks),
        )

    @property
    def needs_train(self) -> bool:
        """True when a task fits on the train split and 'train' is among the splits."""
        return "train" in self.splits and any(t in TRAIN_TASKS for t in self.tasks)


# The tasks that fit a model on the train split's embeddings.
TRAIN_TASKS = ("phase_classification", "phase_progression", "few_shot")

# (dataset, split) -> the algorithm's training loss on batches of that split.
LossFn = Callable[[str, str], float]


@dataclasses.dataclass
class EvalContext:
    """Everything a task may read.

    Attributes:
      options: the evaluation options.
      dataset: the dataset's name.
      train: its embedded train split (None when no task needs it).
      val: its embedded val split.
      algo_loss: the training loss on a split, for the `algo_loss` task (None: not available).
      extras: task outputs beyond scalars (e.g. the few-shot curve).
    """

    options: EvalOptions
    dataset: str
    train: EmbeddedSplit | None
    val: EmbeddedSplit
    algo_loss: LossFn | None = None
    extras: dict = dataclasses.field(default_factory=dict)


def _labels_or_none(split: EmbeddedSplit) -> list[np.ndarray] | None:
    return split.labels if split.has_labels else None


@TASKS.register("kendalls_tau")
def kendalls_tau_task(ctx: EvalContext) -> dict[str, float]:
    """Mean Kendall's tau-b of nearest-neighbour alignments over all ordered val pairs."""
    options = ctx.options
    value = kendalls_tau(
        ctx.val.embs,
        stride=options.kendalls_tau_stride,
        distance=options.kendalls_tau_distance,
    )
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
        fractions=ctx.options.classification_fractions,
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
    ks = tuple(k for k in ctx.options.few_shot_num_labeled if k <= max_k)
    result = few_shot_classification(
        train.embs,
        _labels_or_none(train),
        ctx.val.embs,
        _labels_or_none(ctx.val),
        num_labeled=ks,
        episodes=ctx.options.few_shot_num_episodes,
        seed=ctx.options.few_shot_seed,
    )
    ctx.extras["few_shot_curve"] = result
    metrics = {f"few_shot@{k}": float(mean) for k, (mean, _) in result.items()}
    metrics.update({f"few_shot@{k}_ci95": float(ci) for k, (_, ci) in result.items()})
    return metrics


@TASKS.register("retrieval")
def retrieval_task(ctx: EvalContext) -> dict[str, float]:
    """Fine-grained frame retrieval: same-phase precision among the K nearest other-video frames."""
    result = retrieval_ap(ctx.val.embs, _labels_or_none(ctx.val), ks=ctx.options.retrieval_ks)
    return {f"retrieval_ap@{k}": float(v) for k, v in result.items()}


@TASKS.register("algo_loss")
def algo_loss_task(ctx: EvalContext) -> dict[str, float]:
    """The training loss of the algorithm on val batches (no weight update)."""
    if ctx.algo_loss is None:
        raise ValueError(
            "algo_loss needs the trained algorithm; it is only available from tcc.evaluate"
        )
    return {"algo_loss": float(ctx.algo_loss(ctx.dataset, ctx.val.split))}
