"""Atomic writes: a file or folder appears under its final name complete, or not at all.

Every writer in the package goes through these helpers: the output is staged under a hidden
temporary name in the same folder (so the final `os.replace` is a rename on one file system) and
renamed into place only when it is complete. A crash or kill leaves either the old output or the
new one, never a partial file; the temporary is removed on an exception.

    with atomic.path("out/plot.png") as tmp:   # tmp keeps the extension: out/.plot.<id>.tmp.png
        figure.savefig(tmp)
    atomic.write_json("run/config.json", {"a": 1})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any


def _staging_name(final: str, suffix: str = "") -> str:
    folder = os.path.dirname(os.path.abspath(final))
    base, ext = os.path.splitext(os.path.basename(final))
    return os.path.join(folder, f".{base}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{suffix or ext}")


@contextlib.contextmanager
def path(final: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary file name next to `final` (same extension); renames it on success.

    The parent folder is created if needed. On an exception the temporary is removed and `final`
    is left as it was.
    """
    final = os.fspath(final)
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    tmp = _staging_name(final)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(final: str | os.PathLike, data: bytes) -> str:
    """Writes `data` to `final` atomically; returns the path."""
    with path(final) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return os.fspath(final)


def write_text(final: str | os.PathLike, text: str) -> str:
    """Writes UTF-8 `text` to `final` atomically; returns the path."""
    with path(final) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return os.fspath(final)


def write_json(final: str | os.PathLike, data: Any, indent: int | None = 2) -> str:
    """Writes `data` as JSON (sorted keys) to `final` atomically; returns the path."""
    return write_text(final, json.dumps(data, indent=indent, sort_keys=True) + "\n")


def replace_directory(staged: str | os.PathLike, final: str | os.PathLike) -> str:
    """Moves the complete folder `staged` to `final`, replacing an existing `final` whole.

    An existing `final` is moved aside first and deleted only after the new folder is in place;
    if the swap fails it is put back. For writers that stage several folders before committing
    them (all-or-nothing over folders); a single folder is simpler with `directory`.

    Returns:
      `final`.
    """
    staged, final = os.fspath(staged), os.fspath(final)
    old = None
    if os.path.exists(final):
        old = _staging_name(final, suffix=".old")
        os.replace(final, old)
    try:
        os.replace(staged, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


@contextlib.contextmanager
def directory(final: str | os.PathLike) -> Iterator[str]:
    """Yields a fresh staging folder next to `final`; on success it replaces `final` whole.

    An existing `final` is moved aside first and deleted only after the new folder is in place;
    if the swap fails it is put back (`replace_directory`). On an exception the staging folder is
    removed and `final` is untouched.
    """
    final = os.fspath(final)
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    staging = _staging_name(final, suffix=".dir")
    os.makedirs(staging)
    try:
        yield staging
        replace_directory(staging, final)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
