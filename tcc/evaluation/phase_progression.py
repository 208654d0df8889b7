"""Phase progression: how well a linear model reads action progress off embeddings (paper §4.1).

With C phases (C = 1 + the largest label seen in train or val), there are C - 1 phase boundaries.
For boundary c (between phase c and phase c + 1) and a video of T frames whose last frame of phase c
is e_c, the target of frame t is (t - e_c) / T: negative before the boundary, 0 on it, positive
after. One `sklearn.linear_model.LinearRegression` per boundary is fitted on the training frames and
scored with R^2 (`sklearn.metrics.r2_score`) on the validation frames; the metric is the mean R^2
over boundaries. All training videos are used (the original's 1.0 fraction).

Missing data (rules):
  * frames labelled -1 are neither fitted nor scored (their phase, hence a nearby boundary, is
    unknown), but they still count in T and in the frame index t;
  * a video lacking phase c has no boundary c: its frames are left out of boundary c only (the
    other boundaries of that video still count);
  * a boundary with no training frames, or fewer than two validation frames, is skipped;
  * if no boundary can be scored (unlabelled data or a single phase), `MissingLabelsError`.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from tcc.evaluation.kendalls_tau import check_videos
from tcc.evaluation.phase_classification import (
    EmbsList,
    LabelsList,
    MissingLabelsError,
    check_labels,
    require_labels,
)


def progression_targets(labels: np.ndarray, num_phases: int) -> tuple[np.ndarray, np.ndarray]:
    """Progress targets of one video for every phase boundary.

    Args:
      labels: int [T] phase per frame, -1 = unlabelled.
      num_phases: C; boundaries are c = 0 .. C - 2.

    Returns:
      targets float64 [T, C - 1] with (t - last frame of phase c) / T, and mask bool [T, C - 1],
      True where the target is usable (phase c present in the video and frame t labelled).
    """
    length = len(labels)
    frames = np.arange(length)
    last = np.full(num_phases, -1, dtype=np.int64)
    labelled = labels >= 0
    np.maximum.at(last, labels[labelled], frames[labelled])
    boundaries = last[: num_phases - 1]
    targets = (frames[:, None] - boundaries[None, :]) / float(length)
    mask = labelled[:, None] & (boundaries >= 0)[None, :]
    return targets, mask


def _stack_targets(
    videos: list[np.ndarray], labels: list[np.ndarray], num_phases: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames [F, D], targets [F, C - 1] and masks [F, C - 1] of all videos, concatenated."""
    parts = [progression_targets(lab, num_phases) for lab in labels]
    targets = np.concatenate([p[0] for p in parts], axis=0)
    masks = np.concatenate([p[1] for p in parts], axis=0)
    return np.concatenate(videos, axis=0), targets, masks


def phase_progression_per_boundary(
    train_embs: EmbsList,
    train_labels: LabelsList,
    val_embs: EmbsList,
    val_labels: LabelsList,
) -> dict[int, float]:
    """Validation R^2 of the linear progress regressor of every scorable phase boundary.

    Args:
      train_embs: N_train arrays [T_i, D].
      train_labels: N_train int arrays [T_i] (-1 = unlabelled frame), or None.
      val_embs: N_val arrays [T_j, D].
      val_labels: N_val int arrays [T_j], or None.

    Returns:
      {c: R^2 on the validation frames of boundary c} for the boundaries that can be scored.

    Raises:
      MissingLabelsError: if no boundary can be scored (no labels, or a single phase).
    """
    train_videos = check_videos(train_embs, "train_embs")
    val_videos = check_videos(val_embs, "val_embs")
    train_labs = check_labels(train_videos, train_labels, "train_labels")
    val_labs = check_labels(val_videos, val_labels, "val_labels")
    require_labels(train_labs, "train", "Phase progression")
    require_labels(val_labs, "val", "Phase progression")
    num_phases = 1 + int(max(lab.max() for lab in train_labs + val_labs))
    train_x, train_t, train_m = _stack_targets(train_videos, train_labs, num_phases)
    val_x, val_t, val_m = _stack_targets(val_videos, val_labs, num_phases)
    scores = {}
    for c in range(num_phases - 1):
        fit, score = train_m[:, c], val_m[:, c]
        if not fit.any() or score.sum() < 2:
            continue
        model = LinearRegression().fit(train_x[fit], train_t[fit, c])
        scores[c] = float(r2_score(val_t[score, c], model.predict(val_x[score])))
    if not scores:
        raise MissingLabelsError(
            "Phase progression needs at least two phases whose boundary appears in both the train "
            f"and the val labels. Received: {num_phases} phase(s) in the labels; skip this task."
        )
    return scores


def phase_progression(
    train_embs: EmbsList,
    train_labels: LabelsList,
    val_embs: EmbsList,
    val_labels: LabelsList,
) -> float:
    """Mean validation R^2 over phase boundaries of per-boundary linear progress regressors.

    See the module docstring for the targets and the rules for missing phases and labels.

    Args:
      train_embs: N_train arrays [T_i, D].
      train_labels: N_train int arrays [T_i] (-1 = unlabelled frame), or None.
      val_embs: N_val arrays [T_j, D].
      val_labels: N_val int arrays [T_j], or None.

    Returns:
      The mean R^2 (1 is perfect; can be negative).

    Raises:
      MissingLabelsError: if no boundary can be scored (no labels, or a single phase).
    """
    scores = phase_progression_per_boundary(train_embs, train_labels, val_embs, val_labels)
    return float(np.mean(list(scores.values())))
