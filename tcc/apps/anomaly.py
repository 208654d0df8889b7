r"""Anomaly detection: frames far from every typical trajectory (paper §6, Fig. 7).

  python -m tcc.apps.anomaly --logdir=DIR --video=VIDEO --dataset=NAME --output_dir=OUT \
      [--percentile=95] [--min_length=2] [--method=nn|dtw] [--train_embeddings=FILE.npz]

The typical trajectories are the videos of `--train_split` (default `train`) of `--dataset`,
embedded with the checkpoint (or read from `--train_embeddings`). The threshold is the
`--percentile` of their leave-one-out frame scores (`tcc.apps.anomaly_detection.fit_threshold`).
The video is any video argument of `tcc.apps.align`. Writes `<video>_anomaly.json` (threshold,
per-frame scores, flagged frame ranges) and `<video>_anomaly.png` (the distance curve with the
threshold and the flagged segments shaded).
"""

from __future__ import annotations

import numpy as np
from absl import flags

from tcc.apps import cli_common as cli

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_string("video", None, "The video to check.", flag_values=_FLAGS)
flags.DEFINE_string("train_split", "train", "Split holding the typical videos.", flag_values=_FLAGS)
flags.DEFINE_string(
    "train_embeddings",
    None,
    "Embeddings .npz of the typical videos (instead of embedding --train_split).",
    flag_values=_FLAGS,
)
flags.DEFINE_float(
    "percentile",
    95.0,
    "Threshold percentile of typical frame scores.",
    lower_bound=0.0,
    upper_bound=100.0,
    flag_values=_FLAGS,
)
flags.DEFINE_integer(
    "min_length", 2, "Shortest flagged run, in embedded frames.", lower_bound=1, flag_values=_FLAGS
)
flags.DEFINE_integer(
    "k", 1, "Typical videos averaged per frame.", lower_bound=1, flag_values=_FLAGS
)
cli.define_alignment_flags(
    _FLAGS, method="nn", metric="euclidean", method_help="Alignment to each typical video."
)
flags.mark_flag_as_required("video", flag_values=_FLAGS)


def main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Runs the anomaly app with parsed flags; returns the written paths."""
    from tcc.apps.anomaly_detection import detect, fit_threshold
    from tcc.apps.figures import plot_anomaly

    sources = cli.video_sources(fv, overrides)
    video = cli.resolve_one(sources, fv.video, "--video")
    typical = cli.collection(sources, sources.dataset, fv.train_split, fv.train_embeddings)
    if video.origin == (sources.dataset, fv.train_split):  # leave the video itself out
        typical = [t for t in typical if t.name != video.name]
    if len(typical) < fv.k + 1:
        raise cli.AppError(
            f"{len(typical)} typical videos are too few for --k={fv.k}; the "
            "threshold needs k + 1 (leave-one-out)"
        )
    train_embs = [t.embs for t in typical]
    window = fv.window or None
    threshold = fit_threshold(train_embs, fv.percentile, fv.method, fv.k, fv.metric, window)
    scores, segments = detect(
        video.embs, train_embs, threshold, fv.method, fv.k, fv.metric, window, fv.min_length
    )
    frames = video.frame_indices
    fps = video.fps or fv.fps
    record = {
        "video": video.name,
        "source": video.source,
        "dataset": sources.dataset,
        "train_split": fv.train_split,
        "num_typical_videos": len(typical),
        "method": fv.method,
        "k": fv.k,
        "metric": fv.metric,
        "percentile": fv.percentile,
        "threshold": threshold,
        "min_length": fv.min_length,
        "fps": fps,
        "flagged_fraction": float(np.mean(scores > threshold)),
        "segments": [_segment(s, e, frames, scores, fps) for s, e in segments],
        "frame_indices": frames.tolist(),
        "scores": scores.tolist(),
    }
    out = cli.output_dir(fv.output_dir)
    stem = f"{out}/{cli.stem(video.name)}_anomaly"
    cli.write_json(f"{stem}.json", record)
    plot_anomaly(
        scores,
        threshold,
        segments,
        f"{stem}.png",
        fps=fps,
        frame_indices=frames,
        title=f"{video.name}: distance to typical {sources.dataset or ''} trajectories",
    )
    print(
        f"{len(segments)} flagged segment(s): "
        + (
            ", ".join(f"frames {r['start_frame']}-{r['end_frame']}" for r in record["segments"])
            or "none"
        )
    )
    return [f"{stem}.json", f"{stem}.png"]


def _segment(start: int, end: int, frames: np.ndarray, scores: np.ndarray, fps) -> dict:
    """One flagged range in frame numbers (and seconds when the frame rate is known)."""
    seg = {
        "start_frame": int(frames[start]),
        "end_frame": int(frames[end]),
        "max_score": float(scores[start : end + 1].max()),
    }
    if fps:
        seg.update(start_time=float(frames[start] / fps), end_time=float((frames[end] + 1) / fps))
    return seg


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, main, __doc__, argv)


if __name__ == "__main__":
    run()
