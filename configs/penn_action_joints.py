"""Penn Action from poses: TCC on the 2D joints (13 joints x, y + visibility), no pixels.

Import the joints, either from the Penn Action download (its hand-annotated labels/NNNN.mat):

  python -m tcc.datasets.penn_action --input_dir=Penn_Action --output_dir=/data/penn_joints \
      --mode=joints --actions=squats [--key_events=squat_events.json]

or from the CSV subset of the joints (examples/penn_joints.py, docs/poses.md):

  python examples/penn_joints.py --input_dir=/path/to/penn_action_joints \
      --output_dir=data/penn_joints --actions=squats --derived_events

then train and evaluate (about 20 CPU-seconds of training, 3000 steps):

  python -m tcc.train --alsologtostderr --config=configs/penn_action_joints.py \
      --config.data.path=data/penn_joints/records --logdir=/tmp/tcc/penn_joints
  python -m tcc.evaluate --logdir=/tmp/tcc/penn_joints

Add `--config.train.max_iters=50` for a smoke test. Both importers store per joint (x, y,
visibility) in pixels; preprocessing (tcc.datasets.pose) fills missing joints over time, centres
every frame, scales every video, flips left and right at random while training, mirrors every
video whose person faces left (`pose.facing_pairs`: knees left of hips) so that a video and its
mirror image give the same input, and appends the motion over `data.frame_stride` = 8 frames, so
that going down and coming up differ. Without the facing step, TCC aligned push-ups facing left
backwards with push-ups facing right (val Kendall's tau ~0; docs/poses.md, "Facing"). Kendall's
tau is reported at stride 1 (every frame; the original evaluation used 5 for Penn Action, which
leaves few frames of the 23-83 frame push-up videos).
"""

from tcc.config import get_default_config
from tcc.datasets.pose import (
    PENN_ACTION_FACING_PAIRS,
    PENN_ACTION_FLIP_PAIRS,
    PENN_ACTION_JOINTS,
)


def get_config():
    c = get_default_config()
    c.datasets = ["squats"]
    c.logdir = "/tmp/tcc/penn_joints"
    c.data.input_kind = "features"
    c.data.num_steps = 2
    c.data.frame_stride = 8
    c.data.frame_stride_fraction = 0.0  # measured (docs/poses.md) with 8 frames in every video
    c.data.shuffle_queue_size = 0  # 0 = the whole split
    c.pose.num_joints = len(PENN_ACTION_JOINTS)
    c.pose.num_channels = 2
    c.pose.visibility = True
    c.pose.center_and_scale = True
    c.pose.interpolate_missing = True
    c.pose.flip_pairs = [list(p) for p in PENN_ACTION_FLIP_PAIRS]
    c.pose.flip_probability = 0.5
    c.pose.facing_pairs = [list(p) for p in PENN_ACTION_FACING_PAIRS]  # all face right
    c.pose.facing_min_offset = 0.05  # front / back views (most pull-ups) have no facing
    c.pose.motion = True
    c.pose.motion_stride = 0  # = data.frame_stride
    c.model.embedding_size = 64
    c.model.sequence_embedder.conv_layers = []
    c.model.sequence_embedder.fc_layers = [256, 256]
    c.model.sequence_embedder.fc_dropout_rate = 0.1
    c.model.sequence_embedder.context_pooling = "flatten"
    # TCN as in the original code (n-pairs over the whole batch, plain dot product), the paper's
    # baseline, which trains on joints (RESULTS.md: 86.5 % at 10 % labels); the pixel demo's
    # default differs (tcc/config.py, RESULTS.md "TCN on pixels").
    c.tcn.negatives = "batch"
    c.tcn.normalize_embeddings = False
    c.tcn.temperature = 1.0
    c.train.batch_size = 4
    c.train.num_frames = 20
    c.train.max_iters = 3000
    c.train.visualize_interval = 1000
    c.optimizer.lr.initial_lr = 1e-3
    c.checkpoint.save_interval = 1000
    c.logging.report_interval = 200
    c.eval.kendalls_tau_stride = 1
    c.eval.num_frames = 64
    return c
