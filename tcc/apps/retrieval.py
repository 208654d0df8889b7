"""Fine-grained retrieval: the frames of a collection nearest to a query frame (paper Fig. 6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tcc.evaluation.distances import pairwise_distances


def nearest_frames(
    query_emb: np.ndarray,
    embs_list: Sequence[np.ndarray],
    k: int = 5,
    exclude_video: int | Sequence[int] | None = None,
    metric: str = "sqeuclidean",
    max_per_video: int | None = None,
) -> list[tuple[int, int, float]]:
    """The k frames of a collection of videos nearest to one query frame embedding.

    Args:
      query_emb: float [D], the query frame's embedding.
      embs_list: list of V float arrays [T_v, D], the collection.
      k: number of results (fewer if the collection has fewer eligible frames).
      exclude_video: index (or indices) of videos to leave out, e.g. the query's own video.
      metric: `'sqeuclidean'`, `'euclidean'` or `'cosine'`.
      max_per_video: at most this many results from any one video (None: no limit). With 1,
        each result is the best-matching frame of a different video.

    Returns:
      list of (video_idx, frame_idx, distance), nearest first; equal distances are ordered by
      video index then frame index.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1. Received: {k=}")
    if max_per_video is not None and max_per_video < 1:
        raise ValueError(f"max_per_video must be >= 1 or None. Received: {max_per_video=}")
    query_emb = np.asarray(query_emb, dtype=np.float64)
    if query_emb.ndim != 1:
        raise ValueError(
            "query_emb must be one frame's embedding [D]; pick a frame with "
            f"embs[frame_idx]. Received shape: {query_emb.shape}"
        )
    if len(embs_list) == 0:
        raise ValueError("embs_list is empty; give at least one video's embeddings [T, D].")
    lengths = np.array([len(e) for e in embs_list])
    video = np.repeat(np.arange(len(embs_list)), lengths)
    frame = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    dist = pairwise_distances(
        query_emb[None], np.concatenate([np.asarray(e) for e in embs_list]), metric
    )[0]
    if exclude_video is not None:
        dist = np.where(np.isin(video, np.atleast_1d(exclude_video)), np.inf, dist)
    eligible = np.flatnonzero(np.isfinite(dist))
    order = eligible[np.lexsort((frame[eligible], video[eligible], dist[eligible]))]
    if max_per_video is not None:
        # Rank of each candidate within its own video (0 = its video's nearest frame).
        by_video = np.argsort(video[order], kind="stable")
        group_start = np.searchsorted(video[order][by_video], video[order][by_video])
        rank = np.empty(len(order), np.int64)
        rank[by_video] = np.arange(len(order)) - group_start
        order = order[rank < max_per_video]
    order = order[:k]
    return [(int(video[i]), int(frame[i]), float(dist[i])) for i in order]
