"""The `.npz` file of per-video embeddings of one split (`python -m tcc.extract_embeddings`).

For N videos the file holds `names` [N] (str), `seq_lens` [N], and per video i the arrays
`embs_i` float32 [T_i, D], `frame_indices_i` int32 [T_i] and `labels_i` int32 [T_i] (-1 where
unlabelled); no pickled objects, so `numpy.load(path)` reads it anywhere.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from tcc import atomic

if TYPE_CHECKING:
    from tcc.evaluation.embed import EmbeddedSplit


def save_npz(path: str | os.PathLike, split: EmbeddedSplit) -> None:
    """Writes an `EmbeddedSplit` as a pickle-free `.npz`, atomically (parent folders created)."""
    arrays = {"names": np.array(split.names, dtype=str), "seq_lens": np.array(split.seq_lens)}
    for i in range(len(split.names)):
        arrays[f"embs_{i}"] = split.embs[i]
        arrays[f"frame_indices_{i}"] = split.frame_indices[i]
        arrays[f"labels_{i}"] = split.labels[i]
    with atomic.path(path) as tmp:
        np.savez(tmp, **arrays)


def load_npz(path: str | os.PathLike) -> dict[str, list]:
    """Reads a file written by `save_npz`: {names, seq_lens, embs, frame_indices, labels}.

    Raises:
      OSError, ValueError, KeyError: for a missing file or one not written by `save_npz`.
    """
    with np.load(path, allow_pickle=False) as data:
        n = len(data["names"])
        return {
            "names": [str(x) for x in data["names"]],
            "seq_lens": data["seq_lens"].tolist(),
            "embs": [data[f"embs_{i}"] for i in range(n)],
            "frame_indices": [data[f"frame_indices_{i}"] for i in range(n)],
            "labels": [data[f"labels_{i}"] for i in range(n)],
        }
