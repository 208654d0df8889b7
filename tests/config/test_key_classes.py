"""The one classification of config keys (tcc.config_keys) and its users: resume and run reuse."""

import pytest

from tcc import config as config_lib
from tcc import config_keys
from tcc.experiments import jobs
from tcc.training import checkpoints

LEAF_KEYS = sorted(config_keys.flatten_values(config_lib.get_default_config()))


def _changed(cfg: config_lib.ConfigDict, key: str) -> config_lib.ConfigDict:
    out = cfg.copy_and_resolve_references()
    *parents, leaf = key.split(".")
    node = out
    for part in parents:
        node = node[part]
    with node.ignore_type():
        node[leaf] = "__changed__"
    return out


def test_every_key_of_the_default_config_has_a_class():
    unclassified = []
    for key in LEAF_KEYS:
        try:
            assert config_keys.key_class(key) in config_keys.KEY_CLASSES_ALL
        except KeyError:
            unclassified.append(key)
    assert unclassified == []


def test_a_key_without_a_class_is_an_error():
    with pytest.raises(KeyError, match="'newsection.size' has no class"):
        config_keys.key_class("newsection.size")
    with pytest.raises(KeyError, match="has no class"):
        config_keys.key_class("datasetsx")  # a section name is no prefix of another key


def test_the_longest_entry_wins():
    assert config_keys.key_class("data.image_size") == config_keys.DATA
    assert config_keys.key_class("data.path") == config_keys.DATA_STREAM
    assert config_keys.key_class("data.cache_dir") == config_keys.RUN
    assert config_keys.key_class("train.max_iters") == config_keys.BUDGET


def _reading(key: str):
    """The default config, with an algorithm that reads `key` if it is a loss option."""
    if key.startswith("classification."):
        return config_lib.apply_overrides(
            config_lib.get_default_config(), ["training_algo=supervised"]
        )
    if key.startswith(("sal.", "tcn.", "combined.")):
        return config_lib.apply_overrides(
            config_lib.get_default_config(),
            [
                "training_algo=combined",
                "combined.sal_loss_weight=0.5",
                "combined.tcn_loss_weight=0.5",
            ],
        )
    return config_lib.get_default_config()


@pytest.mark.parametrize("key", [k for k in LEAF_KEYS if k.startswith(("sal.", "tcn."))])
def test_an_option_of_a_loss_the_algorithm_does_not_use_changes_nothing(key):
    base = config_lib.get_default_config()  # TCC: reads alignment.* only
    changed = _changed(base, key)
    assert checkpoints.resume_conflicts(base, changed) == []
    assert jobs.same_training(base, changed)


@pytest.mark.parametrize("key", LEAF_KEYS)
def test_resume_and_reuse_read_the_same_classes(key):
    base = _reading(key)
    changed = _changed(base, key)
    resume_refuses = bool(checkpoints.resume_conflicts(base, changed))
    same_model = jobs.same_training(base, changed)
    cls = config_keys.key_class(key)
    assert resume_refuses == (cls not in config_keys.RESUMABLE_CLASSES)
    assert same_model == (cls == config_keys.RUN)
    assert not (same_model and resume_refuses)  # what reuse ignores, a resume may change
