"""Training throughput (frames/s) of the default and the paper's config on this machine.

  python bench/train_speed.py                      # default + pouring configs, 5 timed steps each
  python bench/train_speed.py --configs=default --steps=20

For each config: the input pipeline alone (batches/s), and a full training step (forward,
backward, update) on batches from the pipeline, after one warm-up step. Frames/s counts every
decoded frame a step consumes: batch x num_frames x num_steps. The paper's config runs at its
real size (ResNet50V2 conv4c at 224 px, batch 2 x 20 x 2 frames) with random weights (no download)
and reads the embedded data resized to 224 px.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from tcc import config as config_lib  # noqa: E402
from tcc.datasets import data_root, pipeline  # noqa: E402
from tcc.training import loop  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _time_pipeline(cfg, root: str, batches: int) -> float:
    it = iter(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=0, root=root)
    )
    next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches / (time.perf_counter() - start)


def _time_training(cfg, root: str, steps: int) -> float:
    strategy = tf.distribute.get_strategy()
    model, _ = loop.build_model_and_optimizer(cfg, strategy)
    it = iter(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=0, root=root)
    )
    step = tf.function(model.train_step)
    step(next(it))  # warm-up: trace and first run
    start = time.perf_counter()
    for _ in range(steps):
        out = step(next(it))
    float(out["loss"])
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="default,pouring")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    base = config_lib.get_default_config()
    root = data_root.resolve(base)
    rows = []
    for name in args.configs.split(","):
        cfg = config_lib.load_config_file(os.path.join(ROOT, "configs", f"{name}.py"))
        cfg.data.path = root
        cfg.datasets = ["synthetic_pouring"]
        frames = cfg.train.batch_size * cfg.train.num_frames * cfg.data.num_steps
        batches_per_s = _time_pipeline(cfg, root, max(10, args.steps))
        steps_per_s = _time_training(cfg, root, args.steps)
        rows.append(
            (
                name,
                cfg.model.base_model.network,
                cfg.data.image_size,
                frames,
                batches_per_s * frames,
                steps_per_s,
                steps_per_s * frames,
            )
        )
    print(
        f"\nTraining throughput on this machine ({os.cpu_count()} CPU cores), "
        f"{args.steps} timed steps after one warm-up step:\n"
    )
    print("| config | backbone | px | frames/step | pipeline frames/s | steps/s | train frames/s |")
    print("|---|---|---|---|---|---|---|")
    for name, net, px, frames, pipe_fps, sps, fps in rows:
        print(f"| {name} | {net} | {px} | {frames} | {pipe_fps:.0f} | {sps:.3f} | {fps:.1f} |")


if __name__ == "__main__":
    main()
