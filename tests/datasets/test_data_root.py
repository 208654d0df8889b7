"""Tests of tcc.datasets.data_root: data.path, else the embedded dataset made on first use."""

from tcc.config import get_default_config
from tcc.datasets import data_root, synthetic
from tcc.datasets.synthetic import keypoints


def test_data_path_is_the_root_and_nothing_is_generated(monkeypatch):
    monkeypatch.setattr(synthetic.writer, "write_dataset", None)  # would fail if called
    cfg = get_default_config()
    cfg.data.path = "/some/records"
    assert data_root.resolve(cfg) == "/some/records"


def test_empty_data_path_generates_the_embedded_dataset_from_the_config(monkeypatch):
    calls = []
    monkeypatch.setattr(
        data_root, "ensure_embedded_dataset", lambda cache, spec: calls.append((cache, spec)) or "r"
    )
    cfg = get_default_config()
    cfg.data.cache_dir, cfg.data.synthetic_seed, cfg.data.image_size = "/c", 3, 32
    cfg.data.synthetic_num_train, cfg.data.synthetic_num_val = 5, 2
    assert data_root.resolve(cfg) == "r"
    ((cache, spec),) = calls
    assert cache == "/c" and (spec.seed, spec.image_size, spec.num_train, spec.num_val) == (
        3,
        32,
        5,
        2,
    )


def test_the_keypoint_dataset_name_selects_the_keypoint_generator(monkeypatch):
    calls = []
    monkeypatch.setattr(
        keypoints, "ensure_embedded_keypoints", lambda cache, spec: calls.append(spec) or "k"
    )
    cfg = get_default_config()
    cfg.datasets = [keypoints.DATASET_NAME]
    assert data_root.resolve(cfg) == "k" and calls[0].dataset_name == keypoints.DATASET_NAME
