"""`tcc.checks`: where the number of named phases of a dataset comes from; config range checks."""

import json
import os

import pytest

from tcc import checks, config, errors
from tcc.datasets import metadata


def test_num_phases_from_dataset_json_when_it_names_the_phases(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "act"))
    metadata.write(os.path.join(root, "act"), metadata.DatasetMetadata(3, ["a", "b", "c"]))
    with open(os.path.join(root, "act", "phases.json"), "w", encoding="utf-8") as f:
        json.dump(["a", "b"], f)  # stale: dataset.json wins
    assert checks.dataset_num_phases(root, "act") == 3


def test_num_phases_falls_back_to_phases_json_then_the_catalog_then_none(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "act"))
    metadata.write(os.path.join(root, "act"), metadata.DatasetMetadata(4))  # no names
    with open(os.path.join(root, "act", "phases.json"), "w", encoding="utf-8") as f:
        json.dump(["a", "b"], f)
    assert checks.dataset_num_phases(root, "act") == 2
    os.remove(os.path.join(root, "act", "phases.json"))
    assert checks.dataset_num_phases(root, "act") is None  # labels only: phases not named
    assert checks.dataset_num_phases(root, "pouring") == 5  # the catalog (paper datasets)


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("tcn.temperature", 0.0, ["tcn.temperature", "must be > 0"]),
        ("tcn.negatives", "videos", ["tcn.negatives", "video"]),
        ("optimizer.lr.initial_lr", -1.0, ["optimizer.lr.initial_lr", "must be > 0"]),
        ("data.frame_stride_fraction", 1.0, ["data.frame_stride_fraction", "[0, 1)"]),
        ("data.frame_stride_fraction", -0.1, ["data.frame_stride_fraction", "[0, 1)"]),
    ],
)
def test_check_config_names_a_bad_option_with_its_rule(key, value, words):
    cfg = config.apply_overrides(config.get_default_config(), [f"{key}={value}"])
    checks.check_config(config.get_default_config())  # the default passes
    with pytest.raises(errors.UserError) as raised:
        checks.check_config(cfg)
    assert all(word in str(raised.value) for word in words)
