"""Trains self-supervised per-frame video embeddings: `python -m tcc.train --alsologtostderr`.

  python -m tcc.train --alsologtostderr                                  # the embedded demo
  python -m tcc.train --alsologtostderr --config=configs/pouring.py \\
      --config.data.path=/data/tcc_records --logdir=/tmp/tcc/pouring
  python -m tcc.train --alsologtostderr --config.training_algo=tcn --config.train.max_iters=200

Running the same command again resumes from the newest checkpoint in the logdir; a finished run
says so (raise `--config.train.max_iters` to continue it). `--helpconfig` lists every config key
with its default and meaning. TensorFlow's start-up lines are hidden; `TCC_TF_VERBOSE=1` shows them.
"""

from __future__ import annotations

import os
import shutil
import sys

from absl import app, flags, logging

from tcc import cli, errors
from tcc import config as config_lib

FLAGS = flags.FLAGS
flags.DEFINE_string("config", None, "Path to a config file (configs/*.py); default: the demo.")
flags.DEFINE_string(
    "logdir", None, "Run directory (checkpoints, TensorBoard, config.json); default: config.logdir."
)

_OVERRIDES: list[str] = []


def main(argv: list[str]) -> None:
    """Trains with the flags' config; user errors raise `errors.UserError` (see `run`)."""
    del argv
    cfg = config_lib.load(FLAGS.config, _OVERRIDES)
    if FLAGS.logdir:
        cfg.logdir = FLAGS.logdir
    logging.info("%s Loading TensorFlow ...", plan(cfg))

    from tcc import checks  # noqa: PLC0415 (heavy, after parsing)
    from tcc.training import checkpoints, loop, workers  # noqa: PLC0415

    made_logdir = not os.path.exists(cfg.logdir)
    try:
        checks.check_config(cfg)  # the values, then (in the loop) the data, before any writing
        result = loop.train(cfg, preflight=checks.preflight)
    except (loop.NonFiniteLossError, workers.WorkerLostError) as e:
        logging.error("%s", e)
        raise errors.UserError(str(e)) from e
    except loop.TrainingInterrupted as e:
        logging.warning("%s", e)
        sys.exit(128 + e.signum)
    except Exception as e:
        user_error = errors.user_message(e) is not None
        fresh = made_logdir and os.path.isdir(cfg.logdir)
        if user_error and fresh and checkpoints.latest_checkpoint(cfg.logdir) is None:
            shutil.rmtree(cfg.logdir, ignore_errors=True)  # a failed first run leaves nothing
        raise
    if result.final_step == result.start_step:
        logging.info("%s", complete_message(result.logdir, result.final_step, cfg.train.max_iters))
        return
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


def plan(cfg) -> str:
    """One line saying what this run builds (printed before the slow TensorFlow import)."""
    network = cfg.model.base_model.network if cfg.data.input_kind == "frames" else "sequence"
    return (
        f"Training {cfg.training_algo} ({network} encoder, {cfg.model.embedding_size}-d "
        f"embeddings) on {', '.join(cfg.datasets)} for {cfg.train.max_iters} steps of "
        f"{cfg.train.batch_size} videos x {cfg.train.num_frames} frames; logdir {cfg.logdir}."
    )


def complete_message(logdir: str, step: int, max_iters: int) -> str:
    """What a rerun of a finished run prints instead of training."""
    return (
        f"The run in {logdir} is complete: its newest checkpoint is at step {step} and "
        f"train.max_iters={max_iters}. To train it further, rerun the same command with "
        f"--config.train.max_iters={max(2 * max_iters, step + max_iters)} (it resumes from step "
        f"{step}); evaluate it with `python -m tcc.evaluate --logdir={logdir}`."
    )


def run(argv: list[str] | None = None) -> None:
    """Console entry point: user errors end as one `error:` line (`tcc.errors`)."""
    app.run(errors.wrap(main), argv=argv, flags_parser=cli.make_flags_parser(_OVERRIDES))


if __name__ == "__main__":
    run()
