"""CPU-scale preset of the paper's experiments: embedded dataset, small encoder, 2 CPU cores.

The default preset of `python -m tcc.experiments`; each experiment finishes in about an hour or
less on 2 cores (3 seeds):

  python -m tcc.experiments --experiment=loss_ablation --seeds=3 --results_file=RESULTS.md
  python -m tcc.experiments --experiment=from_scratch  --seeds=3 --results_file=RESULTS.md
  python -m tcc.experiments --experiment=combined      --seeds=3 --results_file=RESULTS.md
  python -m tcc.experiments --experiment=few_shot      --seeds=3 --results_file=RESULTS.md

What is trained: the embedded synthetic pouring dataset (60 train / 20 val videos, 64 px, generated
on first use), the small CPU encoder trained from scratch (no ImageNet weights on this machine, so
the "fine-tuned" Tables 5-6 are also from scratch here), the paper's batch of 2 videos x 20
timesteps x 2 context frames, Adam 1e-4.

Time budget, measured on the 2-core development machine while other engineers' jobs shared it
(load average 6-10, so this process got about half a core): a 30-step default-config run
(`python -m tcc.train --config.train.max_iters=30`) trained TCC at 1.5 steps/s with batch 4; at
batch 2, 60-step runs of the CPU preset through the runner trained at 2.1-3.3 steps/s once traced
(TCC 2.9, supervised 3.3, TCN 2.6, SaL 2.1) and took 60-91 s each including a fixed cost of ~45 s
(building, tracing, embedding the 80 videos, the SVMs). Budget per run ~ 45 s + 0.4 s x max_iters
(+10 s for the few-shot episodes); the weight search of `combined` trains its 6 weighted runs with
the first seed only:

  experiment      runs x seeds   max_iters   estimate at that load
  loss_ablation        3 x 3        600         9 x 285 s = 43 min
  from_scratch         6 x 3        300        18 x 165 s = 50 min
  combined       3 x 3 + 6 + 2 x 2  250        19 x 160 s = 51 min
  few_shot             7 x 3        250        21 x 155 s = 54 min

On an idle machine it is faster. `--config.train.max_iters=N` trains longer (finished runs of the
same output_dir continue from their checkpoints); `--parallel=2` runs two runs at a time with one
thread each.
"""

from tcc.config import get_default_config

MAX_ITERS = {"loss_ablation": 600, "from_scratch": 800, "combined": 800, "few_shot": 800}
FEW_SHOT_NUM_LABELED = [1, 3, 10]  # the supervised baseline needs one run per k


def get_config():
    c = get_default_config()
    c.logdir = "/tmp/tcc_experiments/unused"  # the runner gives every run its own logdir
    c.train.batch_size = 2
    c.train.num_frames = 20
    c.train.max_iters = 250  # replaced per experiment by experiment_overrides
    c.train.visualize_interval = 0
    c.checkpoint.save_interval = 100  # an interrupted experiment loses at most 100 steps per run
    c.logging.report_interval = 50
    c.eval.kendalls_tau_stride = 2  # as the original for Pouring
    c.eval.few_shot_num_episodes = 50
    c.eval.few_shot_num_labeled = list(FEW_SHOT_NUM_LABELED)
    return c


def experiment_overrides(experiment: str) -> dict:
    """Per-experiment training budget (see the table above)."""
    return {"train.max_iters": MAX_ITERS.get(experiment, 250)}
