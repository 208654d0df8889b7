"""Tests for feature / keypoint data: records round trip, feature files, converter, Penn joints."""

import json
import os

import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import write_annotations, write_penn_action

from tcc.datasets import convert, penn_action, readback, records
from tcc.datasets.labels import LabelError
from tcc.datasets.records import VideoExample
from tcc.datasets.sources import feature_io
from tcc.datasets.sources.feature_io import FeatureFileError

NAN = np.nan


def _poses(length: int, seed: int) -> np.ndarray:
    """float32 [T, 3, 2] keypoints with one missing joint."""
    keypoints = np.random.default_rng(seed).uniform(0, 100, (length, 3, 2)).astype(np.float32)
    keypoints[1, 2] = NAN
    return keypoints


def _read(out, split, name="poses"):
    return {ex["name"]: ex for ex in records.read_split(out, name, split, kind="features")}


def _assert_nothing_written(out, name="poses"):
    assert not os.path.exists(os.path.join(out, name))


def test_feature_records_round_trip_values_missing_values_and_labels(tmp_path):
    features = _poses(5, 0).reshape(5, 6)
    examples = [
        VideoExample("a", features=features, frame_labels=[0, 0, 1, 1, 2], label=3),
        VideoExample("b", features=features[:2]),
    ]
    records.write_split(examples, str(tmp_path), "poses", "train")
    got = _read(str(tmp_path), "train")
    np.testing.assert_array_equal(got["a"]["features"], features)  # NaN == NaN here
    np.testing.assert_array_equal(got["a"]["frame_labels"], [0, 0, 1, 1, 2])
    assert (got["a"]["len"], got["a"]["label"]) == (5, 3)
    np.testing.assert_array_equal(got["b"]["frame_labels"], [-1, -1])


def test_read_features_reads_npy_in_its_own_shape_and_flattens_joint_major(tmp_path):
    keypoints = _poses(4, 1)
    np.save(tmp_path / "a.npy", keypoints)
    np.testing.assert_array_equal(feature_io.read_features(str(tmp_path / "a.npy")), keypoints)
    flat = feature_io.flatten(keypoints)
    np.testing.assert_array_equal(flat[:, 2:4], keypoints[:, 1])  # x1, y1 follow x0, y0


def test_read_features_csv_drops_frame_columns_and_reads_empty_cells_as_missing(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Frame,hip_x,hip_y\n1,1.5,2\n2,,4\n3,nan,6e1\n")
    np.testing.assert_array_equal(
        feature_io.read_features(str(path)), [[1.5, 2.0], [NAN, 4.0], [NAN, 60.0]]
    )


def test_read_features_csv_without_header_keeps_every_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("1,2,3\n4,5,6\n")
    assert feature_io.read_features(str(path)).shape == (2, 3)


def test_read_features_csv_names_the_row_and_column_of_a_bad_cell(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(FeatureFileError, match=r"a.csv: row 3, column 2: 'oops'"):
        feature_io.read_features(str(path))


def test_read_features_rejects_infinite_values_and_wrong_ranks(tmp_path):
    np.save(tmp_path / "inf.npy", np.array([[1.0], [np.inf]]))
    np.save(tmp_path / "flat.npy", np.zeros(5))
    with pytest.raises(FeatureFileError, match="infinite value in frame 1"):
        feature_io.read_features(str(tmp_path / "inf.npy"))
    with pytest.raises(FeatureFileError, match=r"shape \(5,\)"):
        feature_io.read_features(str(tmp_path / "flat.npy"))


def _layout(root, files: dict, labels: dict | None = None, key_events: dict | None = None):
    """Own-videos layout: files {'train/a.npy': array or csv text}; labels/<video>.txt."""
    for rel, content in files.items():
        os.makedirs(os.path.dirname(root / rel), exist_ok=True)
        if isinstance(content, str):
            (root / rel).write_text(content)
        else:
            np.save(root / rel, content)
    return write_annotations(root, labels, key_events)


def test_convert_npy_feature_files_with_label_files(tmp_path):
    a, b, c = _poses(6, 2), _poses(4, 3).reshape(4, 6), _poses(5, 4)
    src = _layout(
        tmp_path / "in",
        {"train/a.npy": a, "train/b.npy": b, "val/c.npy": c},
        labels={"a": [0, 0, 1, 1, 2, 2], "c": [0, 1, 1, 2, 2]},
    )
    out = str(tmp_path / "out")
    summary = convert.convert(src, out, "poses")
    train, val = _read(out, "train"), _read(out, "val")
    np.testing.assert_array_equal(train["a"]["features"], a.reshape(6, 6))
    np.testing.assert_array_equal(train["b"]["features"], b)
    np.testing.assert_array_equal(train["a"]["frame_labels"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(train["b"]["frame_labels"], [-1] * 4)
    np.testing.assert_array_equal(val["c"]["frame_labels"], [0, 1, 1, 2, 2])
    assert (summary["train"].videos, summary["train"].frames, summary["train"].labelled) == (
        2, 10, 1,
    )  # fmt: skip
    assert readback.verify(os.path.join(out, "poses"))["val"].frames == 5


def test_convert_csv_feature_files_with_key_events(tmp_path):
    csv_a = "frame,x,y\n" + "".join(f"{i},{i}.5,{2 * i}\n" for i in range(6))
    csv_b = "".join(f"{i},{i}\n" for i in range(4))
    src = _layout(
        tmp_path / "in",
        {"train/a.csv": csv_a, "val/b.csv": csv_b},
        key_events={"a": [2, 4], "b": [1, 3]},
    )
    out = str(tmp_path / "out")
    convert.convert(src, out, "poses")
    a = _read(out, "train")["a"]
    np.testing.assert_allclose(a["features"][:, 0], np.arange(6) + 0.5)
    np.testing.assert_array_equal(a["frame_labels"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(_read(out, "val")["b"]["frame_labels"], [0, 1, 1, 2])
    with open(os.path.join(out, "poses", "key_events.json")) as f:
        assert json.load(f) == {"a": [2, 4], "b": [1, 3]}


def test_convert_resamples_feature_files_with_folder_fps(tmp_path):
    src = _layout(tmp_path / "in", {"train/a.npy": np.arange(8, dtype=np.float32)[:, None]})
    options = convert.WriteOptions(convert.FrameOptions(fps=5.0, folder_fps=10.0))
    convert.convert(src, str(tmp_path / "out"), "poses", options)
    got = _read(str(tmp_path / "out"), "train")["a"]["features"][:, 0]
    np.testing.assert_array_equal(got, [0, 2, 4, 6])


def test_convert_checks_feature_label_counts_before_writing(tmp_path):
    src = _layout(tmp_path / "in", {"train/a.npy": _poses(6, 5)}, labels={"a": [0, 1, 2]})
    out = str(tmp_path / "out")
    with pytest.raises(LabelError, match="3 labels but the video has 6 frames"):
        convert.convert(src, out, "poses")
    _assert_nothing_written(out)


def test_convert_rejects_feature_files_of_different_widths(tmp_path):
    src = _layout(tmp_path / "in", {"train/a.npy": np.zeros((4, 6)), "val/b.npy": np.zeros((4, 4))})
    out = str(tmp_path / "out")
    with pytest.raises(FeatureFileError, match=r"b.npy: 4 values per frame but .*a.npy has 6"):
        convert.convert(src, out, "poses")
    _assert_nothing_written(out)


def test_convert_rejects_feature_files_mixed_with_frame_folders(tmp_path):
    src = _layout(tmp_path / "in", {"train/a.npy": np.zeros((4, 6))})
    os.makedirs(tmp_path / "in" / "train" / "clip")
    imageio.imwrite(tmp_path / "in" / "train" / "clip" / "1.jpg", np.zeros((8, 8, 3), np.uint8))
    out = str(tmp_path / "out")
    with pytest.raises(FeatureFileError, match="either feature files or videos"):
        convert.convert(src, out, "poses")
    _assert_nothing_written(out)


def test_convert_command_line_reports_a_bad_feature_file_in_one_line(tmp_path, capsys):
    from absl import flags

    src = _layout(tmp_path / "in", {"train/a.csv": "x\n1\nbad\n"})
    fv = flags.FlagValues()
    convert.define_flags(fv)
    fv(["convert", f"--input_dir={src}", f"--output_dir={tmp_path / 'out'}", "--name=poses"])
    with pytest.raises(SystemExit) as exit_info:
        convert.run(fv)
    assert exit_info.value.code == 1
    assert "a.csv: row 3, column 1: 'bad' is not a number" in capsys.readouterr().err


def test_penn_action_joints_mode_keeps_coordinates_and_marks_invisible_joints(tmp_path):
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 300, (2, 5, 13))
    vis = np.ones((5, 13), np.uint8)
    vis[2, 7] = 0  # left hip hidden in frame 2
    root = write_penn_action(
        tmp_path / "penn",
        {"0001": ("squat", 1, 5), "0002": ("squat", -1, 4)},
        joints={"0001": (x, y, vis), "0002": (x[:4], y[:4], vis[:4])},
        frames=False,  # the joints mode reads no frames
    )
    out = str(tmp_path / "out")
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"0001": [1, 2, 4]}))
    penn_action.import_penn_action(
        root, out, actions=["squats"], key_events_path=str(events), mode="joints"
    )
    got = _read(out, "train", "squats")["0001"]
    joints = got["features"].reshape(5, 13, 3)
    np.testing.assert_allclose(joints[..., 0], x, rtol=1e-6)
    np.testing.assert_allclose(joints[..., 1], y, rtol=1e-6)
    np.testing.assert_array_equal(joints[..., 2], vis)  # hidden joint: coordinates kept, flag 0
    np.testing.assert_array_equal(got["frame_labels"], [0, 1, 2, 2, 3])
    assert _read(out, "val", "squats")["0002"]["len"] == 4
