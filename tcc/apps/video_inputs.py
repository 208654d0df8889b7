"""Videos for the apps: files, frame folders, records or precomputed embeddings -> `Video`.

A *video argument* is one of
  * a video file (`.mp4 .avi .mov .webm .mkv`) or a frame folder (`.jpg / .png`, natural order);
  * `records:<dataset>/<split>` (every video of a split) or `records:<dataset>/<split>:<name>`;
  * a bare video name, looked up in `--embeddings` (if given), then in the records of
    `--dataset` / `--split` (defaults: the run's first dataset and `val`).
Everything that needs embedding (files and records) is written to one temporary records split,
resized to the run's `data.image_size`, and embedded in one pass by
`tcc.evaluation.embed.embed_split`: own videos and dataset videos take the evaluation code path.
Embeddings come from a trained run (`--logdir`, newest checkpoint or `--checkpoint`) or from a
`.npz` written by `python -m tcc.extract_embeddings` (`--embeddings`).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tempfile
from collections.abc import Sequence

import numpy as np

from tcc.errors import UserError

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


class AppContext:
    """Where embeddings, records and frames come from, per the common flags."""

    def __init__(self, fv, overrides: Sequence[str]):
        if not fv.logdir and not fv.embeddings:
            raise AppError("give --logdir=DIR (a training run) or --embeddings=FILE.npz")
        self.fv, self.cfg, self.table, self._root = fv, None, None, None
        self._model = self._embed = None
        self._records: dict[tuple[str, str], dict[str, dict]] = {}
        if fv.logdir:
            from tcc import config as config_lib

            if not os.path.isdir(fv.logdir):
                raise AppError(f"--logdir={fv.logdir} does not exist; train first or fix the path")
            self.cfg = config_lib.load_saved(fv.logdir, overrides)
        if fv.embeddings:
            self.table = load_table(fv.embeddings)
        self.dataset = fv.dataset or (self.cfg.datasets[0] if self.cfg else None)

    @property
    def root(self) -> str | None:
        """The records root, or None when neither --data_path nor --logdir gives one."""
        if self._root is None and (self.fv.data_path or self.cfg is not None):
            from tcc.datasets import data_root

            self._root = self.fv.data_path or data_root.resolve(self.cfg)
        return self._root

    def embed_fn(self):
        """The checkpoint's embed function (the model is restored on first use)."""
        if self.cfg is None:
            raise AppError("embedding videos needs a trained model: pass --logdir=DIR")
        if self._model is None:
            from tcc.evaluation import runner
            from tcc.training import checkpoints

            path = self.fv.checkpoint or checkpoints.latest_checkpoint(self.fv.logdir)
            if path is None:
                raise AppError(
                    f"no checkpoint in {self.fv.logdir}/checkpoints; train first "
                    f"(python -m tcc.train --logdir={self.fv.logdir})"
                )
            if not any(os.path.exists(p) for p in (path + ".index", path)):
                raise AppError(f"checkpoint {path} does not exist (--checkpoint)")
            import keras
            import tensorflow as tf

            # Checkpoint keys include Keras' auto-generated layer names, which count up per
            # process: start from fresh counters so that a second app run in the same process
            # (tests, notebooks, examples/gallery.py) builds the same names as training did.
            keras.backend.clear_session()
            try:
                self._model = runner.restore_model(self.cfg, path, None)
            except (AssertionError, ValueError, OSError, tf.errors.OpError) as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                raise AppError(
                    f"cannot restore {path} with the config of {self.fv.logdir} ({first}); "
                    "was the checkpoint written by this run?"
                ) from None
            from tcc.evaluation.embed import model_embed_fn

            self._embed = model_embed_fn(self._model)
        return self._embed

    def records(self, dataset: str, split: str) -> dict[str, dict]:
        """name -> {video (JPEG list), frame_labels, fps, phase_names} of a records split."""
        if (dataset, split) not in self._records:
            if self.root is None:
                raise AppError(f"reading records {dataset}/{split} needs --logdir or --data_path")
            from tcc.datasets import records

            fps, names = records_meta(self.root, dataset, split)
            kind = self.cfg.data.input_kind if self.cfg is not None else "frames"
            self._records[dataset, split] = {
                ex["name"]: dict(ex, fps=fps, phase_names=names, **self._stick_figures(ex))
                for ex in records.read_split(self.root, dataset, split, decode=False, kind=kind)
            }
        return self._records[dataset, split]

    def _stick_figures(self, example: dict) -> dict:
        """For pose records: `video`, stick figures of the keypoints (None for plain features)."""
        if "features" not in example:
            return {}
        from tcc.apps.skeleton import render_features

        return {"video": render_features(example["features"], self.cfg.pose)}


def load_table(path: str) -> dict:
    """Reads an `extract_embeddings` .npz: {names, embs, labels, frame_indices, seq_lens}."""
    from tcc.extract_embeddings import load_npz

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

    from tcc.datasets import records

    fps = names = None
    for serialized in tf.data.TFRecordDataset(records.split_files(root, dataset, split)).take(1):
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


def _pending_from_records(ctx: AppContext, spec: str) -> list[dict]:
    body = spec[len(RECORDS_PREFIX) :]
    match = re.fullmatch(r"([^/:]+)/([^/:]+)(?::(.+))?", body)
    if not match:
        raise AppError(f"bad records input {spec!r}; use records:<dataset>/<split>[:<name>]")
    dataset, split, name = match.groups()
    table = ctx.records(dataset, split)
    if name is not None and name not in table:
        raise _unknown(name, f"records {dataset}/{split}", list(table))
    chosen = [name] if name is not None else list(table)
    return [dict(table[n], source=spec, origin=(dataset, split)) for n in chosen]


def _pending_from_file(ctx: AppContext, spec: str) -> dict:
    from tcc.datasets.sources import own_videos, video_io

    kind = own_videos.source_kind(spec)
    if kind is None:
        raise AppError(f"{spec}: not a video file ({', '.join(_VIDEO_EXTS)}) or a frame folder")
    if ctx.cfg is None:
        raise AppError(f"embedding {spec} needs a trained model: pass --logdir=DIR")
    if ctx.cfg.data.input_kind != "frames":
        raise AppError(f"{spec}: this run embeds features, not frames; give records inputs")
    name = os.path.basename(os.path.normpath(spec))
    name = name if kind == "frames" else os.path.splitext(name)[0]
    options = video_io.FrameOptions(
        image_size=ctx.cfg.data.image_size, folder_fps=ctx.fv.folder_fps
    )
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


def _expand(ctx: AppContext, spec: str) -> list[dict]:
    """The videos one argument names, as dicts; `npz` is set for table embeddings."""
    if spec.startswith(RECORDS_PREFIX):
        return _pending_from_records(ctx, spec)
    if os.path.exists(spec):
        return [_pending_from_file(ctx, spec)]
    if os.sep in spec or spec.lower().endswith(_VIDEO_EXTS):
        raise AppError(f"video file or frame folder {spec} does not exist")
    local = _default_records(ctx).get(spec)
    if ctx.table is not None and spec in ctx.table["names"]:
        item = dict(local or {"name": spec}, source=spec, npz=ctx.table["names"].index(spec))
        return [dict(item, origin=(ctx.dataset, ctx.fv.split) if local else None)]
    if local is not None:
        return [dict(local, source=spec, origin=(ctx.dataset, ctx.fv.split))]
    where = (
        " or ".join(
            ([f"--embeddings {ctx.fv.embeddings}"] if ctx.table is not None else [])
            + ([f"records {ctx.dataset}/{ctx.fv.split}"] if local is None and ctx.dataset else [])
        )
        or "any records (no --logdir or --data_path)"
    )
    valid = ctx.table["names"] if ctx.table is not None else list(_default_records(ctx))
    raise _unknown(spec, where, valid)


def _default_records(ctx: AppContext) -> dict[str, dict]:
    """The records of --dataset / --split, or {} when there are none."""
    if not ctx.dataset or ctx.root is None:
        return {}
    try:
        return ctx.records(ctx.dataset, ctx.fv.split)
    except FileNotFoundError:
        if ctx.table is None:
            raise
        return {}


def resolve(ctx: AppContext, specs: Sequence[str]) -> list[list[Video]]:
    """Resolves video arguments to embedded videos (one list per argument), embedding once."""
    groups = [_expand(ctx, s) for s in specs]
    to_embed = [p for g in groups for p in g if "npz" not in p]
    if to_embed:
        embedded = _embed_pending(ctx, to_embed)
        for p, emb in zip(to_embed, embedded, strict=True):
            p["emb"] = emb
    for p in (p for g in groups for p in g if "npz" in p):
        t, i = ctx.table, p["npz"]
        p["emb"] = (t["embs"][i], t["labels"][i], t["frame_indices"][i])
    return [[_to_video(p) for p in g] for g in groups]


def resolve_one(ctx: AppContext, spec: str, flag: str) -> Video:
    """Resolves an argument that must name exactly one video."""
    (videos,) = resolve(ctx, [spec])
    if len(videos) != 1:
        raise AppError(f"{flag}={spec} names {len(videos)} videos; give one video")
    return videos[0]


def _embed_pending(ctx: AppContext, items: list[dict]) -> list[tuple]:
    """Writes the items to one temporary records split and embeds it."""
    from tcc.datasets import records
    from tcc.evaluation.embed import embed_split

    embed_fn = ctx.embed_fn()
    with tempfile.TemporaryDirectory(prefix="tcc-apps-") as root:
        examples = (
            records.VideoExample(
                f"{i:05d}",
                None if "features" in p else p["video"],
                p["frame_labels"]
                if p["frame_labels"] is not None and (np.asarray(p["frame_labels"]) >= 0).any()
                else None,
                features=p.get("features"),
            )
            for i, p in enumerate(items)
        )
        records.write_split(examples, root, _TMP_DATASET, _TMP_SPLIT)
        split = embed_split(
            embed_fn, ctx.cfg, _TMP_DATASET, _TMP_SPLIT, stride=ctx.fv.stride, root=root
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
    ctx: AppContext, dataset: str | None, split: str, table_path: str | None = None
) -> list[Video]:
    """Every video of a split: from an embeddings .npz if given, else embedded by the model."""
    if table_path:
        table = load_table(table_path)
        frames = ctx.records(dataset, split) if dataset and ctx.root is not None else {}
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
    from tcc.evaluation.embed import embed_split

    table = ctx.records(dataset, split)
    split_embs = embed_split(
        ctx.embed_fn(), ctx.cfg, dataset, split, stride=ctx.fv.stride, root=ctx.root
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
