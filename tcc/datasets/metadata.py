"""A dataset's metadata file, `<root>/<dataset>/dataset.json`, written next to its records.

The writers (`tcc.datasets.convert`, the synthetic generators) record what readers would otherwise
have to learn by scanning every record, today the number of phases:

  {"format": 1, "num_phases": 5, "phase_names": ["reach", "lift", "pour", "return", "release"]}

`num_phases` is the number of phase classes (0 when the videos carry no phase labels);
`phase_names` may be null. Record folders written before this file existed have none:
`num_phases` then falls back to a scan of the train split.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence

from tcc import atomic

FILENAME = "dataset.json"
FORMAT = 1


@dataclasses.dataclass(frozen=True)
class DatasetMetadata:
    """What a writer records about one dataset.

    Attributes:
      num_phases: number of phase classes (max phase id + 1, or the number of phase names if
        larger); 0 when the videos carry no phase labels.
      phase_names: one name per phase id, or None when unknown.
    """

    num_phases: int
    phase_names: list[str] | None = None


def write(dataset_dir: str, meta: DatasetMetadata) -> str:
    """Writes `<dataset_dir>/dataset.json` atomically; returns its path."""
    data = {"format": FORMAT, **dataclasses.asdict(meta)}
    return atomic.write_json(os.path.join(dataset_dir, FILENAME), data)


def read(root: str, dataset: str) -> DatasetMetadata | None:
    """The metadata of `<root>/<dataset>`, or None when it has no (readable) dataset.json."""
    path = os.path.join(root, dataset, FILENAME)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return DatasetMetadata(int(data["num_phases"]), data.get("phase_names"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def from_labels(max_label: int, phase_names: Sequence[str] | None) -> DatasetMetadata:
    """The metadata of a dataset whose largest phase id is `max_label` (-1 = unlabelled)."""
    names = list(phase_names) if phase_names else None
    return DatasetMetadata(max(max_label + 1, len(names or [])), names)


def _scan_num_phases(root: str, dataset: str, kind: str) -> int:
    """Max phase id + 1 in the train split of `dataset` (reads every record; older folders)."""
    from tcc.datasets import records  # noqa: PLC0415  (TensorFlow only for this fallback)

    top = -1
    for video in records.read_split(root, dataset, "train", decode=False, kind=kind):
        if len(video["frame_labels"]):
            top = max(top, int(video["frame_labels"].max()))
    return top + 1


def num_phases(root: str, datasets: Sequence[str], kind: str = "frames") -> int:
    """The number of phase classes of `datasets` (the largest over them).

    Each dataset's `dataset.json` when present, else a scan of its train split (max id + 1).

    Args:
      root: records root.
      datasets: dataset names under `root`.
      kind: 'frames' or 'features', the records' input kind (for the scan).

    Raises:
      ValueError: if the datasets have no phase labels (fewer than 2 phases).
    """
    counts = []
    for name in datasets:
        meta = read(root, name)
        counts.append(meta.num_phases if meta is not None else _scan_num_phases(root, name, kind))
    top = max(counts, default=0)
    if top < 2:
        raise ValueError(
            f"supervised training needs phase labels, but the train split of {list(datasets)} "
            f"under {root} has none; label the videos (see docs/data.md) or pick another algo"
        )
    return top
