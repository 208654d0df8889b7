"""Per-frame phase classification with an SVM (paper §4.1) and the label checks of all label tasks.

Protocol: an `sklearn.svm.SVC` with sklearn's defaults (RBF kernel, C=1, gamma='scale') is fitted on
the frames of the first floor(f * N) labelled training videos (at least one) and scored by frame
accuracy on the labelled validation frames, for every fraction f.

Label conventions shared by every label task of `tcc.evaluation`:
  * labels are per-video int arrays [T_i]; -1 marks an unlabelled frame; such frames are never
    used for fitting or scoring;
  * `None` (for the whole list or for one video) means "no labels" (all frames -1);
  * a "labelled video" has at least one frame with a label >= 0;
  * when no usable labels exist, the task raises `MissingLabelsError`, so a caller can catch it and
    skip the task with its message (Kendall's tau needs no labels and always runs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.svm import SVC

from tcc.evaluation.kendalls_tau import check_videos

EmbsList = Sequence[np.ndarray]
LabelsList = Sequence[np.ndarray | None] | None


class MissingLabelsError(ValueError):
    """A label task received data without usable per-frame labels; callers may skip the task."""


def check_labels(videos: list[np.ndarray], labels_list: LabelsList, name: str) -> list[np.ndarray]:
    """Validates per-frame labels against their videos; missing labels become -1.

    Args:
      videos: N arrays [T_i, D] (as returned by `check_videos`).
      labels_list: None, or N entries each None or an int array [T_i] (-1 = unlabelled frame).
      name: argument name used in error messages.

    Returns:
      N int64 arrays [T_i].

    Raises:
      ValueError: if the number of videos or a video's number of frames does not match.
    """
    if labels_list is None:
        return [np.full(len(v), -1, dtype=np.int64) for v in videos]
    if len(labels_list) != len(videos):
        raise ValueError(
            f"`{name}` must have one label array per video. Received: {len(labels_list)} label "
            f"arrays for {len(videos)} videos"
        )
    out = []
    for i, (video, labels) in enumerate(zip(videos, labels_list, strict=True)):
        if labels is None:
            out.append(np.full(len(video), -1, dtype=np.int64))
            continue
        labels = np.asarray(labels).astype(np.int64).reshape(-1)
        if len(labels) != len(video):
            raise ValueError(
                f"`{name}[{i}]` must have one label per frame. Received: {len(labels)} labels "
                f"for {len(video)} frames"
            )
        out.append(labels)
    return out


def labelled_video_indices(labels: list[np.ndarray]) -> np.ndarray:
    """Returns the indices (int64 [M]) of the videos with at least one frame label >= 0."""
    return np.array([i for i, lab in enumerate(labels) if np.any(lab >= 0)], dtype=np.int64)


def require_labels(labels: list[np.ndarray], split: str, task: str) -> np.ndarray:
    """Returns `labelled_video_indices(labels)`; raises `MissingLabelsError` if there are none."""
    indices = labelled_video_indices(labels)
    if indices.size == 0:
        raise MissingLabelsError(
            f"{task} needs per-frame phase labels, but no {split} video has any (all labels are "
            f"-1 or None). Skip this task for unlabelled data, or add labels to the records."
        )
    return indices


def labelled_frames(
    videos: list[np.ndarray], labels: list[np.ndarray], indices: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenates the labelled frames of the chosen videos.

    Returns:
      embs float64 [F, D] and labels int64 [F] of the frames with a label >= 0.
    """
    embs = np.concatenate([videos[i] for i in indices], axis=0)
    labs = np.concatenate([labels[i] for i in indices], axis=0)
    keep = labs >= 0
    return embs[keep], labs[keep]


def svc_frame_accuracy(
    train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray
) -> float:
    """Fits `SVC()` (RBF, C=1, gamma='scale') on frames and returns the val frame accuracy.

    A training set with a single class cannot fit an SVC; the classifier then predicts that class.

    Args:
      train_x: float [F, D] training frame embeddings.
      train_y: int [F] their phase labels.
      val_x: float [G, D] validation frame embeddings.
      val_y: int [G] their phase labels.

    Returns:
      The fraction of validation frames whose predicted phase equals `val_y`.
    """
    classes = np.unique(train_y)
    if classes.size == 1:
        predictions = np.full(len(val_y), classes[0])
    else:
        predictions = SVC().fit(train_x, train_y).predict(val_x)
    return float(np.mean(predictions == val_y))


def phase_classification(
    train_embs: EmbsList,
    train_labels: LabelsList,
    val_embs: EmbsList,
    val_labels: LabelsList,
    fractions: Sequence[float] = (0.1, 0.5, 1.0),
) -> dict[float, float]:
    """Per-frame phase classification accuracy for several fractions of labelled training videos.

    For each fraction f, an SVC is trained on the labelled frames of the first max(1, floor(f * N))
    of the N labelled training videos (videos whose labels are all -1 are not counted; with fully
    labelled data this is the paper's "first floor(f * N) videos") and scored on all labelled
    validation frames.

    Args:
      train_embs: N_train arrays [T_i, D].
      train_labels: N_train int arrays [T_i] (-1 = unlabelled frame), or None.
      val_embs: N_val arrays [T_j, D].
      val_labels: N_val int arrays [T_j], or None.
      fractions: fractions f in (0, 1] of the labelled training videos to use.

    Returns:
      {f: validation frame accuracy in [0, 1]} for every f in `fractions`.

    Raises:
      MissingLabelsError: if the train or the val split has no labelled frame.
      ValueError: on malformed inputs or a fraction outside (0, 1].
    """
    for f in fractions:
        if not 0.0 < f <= 1.0:
            raise ValueError(f"Each fraction must be in (0, 1]. Received: fractions={fractions}")
    train_videos = check_videos(train_embs, "train_embs")
    val_videos = check_videos(val_embs, "val_embs")
    train_labs = check_labels(train_videos, train_labels, "train_labels")
    val_labs = check_labels(val_videos, val_labels, "val_labels")
    labelled = require_labels(train_labs, "train", "Phase classification")
    val_x, val_y = labelled_frames(
        val_videos, val_labs, require_labels(val_labs, "val", "Phase classification")
    )
    results = {}
    for f in fractions:
        count = max(1, int(np.floor(f * len(labelled) + 1e-9)))  # tolerate f * N rounding
        train_x, train_y = labelled_frames(train_videos, train_labs, labelled[:count])
        results[f] = svc_frame_accuracy(train_x, train_y, val_x, val_y)
    return results
