"""Videos for the apps: files, frame folders, records or precomputed embeddings -> `Video`.

A *video argument* is one of
  * a video file (`.mp4 .avi .mov .webm .mkv`) or a frame folder (`.jpg / .png`, natural order);
  * `records:<dataset>/<split>` (every video of a split) or `records:<dataset>/<split>:<name>`;
  * a bare video name, looked up in `--embeddings` (if given), then in the records of
    `--dataset` / `--split` (defaults: the run's first dataset and `val`).
Everything that needs embedding (files and records) is written to one temporary records split,
resized to the run's `data.image_size`, and embedded in one pass by
`tcc.evaluation.embed.embed_split`: own videos and dataset videos take the evaluation code path.
Embeddings come from a trained run (`tcc.runs.Run`: `--logdir`, newest checkpoint or
`--checkpoint`) or from a `.npz` written by `python -m tcc.extract_embeddings` (`--embeddings`).

`VideoSources` holds where videos come from, as plain values (the command lines fill it from
their flags in `tcc.apps.cli_common.video_sources`); `resolve` / `resolve_one` / `collection`
turn video arguments into `Video`s. The steps are plain functions too: `read_records` (a records
split, with stick figures for pose records), `embed_videos` (frames -> embeddings with an embed
function) and `load_table` (an embeddings file).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tcc.errors import UserError
from tcc.evaluation.embeddings_file import load_npz

if TYPE_CHECKING:  # TensorFlow is imported only when videos are read or embedded
    from tcc import runs
    from tcc.evaluation.embed import EmbedFn

RECORDS_PREFIX = "records:"
_VIDEO_EXTS = (".mp4", ".avi", ".mov", ".webm", ".mkv")
_TMP_DATASET, _TMP_SPLIT = "inputs", "apps"


class AppError(UserError, ValueError):
    """Bad input to an app: the message says what is wrong and how to fix it."""


@dataclasses.dataclass
class Video:
    """One embedded video.

    Attributes:
      name: video name (record name, file stem or folder name).
      source: the argument it came from (path or records spec).
      embs: float32 [T, D] embeddings of the embedded frames.
      labels: int32 [T] phase id per embedded frame (-1 where unlabelled).
      frame_indices: int32 [T] frame index of each embedding.
      fps: frames per second, if known.
      phase_names: names of the phase ids, if known.
      path: the video file or frame folder for file inputs, else None.
      origin: (dataset, split) for videos read from records, else None.
      raw: all frames of the video, uint8 [L, H, W, 3] or L JPEG byte strings, or None.
    """

    name: str
    source: str
    embs: np.ndarray
    labels: np.ndarray
    frame_indices: np.ndarray
    fps: float | None = None
    phase_names: list[str] | None = None
    path: str | None = None
    origin: tuple[str, str] | None = None
    raw: np.ndarray | list[bytes] | None = None

    @property
    def has_frames(self) -> bool:
        return self.raw is not None

    @property
    def has_labels(self) -> bool:
        return bool((self.labels >= 0).any())

    def image(self, j: int) -> np.ndarray:
        """uint8 [H, W, 3]: the frame of embedding `j`."""
        frame = self.raw[int(self.frame_indices[j])]
        if isinstance(frame, bytes):
            import tensorflow as tf

            return tf.io.decode_jpeg(frame, channels=3).numpy()
        return np.asarray(frame)

    def images(self) -> np.ndarray:
        """uint8 [T, H, W, 3]: the frames of all embeddings."""
        return np.stack([self.image(j) for j in range(len(self.embs))])

    def phase_name(self, label: int) -> str:
        """Display name of a phase id ('' for -1)."""
        if label < 0:
            return ""
        names = self.phase_names or []
        return names[label] if label < len(names) else f"phase {label}"


@dataclasses.dataclass
class VideoSources:
    """Where the apps' videos come from: plain values, no flags.

    Attributes:
      run: the trained run that embeds videos, or None (embeddings files only).
      table: the contents of an embeddings file (`load_table`), or None.
      table_path: that file's path (named in messages).
      data_path: the records root; None: the run's (`tcc.datasets.data_root.resolve`).
      dataset: dataset of bare video names (None: the run's first dataset).
      split: split of bare video names.
      stride: embed every k-th frame.
      folder_fps: frame rate of frame-folder inputs.
    """

    run: runs.Run | None = None
    table: dict | None = None
    table_path: str | None = None
    data_path: str | None = None
    dataset: str | None = None
    split: str = "val"
    stride: int = 1
    folder_fps: float | None = None
    _cache: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if self.dataset is None and self.run is not None:
            self.dataset = self.run.cfg.datasets[0]

    @property
    def cfg(self):
        """The run's config, or None."""
        return self.run.cfg if self.run is not None else None

    @property
    def root(self) -> str | None:
        """The records root, or None when neither `data_path` nor a run gives one."""
        if "root" not in self._cache:
            from tcc.datasets import data_root

            root = self.data_path or (data_root.resolve(self.cfg) if self.run else None)
            self._cache["root"] = root
        return self._cache["root"]

    def embed_fn(self) -> EmbedFn:
        """The run's embed function (its checkpoint is restored on first use)."""
        if self.run is None:
            raise AppError("embedding videos needs a trained model: pass --logdir=DIR")
        return self.run.embed_fn()


def read_records(
    root: str, dataset: str, split: str, kind: str = "frames", pose_cfg=None
) -> dict[str, dict]:
    """A records split by video name: {video, frame_labels, fps, phase_names, ...} each.

    `video` is the list of JPEG frames; for pose records (`kind='features'`) it is stick figures
    of the keypoints drawn as `pose_cfg` (a run's `cfg.pose`) describes, or None.
    """
    from tcc.datasets import records as records_lib

    fps, names = records_meta(root, dataset, split)
    return {
        ex["name"]: dict(ex, fps=fps, phase_names=names, **_stick_figures(ex, pose_cfg))
        for ex in records_lib.read_split(root, dataset, split, decode=False, kind=kind)
    }


def _stick_figures(example: dict, pose_cfg) -> dict:
    """For pose records: `video`, stick figures of the keypoints (None for plain features)."""
    if "features" not in example:
        return {}
    from tcc.apps.skeleton import render_features

    return {"video": render_features(example["features"], pose_cfg)}


def records(sources: VideoSources, dataset: str, split: str) -> dict[str, dict]:
    """`read_records` of the sources' records root, read once per (dataset, split)."""
    key = ("records", dataset, split)
    if key not in sources._cache:
        if sources.root is None:
            raise AppError(f"reading records {dataset}/{split} needs --logdir or --data_path")
        cfg = sources.cfg
        kind = cfg.data.input_kind if cfg is not None else "frames"
        sources._cache[key] = read_records(
            sources.root, dataset, split, kind, cfg.pose if cfg is not None else None
        )
    return sources._cache[key]


def load_table(path: str) -> dict:
    """Reads an `extract_embeddings` .npz: {names, embs, labels, frame_indices, seq_lens}."""
    if not os.path.isfile(path):
        raise AppError(
            f"embeddings file {path} does not exist; write it with "
            "python -m tcc.extract_embeddings --output=FILE.npz"
        )
    try:
        return load_npz(path)
    except (OSError, ValueError, KeyError) as e:
        raise AppError(
            f"{path}: not an embeddings file from tcc.extract_embeddings ({e})"
        ) from None


def records_meta(root: str, dataset: str, split: str) -> tuple[float | None, list[str] | None]:
    """fps and phase names of a records split (first record's context, or phases.json)."""
    import tensorflow as tf

    from tcc.datasets import records as records_lib

    fps = names = None
    files = records_lib.split_files(root, dataset, split)
    for serialized in tf.data.TFRecordDataset(files).take(1):
        ctx = tf.train.SequenceExample.FromString(serialized.numpy()).context.feature
        if "fps" in ctx and ctx["fps"].float_list.value:
            fps = float(ctx["fps"].float_list.value[0])
        if "phase_names" in ctx:
            names = [b.decode() for b in ctx["phase_names"].bytes_list.value] or None
    phases_json = os.path.join(root, dataset, "phases.json")
    if names is None and os.path.isfile(phases_json):
        from tcc.datasets.labels import read_phase_names

        names = read_phase_names(phases_json)
    return fps, names


def _unknown(name: str, where: str, valid: Sequence[str]) -> AppError:
    close = difflib.get_close_matches(name, list(valid), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    shown = ", ".join(list(valid)[:8]) + (" ..." if len(valid) > 8 else "")
    return AppError(
        f"unknown video {name!r}: not a file or folder, and not in {where}.{hint} "
        f"Valid names: {shown}"
    )


def _pending_from_records(sources: VideoSources, spec: str) -> list[dict]:
    body = spec[len(RECORDS_PREFIX) :]
    match = re.fullmatch(r"([^/:]+)/([^/:]+)(?::(.+))?", body)
    if not match:
        raise AppError(f"bad records input {spec!r}; use records:<dataset>/<split>[:<name>]")
    dataset, split, name = match.groups()
    table = records(sources, dataset, split)
    if name is not None and name not in table:
        raise _unknown(name, f"records {dataset}/{split}", list(table))
    chosen = [name] if name is not None else list(table)
    return [dict(table[n], source=spec, origin=(dataset, split)) for n in chosen]


def _pending_from_file(sources: VideoSources, spec: str) -> dict:
    from tcc.datasets.sources import own_videos, video_io

    kind = own_videos.source_kind(spec)
    if kind is None:
        raise AppError(f"{spec}: not a video file ({', '.join(_VIDEO_EXTS)}) or a frame folder")
    cfg = sources.cfg
    if cfg is None:
        raise AppError(f"embedding {spec} needs a trained model: pass --logdir=DIR")
    if cfg.data.input_kind != "frames":
        raise AppError(f"{spec}: this run embeds features, not frames; give records inputs")
    name = os.path.basename(os.path.normpath(spec))
    name = name if kind == "frames" else os.path.splitext(name)[0]
    options = video_io.FrameOptions(image_size=cfg.data.image_size, folder_fps=sources.folder_fps)
    frames, fps = own_videos.read_source(own_videos.Source(name, spec, kind), options)
    return {
        "name": name,
        "video": frames,
        "frame_labels": None,
        "fps": fps,
        "phase_names": None,
        "source": spec,
        "path": spec,
    }


def _expand(sources: VideoSources, spec: str) -> list[dict]:
    """The videos one argument names, as dicts; `npz` is set for table embeddings."""
    if spec.startswith(RECORDS_PREFIX):
        return _pending_from_records(sources, spec)
    if os.path.exists(spec):
        return [_pending_from_file(sources, spec)]
    if os.sep in spec or spec.lower().endswith(_VIDEO_EXTS):
        raise AppError(f"video file or frame folder {spec} does not exist")
    local = _default_records(sources).get(spec)
    if sources.table is not None and spec in sources.table["names"]:
        item = dict(local or {"name": spec}, source=spec, npz=sources.table["names"].index(spec))
        return [dict(item, origin=(sources.dataset, sources.split) if local else None)]
    if local is not None:
        return [dict(local, source=spec, origin=(sources.dataset, sources.split))]
    where = (
        " or ".join(
            ([f"--embeddings {sources.table_path}"] if sources.table is not None else [])
            + (
                [f"records {sources.dataset}/{sources.split}"]
                if local is None and sources.dataset
                else []
            )
        )
        or "any records (no --logdir or --data_path)"
    )
    valid = sources.table["names"] if sources.table is not None else list(_default_records(sources))
    raise _unknown(spec, where, valid)


def _default_records(sources: VideoSources) -> dict[str, dict]:
    """The records of --dataset / --split, or {} when there are none."""
    if not sources.dataset or sources.root is None:
        return {}
    try:
        return records(sources, sources.dataset, sources.split)
    except FileNotFoundError:
        if sources.table is None:
            raise
        return {}


def resolve(sources: VideoSources, specs: Sequence[str]) -> list[list[Video]]:
    """Resolves video arguments to embedded videos (one list per argument), embedding once."""
    groups = [_expand(sources, s) for s in specs]
    to_embed = [p for g in groups for p in g if "npz" not in p]
    if to_embed:
        embedded = embed_videos(to_embed, sources.embed_fn(), sources.cfg, sources.stride)
        for p, emb in zip(to_embed, embedded, strict=True):
            p["emb"] = emb
    for p in (p for g in groups for p in g if "npz" in p):
        t, i = sources.table, p["npz"]
        p["emb"] = (t["embs"][i], t["labels"][i], t["frame_indices"][i])
    return [[_to_video(p) for p in g] for g in groups]


def resolve_one(sources: VideoSources, spec: str, flag: str) -> Video:
    """Resolves an argument that must name exactly one video."""
    (videos,) = resolve(sources, [spec])
    if len(videos) != 1:
        raise AppError(f"{flag}={spec} names {len(videos)} videos; give one video")
    return videos[0]


def embed_videos(
    items: Sequence[dict], embed_fn: EmbedFn, cfg, stride: int = 1
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Embeds videos in one pass, through the evaluation code path.

    The videos are written to one temporary records split and embedded by
    `tcc.evaluation.embed.embed_split`.

    Args:
      items: per video a dict with `video` (frames uint8 [L, H, W, 3] or JPEG bytes) or
        `features` [L, F], and `frame_labels` int [L] or None.
      embed_fn: frames [1, C * num_steps, ...] -> [1, C, D], e.g. `tcc.runs.Run.embed_fn()`.
      cfg: the run's config (frame size, context frames, chunk size).
      stride: embed every k-th frame.

    Returns:
      per video (embeddings float32 [T, D], labels int32 [T], frame indices int32 [T]).
    """
    from tcc.datasets import records as records_lib
    from tcc.datasets.input_options import InputOptions
    from tcc.evaluation.embed import embed_split

    with tempfile.TemporaryDirectory(prefix="tcc-apps-") as root:
        examples = (
            records_lib.VideoExample(
                f"{i:05d}",
                None if "features" in p else p["video"],
                p["frame_labels"]
                if p["frame_labels"] is not None and (np.asarray(p["frame_labels"]) >= 0).any()
                else None,
                features=p.get("features"),
            )
            for i, p in enumerate(items)
        )
        records_lib.write_split(examples, root, _TMP_DATASET, _TMP_SPLIT)
        split = embed_split(
            embed_fn,
            InputOptions.from_config(cfg),
            _TMP_DATASET,
            _TMP_SPLIT,
            stride=stride,
            root=root,
        )
    return list(zip(split.embs, split.labels, split.frame_indices, strict=True))


def _to_video(p: dict) -> Video:
    embs, labels, frame_indices = p["emb"]
    raw = p.get("video")
    if raw is not None and len(raw) <= int(np.max(frame_indices, initial=0)):
        raw = None  # frames do not match the embeddings (e.g. an .npz of another dataset)
    return Video(
        name=p["name"],
        source=p["source"],
        embs=np.asarray(embs, np.float32),
        labels=np.asarray(labels, np.int32),
        frame_indices=np.asarray(frame_indices, np.int32),
        fps=p.get("fps"),
        phase_names=p.get("phase_names"),
        path=p.get("path"),
        origin=p.get("origin"),
        raw=raw,
    )


def collection(
    sources: VideoSources, dataset: str | None, split: str, table_path: str | None = None
) -> list[Video]:
    """Every video of a split: from an embeddings .npz if given, else embedded by the model."""
    if table_path:
        table = load_table(table_path)
        frames = records(sources, dataset, split) if dataset and sources.root is not None else {}
        items = [
            dict(
                frames.get(n, {"name": n}),
                source=table_path,
                origin=None,
                emb=(table["embs"][i], table["labels"][i], table["frame_indices"][i]),
            )
            for i, n in enumerate(table["names"])
        ]
        return [_to_video(p) for p in items]
    if not dataset:
        raise AppError("give --dataset=NAME (or --logdir, whose first dataset is the default)")
    from tcc.datasets.input_options import InputOptions
    from tcc.evaluation.embed import embed_split

    table = records(sources, dataset, split)
    split_embs = embed_split(
        sources.embed_fn(),
        InputOptions.from_config(sources.cfg),
        dataset,
        split,
        stride=sources.stride,
        root=sources.root,
    )
    return [
        _to_video(
            dict(
                table[n],
                source=f"{RECORDS_PREFIX}{dataset}/{split}",
                origin=(dataset, split),
                emb=(e, lab, fi),
            )
        )
        for n, e, lab, fi in zip(
            split_embs.names,
            split_embs.embs,
            split_embs.labels,
            split_embs.frame_indices,
            strict=True,
        )
    ]
