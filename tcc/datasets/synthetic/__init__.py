"""The embedded default dataset: a procedurally rendered pouring action (DESIGN.md §embedded).

Five phases ('reach', 'lift', 'pour', 'return', 'release') separated by four key events; every
video draws its own timing (phase durations, non-linear speed, pauses, idle frames) and appearance
(props, layout, background, distractors, camera, lighting, noise) from a seed derived from
(seed, split, index), so a video does not depend on how many others are generated. Details and
how to make it harder: docs/synthetic.md.

  python -m tcc.datasets.synthetic --output_dir=/tmp/tcc_data [--seed=0 --num_train=60 ...]
  python -m tcc.datasets.synthetic --examples_png=docs/images/synthetic_examples.png

Library use: `render_video(rng)` for one video, `generate_dataset(dir, SyntheticSpec(...))` for
records, `ensure_embedded_dataset()` for the cached default data (what the default config trains
on). The modules: `spec` (SyntheticSpec), `scene`, `motion`, `render` (pixels), `writer`
(records), `keypoints` (the 2D keypoint version), `cache`; `__main__` is the CLI.
"""

from __future__ import annotations

import numpy as np

from tcc import atomic
from tcc.datasets.synthetic import writer
from tcc.datasets.synthetic.cache import default_cache_dir, ensure_cached
from tcc.datasets.synthetic.motion import PHASE_NAMES
from tcc.datasets.synthetic.render import SyntheticVideo, render_video, video_rng
from tcc.datasets.synthetic.scene import Variation
from tcc.datasets.synthetic.spec import DATASET_NAME, SyntheticSpec
from tcc.datasets.synthetic.writer import GENERATOR_VERSION, generate_dataset

__all__ = [
    "DATASET_NAME",
    "GENERATOR_VERSION",
    "PHASE_NAMES",
    "SyntheticSpec",
    "SyntheticVideo",
    "Variation",
    "default_cache_dir",
    "ensure_embedded_dataset",
    "generate_dataset",
    "render_video",
    "save_example_strip",
    "video_rng",
]


def ensure_embedded_dataset(
    cache_dir: str | None = None, spec: SyntheticSpec | None = None, num_workers: int = 1
) -> str:
    """Returns the data root of the embedded dataset, generating it on first use.

    The data lives in `<cache_dir>/<version>-seed<seed>-<size>px-...-<hash>/<dataset_name>/`; a
    later call with the same spec finds its `meta.json` and reuses it. Concurrent calls wait
    for each other (file lock), so parallel runs generate it once (`cache.ensure_cached`).

    Args:
      cache_dir: where cached datasets live; `default_cache_dir()` when None.
      spec: what to generate; `SyntheticSpec()` (60 / 20 videos, 64 px, seed 0) when None.
      num_workers: render processes. One by default: worker processes are spawned, which
        re-imports the caller's main module and deadlocks scripts and notebooks without an
        `if __name__ == "__main__"` guard; the gain from a second worker is small (~10 %).

    Returns:
      The data root (use as `data.path`; the dataset name is `spec.dataset_name`).
    """
    spec = spec or SyntheticSpec()
    request = spec.request(writer.GENERATOR, writer.GENERATOR_VERSION)
    return ensure_cached(
        cache_dir, request, lambda staging: writer.write_dataset(spec, staging, num_workers)
    )


def _strip_columns(video: SyntheticVideo) -> list[int]:
    """Frames shown per video: start, middle of every phase, every key event, end (10)."""
    labels, events = video.frame_labels, video.key_events
    middles = [int(np.flatnonzero(labels == k).mean()) for k in range(len(PHASE_NAMES))]
    columns = [0]
    for k, event in enumerate(events):
        columns += [middles[k], event]
    return columns + [middles[-1], len(labels) - 1]


def save_example_strip(
    path: str, seed: int = 0, num_videos: int = 4, image_size: int = 64, split: str = "train"
) -> str:
    """Saves a PNG grid of example frames: one row per video of the dataset made with `seed`.

    Columns: first frame, the middle of each phase and each key event, last frame.

    Args:
      path: output PNG path (directories are created; written atomically).
      seed: dataset seed (the rows are videos 0..num_videos-1 of `split`).
      num_videos: number of rows.
      image_size: frame size in pixels.
      split: 'train' or 'val'.

    Returns:
      `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    videos = [render_video(video_rng(seed, split, i), image_size) for i in range(num_videos)]
    rows = [np.concatenate(list(v.frames[_strip_columns(v)]), 1) for v in videos]
    titles = ["start"]
    for k in range(1, len(PHASE_NAMES)):
        titles += [PHASE_NAMES[k - 1], f"e{k}: {PHASE_NAMES[k]}"]
    titles += [PHASE_NAMES[-1], "end"]
    fig, ax = plt.subplots(figsize=(len(titles) * 1.1, num_videos * 1.2 + 0.4), dpi=100)
    ax.imshow(np.concatenate(rows, 0), interpolation="nearest")
    ax.set_xticks((np.arange(len(titles)) + 0.5) * image_size, titles, fontsize=7, rotation=30)
    ax.set_yticks(
        (np.arange(num_videos) + 0.5) * image_size,
        [f"{split}_{i:04d}" for i in range(num_videos)],
        fontsize=7,
    )
    ax.tick_params(length=0)
    fig.tight_layout()
    with atomic.path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)
    return path
