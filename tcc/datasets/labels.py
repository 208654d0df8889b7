"""Phase labels of own videos: per-frame label files, key events, phase names, validation.

Formats (docs/data.md):

  * `labels/<video>.txt`: one integer phase id per frame, one per line (blank lines and lines
    starting with `#` are ignored).
  * `labels/<video>.npy`: an integer array [T] (or [T, 1]).
  * `labels/<video>.csv`: one column of ids, with or without a header; with several columns, the
    one whose header is `label` or `phase` (any case).
  * `key_events.json`: `{"<video>": [e1, e2, ...]}`, 0-based frame indices where phase k+1
    begins. n events give n+1 phases: frames [0, e1) are phase 0, [e1, e2) phase 1, ...,
    [en, T) phase n. Events must be strictly increasing and lie in [1, T-1], so that every
    phase has at least one frame.
  * `phases.json`: the phase names, `["reaching", "lifting", ...]` (or `{"phase_names": [...]}`).

Phase ids are >= 0; -1 marks a frame as unlabelled. All frame indices refer to the frames of the
input video, before any fps resampling.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from tcc.errors import UserError

LABEL_EXTENSIONS = (".txt", ".npy", ".csv")
_CSV_COLUMNS = ("label", "phase")


class LabelError(UserError, ValueError):
    """Phase labels or key events are malformed; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class Annotation:
    """The phase annotation of one video: per-frame `labels` [T] or `key_events`, and its file."""

    path: str
    labels: np.ndarray | None = None
    key_events: tuple[int, ...] | None = None
    video: str = ""

    def dense(self, num_frames: int, num_phases: int | None = None) -> np.ndarray:
        """Per-frame phase ids int64 [num_frames], validated against the video length.

        Raises:
          LabelError: on a count mismatch, out-of-range events or ids >= num_phases.
        """
        if self.key_events is not None:
            check_key_events(self.key_events, num_frames, self.path, self.video)
            labels = key_events_to_labels(self.key_events, num_frames)
        else:
            labels = self.labels
            if len(labels) != num_frames:
                raise LabelError(
                    f"{self.path}: {len(labels)} labels but the video has {num_frames} frames; "
                    "give one phase id per frame"
                )
        if num_phases is not None and labels.max() >= num_phases:
            raise LabelError(
                f"{self.path}: phase id {int(labels.max())} but phases.json names only "
                f"{num_phases} phases (ids 0..{num_phases - 1}); fix the ids or the names"
            )
        return labels


def _check_ids(values: np.ndarray, path: str) -> np.ndarray:
    if values.size == 0:
        raise LabelError(f"{path}: no labels; give one phase id per frame")
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        raise LabelError(f"{path}: labels must be integers (phase ids); received {values[:5]}...")
    values = values.astype(np.int64)
    if values.min() < -1:
        raise LabelError(
            f"{path}: phase id {int(values.min())}; ids are >= 0 (or -1 for unlabelled frames)"
        )
    return values


def _parse_numbers(tokens: Iterable[tuple[int, str]], path: str) -> np.ndarray:
    values = []
    for line_no, token in tokens:
        try:
            values.append(float(token))
        except ValueError:
            raise LabelError(
                f"{path}: line {line_no}: {token!r} is not a phase id; give one integer per line"
            ) from None
    return np.asarray(values, np.float64)


def _read_txt(path: str) -> np.ndarray:
    with open(path, encoding="utf-8") as f:
        lines = [(i + 1, line.strip()) for i, line in enumerate(f)]
    return _parse_numbers([(i, s) for i, s in lines if s and not s.startswith("#")], path)


def _read_npy(path: str) -> np.ndarray:
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise LabelError(f"{path}: not a readable .npy array ({e})") from None
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
        raise LabelError(
            f"{path}: expected a 1-D numeric array [T]; received dtype={values.dtype} "
            f"shape={values.shape}"
        )
    return values.astype(np.float64)


def _read_csv(path: str) -> np.ndarray:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(i + 1, [c.strip() for c in r]) for i, r in enumerate(csv.reader(f)) if r]
    if not rows:
        return np.zeros([0])
    header = rows[0][1]
    has_header = any(_not_number(c) for c in header)
    column = 0
    if has_header:
        names = [c.lower() for c in header]
        matches = [names.index(n) for n in _CSV_COLUMNS if n in names]
        if matches:
            column = matches[0]
        elif len(header) > 1:
            raise LabelError(
                f"{path}: {len(header)} columns {header} and none is named 'label' or 'phase'; "
                "name the phase-id column 'label'"
            )
        rows = rows[1:]
    elif len(header) > 1:
        raise LabelError(
            f"{path}: {len(header)} columns and no header; give a single column of phase ids, "
            "or a header with a column named 'label'"
        )
    tokens = [(i, r[column] if column < len(r) else "") for i, r in rows]
    return _parse_numbers(tokens, path)


def _not_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


_READERS = {".txt": _read_txt, ".npy": _read_npy, ".csv": _read_csv}


def read_label_file(path: str) -> np.ndarray:
    """Reads a per-frame label file (.txt, .npy or .csv; see the module docstring).

    Returns:
      int64 [T] phase ids (-1 = unlabelled frame).

    Raises:
      LabelError: if the file is empty, malformed, or holds non-integer or negative ids.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in _READERS:
        raise LabelError(f"{path}: unsupported label file; use one of {LABEL_EXTENSIONS}")
    return _check_ids(_READERS[ext](path), path)


def find_label_files(labels_dir: str) -> dict[str, str]:
    """Maps video name -> label file for every file of a labels folder.

    Raises:
      LabelError: for a file with another extension or two files for one video.
    """
    found: dict[str, str] = {}
    for entry in sorted(os.listdir(labels_dir)):
        path = os.path.join(labels_dir, entry)
        if entry.startswith(".") or os.path.isdir(path):
            continue
        stem, ext = os.path.splitext(entry)
        if ext.lower() not in LABEL_EXTENSIONS:
            raise LabelError(
                f"{path}: unsupported label file; use <video>.txt, .npy or .csv, one phase id per "
                "frame (or remove the file)"
            )
        if stem in found:
            raise LabelError(f"{path}: video {stem!r} also has {found[stem]}; keep only one")
        found[stem] = path
    return found


def read_key_events(path: str) -> dict[str, tuple[int, ...]]:
    """Reads `key_events.json` and checks each list is integers, >= 1 and strictly increasing.

    The upper bound (T-1) is checked by `check_key_events` once the video length is known.

    Returns:
      dict video name -> tuple of event frame indices.

    Raises:
      LabelError: naming the file and video on malformed JSON or events.
    """
    data = _read_json(path)
    if not isinstance(data, dict):
        raise LabelError(f'{path}: expected an object {{"<video>": [e1, e2, ...]}}')
    events = {}
    for video, values in data.items():
        if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        ):
            raise LabelError(
                f"{path}: {video}: key events must be a list of integer frame indices; "
                f"received {values!r}"
            )
        check_key_events(values, None, path, video)
        events[video] = tuple(values)
    return events


def check_key_events(events: Sequence[int], num_frames: int | None, path: str, video: str) -> None:
    """Checks events are strictly increasing and in [1, num_frames - 1].

    Raises:
      LabelError: naming `path` and `video` otherwise.
    """
    ev = np.asarray(events, np.int64)
    if ev.size and np.any(np.diff(ev) <= 0):
        raise LabelError(
            f"{path}: {video}: key events {list(events)} are not strictly increasing; list the "
            "frames where each phase begins, in order"
        )
    upper = None if num_frames is None else num_frames - 1
    for e in events:
        if e < 1 or (upper is not None and e > upper):
            bound = "T-1" if upper is None else f"{upper}"
            raise LabelError(
                f"{path}: {video}: key event {e} is outside [1, {bound}]"
                + ("" if num_frames is None else f" for a video of {num_frames} frames")
                + "; events are 0-based frames where a phase begins, so every phase gets a frame"
            )


def key_events_to_labels(events: Sequence[int], num_frames: int) -> np.ndarray:
    """Dense phase ids from key events: frame t gets the number of events <= t.

    Returns:
      int64 [num_frames] with values in [0, len(events)].
    """
    return np.searchsorted(np.asarray(events, np.int64), np.arange(num_frames), side="right")


def labels_to_key_events(labels: np.ndarray) -> list[int] | None:
    """Inverse of `key_events_to_labels` when labels go 0, 1, ..., n in order; else None."""
    labels = np.asarray(labels)
    steps = np.diff(labels)
    if labels[0] != 0 or np.any((steps != 0) & (steps != 1)):
        return None
    return [int(t) for t in np.flatnonzero(steps) + 1]


def read_phase_names(path: str) -> list[str]:
    """Reads `phases.json`: a list of names, or an object with a `phase_names` list."""
    data = _read_json(path)
    if isinstance(data, dict):
        data = data.get("phase_names")
    if not isinstance(data, list) or not data or not all(isinstance(n, str) for n in data):
        raise LabelError(
            f'{path}: expected a list of phase names, e.g. ["reaching", "lifting"]; '
            f"received {data!r}"
        )
    return data


def match_annotations(
    videos: Iterable[str],
    label_files: Mapping[str, str],
    key_events: Mapping[str, Sequence[int]],
    key_events_path: str,
    num_phases: int | None = None,
) -> dict[str, Annotation]:
    """Reads the label files and key events and assigns them to videos.

    Args:
      videos: names of all videos of the dataset (every split).
      label_files: video name -> per-frame label file.
      key_events: video name -> event frames, read from `key_events_path`.
      key_events_path: the key events file, for messages.
      num_phases: if phase names are given, the number of phases every key-event list implies.

    Returns:
      dict video name -> Annotation, for labelled videos only.

    Raises:
      LabelError: for labels or events of an unknown video, a video given both, or a wrong
        number of key events.
    """
    videos = set(videos)
    for name, path in label_files.items():
        if name not in videos:
            raise unknown_video_error(path, name, videos)
        if name in key_events:
            raise LabelError(
                f"{path}: video {name!r} also has key events in {key_events_path}; give one or "
                "the other"
            )
    out = {n: Annotation(p, labels=read_label_file(p), video=n) for n, p in label_files.items()}
    for name, events in key_events.items():
        if name not in videos:
            raise unknown_video_error(key_events_path, name, videos)
        if num_phases is not None and len(events) != num_phases - 1:
            raise LabelError(
                f"{key_events_path}: {name}: {len(events)} key events give {len(events) + 1} "
                f"phases but phases.json names {num_phases}; give {num_phases - 1} events"
            )
        out[name] = Annotation(key_events_path, key_events=tuple(events), video=name)
    return out


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise LabelError(f"{path}: cannot read ({e.strerror})") from None
    except ValueError as e:
        raise LabelError(f"{path}: not valid JSON ({e})") from None


def unknown_video_error(path: str, name: str, videos: set[str]) -> LabelError:
    """The error for labels or key events in `path` that name a video not in `videos`."""
    shown = ", ".join(sorted(videos)[:5]) + (", ..." if len(videos) > 5 else "")
    return LabelError(
        f"{path}: labels for unknown video {name!r}; no video has that name; check the "
        f"spelling or remove the entry (videos: {shown or 'none'})"
    )
