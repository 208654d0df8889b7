r"""Fine-grained retrieval: the frames of a dataset nearest to one query frame (paper Fig. 6).

  python -m tcc.apps.retrieve --logdir=DIR --dataset=NAME --split=val --query=VIDEO_NAME \
      (--frame=INDEX | --time=SECONDS) --k=8 --output_dir=OUT [--embeddings=FILE.npz]

The collection is every video of `--dataset` / `--split`, embedded with the checkpoint (or read
from `--embeddings`, an `extract_embeddings` file of that split). The query is a video of the
collection (its own frames are left out of the results unless `--include_query_video`) or any
video argument of `tcc.apps.align` (file, frame folder, records). By default each result comes
from a different video (its frame nearest to the query; `--per_video=N` allows N per video, 0 any
number). Writes `retrieval.json` (query and the K results: video, frame, distance, phase, and
`same_phase_fraction`, the same-phase precision@K, when labelled, also printed) and
`retrieval.png` (the query frame and the K retrieved frames).
"""

from __future__ import annotations

import numpy as np
from absl import flags

from tcc.apps import cli_common as cli

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_string(
    "query", None, "Video of the query frame (a name in the split, or a file).", flag_values=_FLAGS
)
flags.DEFINE_integer("frame", None, "Query frame index.", lower_bound=0, flag_values=_FLAGS)
flags.DEFINE_float(
    "time", None, "Query time in seconds (instead of --frame).", lower_bound=0, flag_values=_FLAGS
)
flags.DEFINE_integer("k", 8, "Number of results.", lower_bound=1, flag_values=_FLAGS)
cli.define_metric_flag(_FLAGS, "sqeuclidean")
flags.DEFINE_integer(
    "per_video",
    1,
    "At most this many results from one video (0: no limit).",
    lower_bound=0,
    flag_values=_FLAGS,
)
flags.DEFINE_bool(
    "include_query_video", False, "Also return frames of the query's own video.", flag_values=_FLAGS
)
flags.mark_flag_as_required("query", flag_values=_FLAGS)


def main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Runs the retrieval app with parsed flags; returns the written paths."""
    from tcc.apps.retrieval import nearest_frames

    if (fv.frame is None) == (fv.time is None):
        raise cli.AppError("give exactly one of --frame=INDEX or --time=SECONDS")
    sources = cli.video_sources(fv, overrides)
    videos = cli.collection(sources, sources.dataset, fv.split, fv.embeddings)
    names = [v.name for v in videos]
    if fv.query in names:
        own = names.index(fv.query)
        query = videos[own]
    else:
        own, query = None, cli.resolve_one(sources, fv.query, "--query")
    j = _query_index(fv, query)
    exclude = None if fv.include_query_video else own
    results = nearest_frames(
        query.embs[j], [v.embs for v in videos], fv.k, exclude, fv.metric, fv.per_video or None
    )
    q_label = int(query.labels[j])
    record = {
        "dataset": sources.dataset,
        "split": fv.split,
        "metric": fv.metric,
        "k": fv.k,
        "per_video": fv.per_video or None,
        "query": {
            "video": query.name,
            "frame": int(query.frame_indices[j]),
            "label": q_label,
            "phase": query.phase_name(q_label),
        },
        "results": [_result(rank, videos[v], i, d) for rank, (v, i, d) in enumerate(results, 1)],
    }
    precision = None
    if q_label >= 0 and results:
        same = sum(r["label"] == q_label for r in record["results"])
        precision = same / len(results)
        record["same_phase_fraction"] = precision
        print(
            f"same-phase precision@{len(results)}: {precision:.2f} ({same} of {len(results)} "
            f"results in the query's phase {query.phase_name(q_label)!r})"
        )
    out = cli.output_dir(fv.output_dir)
    written = [cli.write_json(f"{out}/retrieval.json", record)]
    shown = [query, *(videos[v] for v, _, _ in results)]
    if all(v.has_frames for v in shown):
        written.append(
            _grid(
                query,
                j,
                [(videos[v], i, d) for v, i, d in results],
                f"{out}/retrieval.png",
                None if precision is None else f"same phase as the query: {precision:.0%}",
            )
        )
    else:
        print(
            "note: no image grid: frames unavailable for "
            + ", ".join(sorted({v.name for v in shown if not v.has_frames}))
        )
    return written


def _query_index(fv, query: cli.Video) -> int:
    """Index of the query frame among the query video's embeddings."""
    if fv.time is not None:
        fps = query.fps or fv.fps
        if not fps:
            raise cli.AppError(
                f"the frame rate of {query.name} is unknown; use --frame, or pass --fps=F"
            )
        frame = int(round(fv.time * fps))
    else:
        frame = fv.frame
    last = int(query.frame_indices[-1])
    if frame > last:
        raise cli.AppError(f"query frame {frame} is outside video {query.name} (frames 0..{last})")
    return int(np.argmin(np.abs(query.frame_indices - frame)))


def _result(rank: int, video: cli.Video, i: int, distance: float) -> dict:
    label = int(video.labels[i])
    return {
        "rank": rank,
        "video": video.name,
        "frame": int(video.frame_indices[i]),
        "distance": distance,
        "label": label,
        "phase": video.phase_name(label),
    }


def _grid(query: cli.Video, j: int, results: list, path: str, title: str | None) -> str:
    from tcc.apps.figures import plot_retrieval_grid

    def caption(v: cli.Video, i: int) -> str:
        phase = v.phase_name(int(v.labels[i]))
        return f"{v.name}\nframe {int(v.frame_indices[i])}" + (f"\n{phase}" if phase else "")

    plot_retrieval_grid(
        query.image(j),
        [v.image(i) for v, i, _ in results],
        path,
        captions=[caption(v, i) + f"\nd={d:.3g}" for v, i, d in results],
        query_caption="query: " + caption(query, j),
        columns=min(len(results) + 1, 9),
        title=title,
    )
    return path


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, main, __doc__, argv)


if __name__ == "__main__":
    run()
