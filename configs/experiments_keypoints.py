"""Keypoint preset of the paper's experiments: real Penn Action joints (squats, push-ups, pull-ups).

Runs the four experiments on 2D human joints instead of pixels, with the pose settings of
`configs/penn_action_joints.py` (13 joints + visibility, centring, scaling, flips, motion; an MLP
sequence embedder). The data is the small real subset in ../shared/data/penn_action_joints
(relative to the repository root; 45 sequences per action; 30 train / 15 val). It has no phase
labels: `--derived_events` makes rough key events from the joints (squats: hips half-way down,
lowest, half-way up; push-ups: head lowest; pull-ups: head highest), a heuristic stand-in for the
paper's annotations (docs/experiments.md).

  python examples/penn_joints.py --input_dir=../shared/data/penn_action_joints \
      --output_dir=data/penn_joints --derived_events
  python -m tcc.experiments --experiment=loss_ablation --config=configs/experiments_keypoints.py \
      --tag=keypoints --seeds=3 --results_file=RESULTS.md
  (same for from_scratch, combined, few_shot)

The metrics are averaged over the three actions; the tables compare with the paper's Penn Action
numbers (there is none for the loss ablation).

Time budget, measured on the shared 2-core machine (load average ~8): with the three actions,
batch 4 x 20 timesteps, the sequence models train at 75-200 steps/s once traced, and a 3000-step
run through the runner took 46-64 s in all (supervised 46 s, TCC 48 s, TCC+TCN 64 s; building,
tracing, embedding 135 sequences and the SVMs included):

  experiment      runs x seeds          estimate at that load
  loss_ablation        3 x 3             9 x 50 s =  8 min
  from_scratch         6 x 3            18 x 45 s = 14 min
  combined       3 x 3 + 6 + 2 x 2      19 x 60 s = 19 min
  few_shot             9 x 3            27 x 55 s = 25 min   (k = 1, 2, 3, 5, 10)
"""

import os

from tcc import config as config_lib

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _penn_action_joints_config():
    return config_lib.load_config_file(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "penn_action_joints.py")
    )


def get_config():
    c = _penn_action_joints_config()
    c.datasets = ["squats", "pushups", "pullups"]
    # Written by examples/penn_joints.py (docstring); relative to the repository root.
    c.data.path = os.path.join(_REPO_ROOT, "data", "penn_joints", "records")
    c.logdir = "/tmp/tcc_experiments/unused"  # the runner gives every run its own logdir
    c.train.max_iters = 3000
    # Everything else as configs/penn_action_joints.py (facing with facing_min_offset, motion
    # over 8 frames, tau at stride 1: docs/poses.md); RESULTS.md was regenerated with it.
    c.train.visualize_interval = 0
    c.checkpoint.save_interval = 500
    c.logging.report_interval = 500
    c.eval.few_shot_num_episodes = 50
    c.eval.few_shot_num_labeled = [1, 2, 3, 5, 10]
    return c
