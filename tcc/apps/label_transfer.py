"""Label transfer: per-frame labels and signals copied from aligned reference videos (paper §6).

`transfer_labels` votes over several labelled references; `transfer_signal` copies any per-frame
signal (poses, rewards, ...) of one reference. Sound: `tcc.apps.sound_transfer`; the command line
is `python -m tcc.apps.transfer`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.apps.alignment import align, align_many


def transfer_labels(
    query_emb: np.ndarray,
    ref_embs: Sequence[np.ndarray],
    ref_labels: Sequence[np.ndarray],
    method: str = "nn",
    window: float | None = None,
    metric: str = "sqeuclidean",
) -> np.ndarray:
    """Labels every query frame by a majority vote over its aligned frames in several references.

    Each reference votes with the label of the frame aligned to the query frame (`align`).
    Reference frames labelled < 0 (unlabelled) do not vote. Ties between labels with the same
    number of votes go to the label whose closest vote has the smallest embedding distance; if
    that is tied too, to the smallest label id. A query frame with no valid vote gets -1.

    Args:
      query_emb: float [N, D] embeddings of the unlabelled query.
      ref_embs: list of R float arrays [M_r, D], the labelled references.
      ref_labels: list of R int arrays [M_r], per-frame labels (-1 = unlabelled).
      method: `'nn'` or `'dtw'` (see `tcc.apps.alignment.align`).
      window: DTW Sakoe-Chiba half-width, or None.
      metric: distance used for alignment and tie-breaking.

    Returns:
      int64 [N] transferred labels.
    """
    if len(ref_embs) != len(ref_labels) or not ref_embs:
        raise ValueError(
            "Give one label array per reference embedding array (at least one). "
            f"Received: {len(ref_embs)} embeddings, {len(ref_labels)} label arrays"
        )
    ref_labels = [np.asarray(lab, dtype=np.int64).reshape(-1) for lab in ref_labels]
    for r, (emb, lab) in enumerate(zip(ref_embs, ref_labels, strict=True)):
        if len(emb) != len(lab):
            raise ValueError(
                f"Reference {r} has {len(emb)} embedded frames but {len(lab)} labels. "
                "Labels must be per frame."
            )
    alignments = align_many(query_emb, ref_embs, method=method, window=window, metric=metric)
    votes = np.stack([lab[a.mapping] for lab, a in zip(ref_labels, alignments, strict=True)])
    dists = np.stack([a.frame_distances for a in alignments])  # [R, N]
    num_classes = max(int(max(lab.max(initial=-1) for lab in ref_labels)) + 1, 1)
    onehot = votes[..., None] == np.arange(num_classes)  # [R, N, K]; -1 votes match nothing
    counts = onehot.sum(0)  # [N, K]
    closest = np.where(onehot, dists[..., None], np.inf).min(0)  # [N, K]
    best = counts.max(1, keepdims=True)
    labels = np.argmin(np.where(counts == best, closest, np.inf), axis=1)
    return np.where(best[:, 0] > 0, labels, -1).astype(np.int64)


def transfer_signal(
    query_emb: np.ndarray,
    ref_emb: np.ndarray,
    ref_signal: np.ndarray,
    method: str = "nn",
    window: float | None = None,
    metric: str = "sqeuclidean",
) -> np.ndarray:
    """Copies any per-frame signal of a reference onto the query frames aligned to it.

    Args:
      query_emb: float [N, D].
      ref_emb: float [M, D].
      ref_signal: array [M, ...] with one entry per reference frame (e.g. poses [M, J, 2]).
      method, window, metric: as in `tcc.apps.alignment.align`.

    Returns:
      array [N, ...] with `ref_signal`'s dtype: `ref_signal[mapping]`.
    """
    ref_signal = np.asarray(ref_signal)
    if ref_signal.ndim == 0 or len(ref_signal) != len(ref_emb):
        raise ValueError(
            "ref_signal must have one entry per reference frame. Received: "
            f"ref_signal.shape={ref_signal.shape}, {len(ref_emb)} reference frames"
        )
    return ref_signal[align(query_emb, ref_emb, method, window, metric).mapping]
