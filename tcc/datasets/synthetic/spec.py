"""What determines a synthetic dataset's content: one frozen `SyntheticSpec`.

The generators (`writer.generate_dataset`, `keypoints.ensure_embedded_keypoints`), the cache
(`cache.ensure_cached`) and the CLI all take this one object instead of repeating its fields;
`request()` is its JSON form, stored in the dataset's `meta.json` and hashed into the cache key.
"""

from __future__ import annotations

import dataclasses
import json
import os

from tcc.datasets.synthetic.motion import PHASE_NAMES
from tcc.datasets.synthetic.scene import Variation

DATASET_NAME = "synthetic_pouring"
SPLITS = ("train", "val")


@dataclasses.dataclass(frozen=True)
class SyntheticSpec:
    """One synthetic dataset: the same spec gives byte-identical records.

    Attributes:
      seed: dataset seed (>= 0); video (split, index) draws from `render.video_rng(seed, ...)`.
      num_train: number of train videos.
      num_val: number of val videos (at least one video in all).
      image_size: frames are image_size x image_size (>= 8); for keypoints, the pixel frame.
      min_frames: shortest video (>= 15).
      max_frames: longest video (>= min_frames).
      num_shards: record files per split.
      dataset_name: directory and dataset name (a plain directory name).
      variation: how much videos differ; `Variation()` when None.
      difficulty: multiplies the variation (`Variation.scaled`); > 1 is harder.

    Raises:
      ValueError: on construction, naming the first invalid field.
    """

    seed: int = 0
    num_train: int = 60
    num_val: int = 20
    image_size: int = 64
    min_frames: int = 40
    max_frames: int = 120
    num_shards: int = 1
    dataset_name: str = DATASET_NAME
    variation: Variation | None = None
    difficulty: float = 1.0

    def __post_init__(self) -> None:
        name = self.dataset_name
        checks = [
            (self.seed >= 0, f"seed must be >= 0; received seed={self.seed}"),
            (
                self.num_train >= 0 and self.num_val >= 0 and self.num_train + self.num_val > 0,
                "need at least one video; received "
                f"num_train={self.num_train}, num_val={self.num_val}",
            ),
            (
                self.image_size >= 8,
                f"image_size must be >= 8; received image_size={self.image_size}",
            ),
            (
                15 <= self.min_frames <= self.max_frames,
                f"need 15 <= min_frames <= max_frames; received min_frames={self.min_frames}, "
                f"max_frames={self.max_frames}",
            ),
            (
                self.num_shards >= 1,
                f"num_shards must be >= 1; received num_shards={self.num_shards}",
            ),
            (
                bool(name) and os.sep not in name and not name.startswith("."),
                f"dataset_name must be a plain directory name; received dataset_name={name!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def effective_variation(self) -> Variation:
        """`variation` (or `Variation()`) scaled by `difficulty`."""
        return (self.variation or Variation()).scaled(self.difficulty)

    def num_videos(self, split: str) -> int:
        """Videos of `split` ('train' or 'val')."""
        return {"train": self.num_train, "val": self.num_val}[split]

    def request(self, generator: str, version: str, **extra) -> dict:
        """The JSON-normalised request stored in meta.json: fields, phases, variation, `extra`.

        Args:
          generator: the generator's name (part of the cache key).
          version: the generator's output version (bump when the output changes).
          **extra: generator-specific entries (e.g. joint names, detector noise), added last.
        """
        request = dict(
            generator=generator,
            version=version,
            seed=self.seed,
            num_train=self.num_train,
            num_val=self.num_val,
            image_size=self.image_size,
            min_frames=self.min_frames,
            max_frames=self.max_frames,
            num_shards=self.num_shards,
            dataset_name=self.dataset_name,
            phase_names=list(PHASE_NAMES),
            variation=dataclasses.asdict(self.effective_variation()),
            **extra,
        )
        return json.loads(json.dumps(request))
