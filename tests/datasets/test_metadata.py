"""Tests of tcc.datasets.metadata: the dataset.json next to the records, and the scan fallback."""

import json
import os

import numpy as np
import pytest

from tcc.datasets import metadata, records


def _video(name, labels):
    frames = np.zeros((len(labels), 8, 8, 3), np.uint8)
    return records.VideoExample(name=name, frames=frames, frame_labels=np.asarray(labels))


def test_num_phases_comes_from_dataset_json_without_reading_records(tmp_path):
    os.makedirs(tmp_path / "a")
    metadata.write(str(tmp_path / "a"), metadata.DatasetMetadata(7, None))
    # No record exists: a scan would fail, so the count can only come from dataset.json.
    assert metadata.num_phases(str(tmp_path), ["a"]) == 7
    assert json.loads((tmp_path / "a" / "dataset.json").read_text())["format"] == 1


def test_num_phases_of_an_older_folder_without_metadata_scans_the_train_split(tmp_path):
    records.write_split(
        [_video("v0", [0, 1, 1]), _video("v1", [0, 3])], str(tmp_path), "old", "train"
    )
    records.write_split([_video("v2", [0, 5])], str(tmp_path), "old", "val")  # not scanned
    assert metadata.read(str(tmp_path), "old") is None
    assert metadata.num_phases(str(tmp_path), ["old"]) == 4


def test_num_phases_is_the_largest_over_datasets_mixing_metadata_and_scan(tmp_path):
    records.write_split([_video("v0", [0, 1, 2])], str(tmp_path), "old", "train")
    os.makedirs(tmp_path / "new")
    metadata.write(str(tmp_path / "new"), metadata.from_labels(1, ["a", "b"]))
    assert metadata.num_phases(str(tmp_path), ["new", "old"]) == 3


def test_num_phases_without_labels_names_the_datasets(tmp_path):
    records.write_split([_video("v0", [-1, -1])], str(tmp_path), "plain", "train")
    with pytest.raises(ValueError, match=r"needs phase labels.*\['plain'\]"):
        metadata.num_phases(str(tmp_path), ["plain"])


def test_from_labels_counts_phase_names_and_ids():
    assert metadata.from_labels(2, None) == metadata.DatasetMetadata(3, None)
    assert metadata.from_labels(1, ("a", "b", "c")) == metadata.DatasetMetadata(3, ["a", "b", "c"])
    assert metadata.from_labels(-1, None).num_phases == 0


def test_unreadable_dataset_json_counts_as_missing(tmp_path):
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "dataset.json").write_text("{broken")
    assert metadata.read(str(tmp_path), "a") is None
