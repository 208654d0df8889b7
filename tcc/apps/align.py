r"""Align a query video to references and play them in sync.

  python -m tcc.apps.align --logdir=DIR --query=VIDEO --references=V1,V2 --output_dir=OUT \
      [--method=dtw|nn] [--window=N] [--format=mp4|gif] [--embeddings=FILE.npz]

Videos are files, frame folders, `records:<dataset>/<split>[:<name>]` or bare names of the run's
validation videos (see `tcc.apps.cli_common`). Writes, per reference, `<query>__<ref>.json` (the
frame mapping, per-frame distances, DTW path) and `.csv` (query_frame, reference_frame, distance)
and `<query>__<ref>_similarity.png` (distance matrix with the path); and `playback.<format>`: all
videos on the query's timeline (side by side for two, a grid for more), with frame counters and
phase names when labels exist.
"""

from __future__ import annotations

import sys
import types

import numpy as np
from absl import flags

from tcc.apps import alignment
from tcc.apps import cli_common as cli

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_string("query", None, "The video every reference is aligned to.", flag_values=_FLAGS)
flags.DEFINE_list("references", [], "Reference videos (comma separated).", flag_values=_FLAGS)
cli.define_alignment_flags(_FLAGS, method="dtw", metric="sqeuclidean")
flags.DEFINE_enum("format", "mp4", ["mp4", "gif"], "Playback file type.", flag_values=_FLAGS)
flags.DEFINE_float(
    "playback_fps", None, "Playback speed (default: the query's fps, else 10).", flag_values=_FLAGS
)
flags.DEFINE_bool("playback", True, "Write the synchronised playback.", flag_values=_FLAGS)
flags.mark_flag_as_required("query", flag_values=_FLAGS)


def main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Runs the alignment app with parsed flags; returns the written paths."""
    from tcc.apps.alignment import align_many, save_alignment_csv, save_alignment_json
    from tcc.apps.figures import plot_similarity_matrix

    if not fv.references:
        raise cli.AppError("give at least one --references=VIDEO[,VIDEO...]")
    sources = cli.video_sources(fv, overrides)
    groups = cli.resolve(sources, [fv.query, *fv.references])
    if len(groups[0]) != 1:
        raise cli.AppError(f"--query={fv.query} names {len(groups[0])} videos; give one video")
    query, refs = groups[0][0], [v for g in groups[1:] for v in g]
    out = cli.output_dir(fv.output_dir)
    alignments = align_many(
        query.embs, [r.embs for r in refs], fv.method, fv.window or None, fv.metric
    )
    written, used = [], set()
    for ref, a in zip(refs, alignments, strict=True):
        name = cli.unique(f"{cli.stem(query.name)}__{cli.stem(ref.name)}", used)
        extra = dict(
            query=query.name,
            reference=ref.name,
            query_source=query.source,
            reference_source=ref.source,
            query_frame_indices=query.frame_indices.tolist(),
            reference_frame_indices=ref.frame_indices[a.mapping].tolist(),
            path_frame_indices=None
            if a.path is None
            else np.stack(
                [query.frame_indices[a.path[:, 0]], ref.frame_indices[a.path[:, 1]]], 1
            ).tolist(),
        )
        save_alignment_json(a, f"{out}/{name}.json", **extra)
        save_alignment_csv(a, f"{out}/{name}.csv", query.frame_indices, ref.frame_indices)
        plot_similarity_matrix(
            a.distances,
            f"{out}/{name}_similarity.png",
            paths=a.path if a.path is not None else a.mapping,
            path_labels=[fv.method],
            title=f"{query.name} vs {ref.name} ({fv.method}, cost {a.cost:.3g})",
            query_name=query.name,
            reference_name=ref.name,
            query_frames=query.frame_indices,
            reference_frames=ref.frame_indices,
        )
        written += [f"{out}/{name}.json", f"{out}/{name}.csv", f"{out}/{name}_similarity.png"]
    if fv.playback:
        written += _playback(fv, query, refs, alignments, out)
    return written


def _playback(fv, query: cli.Video, refs: list[cli.Video], alignments, out: str) -> list[str]:
    """Writes the synchronised playback, or explains why it cannot."""
    from tcc.apps.playback import playback_mappings, write_playback

    videos = [query, *refs]
    missing = [v.name for v in videos if not v.has_frames]
    if missing:
        print(
            f"note: no playback: no frames for {', '.join(missing)} (embeddings only); give "
            "video files, or --logdir / --data_path with the records"
        )
        return []
    labelled = any(v.has_labels for v in videos)
    frames, labels = zip(*(_whole_video(v) for v in videos), strict=True)
    timeline = playback_mappings(alignments)
    mappings = [v.frame_indices[m] for v, m in zip(videos, timeline, strict=True)]
    path = f"{out}/playback.{fv.format}"
    write_playback(
        list(frames),
        mappings,
        path,
        fps=(fv.playback_fps or query.fps or fv.fps or 10.0) / fv.stride,
        labels=list(labels) if labelled else None,
        phase_names=next((v.phase_names for v in videos if v.phase_names), None),
        titles=[f"query: {query.name}", *(r.name for r in refs)],
    )
    return [path]


def _whole_video(video: cli.Video) -> tuple[np.ndarray, np.ndarray]:
    """Frames uint8 [L, H, W, 3] and labels [L] on the video's own frame numbers.

    Only the embedded frames (`frame_indices`) are decoded and labelled; the others stay black
    and -1. They are never shown, but keep the playback's frame counters in real frame numbers
    when only every k-th frame was embedded.
    """
    images = video.images()
    length = len(video.raw)
    frames = np.zeros((length, *images.shape[1:]), np.uint8)
    frames[video.frame_indices] = images
    labels = np.full(length, -1, np.int32)
    labels[video.frame_indices] = video.labels
    return frames, labels


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, main, __doc__, argv)


class _CallableModule(types.ModuleType):
    """Keeps `tcc.apps.align(query, reference, ...)` (the function) working after this module is
    imported: importing a submodule rebinds the package attribute of the same name to it."""

    def __call__(self, *args, **kwargs) -> alignment.Alignment:
        return alignment.align(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    run()
