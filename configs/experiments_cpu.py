"""CPU-scale preset of the paper's experiments: the default demo's training, 2 CPU cores.

The default preset of `python -m tcc.experiments`:

  python -m tcc.experiments --experiment=from_scratch  --seeds=3 --parallel=2 \
      --results_file=RESULTS.md
  python -m tcc.experiments --experiment=combined      --seeds=3 --parallel=2 \
      --results_file=RESULTS.md
  python -m tcc.experiments --experiment=few_shot      --seeds=3 --parallel=2 \
      --results_file=RESULTS.md
  python -m tcc.experiments --experiment=loss_ablation --seeds=3 --parallel=2 \
      --results_file=RESULTS.md

What is trained: the model of `python -m tcc.train` (configs/default.py), the embedded synthetic
pouring dataset (480 train / 20 val videos, 48 px, generated on first use), the small CPU encoder
from scratch (no ImageNet weights on this machine, so the "fine-tuned" Tables 5-6 are from scratch
here too), batch 4 videos x 20 timesteps x 2 context frames with the context frame 0.3 of each
video's length back (`data.frame_stride_fraction`), Adam 1e-3, 3800 steps for every method. With
this training TCC ends at val tau 0.91 and phase classification@0.1 79.4-79.6 % over 3 seeds
(BENCHMARKS.md, "A context that scales with the video"). RESULTS.md's tables made before commit
68ed1a8 used a context 15 frames back in every video (the demo's default until then; each table's
status says which). Every baseline gets the same budget.
`tests/experiments/test_cpu_preset.py` keeps every training key equal to the default's. Equal
budgets let the experiments share runs: TCC, SaL and TCN of `from_scratch` are evaluated, not
retrained, by `combined`, `few_shot` and `loss_ablation` (`--reuse`, docs/experiments.md).

Time budget: a 3800-step run costs about 15-16 CPU-minutes of training plus about a minute of
evaluation (embedding the 500 videos, the SVMs), so with `--parallel=2` (one thread per run) two
runs take about 17 minutes of wall time on 2 idle cores. The experiments therefore take longer
than the old 800-step preset's hour:

  experiment      runs x seeds          trained (after the experiments above)   estimate
  from_scratch         6 x 3            18                                      ~2.5 h
  loss_ablation        3 x 3             6 (3 evaluated only)                   ~50 min
  combined       3 x 3 + 6 + 2 x 2      10 (9 evaluated only)                   ~1.5 h
  few_shot             7 x 3            11 (10 evaluated only)                  ~1.7 h

(few_shot trains 9 when `combined` kept w = 0.5 for TCC+TCN, whose seeds 1 and 2 it then reuses;
it measured 1 h 53 min with 11 trained runs, partly beside a CI run.)

about 6.5 hours for all four on 2 cores. An interrupted command continues where it stopped (finished
runs are skipped, unfinished ones resume from their checkpoint); `--seeds=2` first and `--seeds=3`
later trains only the third seed the second time. The measured times are under each table in
RESULTS.md.
"""

from tcc.config import get_default_config

FEW_SHOT_NUM_LABELED = [1, 3, 10]  # the supervised baseline needs one run per k


def get_config():
    c = get_default_config()
    c.logdir = "/tmp/tcc_experiments/unused"  # the runner gives every run its own logdir
    # Training: the default demo's (image size, videos, batch, frames, context, optimizer,
    # max_iters 3800 for every experiment), so no experiment_overrides here.
    c.train.visualize_interval = 0
    c.eval.interval = 0  # no in-training validation: the runner evaluates every run at the end
    c.checkpoint.save_interval = 500  # an interrupted experiment loses at most 500 steps per run
    c.logging.report_interval = 200
    c.eval.kendalls_tau_stride = 2  # as the original for Pouring
    c.eval.few_shot_num_episodes = 50
    c.eval.few_shot_num_labeled = list(FEW_SHOT_NUM_LABELED)
    return c
