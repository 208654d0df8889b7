r"""Task progress of a video, 0 (start) -> 1 (goal), from reference videos of the task.

  python -m tcc.apps.progress --logdir=DIR --video=VIDEO[,VIDEO...] --output_dir=OUT \
      [--references=V1,V2,...|records:<dataset>/train] [--method=nn|goal]

Every frame of each video gets a progress value (`tcc.apps.task_progress.TaskProgress`): with
`--method=nn` (default) the median over the references of the normalised index of the reference
frame nearest to it; with `--method=goal` its distance to the references' mean last frame,
normalised by their mean start-to-goal distance. The references (default: every video of the
run's `train` split) should show the whole task from start to goal. Videos are given as in
`tcc.apps.align`; `--video=records:<dataset>/val` takes a whole split. Writes, per video,
`<video>_progress.csv` (frame, time when the frame rate is known, progress) and
`<video>_progress.png`; and `progress.json` (per video: the progress, its Spearman correlation
with the frame number, i.e. with true progress for a video that does the task at any monotone
pace, and where it goes down) and, for several videos, `progress.png` with all curves.
"""

from __future__ import annotations

import numpy as np
from absl import flags

from tcc.apps import cli_common as cli

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_list(
    "video", [], "Videos to score (comma separated; records:<ds>/<split>: all).", flag_values=_FLAGS
)
flags.DEFINE_list(
    "references",
    [],
    "Reference videos of the whole task (default: records:<dataset>/train).",
    flag_values=_FLAGS,
)
flags.DEFINE_enum(
    "method", "nn", ["nn", "goal"], "nn: aligned frame index; goal: distance.", flag_values=_FLAGS
)
cli.define_metric_flag(_FLAGS, "euclidean")
flags.DEFINE_float(
    "drop",
    0.1,
    "Report a drop where progress falls this much below its running maximum.",
    lower_bound=0.0,
    flag_values=_FLAGS,
)


def _main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Runs the progress app with parsed flags; returns the written paths."""
    from tcc.apps.task_progress import TaskProgress

    if not fv.video:
        raise cli.AppError("give --video=VIDEO[,VIDEO...] (a file, folder, name or records split)")
    sources = cli.video_sources(fv, overrides)
    ref_specs = fv.references or [f"{cli.RECORDS_PREFIX}{sources.dataset}/train"]
    groups = cli.resolve(sources, [*fv.video, *ref_specs])
    videos = [v for g in groups[: len(fv.video)] for v in g]
    keys = {(v.origin, v.name) for v in videos if v.origin is not None}
    refs = [v for g in groups[len(fv.video) :] for v in g if (v.origin, v.name) not in keys]
    if not refs or any(len(r.embs) < 2 for r in refs):
        raise cli.AppError(
            "give --references with at least one video of 2 or more embedded frames "
            "(other than the scored videos)"
        )
    estimator = TaskProgress([r.embs for r in refs], fv.method, fv.metric)
    out = cli.output_dir(fv.output_dir)
    written, summary, curves, used = [], [], [], set()
    for video in videos:
        progress = estimator(video.embs)
        name = cli.unique(cli.stem(video.name), used)
        fps = video.fps or fv.fps
        written += _write_video(f"{out}/{name}_progress", video, progress, fps, fv.method)
        summary.append(_summary(video, progress, fv.drop))
        curves.append((video.name, video.frame_indices, progress))
    record = {
        "method": fv.method,
        "metric": fv.metric,
        "references": [r.name for r in refs],
        "reference_source": ref_specs,
        "videos": summary,
    }
    rhos = [s["spearman_vs_frame"] for s in summary if s["spearman_vs_frame"] is not None]
    if rhos:
        record["mean_spearman_vs_frame"] = float(np.mean(rhos))
    written.append(cli.write_json(f"{out}/progress.json", record))
    if len(videos) > 1:
        from tcc.apps.figures import plot_progress

        plot_progress(curves, f"{out}/progress.png", title=_title(fv.method, len(refs)))
        written.append(f"{out}/progress.png")
    for s in summary:
        rho = s["spearman_vs_frame"]
        drops = ", ".join(f"{d['from_frame']}-{d['to_frame']}" for d in s["drops"]) or "none"
        print(
            f"{s['video']}: progress {s['progress'][0]:.2f} -> {s['progress'][-1]:.2f}, "
            f"Spearman with frame number {'n/a' if rho is None else f'{rho:.3f}'}, "
            f"drops: {drops}"
        )
    if len(rhos) > 1:
        print(f"mean Spearman with frame number over {len(rhos)} videos: {np.mean(rhos):.3f}")
    return written


def _write_video(stem: str, video: cli.Video, progress: np.ndarray, fps, method: str) -> list:
    """`<stem>.csv` (frame[, time], progress) and `<stem>.png` for one video."""
    from tcc.apps.figures import plot_progress

    frames = video.frame_indices
    cli.write_csv(
        f"{stem}.csv",
        "frame,time,progress" if fps else "frame,progress",
        (
            f"{frame},{frame / fps:.4f},{p:.6f}" if fps else f"{frame},{p:.6f}"
            for frame, p in zip(frames.tolist(), progress.tolist(), strict=True)
        ),
    )
    plot_progress(
        [(video.name, frames, progress)],
        f"{stem}.png",
        title=f"{video.name}: task progress ({method})",
    )
    return [f"{stem}.csv", f"{stem}.png"]


def _summary(video: cli.Video, progress: np.ndarray, drop: float) -> dict:
    """Per-video record: progress, Spearman with the frame number, drops below the running max."""
    from scipy.stats import spearmanr

    frames = video.frame_indices
    rho = None
    if len(progress) > 1 and np.ptp(progress) > 0:
        rho = float(spearmanr(frames, progress).statistic)
    return {
        "video": video.name,
        "source": video.source,
        "frame_indices": frames.tolist(),
        "progress": progress.tolist(),
        "spearman_vs_frame": rho,
        "drops": [
            {"from_frame": int(frames[a]), "to_frame": int(frames[b])}
            for a, b in _drops(progress, drop)
        ],
    }


def _drops(progress: np.ndarray, drop: float) -> list[tuple[int, int]]:
    """Runs of frames whose progress is more than `drop` below the running maximum.

    Returns:
      inclusive (start, end) index ranges, in time order.
    """
    low = np.concatenate([[False], progress < np.maximum.accumulate(progress) - drop, [False]])
    edges = np.flatnonzero(np.diff(low.astype(np.int8)))
    return [(int(s), int(e) - 1) for s, e in zip(edges[0::2], edges[1::2], strict=True)]


def _title(method: str, num_refs: int) -> str:
    how = "aligned reference frame" if method == "nn" else "distance to the goal"
    return f"task progress ({how}, {num_refs} references)"


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, _main, __doc__, argv)


def main() -> None:
    """Console-script entry point (`tcc-progress`): runs the command line on `sys.argv`."""
    run()


if __name__ == "__main__":
    main()
