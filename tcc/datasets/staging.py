"""Staging folders of dataset writes: output appears under its final name complete, or not at all.

A conversion writes into `<output_dir>/.tcc-convert-<random>/` (with the writing process's id in
its owner file), then moves each finished dataset into place (`commit`). A killed conversion leaves
its staging folder behind; the next one removes it (`remove_stale`) once its owner is gone.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time

from tcc import atomic

STAGING_PREFIX = ".tcc-convert-"
OWNER_FILE = ".owner-pid"


def start(output_dir: str) -> str:
    """Removes stale staging folders in `output_dir` and makes a new one owned by this process."""
    remove_stale(output_dir)
    staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=output_dir)
    with open(os.path.join(staging, OWNER_FILE), "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))
    return staging


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(output_dir: str, min_age: float = 60.0) -> list[str]:
    """Removes the `.tcc-convert-*` folders of killed conversions in `output_dir`.

    A folder is stale when the process that wrote its owner file is gone, or, without an owner
    file, when it is older than `min_age` seconds. Returns the removed paths.
    """
    removed = []
    for path in glob.glob(os.path.join(output_dir, STAGING_PREFIX + "*")):
        try:
            with open(os.path.join(path, OWNER_FILE), encoding="utf-8") as f:
                stale = not _alive(int(f.read().strip() or 0))
        except (OSError, ValueError):
            try:
                stale = time.time() - os.path.getmtime(path) > min_age
            except OSError:
                continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        print(f"removed leftovers of an interrupted conversion: {', '.join(removed)}")
    return removed


def commit(staged: str, final: str) -> None:
    """Moves a staged dataset into place; replaces `final` whole only if it holds records.

    Several datasets are staged together and committed one after the other once all are written
    (all-or-nothing over datasets: `tcc.datasets.convert.write_datasets`), hence
    `atomic.replace_directory` rather than `atomic.directory`. A `final` folder without records
    (made by the user) keeps its other files: the staged entries are moved into it.
    """
    if not os.path.exists(final) or glob.glob(os.path.join(final, "*.tfrecord")):
        atomic.replace_directory(staged, final)  # --overwrite was checked by the caller
    else:
        for entry in os.listdir(staged):
            os.replace(os.path.join(staged, entry), os.path.join(final, entry))
