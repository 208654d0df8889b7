"""Tests for tcc.config (loading, overrides, validation, saving) and tcc.config_keys.diff."""

import json
import os

import pytest

from tcc import config as config_lib
from tcc import config_keys


def test_default_config_validates_against_itself():
    config_lib.validate(config_lib.get_default_config())


def test_override_parses_to_the_type_of_the_default():
    cfg = config_lib.apply_overrides(
        config_lib.get_default_config(),
        [
            "train.batch_size=7",
            "optimizer.lr.initial_lr=0.5",
            "alignment.stochastic_matching=true",
            "datasets=[a, b]",
            "eval.classification_fractions=[0.2,1.0]",
            "alignment.loss_type=foo",
        ],
    )
    assert cfg.train.batch_size == 7 and isinstance(cfg.train.batch_size, int)
    assert cfg.optimizer.lr.initial_lr == 0.5
    assert cfg.alignment.stochastic_matching is True
    assert list(cfg.datasets) == ["a", "b"]
    assert list(cfg.eval.classification_fractions) == [0.2, 1.0]
    assert cfg.alignment.loss_type == "foo"


def test_unknown_override_key_names_the_closest_valid_key():
    with pytest.raises(KeyError, match="train.batch_size"):
        config_lib.apply_overrides(config_lib.get_default_config(), ["train.batch_sise=3"])


def test_bad_override_value_is_a_clear_error():
    with pytest.raises(ValueError, match="train.batch_size"):
        config_lib.apply_overrides(config_lib.get_default_config(), ["train.batch_size=abc"])


def test_config_file_with_unknown_key_is_rejected(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(
        "from tcc.config import get_default_config\n"
        "def get_config():\n"
        "    c = get_default_config()\n"
        "    c.model.embeding_size = 3\n"
        "    return c\n"
    )
    with pytest.raises(KeyError, match=r"model\.embedding_size"):
        config_lib.load_config_file(str(path))


def test_split_override_args_accepts_both_spellings():
    rest, overrides = config_lib.split_override_args(
        ["prog", "--config=x.py", "--config.a.b=1", "--config.c", "2", "--alsologtostderr"]
    )
    assert rest == ["prog", "--config=x.py", "--alsologtostderr"]
    assert overrides == ["a.b=1", "c=2"]


def test_saved_config_round_trips(tmp_path):
    cfg = config_lib.apply_overrides(config_lib.get_default_config(), ["train.max_iters=3"])
    path = config_lib.save(cfg, str(tmp_path))
    assert json.load(open(path))["train"]["max_iters"] == 3
    again = config_lib.load_saved(str(tmp_path))
    assert config_keys.diff(cfg, again) == []
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_a_config_saved_before_a_key_existed_loads_with_the_old_behaviour(tmp_path):
    # Runs saved before the TCN options existed trained the original TCN, not today's default.
    data = config_lib.get_default_config().to_dict()
    data["training_algo"] = "tcn"
    for leaf in ("negatives", "normalize_embeddings", "temperature"):
        del data["tcn"][leaf]
    with open(tmp_path / "config.json", "w") as f:
        json.dump(data, f)
    old = config_lib.load_saved(str(tmp_path))
    assert (old.tcn.negatives, old.tcn.normalize_embeddings, old.tcn.temperature) == (
        "batch",
        False,
        1.0,
    )
    assert set(config_lib.KEYS_ADDED_LATER) <= set(config_lib.flat_keys(old))
    current = config_lib.apply_overrides(config_lib.get_default_config(), ["training_algo=tcn"])
    assert config_keys.diff(current, old)  # so the runner does not take an old run for a new one


def test_diff_lists_changed_keys():
    a = config_lib.get_default_config()
    b = config_lib.apply_overrides(config_lib.get_default_config(), ["train.batch_size=9"])
    assert config_keys.diff(a, b) == ["train.batch_size: 4 -> 9"]


def test_every_config_file_loads():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "configs")
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            config_lib.load_config_file(os.path.join(root, name))


@pytest.mark.parametrize("preset", ["pouring.py", "penn_action.py", "penn_action_joints.py"])
def test_paper_and_pose_presets_keep_the_original_tcn(preset):
    # Their tables (RESULTS.md, the Penn Action joints) were made with the original's TCN; only the
    # pixel demo's default differs, where the original does not train.
    root = os.path.join(os.path.dirname(__file__), "..", "..", "configs")
    cfg = config_lib.load_config_file(os.path.join(root, preset))
    original = {"negatives": "batch", "normalize_embeddings": False, "temperature": 1.0}
    assert {k: cfg.tcn[k] for k in original} == original
    default = config_lib.get_default_config().tcn
    assert {k: default[k] for k in original} == {
        "negatives": "video",
        "normalize_embeddings": True,
        "temperature": 0.3,
    }


def test_differences_leave_out_loss_sections_that_neither_algorithm_reads():
    def cfg(*overrides):
        return config_lib.apply_overrides(config_lib.get_default_config(), list(overrides))

    tcc_old_tcn = cfg("tcn.negatives=batch", "sal.num_samples=3", "classification.dropout_rate=0.5")
    assert config_keys.differences(cfg(), tcc_old_tcn) == []  # TCC reads neither tcn.* nor sal.*
    tcn = ("training_algo=tcn",)
    assert config_keys.differences(cfg(*tcn), cfg(*tcn, "tcn.negatives=batch")) == [
        "tcn.negatives: 'video' -> 'batch'"
    ]
    combined = ("training_algo=combined", "combined.tcn_loss_weight=0.5")
    changed = config_keys.differences(cfg(*combined), cfg(*combined, "tcn.temperature=1.0"))
    assert changed == ["tcn.temperature: 0.3 -> 1.0"]
    assert config_keys.differences(cfg(*combined), cfg(*combined, "sal.num_samples=3")) == []
    assert config_keys.differences(cfg(), cfg("alignment.loss_type=classification"))


def test_every_config_key_is_known_so_a_new_key_gets_a_decision_about_old_runs():
    # A key added later is missing from the config.json of older runs; loading such a run gives it
    # today's default. When that default is not what the older runs did, the key belongs in
    # KEYS_ADDED_LATER; either way it is then added to known_keys.txt.
    path = os.path.join(os.path.dirname(__file__), "known_keys.txt")
    with open(path, encoding="utf-8") as f:
        known = set(f.read().split())
    current = set(config_lib.flat_keys(config_lib.get_default_config()))
    assert not current - known, (
        f"new config keys {sorted(current - known)}: if runs saved before them behaved "
        "differently from the new default, add the old value to tcc.config.KEYS_ADDED_LATER; "
        f"then add the keys to {path}"
    )
    assert not known - current, f"keys {sorted(known - current)} are gone: remove them from {path}"
    assert set(config_lib.KEYS_ADDED_LATER) <= known
