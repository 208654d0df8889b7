"""Dynamic time warping over a precomputed cost matrix, vectorised along anti-diagonals.

The recursion is the classic symmetric one with unit steps (i-1, j), (i, j-1), (i-1, j-1):

    D[i, j] = cost[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1]),   D[0, 0] = cost[0, 0],

(out-of-grid predecessors count as +inf), and the warping path runs from (0, 0) to (N-1, M-1).
Every cell of one anti-diagonal (i + j = d) depends only on the two previous anti-diagonals, so
each anti-diagonal is computed with one vectorised numpy step: N + M - 1 iterations in total, no
loop over cells.
"""

from __future__ import annotations

import numpy as np

# Order of the predecessor moves; ties are broken in this order (diagonal first).
_MOVES = np.array([[-1, -1], [-1, 0], [0, -1]], dtype=np.int64)


def sakoe_chiba_mask(n: int, m: int, window: float) -> np.ndarray:
    """Boolean band of admissible cells around the diagonal of an `n` x `m` grid.

    Cell (i, j) is admissible when `|j - i * (m - 1) / (n - 1)| <= window`, i.e. the band has a
    half-width of `window` reference frames (columns) around the straight line from (0, 0) to
    (n - 1, m - 1), so it follows the diagonal when the two lengths differ. Where the band would
    leave no monotone continuous path (a narrow window on very different lengths), each row's
    interval is widened by the fewest cells that reconnect it to the next row.

    Args:
      n: Number of rows (query frames), >= 1.
      m: Number of columns (reference frames), >= 1.
      window: Half-width of the band in columns, >= 0.

    Returns:
      bool array [n, m], True inside the band.
    """
    if window < 0:
        raise ValueError(f"The DTW window must be >= 0 (None: no window). Received: {window=}")
    slope = (m - 1) / (n - 1) if n > 1 else 0.0
    centre = np.arange(n) * slope
    lo = np.clip(np.ceil(centre - window - 1e-9), 0, m - 1).astype(np.int64)
    hi = np.clip(np.floor(centre + window + 1e-9), 0, m - 1).astype(np.int64)
    lo[0], hi[-1] = 0, m - 1
    hi = np.maximum(hi, lo)
    # Reconnect: row i must reach column lo[i+1] - 1 so a diagonal step enters row i + 1.
    hi[:-1] = np.maximum(hi[:-1], lo[1:] - 1)
    cols = np.arange(m)
    return (cols[None, :] >= lo[:, None]) & (cols[None, :] <= hi[:, None])


def accumulated_cost(
    cost: np.ndarray, window: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated DTW cost and the best predecessor move of every cell.

    Args:
      cost: float array [N, M] of non-negative (or any finite) local costs.
      window: Optional Sakoe-Chiba half-width in reference frames (see `sakoe_chiba_mask`).

    Returns:
      acc: float64 [N, M], `acc[i, j]` = cheapest cost of a path from (0, 0) to (i, j)
        (inf outside the window).
      move: int8 [N, M], index into (diagonal, up, left) of the predecessor used (-1 at (0, 0)
        and outside the window).
    """
    cost = _check_cost(cost)
    n, m = cost.shape
    if window is not None:
        cost = np.where(sakoe_chiba_mask(n, m, window), cost, np.inf)
    # Padded table: acc_pad[i + 1, j + 1] = acc[i, j]; row/column 0 are the inf border.
    acc_pad = np.full((n + 1, m + 1), np.inf)
    acc_pad[0, 0] = 0.0
    move = np.full((n, m), -1, dtype=np.int8)
    for d in range(n + m - 1):  # anti-diagonal i + j = d
        i = np.arange(max(0, d - m + 1), min(n, d + 1))
        j = d - i
        candidates = np.stack([acc_pad[i, j], acc_pad[i, j + 1], acc_pad[i + 1, j]])
        best = np.argmin(candidates, axis=0)
        acc_pad[i + 1, j + 1] = cost[i, j] + candidates[best, np.arange(i.size)]
        move[i, j] = best
    move[0, 0] = -1
    acc = acc_pad[1:, 1:]
    move[~np.isfinite(acc)] = -1
    return acc, move


def dtw(cost: np.ndarray, window: float | None = None) -> tuple[float, np.ndarray]:
    """Minimum-cost monotone, continuous warping path through a cost matrix.

    Steps allowed: (i-1, j), (i, j-1), (i-1, j-1), each adding the cost of the cell entered; the
    path starts at (0, 0) (its cost included) and ends at (N-1, M-1). Among equally cheap
    predecessors the diagonal is preferred, then (i-1, j), then (i, j-1).

    Args:
      cost: float array [N, M], e.g. `pairwise_distances(query, reference)`.
      window: Optional Sakoe-Chiba half-width in reference frames around the (scaled) diagonal;
        None searches the whole matrix. See `sakoe_chiba_mask` for N != M.

    Returns:
      total_cost: float, the sum of `cost` over the path cells.
      path: int64 [L, 2] of (i, j) pairs from (0, 0) to (N-1, M-1), max(N, M) <= L <= N + M - 1.
    """
    acc, move = accumulated_cost(cost, window)
    n, m = acc.shape
    total = float(acc[-1, -1])
    if not np.isfinite(total):
        raise ValueError(
            "DTW found no finite-cost path: the cost matrix has inf on every path. "
            f"Received cost of shape {(n, m)} with window={window}."
        )
    path = np.empty((n + m - 1, 2), dtype=np.int64)
    i, j, length = n - 1, m - 1, 0
    while True:  # O(N + M) backtracking, one step per path cell
        path[length] = (i, j)
        length += 1
        step = move[i, j]
        if step < 0:
            break
        i, j = i + _MOVES[step, 0], j + _MOVES[step, 1]
    return total, path[:length][::-1].copy()


def _check_cost(cost: np.ndarray) -> np.ndarray:
    """Validates a cost matrix and returns it as float64 [N, M]."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        raise ValueError(
            f"DTW expects a non-empty 2-D cost matrix [N, M]. Received shape: {cost.shape}"
        )
    if np.isnan(cost).any():
        raise ValueError(
            "DTW cost matrix contains NaN; check the embeddings for NaN values. "
            f"Received NaN count: {int(np.isnan(cost).sum())}"
        )
    return cost
