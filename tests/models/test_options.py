"""ModelOptions from the config, its dict round trip, and the one embedder construction path."""

import pytest

from tcc import config as config_lib
from tcc.models import (
    ConvEmbedder,
    EmbedderOptions,
    ModelOptions,
    SequenceEmbedder,
    build_embedder,
)


def test_frames_config_gives_an_encoder_and_a_conv_embedder():
    cfg = config_lib.get_default_config()
    options = ModelOptions.from_config(cfg)
    assert options.encoder.network == cfg.model.base_model.network
    assert options.encoder.image_size == cfg.data.image_size
    assert options.encoder.layer is None  # only resnet50v2 takes model.base_model.layer
    assert options.encoder.weights is None  # '' = random initialisation
    assert options.embedder.kind == "conv"
    assert options.embedder.conv_layers == ((256, 3, True), (256, 3, True))
    assert isinstance(build_embedder(options.embedder), ConvEmbedder)


def test_features_config_gives_no_encoder_and_a_sequence_embedder():
    cfg = config_lib.get_default_config()
    cfg.data.input_kind = "features"
    cfg.model.sequence_embedder.context_pooling = "max"
    options = ModelOptions.from_config(cfg)
    assert options.encoder is None
    embedder = build_embedder(options.embedder)
    assert isinstance(embedder, SequenceEmbedder)
    assert embedder.context_pooling == "max"
    assert embedder.num_steps == cfg.data.num_steps


@pytest.mark.parametrize("kind", ["frames", "features"])
def test_dict_round_trip(kind):
    cfg = config_lib.get_default_config()
    cfg.data.input_kind = kind
    options = ModelOptions.from_config(cfg)
    assert ModelOptions.from_dict(options.to_dict()) == options


def test_an_unknown_embedder_kind_is_an_error():
    with pytest.raises(ValueError, match="'conv' or 'sequence'.*'lstm'"):
        build_embedder(EmbedderOptions(kind="lstm"))
