"""Few-shot phase classification: k labelled training videos, many random episodes (paper Fig. 5).

For each k, `episodes` times: draw k distinct labelled training videos uniformly at random, fit the
per-frame SVC of `phase_classification` (RBF, C=1, gamma='scale') on their labelled frames, and
score frame accuracy on all labelled validation frames. Reported per k: the mean accuracy over
episodes and the half-width of its 95 % confidence interval, t_{0.975, E-1} * s / sqrt(E), with s
the sample standard deviation (ddof=1) over the E episodes (Student's t: 2.01 for E = 50; NaN if
E = 1).

Randomness: episode draws for k come from `numpy.random.default_rng([seed, k])`, so the result for a
given k is reproducible and does not depend on which other k are requested. Identical draws (e.g.
every draw when k equals the number of labelled videos) are fitted once and reused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import stats

from tcc.evaluation.kendalls_tau import check_videos
from tcc.evaluation.phase_classification import (
    EmbsList,
    LabelsList,
    check_labels,
    labelled_frames,
    require_labels,
    svc_frame_accuracy,
)

logger = logging.getLogger(__name__)


def confidence_interval_95(values: np.ndarray) -> float:
    """Half-width of the Student-t 95 % confidence interval of the mean of `values` [E]."""
    if len(values) < 2:
        return float("nan")
    sem = np.std(values, ddof=1) / np.sqrt(len(values))
    return float(stats.t.ppf(0.975, len(values) - 1) * sem)


def few_shot_classification(
    train_embs: EmbsList,
    train_labels: LabelsList,
    val_embs: EmbsList,
    val_labels: LabelsList,
    num_labeled: Sequence[int] = tuple(range(1, 11)),
    episodes: int = 50,
    seed: int = 42,
) -> dict[int, tuple[float, float]]:
    """Validation frame accuracy of an SVC trained on k random labelled videos, per k.

    Args:
      train_embs: N_train arrays [T_i, D] (ragged lengths allowed).
      train_labels: N_train int arrays [T_i] (-1 = unlabelled frame), or None. Only videos with
        at least one labelled frame are drawn.
      val_embs: N_val arrays [T_j, D].
      val_labels: N_val int arrays [T_j], or None.
      num_labeled: the numbers k of labelled videos per episode; a k larger than the number of
        labelled training videos is skipped with a warning (it is absent from the result).
      episodes: E >= 1 random draws per k.
      seed: base seed; see the module docstring.

    Returns:
      {k: (mean accuracy, 95 % CI half-width)} for the usable k, in the order given.

    Raises:
      MissingLabelsError: if the train or the val split has no labelled frame.
      ValueError: on malformed inputs, k < 1 or episodes < 1.
    """
    if episodes < 1 or any(k < 1 for k in num_labeled):
        raise ValueError(
            f"`episodes` and every k of `num_labeled` must be >= 1. Received: episodes={episodes}, "
            f"num_labeled={tuple(num_labeled)}"
        )
    train_videos = check_videos(train_embs, "train_embs")
    val_videos = check_videos(val_embs, "val_embs")
    train_labs = check_labels(train_videos, train_labels, "train_labels")
    val_labs = check_labels(val_videos, val_labels, "val_labels")
    labelled = require_labels(train_labs, "train", "Few-shot classification")
    val_indices = require_labels(val_labs, "val", "Few-shot classification")
    val_x, val_y = labelled_frames(val_videos, val_labs, val_indices)
    cache: dict[tuple[int, ...], float] = {}
    results = {}
    for k in num_labeled:
        if k > len(labelled):
            logger.warning(
                "Few-shot: skipping k=%d, only %d labelled training videos.", k, len(labelled)
            )
            continue
        rng = np.random.default_rng([seed, k])
        accuracies = np.empty(episodes)
        for episode in range(episodes):
            draw = tuple(np.sort(rng.choice(labelled, size=k, replace=False)).tolist())
            if draw not in cache:
                train_x, train_y = labelled_frames(train_videos, train_labs, draw)
                cache[draw] = svc_frame_accuracy(train_x, train_y, val_x, val_y)
            accuracies[episode] = cache[draw]
        results[int(k)] = (float(np.mean(accuracies)), confidence_interval_95(accuracies))
    return results
