"""Reading per-video feature / keypoint files: `.npy`, `.csv` and Penn-Action-style `.mat`.

A feature file holds one video: one row of values per frame (docs/poses.md):

  * `<video>.npy`: float [T, F] (features) or [T, J, C] (J joints with C values each, e.g. x, y
    or x, y, visibility); NaN marks a missing value (e.g. a joint the pose estimator lost).
  * `<video>.csv`: one row per frame, one column per value. A header row is optional; with a
    header, the columns `frame`, `frame_index`, `index`, `time` and `timestamp` (any case) are
    frame numbering, not features, and are dropped. An empty cell (or `nan`) is a missing value.
  * `<video>.mat`: MATLAB arrays `x` and `y` [T, J] and optionally `visibility` [T, J] (Penn
    Action's `labels/NNNN.mat`); read as [T, J, 2] or [T, J, 3] = (x, y, visibility).

`read_features` returns the array in its own shape; `read_feature_source` flattens it to [T, F]
(joint-major) for the records. Problems raise `FeatureFileError`, which names the file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

import numpy as np

from tcc.datasets.sources.video_io import FrameOptions, VideoReadError

FEATURE_EXTENSIONS = (".npy", ".csv", ".mat")
INDEX_COLUMNS = ("frame", "frame_index", "index", "time", "timestamp")


class FeatureFileError(VideoReadError):
    """A feature file cannot be read or is malformed; the message names the file and the problem."""


def _check(array: np.ndarray, path: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise FeatureFileError(f"{path}: {array.dtype} values; feature files must be numeric")
    if array.ndim not in (2, 3) or array.shape[0] == 0 or array.size == 0:
        raise FeatureFileError(
            f"{path}: array of shape {array.shape}; expected [T, F] or [T, J, C] with T >= 1"
        )
    array = array.astype(np.float32)
    if np.isinf(array).any():
        frame = int(np.argwhere(np.isinf(array))[0][0])
        raise FeatureFileError(
            f"{path}: infinite value in frame {frame}; use NaN for missing values"
        )
    if np.isnan(array).all():
        raise FeatureFileError(
            f"{path}: every value is NaN (no frame has a usable value); fix the file or remove it"
        )
    return array


def _read_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise FeatureFileError(f"{path}: unreadable .npy file ({e})") from None


def _cell(text: str, path: str, row: int, column: int) -> float:
    text = text.strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise FeatureFileError(
            f"{path}: row {row}, column {column + 1}: {text!r} is not a number; feature CSVs hold "
            "numbers (empty cells for missing values) below an optional header"
        ) from None


def _is_header(cells: Sequence[str]) -> bool:
    for cell in cells:
        text = cell.strip()
        if text and text.lower() != "nan":
            try:
                float(text)
            except ValueError:
                return True
    return False


def _read_csv(path: str) -> np.ndarray:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [(i + 1, r) for i, r in enumerate(csv.reader(f)) if any(c.strip() for c in r)]
    if not rows:
        raise FeatureFileError(f"{path}: empty CSV; give one row of values per frame")
    keep = list(range(len(rows[0][1])))
    if _is_header(rows[0][1]):
        header = [c.strip().lower() for c in rows[0][1]]
        keep = [i for i, name in enumerate(header) if name not in INDEX_COLUMNS]
        rows = rows[1:]
    width = len(rows[0][1]) if rows else 0
    values = []
    for line, cells in rows:
        if len(cells) != width:
            raise FeatureFileError(
                f"{path}: row {line} has {len(cells)} columns but row {rows[0][0]} has {width}"
            )
        values.append([_cell(cells[i], path, line, i) for i in keep])
    return np.asarray(values, dtype=np.float64).reshape(len(values), len(keep))


def _read_mat(path: str) -> np.ndarray:
    import scipy.io

    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # noqa: BLE001 - scipy raises several types for bad files
        raise FeatureFileError(f"{path}: unreadable .mat file ({e})") from None
    keys = ["x", "y"] + (["visibility"] if "visibility" in mat else [])
    missing = [k for k in ("x", "y") if k not in mat]
    if missing:
        raise FeatureFileError(
            f"{path}: no {' or '.join(missing)} array; a keypoint .mat holds x and y [T, J] "
            "(and optionally visibility [T, J]), as Penn Action's labels/NNNN.mat"
        )
    arrays = [np.asarray(mat[k], dtype=np.float64) for k in keys]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 2:
        raise FeatureFileError(
            f"{path}: {', '.join(keys)} must share one [T, J] shape; received "
            + ", ".join(f"{k}{a.shape}" for k, a in zip(keys, arrays, strict=True))
        )
    return np.stack(arrays, axis=-1)


_READERS = {".npy": _read_npy, ".csv": _read_csv, ".mat": _read_mat}


def read_features(path: str) -> np.ndarray:
    """Reads one feature file (module doc) in its own shape.

    Returns:
      float32 [T, F] or [T, J, C]; NaN where values are missing.

    Raises:
      FeatureFileError: naming the file, if it is unreadable, not numeric or badly shaped.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in _READERS:
        raise FeatureFileError(
            f"{path}: unknown feature file type {ext!r}; use {', '.join(FEATURE_EXTENSIONS)}"
        )
    return _check(np.asarray(_READERS[ext](path)), path)


def flatten(array: np.ndarray) -> np.ndarray:
    """[T, F] or [T, J, C] -> float32 [T, F] (joint-major: x0, y0, ..., x1, y1, ...)."""
    return np.asarray(array, np.float32).reshape(len(array), -1)


def read_feature_source(path: str, options: FrameOptions) -> tuple[np.ndarray, float | None]:
    """The converter's reader for feature files (`own_videos.SOURCE_READERS['features']`).

    Returns:
      (features float32 [T, F], `options.folder_fps`: feature files carry no frame rate).
    """
    return flatten(read_features(path)), options.folder_fps


def feature_shape(path: str) -> tuple[int, int]:
    """(T, F) of a feature file; cheap for `.npy` (header only).

    Raises:
      FeatureFileError: as `read_features`.
    """
    if path.lower().endswith(".npy"):
        try:
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        except (OSError, ValueError) as e:
            raise FeatureFileError(f"{path}: unreadable .npy file ({e})") from None
        if len(shape) in (2, 3) and shape[0] > 0:
            return int(shape[0]), int(np.prod(shape[1:]))
    array = read_features(path)
    return len(array), int(np.prod(array.shape[1:]))
