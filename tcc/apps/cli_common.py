"""Shared plumbing of the `python -m tcc.apps.<name>` command lines: flags, errors, outputs.

The flags the apps share are defined here once (`define_common_flags`, `define_alignment_flags`,
`define_metric_flag`); `video_sources` turns the common flags into the plain arguments of
`tcc.apps.video_inputs` (which videos the apps accept and how they are embedded). Bad input
raises `AppError`; `run_cli` turns it (and other bad-input errors) into one `error: ...` line on
stderr and exit status 1.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence

from absl import flags, logging

from tcc import atomic, cli, errors
from tcc.apps.alignment import METHODS
from tcc.apps.video_inputs import (  # noqa: F401 (re-exported for the command lines)
    RECORDS_PREFIX,
    AppError,
    Video,
    VideoSources,
    collection,
    load_table,
    resolve,
    resolve_one,
)
from tcc.evaluation.distances import METRICS


def define_common_flags(fv: flags.FlagValues) -> None:
    """Flags every app has: model / embeddings source, default records, output directory."""
    flags.DEFINE_string(
        "logdir", None, "Training run directory (config.json, checkpoints/).", flag_values=fv
    )
    flags.DEFINE_string(
        "checkpoint", None, "Checkpoint path (default: the newest in --logdir).", flag_values=fv
    )
    flags.DEFINE_string(
        "embeddings",
        None,
        "Precomputed embeddings .npz from "
        "tcc.extract_embeddings; bare video names are looked up there.",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "dataset",
        None,
        "Records dataset of bare video names (default: the run's first dataset).",
        flag_values=fv,
    )
    flags.DEFINE_string("split", "val", "Records split of bare video names.", flag_values=fv)
    flags.DEFINE_string(
        "data_path",
        None,
        "Records root (default: the run's data.path, or the embedded dataset).",
        flag_values=fv,
    )
    flags.DEFINE_integer("stride", 1, "Embed every k-th frame.", lower_bound=1, flag_values=fv)
    flags.DEFINE_float("folder_fps", None, "Frame rate of frame-folder inputs.", flag_values=fv)
    flags.DEFINE_float(
        "fps", None, "Frame rate to assume where a video gives none.", flag_values=fv
    )
    flags.DEFINE_string("output_dir", None, "Where the outputs go (created).", flag_values=fv)
    flags.mark_flag_as_required("output_dir", flag_values=fv)


def define_alignment_flags(
    fv: flags.FlagValues, method: str, metric: str, method_help: str = "Alignment."
) -> None:
    """`--method` (nn | dtw), `--window` (DTW band) and `--metric`, with these defaults."""
    flags.DEFINE_enum(
        "method",
        method,
        list(METHODS),
        f"{method_help} dtw: monotone path; nn: nearest frame.",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "window",
        0,
        "DTW Sakoe-Chiba half-width in frames (0: none).",
        lower_bound=0,
        flag_values=fv,
    )
    define_metric_flag(fv, metric)


def define_metric_flag(fv: flags.FlagValues, metric: str) -> None:
    """`--metric`: the distance between embeddings (`tcc.evaluation.distances`)."""
    flags.DEFINE_enum(
        "metric", metric, list(METRICS), "Distance between embeddings.", flag_values=fv
    )


def video_sources(fv: flags.FlagValues, overrides: Sequence[str]) -> VideoSources:
    """The common flags as `VideoSources`: the run of `--logdir` (restored on first use), the
    file of `--embeddings`, and `--dataset / --split / --data_path / --stride / --folder_fps`.
    """
    if not fv.logdir and not fv.embeddings:
        raise AppError("give --logdir=DIR (a training run) or --embeddings=FILE.npz")
    run = None
    if fv.logdir:
        from tcc import runs

        run = runs.open_run(fv.logdir, overrides, fv.checkpoint, fv.data_path)
    return VideoSources(
        run=run,
        table=load_table(fv.embeddings) if fv.embeddings else None,
        table_path=fv.embeddings,
        data_path=fv.data_path,
        dataset=fv.dataset,
        split=fv.split,
        stride=fv.stride,
        folder_fps=fv.folder_fps,
    )


def fail(message: str) -> None:
    """Ends the program with one `error: ...` line on stderr and exit status 1."""
    errors.fail(message)


def run_cli(
    fv: flags.FlagValues,
    main: Callable[[flags.FlagValues, list[str]], list[str]],
    doc: str,
    argv: Sequence[str] | None = None,
) -> list[str]:
    """Parses `argv` into `fv`, runs `main(fv, config_overrides)`, prints the outputs.

    `--config.a.b=v` arguments are collected as config overrides. Bad flags and bad input end
    the program through `fail`.

    Returns:
      the output paths `main` returned.
    """
    from tcc import config as config_lib

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = list(sys.argv if argv is None else argv)
    if any(a in ("-h", "--help", "--helpfull") for a in argv[1:]):
        print(doc.strip() + "\n\nflags:\n" + fv.get_help())
        raise SystemExit(0)
    rest, overrides = config_lib.split_override_args(argv)
    for name in list(fv):  # back to defaults, so that run() can be called repeatedly
        fv[name].unparse()
    cli.parse_flags(fv, rest, config_lib.flat_keys(config_lib.get_default_config()))
    logging.set_verbosity(logging.INFO)
    outputs = errors.run_main(main, fv, overrides)
    for path in outputs:
        print(f"wrote {path}")
    print(f"outputs in {os.path.abspath(fv.output_dir)}")
    return outputs


def output_dir(path: str) -> str:
    """Creates the output directory; returns it."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise AppError(f"cannot create --output_dir={path} ({e.strerror})") from None
    return path


def stem(name: str) -> str:
    """A file-name-safe version of a video name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "video"


def unique(name: str, used: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... if already in `used`; adds the result to `used`."""
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f"{name}_{k}", k + 1
    used.add(candidate)
    return candidate


def write_json(path: str, data: dict) -> str:
    """Writes JSON (indent 1, keys in the given order) atomically; returns the path."""
    return atomic.write_text(path, json.dumps(data, indent=1))


def write_csv(path: str, header: str, rows: Iterable[str]) -> str:
    """Writes CSV text (a header line, then one line per row) atomically; returns the path."""
    return atomic.write_text(path, "".join([header + "\n", *(row + "\n" for row in rows)]))
