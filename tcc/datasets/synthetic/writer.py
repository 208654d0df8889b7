"""Writes the embedded synthetic dataset as TFRecords: rendering pool, records, key events, meta.

`generate_dataset` is the entry point (re-exported by `tcc.datasets.synthetic`). TensorFlow is
imported only here, lazily, so that render workers (spawned processes) never load it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from multiprocessing import get_context
from multiprocessing.pool import Pool
from typing import TYPE_CHECKING

import numpy as np
from absl import logging

from tcc import atomic
from tcc.datasets import metadata
from tcc.datasets.synthetic.motion import NUM_PHASES, PHASE_NAMES
from tcc.datasets.synthetic.render import SyntheticVideo, render_video, video_rng
from tcc.datasets.synthetic.spec import DATASET_NAME, SPLITS, SyntheticSpec

if TYPE_CHECKING:  # TensorFlow is imported only when records are written
    from tcc.datasets.records import VideoExample

GENERATOR_VERSION = "v1"
GENERATOR = "tcc.datasets.synthetic"
FPS = 15.0  # nominal frame rate stored in the records

__all__ = ["DATASET_NAME", "FPS", "GENERATOR_VERSION", "generate_dataset", "write_dataset"]


def _render_job(job: tuple[SyntheticSpec, str, int]) -> SyntheticVideo:
    """Worker entry point: job = (spec, split, index)."""
    spec, split, index = job
    rng = video_rng(spec.seed, split, index)
    return render_video(
        rng, spec.image_size, None, spec.min_frames, spec.max_frames, spec.effective_variation()
    )


def _render_all(spec: SyntheticSpec, pool: Pool | None) -> Iterator[SyntheticVideo]:
    """Every video of every split in order (train, then val); submitted to `pool` at once."""
    jobs = [(spec, split, i) for split in SPLITS for i in range(spec.num_videos(split))]
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


def write_annotations(
    dataset_dir: str, request: dict, events: dict, splits: dict, seconds: float
) -> None:
    """Writes the annotations of a synthetic dataset next to its records.

    `key_events.json` ({video: [4 frames]}), `meta.json` (the request, fps, per-split counts,
    seconds) and `dataset.json` (`tcc.datasets.metadata`: the 5 phases).
    """
    atomic.write_json(os.path.join(dataset_dir, "key_events.json"), events, indent=0)
    meta = dict(request, fps=FPS, splits=splits, seconds=round(seconds, 2))
    atomic.write_json(os.path.join(dataset_dir, "meta.json"), meta)
    metadata.write(dataset_dir, metadata.DatasetMetadata(len(PHASE_NAMES), list(PHASE_NAMES)))


def write_dataset(spec: SyntheticSpec, dataset_dir: str, num_workers: int = 1) -> None:
    """Renders every video of `spec` and writes records and annotations into `dataset_dir`.

    Not atomic by itself (`generate_dataset` stages `dataset_dir` and swaps it in whole).
    """
    start = time.perf_counter()
    root, name = os.path.split(os.path.abspath(dataset_dir))
    events, splits = {}, {}
    pool = get_context("spawn").Pool(num_workers) if num_workers > 1 else None
    try:
        videos = _render_all(spec, pool)  # workers render while TensorFlow is imported
        from tcc.datasets.records import write_split

        for split in SPLITS:
            count = spec.num_videos(split)
            if count > 0:
                splits[split] = {"videos": count}
                examples = _examples(videos, split, count, splits[split], events)
                write_split(examples, root, name, split, num_shards=spec.num_shards)
    finally:
        if pool is not None:
            pool.terminate()
    request = spec.request(GENERATOR, GENERATOR_VERSION)
    write_annotations(dataset_dir, request, events, splits, time.perf_counter() - start)


def generate_dataset(
    output_dir: str,
    spec: SyntheticSpec | None = None,
    num_workers: int = 2,
    overwrite: bool = False,
) -> str:
    """Renders the dataset of `spec` and writes it as TFRecords, atomically.

    Writes `<output_dir>/<spec.dataset_name>/{train,val}-*.tfrecord` (through
    `tcc.datasets.records.write_split`, with frame labels and phase names), `key_events.json`
    ({video name: [4 frames]}), `meta.json` (the request, generator version, per-split counts,
    seconds) and `dataset.json` (`tcc.datasets.metadata`). The folder is staged and swapped in
    whole (`tcc.atomic.directory`), so an interrupted run leaves no half dataset.

    Args:
      output_dir: data root (`data.path` of a config).
      spec: what to generate; `SyntheticSpec()` (the default dataset) when None.
      num_workers: render processes (1 = in this process).
      overwrite: replace an existing `<output_dir>/<dataset_name>`.

    Returns:
      The dataset directory `<output_dir>/<dataset_name>`.

    Raises:
      FileExistsError: if the dataset exists and not overwrite.
    """
    spec = spec or SyntheticSpec()
    final = os.path.join(output_dir, spec.dataset_name)
    if os.path.exists(final) and not overwrite:
        raise FileExistsError(
            f"{final} already exists; pass overwrite=True (--overwrite) or another output_dir"
        )
    with atomic.directory(final) as staging:
        write_dataset(spec, staging, num_workers)
    return final
