"""Tests for tcc.datasets.sources.tfds_builders: offline builds from tiny fake data (tfds.load)."""

import os

import imageio.v2 as imageio
import numpy as np
import tensorflow_datasets as tfds
from conftest import write_annotations, write_penn_action

from tcc.datasets import convert
from tcc.datasets.convert import WriteOptions
from tcc.datasets.sources import tfds_builders
from tcc.datasets.sources.video_io import FrameOptions

# video id -> (Penn Action action string, train flag, number of frames)
FAKE = {"0001": ("squat", 1, 5), "0002": ("squat", -1, 4), "0003": ("golf_swing", 1, 3)}


def _load(name, manual_dir, data_dir, split):
    config = tfds.download.DownloadConfig(manual_dir=str(manual_dir))
    ds = tfds.load(
        name,
        split=split,
        data_dir=str(data_dir),
        download_and_prepare_kwargs={"download_config": config},
    )
    return {ex["name"].decode(): ex for ex in tfds.as_numpy(ds)}


def test_builders_are_registered_with_one_config_per_penn_action_class():
    assert tfds_builders.PennAction.name == "penn_action"
    assert tfds_builders.Pouring.name == "pouring"
    names = [c.name for c in tfds_builders.PennAction.BUILDER_CONFIGS]
    assert len(names) == 13 and "squats" in names
    assert "Penn Action" in tfds_builders.PennAction.MANUAL_DOWNLOAD_INSTRUCTIONS


def test_penn_action_builds_from_the_raw_layout_with_key_events(tmp_path):
    manual = tmp_path / "manual"
    write_penn_action(manual, FAKE, frame_step=40)
    write_annotations(manual, key_events={"0001": [1, 2, 4]})
    train = _load("penn_action/squats", manual, tmp_path / "tfds", "train")
    val = _load("penn_action/squats", manual, tmp_path / "tfds", "val")
    assert set(train) == {"0001"} and set(val) == {"0002"}
    ex = train["0001"]
    assert ex["video"].shape == (5, 224, 224, 3) and ex["len"] == 5
    np.testing.assert_array_equal(ex["frame_labels"], [0, 1, 2, 2, 3])
    np.testing.assert_allclose(ex["video"].mean(axis=(1, 2, 3)), 40 * np.arange(5), atol=4)
    np.testing.assert_array_equal(val["0002"]["frame_labels"], [-1] * 4)
    info = tfds.builder("penn_action/squats", data_dir=str(tmp_path / "tfds")).info
    assert info.metadata["num_phases"] == 4


def test_pouring_builds_from_records_of_the_converter(tmp_path):
    src = tmp_path / "own" / "train" / "clip"
    os.makedirs(src)
    for i in range(4):
        imageio.imwrite(src / f"{i}.png", np.full((8, 8, 3), 50 * i, np.uint8))
    write_annotations(tmp_path / "own", labels={"clip": [0, 1, 1, 4]})
    options = WriteOptions(FrameOptions(image_size=8))
    convert.convert(str(tmp_path / "own"), str(tmp_path / "manual"), "pouring", options)
    train = _load("pouring", tmp_path / "manual", tmp_path / "tfds", "train")
    assert set(train) == {"clip"}
    assert train["clip"]["video"].shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(train["clip"]["frame_labels"], [0, 1, 1, 4])


def test_pouring_builds_from_the_own_videos_layout(tmp_path):
    src = tmp_path / "manual" / "val" / "clip"
    os.makedirs(src)
    for i in range(3):
        imageio.imwrite(src / f"{i}.png", np.full((8, 8, 3), 60 * i, np.uint8))
    write_annotations(tmp_path / "manual", key_events={"clip": [2]})
    val = _load("pouring", tmp_path / "manual", tmp_path / "tfds", "val")
    assert val["clip"]["video"].shape == (3, 224, 224, 3)
    np.testing.assert_array_equal(val["clip"]["frame_labels"], [0, 0, 1])
