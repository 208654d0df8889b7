"""Per-video embeddings of a split to one `.npz`:

  python -m tcc.extract_embeddings --logdir=DIR --dataset=NAME --split=val --output=FILE.npz

The file holds, for N videos, `names` [N] (str), `seq_lens` [N], and per video i the arrays
`embs_i` float32 [T_i, D], `frame_indices_i` int32 [T_i] and `labels_i` int32 [T_i] (-1 where
unlabelled); no pickled objects (`tcc.evaluation.embeddings_file`). Works on any records,
labelled or not (e.g. your own converted videos: `--config.data.path=DIR`). `--stride=k` keeps
every k-th frame.
"""

from __future__ import annotations

import os

from absl import app, flags, logging

from tcc import cli, errors

FLAGS = flags.FLAGS
flags.DEFINE_string("logdir", None, "Training run directory.")
flags.DEFINE_string("dataset", None, "Dataset name (default: the first of config.datasets).")
flags.DEFINE_string("split", "val", "Split to embed.")
flags.DEFINE_string("output", None, "Output .npz path.")
flags.DEFINE_integer("stride", 1, "Embed every k-th frame.")
flags.DEFINE_string("checkpoint", None, "Checkpoint path (default: the newest in logdir).")
flags.DEFINE_bool(
    "projector",
    False,
    "Also write a TensorBoard embedding projector for the split "
    "into <logdir>/projector (metadata: video name, frame index, phase).",
)

_OVERRIDES: list[str] = []


def main(argv: list[str]) -> None:
    """Embeds a split as the flags say; user errors raise `errors.UserError` (see `run`)."""
    del argv
    from tcc import checks  # noqa: PLC0415 (heavy imports after parsing)

    cfg = checks.load_run_config(FLAGS.logdir, _OVERRIDES)
    if not FLAGS.output:
        raise errors.BadValueError(
            "no output file: --output is missing, on the command line; pass --output=FILE.npz"
        )
    parent = os.path.dirname(os.path.abspath(FLAGS.output))
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise errors.BadValueError(
            f"--output={FLAGS.output}: {parent} is a file, not a folder, on the command line; "
            "pick an output path in a folder"
        )
    if FLAGS.stride < 1:
        raise errors.BadValueError(f"--stride={FLAGS.stride} must be >= 1, on the command line")
    dataset = FLAGS.dataset or cfg.datasets[0]
    if dataset not in cfg.datasets:
        cfg.datasets = [dataset]  # another dataset under the same records root
    from tcc import runs  # noqa: PLC0415
    from tcc.datasets.input_options import InputOptions  # noqa: PLC0415
    from tcc.evaluation import embed as embed_lib  # noqa: PLC0415
    from tcc.evaluation.embeddings_file import save_npz  # noqa: PLC0415

    root = checks.check_eval_inputs(cfg, [FLAGS.split])
    run = runs.Run(FLAGS.logdir, cfg, checks.checkpoint_path(FLAGS.logdir, FLAGS.checkpoint), root)
    split = embed_lib.embed_split(
        run.embed_fn(),
        InputOptions.from_config(cfg),
        dataset,
        FLAGS.split,
        stride=FLAGS.stride,
        root=root,
    )
    save_npz(FLAGS.output, split)
    logging.info(
        "Wrote %d videos of %s/%s to %s", len(split.names), dataset, FLAGS.split, FLAGS.output
    )
    if FLAGS.projector:
        from tcc.evaluation.projector import write_projector  # noqa: PLC0415

        path = write_projector(os.path.join(FLAGS.logdir, "projector"), split)
        logging.info("Projector: %s (tensorboard --logdir=%s)", path, FLAGS.logdir)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: user errors end as one `error:` line (`tcc.errors`)."""
    app.run(errors.wrap(main), argv=argv, flags_parser=cli.make_flags_parser(_OVERRIDES))


if __name__ == "__main__":
    run()
