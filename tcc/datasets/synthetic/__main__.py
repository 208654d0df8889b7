"""The synthetic dataset's command line (`python -m tcc.datasets.synthetic`).

python -m tcc.datasets.synthetic --output_dir=/tmp/tcc_data [--seed=0 --num_train=60 ...]
python -m tcc.datasets.synthetic --examples_png=docs/images/synthetic_examples.png
"""

from __future__ import annotations

import json
import os

from absl import app, flags, logging

from tcc.datasets.synthetic import save_example_strip
from tcc.datasets.synthetic.spec import DATASET_NAME, SyntheticSpec
from tcc.datasets.synthetic.writer import generate_dataset


def _define_flags(fv: flags.FlagValues) -> None:
    """Defines the CLI flags in `fv` (the global FLAGS only when run as a program)."""
    defaults = {"flag_values": fv}
    flags.DEFINE_string(
        "output_dir", None, "Data root; writes <output_dir>/<dataset_name>/.", **defaults
    )
    flags.DEFINE_integer("seed", 0, "Dataset seed (same seed, same frames).", **defaults)
    flags.DEFINE_integer("num_train", 60, "Train videos.", **defaults)
    flags.DEFINE_integer("num_val", 20, "Val videos.", **defaults)
    flags.DEFINE_integer("image_size", 64, "Frame size in pixels.", **defaults)
    flags.DEFINE_integer("min_frames", 40, "Shortest video.", **defaults)
    flags.DEFINE_integer("max_frames", 120, "Longest video.", **defaults)
    flags.DEFINE_integer("num_shards", 1, "Record files per split.", **defaults)
    flags.DEFINE_string("dataset_name", DATASET_NAME, "Dataset (directory) name.", **defaults)
    flags.DEFINE_float(
        "difficulty", 1.0, "Multiplies the appearance and timing variation.", **defaults
    )
    flags.DEFINE_integer("num_workers", 2, "Render processes.", **defaults)
    flags.DEFINE_bool("overwrite", False, "Replace an existing dataset directory.", **defaults)
    flags.DEFINE_string(
        "examples_png", None, "Also (or only) save a PNG strip of examples here.", **defaults
    )


def _summary(dataset_dir: str) -> str:
    with open(os.path.join(dataset_dir, "meta.json")) as f:
        meta = json.load(f)
    lines = [f"Wrote {dataset_dir} in {meta['seconds']:.1f} s"]
    for split, s in meta["splits"].items():
        phases = ", ".join(
            f"{n}={c}" for n, c in zip(meta["phase_names"], s["phase_frames"], strict=True)
        )
        lines.append(
            f"  {split}: {s['videos']} videos, {s['frames']} frames; phase frames: {phases}"
        )
    return "\n".join(lines)


def run(f: flags.FlagValues) -> None:
    """Runs the CLI with parsed flags `f` (see `_define_flags`); prints the closing summary."""
    if not f.output_dir and not f.examples_png:
        raise app.UsageError("give --output_dir=DIR (records) and/or --examples_png=FILE.png")
    if f.examples_png:
        logging.info(
            "Saved %s", save_example_strip(f.examples_png, f.seed, image_size=f.image_size)
        )
    if not f.output_dir:
        return
    try:
        spec = SyntheticSpec(
            seed=f.seed,
            num_train=f.num_train,
            num_val=f.num_val,
            image_size=f.image_size,
            min_frames=f.min_frames,
            max_frames=f.max_frames,
            num_shards=f.num_shards,
            dataset_name=f.dataset_name,
            difficulty=f.difficulty,
        )
        path = generate_dataset(f.output_dir, spec, f.num_workers, overwrite=f.overwrite)
    except (ValueError, FileExistsError) as e:
        raise SystemExit(f"error: {e}") from None
    print(_summary(path))


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    run(flags.FLAGS)


if __name__ == "__main__":
    _define_flags(flags.FLAGS)
    app.run(main)
