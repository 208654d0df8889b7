"""Trains self-supervised per-frame video embeddings: `python -m tcc.train --alsologtostderr`.

  python -m tcc.train --alsologtostderr                                  # the embedded demo
  python -m tcc.train --alsologtostderr --config=configs/pouring.py \\
      --config.data.path=/data/tcc_records --logdir=/tmp/tcc/pouring
  python -m tcc.train --alsologtostderr --config.training_algo=tcn --config.train.max_iters=200

Running the same command again resumes from the newest checkpoint in the logdir.
"""

from __future__ import annotations

import sys

from absl import app, flags, logging

from tcc import config as config_lib

FLAGS = flags.FLAGS
flags.DEFINE_string("config", None, "Path to a config file (configs/*.py); default: the demo.")
flags.DEFINE_string(
    "logdir", None, "Run directory (checkpoints, TensorBoard, config.json); default: config.logdir."
)

_OVERRIDES: list[str] = []


def main(argv: list[str]) -> None:
    del argv
    try:
        cfg = config_lib.load(FLAGS.config, _OVERRIDES)
    except (KeyError, ValueError, FileNotFoundError, AttributeError) as e:
        msg = e.args[0] if e.args else str(e)
        sys.exit(f"error: {msg}")
    if FLAGS.logdir:
        cfg.logdir = FLAGS.logdir

    from tcc.training import checkpoints, loop, workers  # noqa: PLC0415 (heavy, after parsing)

    try:
        result = loop.train(cfg)
    except (
        loop.NonFiniteLossError,
        checkpoints.ConfigConflictError,
        workers.WorkerLostError,
    ) as e:
        logging.error("%s", e)
        sys.exit(f"error: {e}")
    except loop.TrainingInterrupted as e:
        logging.warning("%s", e)
        sys.exit(128 + e.signum)
    logging.info(
        "Done: steps %d -> %d, last losses %s, %.0f frames/s. Logdir: %s. Evaluate with "
        "`python -m tcc.evaluate --logdir=%s`.",
        result.start_step,
        result.final_step,
        {k: round(v, 4) for k, v in result.last_losses.items()},
        result.frames_per_second,
        result.logdir,
        result.logdir,
    )


def run() -> None:
    """Console entry point."""
    app.run(main, flags_parser=config_lib.make_flags_parser(_OVERRIDES))


if __name__ == "__main__":
    run()
