"""Where a run's records are: `data.path`, else the embedded dataset, generated on first use.

The entry points (`tcc.train`, `tcc.evaluate`, `tcc.extract_embeddings`, the apps,
`tcc.experiments`) call `resolve(cfg)` once and pass the root down; the input pipeline only reads
(`tcc.datasets.pipeline` never generates data).
"""

from __future__ import annotations

import dataclasses

import ml_collections

from tcc.datasets.synthetic import ensure_embedded_dataset
from tcc.datasets.synthetic import keypoints as synthetic_keypoints
from tcc.datasets.synthetic.spec import SyntheticSpec


@dataclasses.dataclass(frozen=True)
class RootOptions:
    """The config values that decide the records root.

    Attributes:
      path: `data.path`; the records root when set.
      datasets: `datasets`; `["synthetic_pouring_joints"]` selects the keypoint embedded data.
      cache_dir: `data.cache_dir`; where the embedded data is cached ("" = the default).
      seed: `data.synthetic_seed`.
      num_train: `data.synthetic_num_train`.
      num_val: `data.synthetic_num_val`.
      image_size: `data.image_size`.
    """

    path: str = ""
    datasets: tuple[str, ...] = ()
    cache_dir: str = ""
    seed: int = 0
    num_train: int = 60
    num_val: int = 20
    image_size: int = 64

    @classmethod
    def from_config(cls, cfg: ml_collections.ConfigDict) -> RootOptions:
        """Reads `data.path`, `datasets`, `data.cache_dir`, `data.synthetic_*`, `data.image_size`.

        Returns:
          The options.
        """
        data = cfg.data
        return cls(
            path=data.path or "",
            datasets=tuple(cfg.datasets),
            cache_dir=data.cache_dir or "",
            seed=int(data.synthetic_seed),
            num_train=int(data.synthetic_num_train),
            num_val=int(data.synthetic_num_val),
            image_size=int(data.image_size),
        )


def resolve_options(options: RootOptions) -> str:
    """The records root of `options`, generating the embedded dataset when `path` is empty.

    The embedded dataset is the keypoint version (`tcc.datasets.synthetic.keypoints`) when
    `datasets` is `("synthetic_pouring_joints",)`, else the pixel one; both are cached.
    """
    if options.path:
        return options.path
    cache_dir = options.cache_dir or None
    fields = dict(
        seed=options.seed,
        num_train=options.num_train,
        num_val=options.num_val,
        image_size=options.image_size,
    )
    if list(options.datasets) == [synthetic_keypoints.DATASET_NAME]:
        spec = synthetic_keypoints.keypoint_spec(**fields)
        return synthetic_keypoints.ensure_embedded_keypoints(cache_dir, spec)
    return ensure_embedded_dataset(cache_dir, SyntheticSpec(**fields))


def resolve(cfg: ml_collections.ConfigDict) -> str:
    """The records root of `cfg`, generating the embedded data if needed (`resolve_options`).

    What the entry points call once, before anything reads records.
    """
    return resolve_options(RootOptions.from_config(cfg))
