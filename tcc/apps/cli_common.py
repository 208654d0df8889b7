"""Shared plumbing of the `python -m tcc.apps.<name>` command lines: flags, errors, outputs.

Which videos the apps accept and how they are embedded is in `tcc.apps.video_inputs`. Bad input
raises `AppError`; `run_cli` turns it (and other bad-input errors) into one `error: ...` line on
stderr and exit status 1.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence

from absl import flags, logging

from tcc import errors
from tcc.apps.alignment import atomic_output
from tcc.apps.video_inputs import (  # noqa: F401 (re-exported for the command lines)
    RECORDS_PREFIX,
    AppContext,
    AppError,
    Video,
    collection,
    records_meta,
    resolve,
    resolve_one,
)


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
    errors.parse_flags(fv, rest, config_lib.flat_keys(config_lib.get_default_config()))
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
    """Writes JSON atomically; returns the path."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    return path
