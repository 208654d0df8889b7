"""The cache of generated synthetic datasets: one folder per request, made once, under a lock.

A request (`SyntheticSpec.request`) names its folder `<cache_dir>/<cache key>/` (readable and
unique: `v1-seed0-64px-60x20-40to120f-<hash of the whole request>`); the dataset inside is valid
when its `meta.json` holds the request and every record file exists. Concurrent callers wait for
each other (file lock), so parallel runs generate a dataset once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator

from absl import logging

from tcc import atomic


def default_cache_dir() -> str:
    """`$TCC_CACHE_DIR/synthetic`, else `$XDG_CACHE_HOME/tcc/synthetic` or `~/.cache/tcc/...`."""
    base = os.environ.get("TCC_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "tcc")
    return os.path.join(base, "synthetic")


def cache_key(request: dict) -> str:
    """Readable and unique: `v1-seed0-64px-60x20-40to120f-<hash of the whole request>`."""
    digest = hashlib.sha1(json.dumps(request, sort_keys=True).encode()).hexdigest()[:8]
    r = request
    return (
        f"{r['version']}-seed{r['seed']}-{r['image_size']}px-{r['num_train']}x{r['num_val']}-"
        f"{r['min_frames']}to{r['max_frames']}f-{digest}"
    )


def cache_is_valid(dataset_dir: str, request: dict) -> bool:
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


def ensure_cached(cache_dir: str | None, request: dict, write: Callable[[str], None]) -> str:
    """Returns the data root of `request`'s cached dataset, calling `write` to make it if needed.

    Args:
      cache_dir: where cached datasets live; `default_cache_dir()` when None.
      request: the dataset's request (`SyntheticSpec.request`, with `dataset_name`).
      write: writes the dataset's files into the folder it is given (a staging folder swapped in
        whole with `tcc.atomic.directory`).

    Returns:
      The data root `<cache_dir>/<cache key>` (use as `data.path`).
    """
    cache_dir = cache_dir or default_cache_dir()
    root = os.path.join(cache_dir, cache_key(request))
    final = os.path.join(root, request["dataset_name"])
    os.makedirs(root, exist_ok=True)
    with _locked(root + ".lock"):
        if cache_is_valid(final, request):
            logging.info("Using the cached %s at %s", request["dataset_name"], root)
            return root
        logging.info("Generating %s into %s (first use; cached after)", final, root)
        with atomic.directory(final) as staging:
            write(staging)
    return root
