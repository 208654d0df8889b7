"""The paper's Penn Action setting: TCC on ResNet50V2 conv4c, one dataset per action class.

Import Penn Action first (`python -m tcc.datasets.penn_action`, see docs/data.md), then:

  python -m tcc.train --alsologtostderr --config=configs/penn_action.py \
      --config.data.path=/data/penn_records '--config.datasets=[squats,pushups]' \
      --config.model.base_model.weights=/data/resnet50v2_notop.h5 --logdir=/tmp/tcc/penn

Each batch holds videos of one action; actions are mixed across batches. Kendall's tau uses
stride 5 as the original evaluation did for Penn Action.
"""

from tcc.config import get_default_config

PENN_ACTION_CLASSES = [
    "baseball_pitch",
    "baseball_swing",
    "bench_press",
    "bowling",
    "clean_and_jerk",
    "golf_swing",
    "jumping_jacks",
    "pullups",
    "pushups",
    "situp",
    "squats",
    "tennis_forehand",
    "tennis_serve",
]


def get_config():
    c = get_default_config()
    c.datasets = list(PENN_ACTION_CLASSES)
    c.logdir = "/tmp/tcc/penn_action"
    c.data.image_size = 224
    c.data.num_steps = 2
    c.data.frame_stride = 15
    c.data.frame_stride_fraction = 0.0  # the original: 15 frames in every video
    c.train.batch_size = 2
    c.train.num_frames = 20
    c.train.max_iters = 150_000
    c.train.visualize_interval = 5000
    c.model.base_model.network = "resnet50v2"
    c.model.base_model.layer = "conv4_block3_out"
    c.model.train_base = "only_bn"
    c.model.conv_embedder.conv_layers = [[512, 3, True], [512, 3, True]]
    c.model.conv_embedder.fc_layers = [512, 512]
    c.model.conv_embedder.capacity_scalar = 1.0
    c.alignment.loss_type = "regression_mse_var"
    # TCN as in the original code (n-pairs over the whole batch, plain dot product), the paper's
    # baseline; the pixel demo's default differs (tcc/config.py, RESULTS.md "TCN on pixels").
    c.tcn.negatives = "batch"
    c.tcn.normalize_embeddings = False
    c.tcn.temperature = 1.0
    c.optimizer.lr.initial_lr = 1e-4
    c.checkpoint.save_interval = 1000
    c.logging.report_interval = 100
    c.eval.kendalls_tau_stride = 5
    c.eval.num_frames = 40
    return c
