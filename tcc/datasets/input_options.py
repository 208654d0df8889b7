"""The input pipeline's options: the config values `tcc.datasets.pipeline` reads, typed, once.

The pipeline takes an `InputOptions`, never the root config; `InputOptions.from_config(cfg)` is
the one place that reads `datasets`, `data.*`, `train.batch_size`, `train.num_frames`,
`eval.num_frames`, `augmentation.*` and `pose.*` for it.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from tcc.datasets.augment import AugmentOptions
from tcc.datasets.pose import PoseOptions


@dataclasses.dataclass(frozen=True)
class InputOptions:
    """What the input pipeline needs to know (config key in brackets).

    Attributes:
      datasets: dataset names read for training (`datasets`).
      path: records root (`data.path`); "" = the caller passes `root` (the embedded data's root
        comes from `tcc.datasets.data_root.resolve`).
      input_kind: 'frames' (JPEG videos) or 'features' (`data.input_kind`).
      source: 'records' or 'tfds' (`data.source`).
      tfds_data_dir: TFDS data dir, "" = TFDS's default (`data.tfds_data_dir`).
      image_size: S of the decoded frames (`data.image_size`).
      sampling_strategy: how training steps are sampled (`data.sampling_strategy`).
      stride: stride of the 'stride' strategy (`data.stride`).
      random_offset: random start offset of the 'offset_uniform' strategy (`data.random_offset`).
      num_steps: context frames per timestep (`data.num_steps`).
      frame_stride: frames between context frames (`data.frame_stride`).
      frame_stride_fraction: > 0: frames between context frames as a fraction of each video's
        length instead (`data.frame_stride_fraction`); 0 = `frame_stride`.
      sample_all_stride: default evaluation stride k (`data.sample_all_stride`).
      per_dataset_fraction: fraction of each dataset's videos used (`data.per_dataset_fraction`).
      shuffle_queue_size: shuffle buffer; <= 0 = the whole dataset (`data.shuffle_queue_size`).
      num_parallel_calls: parallel map calls; < 0 = autotune (`data.num_parallel_calls`).
      num_prefetch_batches: batches prefetched (`data.num_prefetch_batches`).
      batch_size: default training batch size B (`train.batch_size`).
      num_frames: training timesteps T per video (`train.num_frames`).
      eval_num_frames: default evaluation chunk size C (`eval.num_frames`).
      augment: image augmentation (`augmentation.*`).
      pose: feature / pose preprocessing (`pose.*`); None = the identity.
    """

    datasets: tuple[str, ...] = ()
    path: str = ""
    input_kind: str = "frames"
    source: str = "records"
    tfds_data_dir: str = ""
    image_size: int = 224
    sampling_strategy: str = "offset_uniform"
    stride: int = 1
    random_offset: int = 1
    num_steps: int = 2
    frame_stride: int = 15
    frame_stride_fraction: float = 0.0
    sample_all_stride: int = 1
    per_dataset_fraction: float = 1.0
    shuffle_queue_size: int = 0
    num_parallel_calls: int = -1
    num_prefetch_batches: int = 1
    batch_size: int = 2
    num_frames: int = 20
    eval_num_frames: int = 160
    augment: AugmentOptions = dataclasses.field(default_factory=AugmentOptions)
    pose: PoseOptions | None = None

    @classmethod
    def from_config(cls, cfg: ml_collections.ConfigDict) -> InputOptions:
        """Reads the pipeline's keys from the root config (see the attributes)."""
        data = cfg.data
        pose = cfg.get("pose")
        return cls(
            datasets=tuple(cfg.datasets),
            path=data.path or "",
            input_kind=data.input_kind,
            source=data.get("source", "records"),
            tfds_data_dir=data.get("tfds_data_dir", "") or "",
            image_size=int(data.image_size),
            sampling_strategy=data.sampling_strategy,
            stride=int(data.stride),
            random_offset=int(data.random_offset),
            num_steps=int(data.num_steps),
            frame_stride=int(data.frame_stride),
            frame_stride_fraction=float(data.get("frame_stride_fraction", 0.0)),
            sample_all_stride=int(data.sample_all_stride),
            per_dataset_fraction=float(data.per_dataset_fraction),
            shuffle_queue_size=int(data.shuffle_queue_size),
            num_parallel_calls=int(data.num_parallel_calls),
            num_prefetch_batches=int(data.num_prefetch_batches),
            batch_size=int(cfg.train.batch_size),
            num_frames=int(cfg.train.num_frames),
            eval_num_frames=int(cfg.eval.num_frames),
            augment=AugmentOptions.from_config(cfg.augmentation),
            pose=None if pose is None else PoseOptions.from_config(pose, int(data.frame_stride)),
        )
