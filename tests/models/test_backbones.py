"""Tests for tcc.models.backbones: shapes, weight loading, train_base variable selection."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tcc.models import backbones

RESNET_SIZE = 32  # ResNet50V2's minimum input size keeps the module fast.
MOVING_STATS = ("/moving_mean", "/moving_variance")


def _perturbed_resnet_h5(path):
    """Writes a randomly initialised full ResNet50V2 (no top) with random BN parameters."""
    source = keras.applications.ResNet50V2(
        include_top=False, weights=None, input_shape=(RESNET_SIZE, RESNET_SIZE, 3)
    )
    rng = np.random.default_rng(0)
    for variable in source.weights:
        if variable.path.endswith(("/gamma", "/beta", "/moving_mean", "/moving_variance")):
            variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
    keras.saving.save_model(source, path)
    return {v.path: v.numpy() for v in source.weights}


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    """(backbone loaded from a test-written .h5, the source weights by variable path)."""
    path = str(tmp_path_factory.mktemp("weights") / "resnet50v2_notop.h5")
    source_weights = _perturbed_resnet_h5(path)
    model = backbones.build_backbone("resnet50v2", RESNET_SIZE, weights=path)
    return model, source_weights


def _images(n, size, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype("float32")


def _expected_trainable(model, train_base):
    """Independent of the implementation: chosen by variable name, not by layer type."""
    paths = [v.path for v in model.weights if not v.path.endswith(MOVING_STATS)]
    if train_base == "frozen":
        return set()
    if train_base == "only_bn":
        return {p for p in paths if p.endswith(("/gamma", "/beta"))}
    return set(paths)


def test_resnet_is_cut_at_conv4c_with_stride_16(resnet):
    model, _ = resnet
    assert model.layers[-1].name == "conv4_block3_out"
    assert tuple(model.output.shape) == (None, RESNET_SIZE // 16, RESNET_SIZE // 16, 1024)


def test_resnet_has_30_batch_norm_layers_up_to_conv4c(resnet):
    model, _ = resnet
    # 10 residual blocks (3 + 4 + 3) with 3 batch norms each (preact, 1, 2).
    assert len(backbones.batch_norm_layers(model)) == 30


def test_resnet_loads_every_weight_from_local_h5(resnet):
    model, source_weights = resnet
    assert len(model.weights) > 0
    for variable in model.weights:
        np.testing.assert_array_equal(variable.numpy(), source_weights[variable.path])


def test_resnet_missing_weights_file_raises_with_path(tmp_path):
    missing = str(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match="nope.h5"):
        backbones.build_backbone("resnet50v2", RESNET_SIZE, weights=missing)


@pytest.mark.parametrize(
    "network, size, expected",
    [("vggm", 224, (14, 14, 512)), ("vggm", 64, (4, 4, 512)), ("small", 64, (8, 8, 128))],
)
def test_from_scratch_networks_output_shape(network, size, expected):
    model = backbones.build_backbone(network, size, train_base="train_all")
    assert tuple(model.output.shape) == (None,) + expected


def test_vggm_has_seven_conv_layers():
    model = backbones.build_backbone("vggm", 64)
    convs = [x for x in model.layers if isinstance(x, keras.layers.Conv2D)]
    assert len(convs) == 7


def test_small_backbone_outputs_finite_features_for_non_square_images():
    model = backbones.build_backbone("small", (32, 48), train_base="train_all")
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 48, 3)).astype("float32")
    features = model(images, training=True).numpy()
    assert features.shape == (3, 4, 6, 128)
    assert np.isfinite(features).all()


def test_layer_argument_cuts_at_that_layer():
    model = backbones.build_backbone("small", 64, layer="conv2_relu")
    assert tuple(model.output.shape) == (None, 16, 16, 64)


def test_unknown_network_error_lists_valid_names():
    with pytest.raises(ValueError, match="resnet50v2, vggm, small.*network='resnet'"):
        backbones.build_backbone("resnet", 64)


def test_unknown_train_base_error_lists_valid_modes():
    with pytest.raises(ValueError, match="frozen, only_bn, train_all.*train_base='bn'"):
        backbones.build_backbone("small", 64, train_base="bn")


def test_unknown_layer_error_lists_layers():
    with pytest.raises(ValueError, match="no layer 'conv9'.*conv1_bn"):
        backbones.build_backbone("small", 64, layer="conv9")


def test_imagenet_weights_rejected_for_from_scratch_network():
    with pytest.raises(ValueError, match="'imagenet' exists only for 'resnet50v2'"):
        backbones.build_backbone("vggm", 64, weights="imagenet")


def test_small_loads_weights_saved_from_same_backbone(tmp_path):
    source = backbones.build_backbone("small", 32, train_base="train_all")
    for variable in source.weights:
        variable.assign(np.random.default_rng(1).uniform(0.5, 1.5, variable.shape))
    path = str(tmp_path / "small.weights.h5")
    source.save_weights(path)
    loaded = backbones.build_backbone("small", 32, weights=path, train_base="train_all")
    images = _images(2, 32)
    np.testing.assert_allclose(loaded(images), source(images), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_weights_of_another_architecture_raise_clear_error(tmp_path):
    path = str(tmp_path / "small.weights.h5")
    backbones.build_backbone("small", 32).save_weights(path)
    with pytest.raises(
        ValueError, match="Could not load .*small.weights.h5.* into backbone 'vggm'"
    ):
        backbones.build_backbone("vggm", 32, weights=path)


@pytest.mark.parametrize("previous", ["frozen", "only_bn", "train_all"])
@pytest.mark.parametrize("train_base", ["frozen", "only_bn", "train_all"])
def test_resnet_trainable_variables_are_exactly_the_selected_ones(resnet, train_base, previous):
    model, _ = resnet
    backbones.set_train_base(model, previous)
    backbones.set_train_base(model, train_base)
    selected = {v.path for v in model.trainable_variables}
    assert selected == _expected_trainable(model, train_base)
    if train_base == "only_bn":
        assert len(selected) == 60  # gamma and beta of 30 batch-norm layers.


@pytest.mark.parametrize("train_base", ["frozen", "only_bn", "train_all"])
def test_build_backbone_applies_train_base(train_base):
    model = backbones.build_backbone("vggm", 32, train_base=train_base)
    selected = {v.path for v in model.trainable_variables}
    assert selected == _expected_trainable(model, train_base)
    assert (len(selected) > 0) == (train_base != "frozen")


def _one_sgd_step(model, images):
    if not model.trainable_variables:
        model(images, training=True)
        return
    target = tf.random.stateless_normal(model.output.shape[1:], seed=(1, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(images, training=True) * target)
    grads = tape.gradient(loss, model.trainable_variables)
    keras.optimizers.SGD(learning_rate=1.0).apply_gradients(
        zip(grads, model.trainable_variables, strict=True)
    )


@pytest.mark.parametrize("train_base", ["frozen", "only_bn", "train_all"])
def test_optimizer_step_changes_exactly_the_selected_variables(resnet, train_base):
    model, _ = resnet
    backbones.set_train_base(model, train_base)
    before = {v.path: v.numpy().copy() for v in model.weights}
    _one_sgd_step(model, _images(2, RESNET_SIZE))
    changed = {v.path for v in model.weights if not np.array_equal(v.numpy(), before[v.path])}
    for variable in model.weights:  # Leave the shared fixture as it was.
        variable.assign(before[variable.path])
    assert {p for p in changed if not p.endswith(MOVING_STATS)} == _expected_trainable(
        model, train_base
    )
    # Batch norm uses (and updates) batch statistics unless the backbone is frozen.
    moving = {p for p in changed if p.endswith(MOVING_STATS)}
    assert (len(moving) == 60) == (train_base != "frozen")
    assert (len(moving) == 0) == (train_base == "frozen")


@pytest.mark.parametrize("train_base, inference_mode", [("frozen", True), ("only_bn", False)])
def test_batch_norm_mode_under_training_true(train_base, inference_mode):
    model = backbones.build_backbone("small", 32, train_base=train_base)
    images = _images(4, 32)
    same = np.allclose(model(images, training=True), model(images, training=False), atol=1e-6)
    assert same == inference_mode


def test_config_round_trip_keeps_architecture_and_selection():
    model = backbones.build_backbone("small", 32, train_base="only_bn")
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert [x.name for x in clone.layers] == [x.name for x in model.layers]
    assert [v.path for v in clone.trainable_variables] == [
        v.path for v in model.trainable_variables
    ]
    images = _images(2, 32)
    np.testing.assert_allclose(clone(images), model(images), rtol=1e-6, atol=1e-6)


def test_from_scratch_networks_regularise_every_kernel():
    model = backbones.build_backbone("small", 32, l2_reg_weight=1e-4, train_base="train_all")
    kernels = [v for v in model.weights if v.path.endswith("/kernel")]
    expected = sum(1e-4 * np.sum(np.square(v.numpy())) for v in kernels)
    assert len(model.losses) == len(kernels) == 4
    np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-5)


def test_small_backbone_runs_under_jit_compile():
    model = backbones.build_backbone("small", 32, train_base="train_all")
    images = _images(2, 32)
    compiled = tf.function(lambda x: model(x, training=False), jit_compile=True)
    np.testing.assert_allclose(compiled(images), model(images), rtol=1e-4, atol=1e-4)


def test_small_backbone_computes_in_float16_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = backbones.build_backbone("small", 32, train_base="train_all")
        features = model(_images(2, 32), training=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert features.dtype == tf.float16
    assert all(v.dtype == "float32" for v in model.weights)
    assert np.isfinite(features.numpy()).all()
