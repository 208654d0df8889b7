"""A split folder of the own-videos layout: its sources, and the reader of each kind.

A *source* is one entry of `<input_dir>/<split>/` (docs/data.md): a video file or a frame folder
(`tcc.datasets.sources.video_io`), or a per-video feature / keypoint file (`.npy .csv .mat`,
`tcc.datasets.sources.feature_io`, read as float32 [T, F] instead of frames).

Each source kind is one reader function registered in `SOURCE_READERS`; adding a kind means writing
one reader and adding one entry there and in `source_kind`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import numpy as np

from tcc.datasets.sources import feature_io, video_io
from tcc.datasets.sources.video_io import FrameOptions, VideoReadError

FEATURE_EXTENSIONS = (".npy", ".csv", ".mat")


@dataclasses.dataclass(frozen=True)
class Source:
    """One video of a split: `name` (file stem or folder name), its `path` and `kind`."""

    name: str
    path: str
    kind: str


def source_kind(path: str) -> str | None:
    """Kind of a split-folder entry: 'video', 'frames', 'features', or None (skipped)."""
    base = os.path.basename(path)
    if base.startswith("."):
        return None
    if os.path.isdir(path):
        return "frames"
    if os.path.splitext(base)[1].lower() in video_io.VIDEO_EXTENSIONS:
        return "video"
    if os.path.splitext(base)[1].lower() in FEATURE_EXTENSIONS:
        return "features"
    return None


def find_sources(split_dir: str) -> list[Source]:
    """Lists the videos of one split folder, sorted by name.

    Files that are neither videos nor folders (and hidden entries) are skipped.

    Raises:
      VideoReadError: if two entries share a name (`clip.mp4` and `clip/`).
    """
    sources: dict[str, Source] = {}
    for entry in sorted(os.listdir(split_dir), key=video_io.natural_key):
        path = os.path.join(split_dir, entry)
        kind = source_kind(path)
        if kind is None:
            continue
        name = entry if kind == "frames" else os.path.splitext(entry)[0]
        if name in sources:
            raise VideoReadError(
                f"{path}: another entry of {split_dir} is also named {name!r} "
                f"({sources[name].path}); rename one of them"
            )
        sources[name] = Source(name=name, path=path, kind=kind)
    return list(sources.values())


SOURCE_READERS: dict[str, Callable[[str, FrameOptions], tuple[np.ndarray, float | None]]] = {
    "video": video_io.read_video_file,
    "frames": video_io.read_frame_folder,
    "features": feature_io.read_feature_source,
}


def read_source(source: Source, options: FrameOptions) -> tuple[np.ndarray, float | None]:
    """Reads one source with the reader registered for its kind; see `SOURCE_READERS`."""
    return SOURCE_READERS[source.kind](source.path, options)


def known_num_frames(source: Source) -> int | None:
    """Frame count known without decoding (frame folders, feature files), else None (videos)."""
    if source.kind == "frames":
        return len(video_io.list_frame_files(source.path))
    if source.kind == "features":
        return feature_io.feature_shape(source.path)[0]
    return None


def check_sources(sources: Sequence[Source]) -> int | None:
    """Checks that the videos of one dataset are all feature files of one width, or none is.

    Returns:
      F of the feature files, or None when there are none.

    Raises:
      feature_io.FeatureFileError: if feature files are mixed with videos or frame folders, or
        their F differ (the file and both widths are named).
    """
    features = [s for s in sources if s.kind == "features"]
    if not features:
        return None
    others = [s for s in sources if s.kind != "features"]
    if others:
        raise feature_io.FeatureFileError(
            f"{others[0].path}: a dataset holds either feature files or videos, but this one mixes "
            f"them (e.g. {features[0].path}); convert them as two datasets"
        )
    first = feature_io.feature_shape(features[0].path)[1]
    for source in features[1:]:
        width = feature_io.feature_shape(source.path)[1]
        if width != first:
            raise feature_io.FeatureFileError(
                f"{source.path}: {width} values per frame but {features[0].path} has {first}; "
                "every video of a dataset needs the same number of features per frame"
            )
    return first
