"""The embedded default dataset: a procedurally rendered pouring action (DESIGN.md §embedded).

Five phases ('reach', 'lift', 'pour', 'return', 'release') separated by four key events; every
video draws its own timing (phase durations, non-linear speed, pauses, idle frames) and appearance
(props, layout, background, distractors, camera, lighting, noise) from a seed derived from
(seed, split, index), so a video does not depend on how many others are generated. Details and
how to make it harder: docs/synthetic.md.

  python -m tcc.datasets.synthetic --output_dir=/tmp/tcc_data [--seed=0 --num_train=60 ...]
  python -m tcc.datasets.synthetic --examples_png=docs/images/synthetic_examples.png

Library use: `render_video(rng)` for one video, `generate_dataset(dir)` for records,
`ensure_embedded_dataset()` for the cached default data (what the default config trains on).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator

import numpy as np
from absl import app, flags, logging

from tcc.datasets.synthetic_motion import PHASE_NAMES
from tcc.datasets.synthetic_render import SyntheticVideo, render_video, video_rng
from tcc.datasets.synthetic_scene import Variation
from tcc.datasets.synthetic_writer import (
    DATASET_NAME,
    GENERATOR_VERSION,
    dataset_request,
    generate_dataset,
)

__all__ = [
    "DATASET_NAME",
    "GENERATOR_VERSION",
    "PHASE_NAMES",
    "SyntheticVideo",
    "Variation",
    "default_cache_dir",
    "ensure_embedded_dataset",
    "generate_dataset",
    "render_video",
    "save_example_strip",
    "video_rng",
]


def default_cache_dir() -> str:
    """`$TCC_CACHE_DIR/synthetic`, else `$XDG_CACHE_HOME/tcc/synthetic` or `~/.cache/tcc/...`."""
    base = os.environ.get("TCC_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "tcc")
    return os.path.join(base, "synthetic")


def _cache_key(request: dict) -> str:
    """Readable and unique: `v1-seed0-64px-60x20-40to120f-<hash of the whole request>`."""
    digest = hashlib.sha1(json.dumps(request, sort_keys=True).encode()).hexdigest()[:8]
    r = request
    return (
        f"{r['version']}-seed{r['seed']}-{r['image_size']}px-{r['num_train']}x{r['num_val']}-"
        f"{r['min_frames']}to{r['max_frames']}f-{digest}"
    )


def _cache_is_valid(dataset_dir: str, request: dict) -> bool:
    """True if `dataset_dir` holds meta.json equal to `request` and the records of each split."""
    try:
        with open(os.path.join(dataset_dir, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    shards = request["num_shards"]
    expected = [
        os.path.join(dataset_dir, f"{split}-{i:05d}-of-{shards:05d}.tfrecord")
        for split in ("train", "val")
        if request[f"num_{split}"] > 0
        for i in range(shards)
    ]
    same = all(meta.get(k) == v for k, v in request.items())
    return same and all(os.path.isfile(p) for p in expected)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """Holds an exclusive file lock so that concurrent runs generate the cache only once."""
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_embedded_dataset(
    cache_dir: str | None = None, seed: int = 0, image_size: int = 64, **kwargs
) -> str:
    """Returns the data root of the embedded dataset, generating it on first use.

    The data lives in `<cache_dir>/<version>-seed<seed>-<size>px-...-<hash>/<dataset_name>/`; a
    later call with the same arguments finds its `meta.json` and reuses it. Concurrent calls wait
    for each other (file lock), so parallel runs generate it once.

    Args:
      cache_dir: where cached datasets live; `default_cache_dir()` when None.
      seed: dataset seed.
      image_size: frame size in pixels.
      **kwargs: other `generate_dataset` arguments (num_train, num_val, min_frames, max_frames,
        num_shards, dataset_name, variation, difficulty, num_workers).

    Returns:
      The data root (use as `data.path`; the dataset name is `kwargs.get('dataset_name',
      'synthetic_pouring')`).
    """
    # One process by default: worker processes are spawned, which re-imports the caller's main
    # module and deadlocks scripts and notebooks without an `if __name__ == "__main__"` guard;
    # the gain from a second worker is small (~10 %). The CLI uses 2.
    num_workers = kwargs.pop("num_workers", 1)
    request = dataset_request(seed=seed, image_size=image_size, **kwargs)
    cache_dir = cache_dir or default_cache_dir()
    root = os.path.join(cache_dir, _cache_key(request))
    os.makedirs(cache_dir, exist_ok=True)
    with _locked(root + ".lock"):
        if _cache_is_valid(os.path.join(root, request["dataset_name"]), request):
            logging.info("Using the cached embedded dataset at %s", root)
            return root
        logging.info("Generating the embedded dataset into %s (first use; cached after)", root)
        path = generate_dataset(
            root,
            seed=seed,
            image_size=image_size,
            num_workers=num_workers,
            overwrite=True,
            **kwargs,
        )
    with open(os.path.join(path, "meta.json")) as f:
        logging.info("Embedded dataset ready in %.1f s: %s", json.load(f)["seconds"], path)
    return root


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
      path: output PNG path (directories are created).
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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def _define_flags(fv: flags.FlagValues) -> None:
    """Defines the CLI flags in `fv` (the global FLAGS only when run as a program)."""
    defaults = {"flag_values": fv}
    flags.DEFINE_string(
        "output_dir", None, "Data root; writes <output_dir>/<dataset_name>/.", **defaults
    )
    flags.DEFINE_integer("seed", 0, "Dataset seed (same seed, same frames).", **defaults)
    flags.DEFINE_integer("num_train", 60, "Train videos.", **defaults)
    flags.DEFINE_integer("num_val", 20, "Val videos.", **defaults)
    flags.DEFINE_integer("image_size", 64, "Frame size in pixels.", **defaults)
    flags.DEFINE_integer("min_frames", 40, "Shortest video.", **defaults)
    flags.DEFINE_integer("max_frames", 120, "Longest video.", **defaults)
    flags.DEFINE_integer("num_shards", 1, "Record files per split.", **defaults)
    flags.DEFINE_string("dataset_name", DATASET_NAME, "Dataset (directory) name.", **defaults)
    flags.DEFINE_float(
        "difficulty", 1.0, "Multiplies the appearance and timing variation.", **defaults
    )
    flags.DEFINE_integer("num_workers", 2, "Render processes.", **defaults)
    flags.DEFINE_bool("overwrite", False, "Replace an existing dataset directory.", **defaults)
    flags.DEFINE_string(
        "examples_png", None, "Also (or only) save a PNG strip of examples here.", **defaults
    )


def _summary(dataset_dir: str) -> str:
    with open(os.path.join(dataset_dir, "meta.json")) as f:
        meta = json.load(f)
    lines = [f"Wrote {dataset_dir} in {meta['seconds']:.1f} s"]
    for split, s in meta["splits"].items():
        phases = ", ".join(
            f"{n}={c}" for n, c in zip(meta["phase_names"], s["phase_frames"], strict=True)
        )
        lines.append(
            f"  {split}: {s['videos']} videos, {s['frames']} frames; phase frames: {phases}"
        )
    return "\n".join(lines)


def run(f: flags.FlagValues) -> None:
    """Runs the CLI with parsed flags `f` (see `_define_flags`); prints the closing summary."""
    if not f.output_dir and not f.examples_png:
        raise app.UsageError("give --output_dir=DIR (records) and/or --examples_png=FILE.png")
    if f.examples_png:
        logging.info(
            "Saved %s", save_example_strip(f.examples_png, f.seed, image_size=f.image_size)
        )
    if not f.output_dir:
        return
    try:
        path = generate_dataset(
            f.output_dir,
            seed=f.seed,
            num_train=f.num_train,
            num_val=f.num_val,
            image_size=f.image_size,
            min_frames=f.min_frames,
            max_frames=f.max_frames,
            num_shards=f.num_shards,
            dataset_name=f.dataset_name,
            difficulty=f.difficulty,
            num_workers=f.num_workers,
            overwrite=f.overwrite,
        )
    except (ValueError, FileExistsError) as e:
        raise SystemExit(f"error: {e}") from None
    print(_summary(path))


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    run(flags.FLAGS)


if __name__ == "__main__":
    _define_flags(flags.FLAGS)
    app.run(main)
