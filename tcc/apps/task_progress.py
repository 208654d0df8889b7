"""Task progress from TCC embeddings: how far along the action a frame is, 0 (start) -> 1 (goal).

A dense reward for robot learning (beyond the paper): reference videos of the task done well
(expert demonstrations) define the progress of any new frame by alignment. Two estimators:

- `'nn'` (default): each frame is matched to its nearest frame in every reference (the paper's
  per-frame alignment, §4.1); the matched frame's normalised index j / (M_r - 1) is that
  reference's estimate, and the progress is the median over the references. It needs no other
  frame of the video (so it works one frame at a time inside an RL loop), is bounded to [0, 1] by
  construction, follows the action at the references' pace whatever the video's speed, and goes
  down when the video goes backwards (a monotone alignment such as DTW would hide that). The median
  makes it robust to a few references that match badly.
- `'goal'`: the distance to the goal embedding g (the mean of the references' last frames),
  normalised by the references' mean start-to-goal distance kappa: 1 - ||x - g|| / kappa, clipped
  to [0, 1] (the reward of XIRL, Zakka et al. 2021, rescaled). Smooth, but only monotone where the
  embedding trajectory approaches the goal monotonically, which TCC does not ask for.

`python -m tcc.apps.progress` measures both on videos of a run (docs/apps.md): on the embedded
data `'nn'` follows true progress more closely. The command line is in `tcc.apps.progress`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.evaluation.distances import pairwise_distances

PROGRESS_METHODS = ("nn", "goal")


class TaskProgress:
    """Per-frame task progress in [0, 1] relative to a fixed set of reference videos.

    Build it once from the references' embeddings, then call it on any batch of frame embeddings
    (no per-frame Python loop; the cost is one [T, sum_r M_r] distance matrix):

      progress = TaskProgress(expert_embs)          # list of [M_r, D]
      p = progress(embs)                            # [T, D] -> [T]; [D] -> scalar
      reward = p[1:] - p[:-1]                       # or p itself as a dense reward

    Attributes:
      method: `'nn'` or `'goal'` (module doc).
      metric: distance between embeddings (`tcc.evaluation.distances.pairwise_distances`).
      num_references: R.
    """

    def __init__(
        self,
        references: Sequence[np.ndarray],
        method: str = "nn",
        metric: str = "euclidean",
    ):
        """Prepares the references.

        Args:
          references: R >= 1 float arrays [M_r, D], M_r >= 2, each a whole demonstration from
            start to goal.
          method: `'nn'` or `'goal'`.
          metric: `'euclidean'`, `'sqeuclidean'` or `'cosine'`.
        """
        if method not in PROGRESS_METHODS:
            raise ValueError(f"Unknown progress method; use one of {PROGRESS_METHODS}. {method=}")
        refs = [np.asarray(r, dtype=np.float64) for r in references]
        if not refs:
            raise ValueError("TaskProgress needs at least one reference video [M, D].")
        for r, ref in enumerate(refs):
            if ref.ndim != 2 or len(ref) < 2 or ref.shape[1] != refs[0].shape[1]:
                raise ValueError(
                    f"Every reference must be [M, D] with M >= 2 and the same D. Received: "
                    f"reference {r} of shape {ref.shape} (reference 0: {refs[0].shape})"
                )
        self.method, self.metric, self.num_references = method, metric, len(refs)
        lengths = np.array([len(r) for r in refs])
        self._frames = np.concatenate(refs)  # [N, D], N = sum_r M_r
        self._starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # [R]
        # Normalised index of every reference frame in its own video: 0 at the start, 1 at the end.
        self._position = np.concatenate([np.linspace(0.0, 1.0, m) for m in lengths])  # [N]
        self._goal = np.mean([r[-1] for r in refs], axis=0)  # [D]
        start_to_goal = pairwise_distances(np.stack([r[0] for r in refs]), self._goal[None], metric)
        self._kappa = max(float(start_to_goal.mean()), 1e-12)

    @property
    def dim(self) -> int:
        """D, the embedding size the references have."""
        return self._frames.shape[1]

    def __call__(self, embs: np.ndarray) -> np.ndarray:
        """Progress of frame embeddings.

        Args:
          embs: float [T, D] (frames of one or several videos, in any order) or one frame [D].

        Returns:
          float64 [T] in [0, 1] (a 0-d array for a single frame [D]).
        """
        embs = np.asarray(embs, dtype=np.float64)
        single = embs.ndim == 1
        embs = embs[None] if single else embs
        if embs.ndim != 2 or embs.shape[1] != self.dim:
            raise ValueError(
                f"embs must be [T, {self.dim}] or [{self.dim}] (the references' size). "
                f"Received shape: {np.shape(embs)}"
            )
        if len(embs) == 0:
            return np.zeros(0)
        if self.method == "goal":
            dist = pairwise_distances(embs, self._goal[None], self.metric)[:, 0]  # [T]
            progress = np.clip(1.0 - dist / self._kappa, 0.0, 1.0)
        else:
            dist = pairwise_distances(embs, self._frames, self.metric)  # [T, N]
            nearest = _segment_argmin(dist, self._starts)  # [T, R], indices into the N frames
            progress = np.median(self._position[nearest], axis=1)
        return progress[0] if single else progress


def task_progress(
    embs: np.ndarray,
    references: Sequence[np.ndarray],
    method: str = "nn",
    metric: str = "euclidean",
) -> np.ndarray:
    """One-shot `TaskProgress(references, method, metric)(embs)`: float64 [T] in [0, 1]."""
    return TaskProgress(references, method, metric)(embs)


def _segment_argmin(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Column of the minimum of `values` [T, N] within each column segment.

    Args:
      values: float [T, N].
      starts: int [R], increasing, starts[0] == 0: segment r is columns starts[r]:starts[r+1].

    Returns:
      int64 [T, R], absolute column indices (the first one on ties).
    """
    mins = np.minimum.reduceat(values, starts, axis=1)  # [T, R]
    segment = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, values.shape[1])))
    hit = values == mins[:, segment]  # [T, N]
    # First hit per segment: the largest "reversed column number" among the hits.
    reverse = np.where(hit, values.shape[1] - np.arange(values.shape[1]), 0)
    return values.shape[1] - np.maximum.reduceat(reverse, starts, axis=1)
