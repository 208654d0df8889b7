"""Tests for tcc.datasets.penn_action on a tiny fake Penn Action layout made by the tests."""

import json
import os

import numpy as np
import pytest
from absl import flags
from conftest import write_penn_action

from tcc.datasets import penn_action, records
from tcc.datasets.convert import ConversionError, WriteOptions
from tcc.datasets.labels import LabelError
from tcc.datasets.sources.video_io import FrameOptions

SMALL = WriteOptions(FrameOptions(image_size=8))
# video id -> (Penn Action action string, train flag, number of frames)
FAKE = {
    "0001": ("squat", 1, 6),
    "0002": ("squat", -1, 5),
    "0003": ("squat", 1, 7),
    "0004": ("pullup", 1, 4),
    "0005": ("jump_rope", 1, 3),  # a class TCC does not use
}


def make_penn(root, videos=FAKE):
    """frames/NNNN/NNNNNN.jpg and labels/NNNN.mat as in the Penn Action download."""
    return write_penn_action(root, videos)


def test_read_video_info_reads_action_split_and_length(tmp_path):
    root = make_penn(tmp_path / "penn")
    info = penn_action.read_video_info(os.path.join(root, "labels", "0002.mat"), "frames")
    assert (info.video_id, info.action, info.split, info.nframes) == ("0002", "squats", "val", 5)
    info = penn_action.read_video_info(os.path.join(root, "labels", "0005.mat"), "frames")
    assert info.action is None


def test_import_writes_one_dataset_per_class_with_splits_from_the_train_flag(tmp_path):
    root = make_penn(tmp_path / "penn")
    out = str(tmp_path / "out")
    summary = penn_action.import_penn_action(root, out, SMALL, actions=["squats", "pullup"])
    assert sorted(os.listdir(out)) == ["pullups", "squats"]
    train = {ex["name"]: ex for ex in records.read_split(out, "squats", "train")}
    val = {ex["name"]: ex for ex in records.read_split(out, "squats", "val")}
    assert set(train) == {"0001", "0003"} and set(val) == {"0002"}
    assert train["0003"]["frames"].shape == (7, 8, 8, 3)
    np.testing.assert_allclose(
        train["0003"]["frames"].mean(axis=(1, 2, 3)), 30 * np.arange(7), atol=4
    )
    assert summary["squats"]["train"].videos == 2 and summary["squats"]["train"].labelled == 0
    assert summary["pullups"]["train"].frames == 4


def test_import_attaches_key_events_and_per_frame_label_files(tmp_path):
    root = make_penn(tmp_path / "penn")
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"0001": [1, 3, 5], "0002": [1, 2, 3]}))
    out = str(tmp_path / "out")
    penn_action.import_penn_action(root, out, SMALL, ["squats"], key_events_path=str(events))
    train = {ex["name"]: ex for ex in records.read_split(out, "squats", "train")}
    np.testing.assert_array_equal(train["0001"]["frame_labels"], [0, 1, 1, 2, 2, 3])
    assert np.all(train["0003"]["frame_labels"] == -1)
    labels_dir = tmp_path / "phase_labels"
    labels_dir.mkdir()
    (labels_dir / "0004.txt").write_text("0\n0\n1\n1\n")
    penn_action.import_penn_action(root, out, SMALL, ["pullups"], labels_dir=str(labels_dir))
    (ex,) = records.read_split(out, "pullups", "train")
    np.testing.assert_array_equal(ex["frame_labels"], [0, 0, 1, 1])


def test_key_events_must_match_the_class_phase_count(tmp_path):
    root = make_penn(tmp_path / "penn")
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"0001": [2]}))
    with pytest.raises(
        LabelError, match="0001: 1 key events give 2 phases but phases.json names 4"
    ):
        penn_action.plan_penn_action(root, ["squats"], key_events_path=str(events))


def test_labels_for_an_unknown_video_id_are_rejected(tmp_path):
    root = make_penn(tmp_path / "penn")
    labels_dir = tmp_path / "phase_labels"
    labels_dir.mkdir()
    (labels_dir / "0099.txt").write_text("0\n")
    with pytest.raises(LabelError, match="0099.txt: labels for unknown video '0099'"):
        penn_action.plan_penn_action(root, ["squats"], labels_dir=str(labels_dir))


def test_label_count_mismatch_is_found_before_writing(tmp_path):
    root = make_penn(tmp_path / "penn")
    labels_dir = tmp_path / "phase_labels"
    labels_dir.mkdir()
    (labels_dir / "0002.txt").write_text("0\n1\n")
    out = tmp_path / "out"
    with pytest.raises(LabelError, match="0002.txt: 2 labels but the video has 5 frames"):
        penn_action.import_penn_action(root, str(out), SMALL, labels_dir=str(labels_dir))
    assert not out.exists()


def test_unknown_class_names_list_the_valid_ones(tmp_path):
    root = make_penn(tmp_path / "penn")
    with pytest.raises(KeyError, match="Did you mean squats.*Valid names: baseball_pitch"):
        penn_action.plan_penn_action(root, ["squatz"])


def test_missing_frame_folder_and_non_penn_folder_are_rejected(tmp_path):
    root = make_penn(tmp_path / "penn")
    os.rename(os.path.join(root, "frames", "0003"), os.path.join(root, "frames", "x"))
    with pytest.raises(ConversionError, match="0003: missing frame folder for labels/0003.mat"):
        penn_action.plan_penn_action(root, ["squats"])
    with pytest.raises(ConversionError, match="not a Penn Action folder"):
        penn_action.plan_penn_action(str(tmp_path), ["squats"])


def test_penn_action_subfolder_of_the_download_is_found(tmp_path):
    make_penn(tmp_path / "Penn_Action")
    assert penn_action.find_root(str(tmp_path)) == str(tmp_path / "Penn_Action")


def test_run_imports_with_parsed_flags_and_prints_the_summary(tmp_path, capsys):
    root = make_penn(tmp_path / "penn")
    fv = flags.FlagValues()
    penn_action.define_flags(fv)
    out = tmp_path / "out"
    fv(
        [
            "penn_action",
            f"--input_dir={root}",
            f"--output_dir={out}",
            "--actions=pullups",
            "--image_size=8",
            "--noprogress",
        ]
    )
    penn_action.run(fv)
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["pullups", "train", "1", "4", "0", "-"]
    assert os.listdir(out) == ["pullups"]


def test_run_ends_bad_input_with_one_error_line_and_exit_status_1(tmp_path, capsys):
    fv = flags.FlagValues()
    penn_action.define_flags(fv)
    fv(["penn_action", f"--input_dir={tmp_path}", f"--output_dir={tmp_path / 'out'}"])
    with pytest.raises(SystemExit) as exit_info:
        penn_action.run(fv)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path}: not a Penn Action folder")
