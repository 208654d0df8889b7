"""Writes the embedded synthetic dataset as TFRecords: rendering pool, records, key events, meta.

`generate_dataset` is the entry point (re-exported by `tcc.datasets.synthetic`). TensorFlow is
imported only here, lazily, so that render workers (spawned processes) never load it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from multiprocessing import get_context
from multiprocessing.pool import Pool
from typing import TYPE_CHECKING

import numpy as np
from absl import logging

from tcc.datasets.synthetic_motion import NUM_PHASES, PHASE_NAMES
from tcc.datasets.synthetic_render import SyntheticVideo, render_video, video_rng
from tcc.datasets.synthetic_scene import Variation

if TYPE_CHECKING:  # TensorFlow is imported only when records are written
    from tcc.datasets.records import VideoExample

GENERATOR_VERSION = "v1"
DATASET_NAME = "synthetic_pouring"
FPS = 15.0  # nominal frame rate stored in the records
SPLITS = ("train", "val")


def _render_job(job: tuple) -> SyntheticVideo:
    """Worker entry point: job = (seed, split, index, image_size, min, max, variation)."""
    seed, split, index, image_size, min_frames, max_frames, variation = job
    rng = video_rng(seed, split, index)
    return render_video(rng, image_size, None, min_frames, max_frames, variation)


def _validate(
    seed: int,
    num_train: int,
    num_val: int,
    image_size: int,
    min_frames: int,
    max_frames: int,
    num_shards: int,
    name: str,
) -> None:
    """Raises ValueError naming the first invalid argument."""
    checks = [
        (seed >= 0, f"seed must be >= 0; received seed={seed}"),
        (
            num_train >= 0 and num_val >= 0 and num_train + num_val > 0,
            f"need at least one video; received num_train={num_train}, num_val={num_val}",
        ),
        (image_size >= 8, f"image_size must be >= 8; received image_size={image_size}"),
        (
            15 <= min_frames <= max_frames,
            f"need 15 <= min_frames <= max_frames; received min_frames={min_frames}, "
            f"max_frames={max_frames}",
        ),
        (num_shards >= 1, f"num_shards must be >= 1; received num_shards={num_shards}"),
        (
            bool(name) and os.sep not in name and not name.startswith("."),
            f"dataset_name must be a plain directory name; received dataset_name={name!r}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def dataset_request(
    seed: int = 0,
    num_train: int = 60,
    num_val: int = 20,
    image_size: int = 64,
    min_frames: int = 40,
    max_frames: int = 120,
    num_shards: int = 1,
    dataset_name: str = DATASET_NAME,
    variation: Variation | None = None,
    difficulty: float = 1.0,
) -> dict:
    """What determines the dataset's content, as stored in meta.json (JSON-normalised)."""
    effective = (variation or Variation()).scaled(difficulty)
    request = dict(
        generator="tcc.datasets.synthetic",
        version=GENERATOR_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        image_size=image_size,
        min_frames=min_frames,
        max_frames=max_frames,
        num_shards=num_shards,
        dataset_name=dataset_name,
        phase_names=list(PHASE_NAMES),
        variation=dataclasses.asdict(effective),
    )
    return json.loads(json.dumps(request))


def _variation_from(request: dict) -> Variation:
    fields = request["variation"].items()
    return Variation(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields})


def _render_all(request: dict, pool: Pool | None) -> Iterator[SyntheticVideo]:
    """Every video of every split in order (train, then val); submitted to `pool` at once."""
    settings = (request["image_size"], request["min_frames"], request["max_frames"])
    variation = _variation_from(request)
    jobs = [
        (request["seed"], split, i, *settings, variation)
        for split in SPLITS
        for i in range(request[f"num_{split}"])
    ]
    return pool.imap(_render_job, jobs, chunksize=2) if pool else map(_render_job, jobs)


def _examples(
    videos: Iterator[SyntheticVideo], split: str, count: int, stats: dict, events: dict
) -> Iterator[VideoExample]:
    """Yields `count` `VideoExample`s of `split`, filling `stats` and `events` on the way."""
    from tcc.datasets.records import VideoExample

    phase_frames = np.zeros(NUM_PHASES, np.int64)
    start = time.perf_counter()
    for i, video in enumerate(itertools.islice(videos, count)):
        name = f"{split}_{i:04d}"
        events[name] = video.key_events
        phase_frames += np.bincount(video.frame_labels, minlength=NUM_PHASES)
        stats.update(frames=int(phase_frames.sum()), phase_frames=phase_frames.tolist())
        if (i + 1) % 20 == 0 or i + 1 == count:
            rate = (i + 1) / max(time.perf_counter() - start, 1e-9)
            eta = (count - i - 1) / rate
            logging.info(
                "%s: %d/%d videos (%.1f videos/s, ETA %.0f s)", split, i + 1, count, rate, eta
            )
        yield VideoExample(
            name=name,
            frames=video.frames,
            frame_labels=video.frame_labels,
            fps=FPS,
            phase_names=PHASE_NAMES,
        )


def _write_all(request: dict, staging: str, num_workers: int) -> None:
    """Writes records, key_events.json and meta.json of every split under `staging`."""
    start = time.perf_counter()
    name, events, splits = request["dataset_name"], {}, {}
    pool = get_context("spawn").Pool(num_workers) if num_workers > 1 else None
    try:
        videos = _render_all(request, pool)  # workers render while TensorFlow is imported
        from tcc.datasets.records import write_split

        for split in SPLITS:
            count = request[f"num_{split}"]
            if count > 0:
                splits[split] = {"videos": count}
                examples = _examples(videos, split, count, splits[split], events)
                write_split(examples, staging, name, split, num_shards=request["num_shards"])
    finally:
        if pool is not None:
            pool.terminate()
    with open(os.path.join(staging, name, "key_events.json"), "w") as f:
        json.dump(events, f, indent=0)
    meta = dict(request, fps=FPS, splits=splits, seconds=round(time.perf_counter() - start, 2))
    with open(os.path.join(staging, name, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


def _publish(staging: str, name: str, final: str) -> None:
    """Moves `<staging>/<name>` to `final`, replacing (and on failure restoring) an old one."""
    replaced = os.path.join(staging, "replaced")
    if os.path.exists(final):
        os.rename(final, replaced)
    try:
        os.rename(os.path.join(staging, name), final)
    except OSError:
        if os.path.exists(replaced):
            os.rename(replaced, final)
        raise


def generate_dataset(
    output_dir: str,
    seed: int = 0,
    num_train: int = 60,
    num_val: int = 20,
    image_size: int = 64,
    min_frames: int = 40,
    max_frames: int = 120,
    num_shards: int = 1,
    dataset_name: str = DATASET_NAME,
    variation: Variation | None = None,
    difficulty: float = 1.0,
    num_workers: int = 2,
    overwrite: bool = False,
) -> str:
    """Renders the dataset and writes it as TFRecords, atomically.

    Writes `<output_dir>/<dataset_name>/{train,val}-*.tfrecord` (through
    `tcc.datasets.records.write_split`, with frame labels and phase names), `key_events.json`
    ({video name: [4 frames]}) and `meta.json` (the request, generator version, per-split counts,
    seconds). Everything is built in a temporary directory and renamed at the end, so an interrupted
    run leaves no half dataset.

    Args:
      output_dir: data root (`data.path` of a config).
      seed: dataset seed; the same arguments give byte-identical frames.
      num_train: number of train videos.
      num_val: number of val videos.
      image_size: frames are image_size x image_size.
      min_frames: shortest video.
      max_frames: longest video.
      num_shards: record files per split.
      dataset_name: directory and dataset name.
      variation: how much videos differ; `Variation()` when None.
      difficulty: multiplies the variation (`Variation.scaled`); > 1 is harder.
      num_workers: render processes (1 = in this process).
      overwrite: replace an existing `<output_dir>/<dataset_name>`.

    Returns:
      The dataset directory `<output_dir>/<dataset_name>`.

    Raises:
      ValueError: on an invalid argument. FileExistsError: if the dataset exists and not overwrite.
    """
    _validate(
        seed, num_train, num_val, image_size, min_frames, max_frames, num_shards, dataset_name
    )
    final = os.path.join(output_dir, dataset_name)
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"{final} already exists; pass overwrite=True (--overwrite) or another output_dir"
        )
    request = dataset_request(
        seed,
        num_train,
        num_val,
        image_size,
        min_frames,
        max_frames,
        num_shards,
        dataset_name,
        variation,
        difficulty,
    )
    os.makedirs(output_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{dataset_name}.tmp-", dir=output_dir)
    try:
        _write_all(request, staging, num_workers)
        _publish(staging, dataset_name, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
