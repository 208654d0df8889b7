"""Every registered algorithm through the shared harness (tests/algos/harness.py).

Parametrised over the registry: an algorithm registered in `tcc.algos` is covered without a line
here. One model per algorithm is built per test module (`built`), as in keras-hub.
"""

import warnings

import harness
import keras
import pytest

from tcc.algos import ALGORITHMS, build_algorithm

ALL = harness.registered_names()


@pytest.fixture(scope="module", params=ALL)
def built(request):
    keras.utils.set_random_seed(0)
    cfg = harness.tiny_algorithm_config(request.param)
    return cfg, harness.build(cfg), harness.tiny_batch(cfg)


def test_output_shape_is_batch_time_embedding(built):
    _, model, batch = built
    harness.run_output_shape_test(model, batch)


def test_get_config_round_trip(built):
    _, model, _ = built
    harness.run_get_config_test(model)


def test_one_train_step_has_a_finite_loss(built):
    _, model, batch = built
    harness.run_train_step_test(model, batch)


def test_checkpoint_save_restore_gives_the_same_outputs(built, tmp_path):
    cfg, model, batch = built
    harness.run_checkpoint_test(model, cfg, batch, tmp_path)


@pytest.mark.parametrize("name", ALL)
def test_building_and_calling_gives_keras_no_unbuilt_state_warning(name):
    # Before Algorithm.build existed, Keras warned that SaL / supervised / combined were "marked
    # as built, despite not being actually built" (their loss heads build in the first loss).
    cfg = harness.tiny_algorithm_config(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = harness.build(cfg)
        model(harness.tiny_batch(cfg), training=False)
    messages = [str(w.message) for w in caught if "unbuilt state" in str(w.message)]
    assert not messages, messages
    assert model.built and all(layer.built for layer in model._flatten_layers(include_self=False))


def test_the_registry_holds_the_papers_algorithms():
    assert {"alignment", "sal", "tcn", "combined", "supervised"} <= set(ALGORITHMS.names())
    assert ALGORITHMS.names() == sorted(ALGORITHMS.names())
    for name in ALL:
        assert issubclass(ALGORITHMS.get(name), harness.Algorithm)
        assert name in ALGORITHMS


def test_an_unknown_name_lists_the_valid_names():
    cfg = harness.tiny_algorithm_config("alignmnet")
    with pytest.raises(KeyError) as caught:
        build_algorithm(cfg)
    message = str(caught.value)
    assert "unknown training_algo 'alignmnet'" in message
    assert all(name in message for name in ALL)
    assert "Did you mean 'alignment'?" in message


def test_a_duplicate_registration_is_an_error():
    with pytest.raises(KeyError, match="'alignment' is already registered"):
        ALGORITHMS.register("alignment")(object)
