"""Has a trained run collapsed? Its training loss with and without dropout, and its spread.

A model whose embeddings are the same for every frame cannot be evaluated: Kendall's tau is ~0 and
the phase classifier predicts the majority phase. The cycle-back classification and MSE losses can
still *train* to a low loss in that state, because dropout makes the frames differ at random and
random points have more mutual nearest neighbours than chance (RESULTS.md, Table 3 on pixels).
This script shows it for a run:

  python examples/collapse_check.py --logdir=<output_dir>/loss_ablation/classification/seed0

  training loss, dropout on:  1.442     (what the training log shows)
  training loss, dropout off: 3.008     (ln T = 2.996 plus regularisation: chance)
  spread over frames: dropout on 0.621, dropout off 0.0054, inference 0.0052

The spread is the per-dimension standard deviation of the embeddings over a video's timesteps,
averaged over dimensions and videos. A healthy run (the default TCC) shows about the same loss and
spread either way (loss 0.313 / 0.310; spread 0.438 / 0.380 / 0.377).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from tcc import runs
from tcc.datasets import data_root, pipeline
from tcc.datasets.input_options import InputOptions


def _spread(embs: np.ndarray) -> float:
    """float [B, T, D] -> the mean over videos and dimensions of the std over timesteps."""
    return float(np.asarray(embs).std(axis=1).mean())


def collapse_report(run: runs.Run, num_batches: int = 10, seed: int = 1) -> dict[str, float]:
    """The run's training loss and embedding spread with dropout on and off, on training batches.

    Args:
      run: a trained run (`tcc.runs.open_run`).
      num_batches: training batches (B videos x T timesteps each, augmented as in training).
      seed: their seed.

    Returns:
      `loss_dropout` / `loss_no_dropout`: the total loss in training mode (batch-norm batch
      statistics) with the model's dropout rates and with every rate set to 0; `spread_dropout`,
      `spread_no_dropout` and `spread_inference` (training=False) of the embeddings [B, T, D].
    """
    cfg, model = run.cfg, run.model
    ds = pipeline.make_train_dataset(
        InputOptions.from_config(cfg),
        batch_size=cfg.train.batch_size,
        seed=seed,
        root=data_root.resolve(cfg),
    )
    batches = [batch for batch, _ in zip(ds, range(num_batches), strict=False)]

    sample_seed = tf.constant([seed, 0], tf.int64)

    def loss_and_spread(training: bool) -> tuple[float, float]:
        losses, spreads = [], []
        for batch in batches:
            embs = model(batch, training=training)
            terms = model.compute_losses(dict(batch, sample_seed=sample_seed), embs, training)
            losses.append(float(sum(terms.values())) + float(sum(model.losses or [0.0])))
            spreads.append(_spread(embs))
        return float(np.mean(losses)), float(np.mean(spreads))

    dropouts = [x for x in model._flatten_layers() if isinstance(x, keras.layers.Dropout)]
    rates = [x.rate for x in dropouts]
    report = {}
    report["loss_dropout"], report["spread_dropout"] = loss_and_spread(True)
    _, report["spread_inference"] = loss_and_spread(False)
    try:
        for layer in dropouts:
            layer.rate = 0.0
        report["loss_no_dropout"], report["spread_no_dropout"] = loss_and_spread(True)
    finally:
        for layer, rate in zip(dropouts, rates, strict=True):
            layer.rate = rate
    return report


def main(argv: list[str]) -> None:
    del argv
    args = flags.FLAGS
    report = collapse_report(runs.open_run(args.logdir), args.batches, args.seed)
    print(f"training loss, dropout on:  {report['loss_dropout']:.3f}")
    print(f"training loss, dropout off: {report['loss_no_dropout']:.3f}")
    print(
        f"spread over frames: dropout on {report['spread_dropout']:.3f}, "
        f"dropout off {report['spread_no_dropout']:.4f}, "
        f"inference {report['spread_inference']:.4f}"
    )


if __name__ == "__main__":
    # Flags are defined here, not at import, so that tests can import `collapse_report` next to
    # the package's entry points (absl refuses a second `--logdir`).
    flags.DEFINE_string("logdir", None, "The training run to check.")
    flags.DEFINE_integer("batches", 10, "Training batches to average over.")
    flags.DEFINE_integer("seed", 1, "Seed of the batches (frame sampling, augmentation).")
    flags.mark_flag_as_required("logdir")
    app.run(main)
