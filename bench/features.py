"""Training throughput on pose features vs on pixels: sequences/s and frames/s.

  python bench/features.py                  # 200 feature steps, 10 pixel steps
  python bench/features.py --quick          # 50 / 3 steps
  python bench/features.py --features_root=data/penn_joints/records --dataset=squats

Features: `configs/penn_action_joints.py` (13 joints x (x, y, visibility), preprocessing with
motion, MLP sequence embedder) on random pose sequences of 40-140 frames written to a temporary
folder (or on real records with `--features_root`). Pixels: `configs/default.py` (small CNN
encoder, 64 px) on the embedded synthetic dataset (generated on first use), and with
`--paper_pixels` also `configs/pouring.py`, the paper's ResNet50V2 at 224 px with its batch of 2
videos (random weights; slow and several GB of memory on a CPU). The first two use batch 4 x 20
timesteps x 2 context frames; all train TCC (`alignment`). Every row times full training
steps (input pipeline, forward, backward, update) after one warm-up step; a sequence is one video
of a batch, a frame one embedded context frame (batch x num_frames x num_steps per step).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tcc import config as config_lib  # noqa: E402
from tcc.datasets import data_root, pipeline, records  # noqa: E402
from tcc.training import loop  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def write_random_poses(root: str, num_videos: int = 32, seed: int = 0) -> str:
    """Random walks of 13 joints, (x, y, visibility) per joint, as the dataset 'poses'."""
    rng = np.random.default_rng(seed)
    videos = []
    for i in range(num_videos):
        length = int(rng.integers(40, 141))
        xy = np.cumsum(rng.normal(0, 2, (length, 13, 2)), axis=0) + rng.uniform(0, 300, 2)
        visible = (rng.random((length, 13, 1)) > 0.05).astype(np.float32)
        feats = np.concatenate([xy, visible], axis=-1).reshape(length, -1)
        videos.append(records.VideoExample(f"v{i}", features=feats.astype(np.float32)))
    records.write_split(videos, root, "poses", "train")
    return root


def time_training(cfg, root: str, steps: int) -> float:
    """Steps/s of full training steps on pipeline batches, after one warm-up step."""
    strategy = tf.distribute.get_strategy()
    dataset = pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=0, root=root)
    feature_dim = dataset.element_spec["frames"].shape[-1]
    model, _ = loop.build_model_and_optimizer(cfg, strategy, feature_dim)
    iterator = iter(dataset)
    step = tf.function(model.train_step)
    step(next(iterator))
    start = time.perf_counter()
    for _ in range(steps):
        out = step(next(iterator))
    float(out["loss"])
    return steps / (time.perf_counter() - start)


def _row(name: str, cfg, root: str, steps: int) -> tuple:
    cfg.train.max_iters = steps + 1
    sequences = cfg.train.batch_size
    frames = sequences * cfg.train.num_frames * cfg.data.num_steps
    steps_per_s = time_training(cfg, root, steps)
    batch = f"{sequences} x {cfg.train.num_frames} x {cfg.data.num_steps}"
    return name, batch, steps, steps_per_s, steps_per_s * sequences, steps_per_s * frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 feature / 3 pixel steps")
    parser.add_argument("--features_root", default="", help="records root of real pose data")
    parser.add_argument("--dataset", default="poses", help="dataset name under --features_root")
    parser.add_argument("--paper_pixels", action="store_true", help="also ResNet50V2 at 224 px")
    args = parser.parse_args()
    feature_steps, pixel_steps = (50, 3) if args.quick else (200, 10)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tcc-bench-") as tmp:
        cfg = config_lib.load_config_file(os.path.join(ROOT, "configs", "penn_action_joints.py"))
        root = args.features_root or write_random_poses(tmp)
        cfg.data.path, cfg.datasets = root, [args.dataset]
        rows.append(_row("features: penn_action_joints (MLP 256-256)", cfg, root, feature_steps))
    cfg = config_lib.get_default_config()
    root = data_root.resolve(cfg)
    rows.append(_row("pixels: default (small CNN, 64 px)", cfg, root, pixel_steps))
    if args.paper_pixels:
        cfg = config_lib.load_config_file(os.path.join(ROOT, "configs", "pouring.py"))
        cfg.data.path, cfg.datasets = root, ["synthetic_pouring"]
        rows.append(_row("pixels: pouring (ResNet50V2 conv4c, 224 px)", cfg, root, 2))
    print(f"\nTCC training throughput, {os.cpu_count()} CPU cores\n")
    print("| input | batch | timed steps | steps/s | sequences/s | frames/s |")
    print("|---|---|---|---|---|---|")
    for name, batch, steps, sps, seqs, frames in rows:
        print(f"| {name} | {batch} | {steps} | {sps:.2f} | {seqs:.1f} | {frames:.0f} |")


if __name__ == "__main__":
    main()
