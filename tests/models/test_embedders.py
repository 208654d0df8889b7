"""Tests for tcc.models.embedders: contract, NumPy reference, config, regularisation, precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tcc.models import ConvEmbedder, SequenceEmbedder

B, T, S = 2, 3, 2  # videos, timesteps, context frames per timestep


def _conv_embedder(**kwargs):
    args = dict(num_steps=S, capacity_scalar=1 / 64, embedding_size=6)  # 8-wide layers
    return ConvEmbedder(**{**args, **kwargs})


def _sequence_embedder(**kwargs):
    args = dict(num_steps=S, conv_layers=[(8, 3, True)], fc_layers=(16,), embedding_size=5)
    return SequenceEmbedder(**{**args, **kwargs})


def _maps(seed=0, steps=T):
    return np.random.default_rng(seed).normal(size=(B, steps * S, 4, 4, 10)).astype("float32")


def _poses(seed=0, steps=T):
    return np.random.default_rng(seed).normal(size=(B, steps * S, 7)).astype("float32")


CASES = [(_conv_embedder, _maps), (_sequence_embedder, _poses)]


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _bn_inference(layer, x):
    """NumPy batch norm in inference mode from the layer's own variables."""
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    mean, var = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    return gamma * (x - mean) / np.sqrt(var + layer.epsilon) + beta


def _relu(x):
    return np.maximum(x, 0.0)


def _randomise(layer, seed=0):
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape) * rng.choice([-1, 1], variable.shape))
    for variable in layer.weights:  # Variances must stay positive.
        if variable.path.endswith("moving_variance"):
            variable.assign(np.abs(variable.numpy()))


def test_conv_embedder_matches_numpy_reference():
    embedder = _conv_embedder(conv_layers=[(512, 1, True)], fc_layers=(512,), l2_normalize=True)
    x = _maps()
    embedder.build(x.shape)
    _randomise(embedder)
    conv, norm = embedder.convs[0], embedder.norms[0]
    dense, proj = embedder.dense_layers[0], embedder.projection
    windows = x.reshape(B * T, S, 4, 4, 10)  # context frame k of timestep t at t * S + k
    h = _relu(_bn_inference(norm, windows @ conv.kernel.numpy()[0, 0, 0] + conv.bias.numpy()))
    h = h.max(axis=(1, 2, 3))
    h = _relu(h @ dense.kernel.numpy() + dense.bias.numpy())
    h = h @ proj.kernel.numpy() + proj.bias.numpy()
    expected = (h / np.linalg.norm(h, axis=-1, keepdims=True)).reshape(B, T, 6)
    np.testing.assert_allclose(embedder(x, training=False), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pooling", ["flatten", "max"])
def test_sequence_embedder_matches_numpy_reference(pooling):
    embedder = _sequence_embedder(conv_layers=[(8, 1, False)], context_pooling=pooling)
    x = _poses()
    embedder.build(x.shape)
    _randomise(embedder)
    conv, dense, proj = embedder.convs[0], embedder.dense_layers[0], embedder.projection
    h = _relu(x.reshape(B * T, S, 7) @ conv.kernel.numpy()[0] + conv.bias.numpy())
    h = h.reshape(B * T, S * 8) if pooling == "flatten" else h.max(axis=1)
    h = _relu(h @ dense.kernel.numpy() + dense.bias.numpy())
    expected = (h @ proj.kernel.numpy() + proj.bias.numpy()).reshape(B, T, 5)
    np.testing.assert_allclose(embedder(x, training=False), expected, rtol=1e-4, atol=1e-5)


def test_conv_embedder_default_widths_follow_table_1():
    embedder = ConvEmbedder()
    embedder.build((None, 40, 14, 14, 1024))
    assert [c.filters for c in embedder.convs] == [512, 512]
    assert [c.kernel.shape[:3] for c in embedder.convs] == [(3, 3, 3)] * 2
    assert all(isinstance(n, keras.layers.BatchNormalization) for n in embedder.norms)
    assert [d.units for d in embedder.dense_layers] == [512, 512]
    assert [d.rate for d in embedder.dropouts] == [0.1, 0.1]
    assert embedder.projection.units == 128 and not embedder.l2_normalize


def test_capacity_scalar_scales_hidden_widths_not_embedding_size():
    embedder = _conv_embedder()
    embedder.build(_maps().shape)
    assert [c.filters for c in embedder.convs] == [8, 8]
    assert [d.units for d in embedder.dense_layers] == [8, 8]
    assert embedder.projection.units == 6


@pytest.mark.parametrize("make, data", CASES)
def test_output_is_float32_b_t_d(make, data):
    embedder = make()
    embs = embedder(data(), training=True)
    assert embs.dtype == tf.float32
    assert tuple(embs.shape) == (B, T, embedder.embedding_size)
    assert np.isfinite(embs.numpy()).all()


@pytest.mark.parametrize("make, data", CASES)
def test_symbolic_output_shape_matches(make, data):
    embedder = make()
    symbolic = embedder(keras.Input(data().shape[1:]))
    assert tuple(symbolic.shape) == (None, T, embedder.embedding_size)
    assert symbolic.dtype == "float32"


@pytest.mark.parametrize("make, data", CASES)
def test_each_timestep_depends_only_on_its_own_context_window(make, data):
    embedder = make()
    x = data()
    before = embedder(x, training=False).numpy()
    x[:, 1 * S : 2 * S] += 3.0  # Change only the window of timestep 1.
    after = embedder(x, training=False).numpy()
    changed = np.abs(after - before).max(axis=(0, 2)) > 1e-6
    assert changed.tolist() == [False, True, False]


@pytest.mark.parametrize("make, data", CASES)
def test_l2_normalized_embeddings_have_unit_norm(make, data):
    embs = make(l2_normalize=True)(data(), training=True).numpy()
    np.testing.assert_allclose(np.linalg.norm(embs, axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("make, data", CASES)
def test_regularization_loss_for_every_kernel_and_bias(make, data):
    embedder = make(l2_reg_weight=1e-3)
    embedder.build(data().shape)
    params = [v for v in embedder.weights if v.path.endswith(("/kernel", "/bias"))]
    expected = sum(1e-3 * np.sum(np.square(v.numpy())) for v in params)
    num_layers = len(embedder.convs) + len(embedder.dense_layers) + 1
    assert len(embedder.losses) == len(params) == 2 * num_layers
    np.testing.assert_allclose(float(sum(embedder.losses)), expected, rtol=1e-5)


@pytest.mark.parametrize("make, data", CASES)
def test_config_round_trip_gives_same_layer(make, data):
    embedder = make(l2_normalize=True, name="emb")
    x = data()
    embedder.build(x.shape)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(embedder))
    assert type(clone) is type(embedder)
    assert clone.get_config() == embedder.get_config()
    assert clone.built  # The build config travels with the serialised layer.
    clone.set_weights(embedder.get_weights())
    np.testing.assert_allclose(clone(x, training=False), embedder(x, training=False), atol=1e-6)


@pytest.mark.parametrize("make, data", CASES)
def test_jit_compiled_call_matches_eager(make, data):
    embedder = make()
    x = data()
    eager = embedder(x, training=False)
    compiled = tf.function(lambda a: embedder(a, training=False), jit_compile=True)
    np.testing.assert_allclose(compiled(x), eager, rtol=1e-4, atol=1e-5)
    train_step = tf.function(lambda a: embedder(a, training=True), jit_compile=True)
    assert tuple(train_step(x).shape) == (B, T, embedder.embedding_size)


@pytest.mark.parametrize("make, data", CASES)
def test_mixed_float16_computes_in_half_and_returns_float32(make, data, mixed_float16):
    embedder = make(l2_normalize=True)
    embs = embedder(data(), training=True)
    assert embedder.projection.compute_dtype == "float16"
    assert embedder.projection.kernel.dtype == "float32"
    assert embs.dtype == tf.float32
    np.testing.assert_allclose(np.linalg.norm(embs.numpy(), axis=-1), 1.0, rtol=1e-3)


@pytest.mark.parametrize("make, data", CASES)
def test_time_axis_not_multiple_of_num_steps_raises(make, data):
    x = data()[:, :-1]
    with pytest.raises(ValueError, match="multiple of num_steps=2"):
        make()(x)


@pytest.mark.parametrize("make, data", CASES)
def test_wrong_rank_raises_with_shape(make, data):
    with pytest.raises(ValueError, match="Received: shape="):
        make()(data()[..., None])


def test_unknown_context_pooling_lists_valid_values():
    with pytest.raises(ValueError, match="flatten, max.*context_pooling='mean'"):
        SequenceEmbedder(context_pooling="mean")


def test_conv_spec_must_have_three_entries():
    with pytest.raises(ValueError, match="channels, kernel_size, use_bn"):
        ConvEmbedder(conv_layers=[(8, 3)])


def test_sequence_embedder_trains_one_step():
    embedder = _sequence_embedder()
    x = _poses()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(embedder(x, training=True) ** 2) + tf.add_n(embedder.losses)
    grads = tape.gradient(loss, embedder.trainable_variables)
    assert len(grads) == len(embedder.trainable_variables) > 0
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
