"""The paper's Pouring setting (Dwibedi et al. 2019, §4 and Table 3): TCC on ResNet50V2 conv4c.

Needs the Pouring TFRecords (original TCC naming `pouring_train-*.tfrecord` is read as is) and,
for the paper's ImageNet initialisation, a local ResNet50V2 weights file:

  python -m tcc.train --alsologtostderr --config=configs/pouring.py \
      --config.data.path=/data/tcc_records \
      --config.model.base_model.weights=/data/resnet50v2_notop.h5 --logdir=/tmp/tcc/pouring

On one GPU the paper's 150k steps at batch 2 x 20 frames x 2 context frames take roughly a day.
Smoke test on CPU: `--config.train.max_iters=2 --config.data.image_size=64`.
"""

from tcc.config import get_default_config


def get_config():
    c = get_default_config()
    c.datasets = ["pouring"]
    c.logdir = "/tmp/tcc/pouring"
    c.data.path = ""  # set --config.data.path to the records root
    c.data.image_size = 224
    c.data.num_steps = 2
    c.data.frame_stride = 15
    c.data.frame_stride_fraction = 0.0  # the original: 15 frames in every video
    c.data.sampling_strategy = "offset_uniform"
    c.train.batch_size = 2
    c.train.num_frames = 20
    c.train.max_iters = 150_000
    c.train.visualize_interval = 5000
    c.model.base_model.network = "resnet50v2"
    c.model.base_model.layer = "conv4_block3_out"
    c.model.base_model.weights = ""  # path to a local ResNet50V2 .h5 ('imagenet' downloads)
    c.model.train_base = "only_bn"
    c.model.embedding_size = 128
    c.model.conv_embedder.conv_layers = [[512, 3, True], [512, 3, True]]
    c.model.conv_embedder.fc_layers = [512, 512]
    c.model.conv_embedder.fc_dropout_rate = 0.1
    c.model.conv_embedder.capacity_scalar = 1.0
    c.alignment.loss_type = "regression_mse_var"
    c.alignment.similarity_type = "l2"
    c.alignment.softmax_temperature = 0.1
    c.alignment.variance_lambda = 0.001
    # TCN as in the original code (n-pairs over the whole batch, plain dot product), the paper's
    # baseline; the pixel demo's default differs (tcc/config.py, RESULTS.md "TCN on pixels").
    c.tcn.negatives = "batch"
    c.tcn.normalize_embeddings = False
    c.tcn.temperature = 1.0
    c.optimizer.type = "adam"
    c.optimizer.lr.initial_lr = 1e-4
    c.optimizer.lr.decay_type = "fixed"
    c.checkpoint.save_interval = 1000
    c.logging.report_interval = 100
    c.eval.kendalls_tau_stride = 2
    c.eval.num_frames = 40
    return c
