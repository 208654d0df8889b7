"""The shared harness of tests/algos, in the manner of keras-hub's `TestCase.run_*_test`.

Every registered algorithm gets the same checks from `test_algorithms.py` (parametrised over
`ALGORITHMS.names()`, so a new algorithm is covered as soon as it registers): the output shape
[B, T, D], the `get_config` round trip, one `train_step` with a finite loss, and equal outputs
after a checkpoint save / restore. Everything is tiny (16 px frames, T = 5, B = 2).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tcc import config as config_lib
from tcc.algos import ALGORITHMS, Algorithm, build_algorithm
from tcc.training import checkpoints

BATCH, TIMESTEPS, IMAGE_SIZE, EMBEDDING = 2, 5, 16, 8  # SaL needs T >= 5
NUM_CLASSES = 3


def tiny_algorithm_config(name: str) -> config_lib.ConfigDict:
    """The defaults shrunk for speed, with every optional head of `name` switched on."""
    cfg = config_lib.get_default_config()
    cfg.training_algo = name
    cfg.data.image_size = IMAGE_SIZE
    cfg.model.embedding_size = EMBEDDING
    cfg.model.conv_embedder.conv_layers = [[8, 3, True]]
    cfg.model.conv_embedder.fc_layers = [8]
    cfg.model.conv_embedder.capacity_scalar = 1.0
    cfg.sal.num_samples = 4
    cfg.sal.dropout_rate = 0.1  # a seed generator in the checkpoint, too
    cfg.combined.sal_loss_weight = 0.5  # every term of `combined`, so every head is built
    cfg.combined.tcn_loss_weight = 0.5
    cfg.classification.num_classes = NUM_CLASSES
    cfg.tcn.positive_window = 1
    return cfg


def tiny_batch(cfg: config_lib.ConfigDict, seed: int = 0) -> dict[str, tf.Tensor]:
    """A batch of BATCH videos x TIMESTEPS timesteps (frames [B, T * num_steps, S, S, 3])."""
    rng = np.random.default_rng(seed)
    steps = TIMESTEPS * cfg.data.num_steps
    size = cfg.data.image_size
    frames = rng.uniform(-1, 1, (BATCH, steps, size, size, 3)).astype(np.float32)
    return {
        "frames": tf.constant(frames),
        "steps": tf.tile(tf.range(TIMESTEPS)[None] * 3, [BATCH, 1]),
        "seq_lens": tf.fill([BATCH], 3 * TIMESTEPS),
        "frame_labels": tf.constant(rng.integers(0, NUM_CLASSES, (BATCH, TIMESTEPS)), tf.int32),
        "seq_labels": tf.zeros([BATCH], tf.int32),
    }


def build(cfg: config_lib.ConfigDict) -> Algorithm:
    """`build_algorithm(cfg)`, every variable created, compiled with Adam."""
    model = build_algorithm(cfg)
    model.build_with_dummy_batch(TIMESTEPS, batch_size=BATCH)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.optimizer.build(model.trainable_variables)
    return model


def run_output_shape_test(model: Algorithm, batch: dict[str, tf.Tensor]) -> None:
    embs = model(batch, training=False)
    assert embs.shape == (BATCH, TIMESTEPS, EMBEDDING)
    assert embs.dtype == tf.float32
    np.testing.assert_array_equal(model(batch["frames"], training=False).numpy(), embs.numpy())


def run_get_config_test(model: Algorithm) -> None:
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.options == model.options
    assert clone.name == model.name


def run_train_step_test(model: Algorithm, batch: dict[str, tf.Tensor]) -> None:
    before = [v.numpy().copy() for v in model.trainable_variables]
    terms = model.train_step(batch)
    assert set(model.loss_names) | {"loss", "regularization", "grad_norm"} <= set(terms)
    for name, value in terms.items():
        assert np.isfinite(float(value)), f"{name} = {float(value)}"
    after = [v.numpy() for v in model.trainable_variables]
    moved = [not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]
    assert any(moved), "no weight moved"


def run_checkpoint_test(model: Algorithm, cfg: config_lib.ConfigDict, batch, directory) -> None:
    """Save the model's variables, restore them into a fresh build: the same embeddings."""
    path = checkpoints.model_checkpoint(model).save(str(directory / "ckpt"))
    keras.utils.set_random_seed(123)  # the fresh model starts from other weights
    fresh = build(cfg)
    expected = model(batch, training=False).numpy()
    assert not np.allclose(fresh(batch, training=False).numpy(), expected)
    checkpoints.restore_model_weights(fresh, path)
    np.testing.assert_allclose(fresh(batch, training=False).numpy(), expected, rtol=1e-6)


def registered_names() -> list[str]:
    return ALGORITHMS.names()
