r"""TensorBoard embedding projector of one split's per-frame embeddings (one point per frame).

  python -m tcc.apps.projector --logdir=DIR [--dataset=NAME] [--split=val] \
      [--output_dir=DIR/projector] [--embeddings=FILE.npz] [--sprites]

Embeds the videos of `--dataset` / `--split` with the checkpoint (or reads `--embeddings`) and
writes the projector files with `tcc.evaluation.projector.write_projector` (metadata: video name,
frame index, phase; with `--sprites`, frame thumbnails). Open with
`tensorboard --logdir=<output_dir>`, tab "Projector".
"""

from __future__ import annotations

import os

from absl import flags

from tcc.apps import cli_common as cli
from tcc.evaluation.projector import write_projector

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_bool(
    "sprites", False, "Also write frame thumbnails (needs the records).", flag_values=_FLAGS
)
_FLAGS["output_dir"].help = "Projector folder (default: <logdir>/projector)."
_FLAGS.set_default("output_dir", "")


def main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Embeds (or loads) one split and writes its projector; returns the written config."""
    from tcc.evaluation.embed import EmbeddedSplit

    sources = cli.video_sources(fv, overrides)
    if not fv.output_dir:
        if not fv.logdir:
            raise cli.AppError("give --output_dir (or --logdir, whose projector/ is the default)")
        fv.output_dir = os.path.join(fv.logdir, "projector")
    videos = cli.collection(sources, sources.dataset, fv.split, fv.embeddings)
    split = EmbeddedSplit(
        sources.dataset or "embeddings",
        fv.split,
        [v.name for v in videos],
        [v.embs for v in videos],
        [v.labels for v in videos],
        [v.frame_indices for v in videos],
        [len(v.embs) for v in videos],
    )
    names = next((v.phase_names for v in videos if v.phase_names), None)
    thumbs = None
    if fv.sprites:
        if not all(v.has_frames for v in videos):
            raise cli.AppError("--sprites needs the frames: give --logdir or --data_path")
        thumbs = [[v.images() for v in videos]]
    path = write_projector(fv.output_dir, split, names, thumbs)
    print(f"view with: tensorboard --logdir={fv.output_dir}  (tab Projector)")
    return [path]


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, main, __doc__, argv)


if __name__ == "__main__":
    run()
