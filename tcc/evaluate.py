"""Evaluates a training run: `python -m tcc.evaluate --logdir=DIR [--continuous_eval]`.

One-shot (default): the newest checkpoint of DIR. Continuous: every new checkpoint as training
writes it, until the one at `train.max_iters`. The config is the one training saved in
`DIR/config.json`; `--config.eval.tasks=[kendalls_tau]` style overrides change evaluation options.
Writes `DIR/eval/metrics.jsonl` (one line per checkpoint and dataset), TensorBoard scalars
`metrics/<dataset>/<metric>` in `DIR/eval`, a few-shot curve PNG per dataset, and prints a table.
"""

from __future__ import annotations

from absl import app, flags

from tcc import checks, cli, errors

FLAGS = flags.FLAGS
flags.DEFINE_string("logdir", None, "Training run directory (holds config.json, checkpoints/).")
flags.DEFINE_bool("continuous_eval", False, "Follow new checkpoints until training's last step.")
flags.DEFINE_string("checkpoint", None, "Evaluate this checkpoint path instead of the newest.")
flags.DEFINE_float(
    "timeout", 3600.0, "Continuous mode: stop after this many seconds without a new checkpoint."
)
flags.DEFINE_bool(
    "projector",
    False,
    "Also write a TensorBoard embedding projector of the val "
    "embeddings (video name, frame index, phase) into <logdir>/projector.",
)

_OVERRIDES: list[str] = []


def main(argv: list[str]) -> None:
    """Evaluates as the flags say; user errors raise `errors.UserError` (see `run`)."""
    del argv
    cfg = checks.load_run_config(FLAGS.logdir, _OVERRIDES)
    from tcc import runs  # noqa: PLC0415 (heavy imports after parsing)
    from tcc.evaluation import runner  # noqa: PLC0415

    root = checks.check_eval_inputs(cfg, sorted(set(cfg.eval.splits) | {"val"}))
    if FLAGS.continuous_eval:
        paths = runs.follow_checkpoints(FLAGS.logdir, cfg.train.max_iters, FLAGS.timeout)
    else:
        path = checks.checkpoint_path(FLAGS.logdir, FLAGS.checkpoint)
        paths = [path]
        if not FLAGS.checkpoint:  # the newest; a newer one if training rotates it away meanwhile
            paths = runs.follow_checkpoints(FLAGS.logdir, runs.checkpoint_step(path), timeout=60.0)
    records = runs.evaluate_checkpoints(
        cfg, FLAGS.logdir, paths, root=root, projector=FLAGS.projector
    )
    if not records:
        raise errors.UserError(
            f"no checkpoint of --logdir={FLAGS.logdir} could be evaluated (see the log above); "
            "train first or pass --checkpoint"
        )
    print(runner.format_table(records))
    print(f"\nmetrics: {FLAGS.logdir}/eval/metrics.jsonl  |  tensorboard --logdir={FLAGS.logdir}")


def run(argv: list[str] | None = None) -> None:
    """Console entry point: user errors end as one `error:` line (`tcc.errors`)."""
    app.run(errors.wrap(main), argv=argv, flags_parser=cli.make_flags_parser(_OVERRIDES))


if __name__ == "__main__":
    run()
