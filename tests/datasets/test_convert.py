"""Tests for tcc.datasets.convert: own videos -> records, labels, fps, bad input, --verify."""

import json
import os
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from conftest import SUBPROCESS_TIMEOUT, write_annotations

from tcc.datasets import convert, metadata, readback, records
from tcc.datasets.convert import ConversionError, WriteOptions
from tcc.datasets.labels import LabelError
from tcc.datasets.records import RecordError, VideoExample
from tcc.datasets.sources.video_io import FrameOptions, VideoReadError

VALUES_A = [20 * i + 10 for i in range(12)]  # grey level of frame i of clip_a.mp4
VALUES_B = [25 * i + 5 for i in range(10)]  # grey level of frame i of clip_b/<i+1>.jpg
SMALL = WriteOptions(FrameOptions(image_size=16))


def _write_mp4(path, values, fps=10.0):
    writer = imageio.get_writer(str(path), fps=fps, format="FFMPEG", macro_block_size=1)
    for v in values:
        writer.append_data(np.full((32, 48, 3), v, np.uint8))
    writer.close()


def _make_input(root, labels=None, key_events=None, phases=None):
    """train/clip_a.mp4 (12 frames), train/clip_b/1..10.jpg, val/clip_c.mp4 (12 frames)."""
    os.makedirs(root / "train" / "clip_b")
    os.makedirs(root / "val")
    _write_mp4(root / "train" / "clip_a.mp4", VALUES_A)
    _write_mp4(root / "val" / "clip_c.mp4", VALUES_A)
    for i, v in enumerate(VALUES_B):
        imageio.imwrite(
            root / "train" / "clip_b" / f"{i + 1}.jpg", np.full((24, 24, 3), v, np.uint8)
        )
    return write_annotations(root, labels, key_events, phases)


def _read(out, split="train", name="demo"):
    return {ex["name"]: ex for ex in records.read_split(str(out), name, split)}


def _assert_nothing_written(out, name="demo"):
    assert not os.path.exists(os.path.join(out, name))
    if os.path.isdir(out):
        assert not [e for e in os.listdir(out) if e.startswith(".tcc-convert")]


LABELS_A = [0] * 4 + [1] * 5 + [2] * 3
LABELS_B = [0] * 3 + [1] * 7


def test_convert_mp4_and_frame_folder_with_per_frame_labels(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_a": LABELS_A, "clip_b": LABELS_B})
    summary = convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    train = _read(tmp_path / "out")
    assert set(train) == {"clip_a", "clip_b"}
    np.testing.assert_array_equal(train["clip_a"]["frame_labels"], LABELS_A)
    np.testing.assert_array_equal(train["clip_b"]["frame_labels"], LABELS_B)
    assert train["clip_a"]["frames"].shape == (12, 16, 16, 3)
    # Frames keep their order: numeric for the folder (1, 2, ..., 10), decode order for the mp4.
    np.testing.assert_allclose(train["clip_b"]["frames"].mean(axis=(1, 2, 3)), VALUES_B, atol=4)
    np.testing.assert_allclose(train["clip_a"]["frames"].mean(axis=(1, 2, 3)), VALUES_A, atol=5)
    val = _read(tmp_path / "out", "val")
    assert np.all(val["clip_c"]["frame_labels"] == -1)
    assert (summary["train"].videos, summary["train"].frames, summary["train"].labelled) == (
        2,
        22,
        2,
    )
    assert summary["train"].phase_ids == {0, 1, 2} and summary["val"].labelled == 0
    events = json.loads((tmp_path / "out" / "demo" / "key_events.json").read_text())
    assert events == {"clip_a": [4, 9], "clip_b": [3]}
    assert metadata.read(str(tmp_path / "out"), "demo") == metadata.DatasetMetadata(3, None)


def test_convert_key_events_give_dense_phases_and_phase_names(tmp_path):
    src = _make_input(
        tmp_path / "in", key_events={"clip_a": [3, 7], "clip_c": [1, 11]}, phases=["x", "y", "z"]
    )
    convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    train, val = _read(tmp_path / "out"), _read(tmp_path / "out", "val")
    np.testing.assert_array_equal(train["clip_a"]["frame_labels"], [0] * 3 + [1] * 4 + [2] * 5)
    np.testing.assert_array_equal(val["clip_c"]["frame_labels"], [0] + [1] * 10 + [2])
    assert np.all(train["clip_b"]["frame_labels"] == -1)
    path = records.split_files(str(tmp_path / "out"), "demo", "train")[0]
    raw = tf.train.SequenceExample.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy())
    assert list(raw.context.feature["phase_names"].bytes_list.value) == [b"x", b"y", b"z"]
    assert json.loads((tmp_path / "out" / "demo" / "phases.json").read_text()) == ["x", "y", "z"]
    assert metadata.read(str(tmp_path / "out"), "demo").phase_names == ["x", "y", "z"]


def test_convert_without_labels_writes_unlabelled_videos(tmp_path):
    src = _make_input(tmp_path / "in")
    summary = convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    assert all(np.all(ex["frame_labels"] == -1) for ex in _read(tmp_path / "out").values())
    assert summary["train"].labelled == 0 and not summary["train"].phase_ids
    assert not (tmp_path / "out" / "demo" / "key_events.json").exists()
    assert metadata.read(str(tmp_path / "out"), "demo").num_phases == 0


def test_fps_resampling_changes_frame_count_and_labels_with_one_mapping(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_a": LABELS_A})
    options = WriteOptions(FrameOptions(image_size=16, fps=5.0, folder_fps=10.0))
    convert.convert(src, str(tmp_path / "out"), "demo", options)
    ex = _read(tmp_path / "out")["clip_a"]
    assert ex["len"] == 6
    np.testing.assert_array_equal(ex["frame_labels"], np.asarray(LABELS_A)[::2])
    np.testing.assert_allclose(ex["frames"].mean(axis=(1, 2, 3)), VALUES_A[::2], atol=5)
    assert _read(tmp_path / "out")["clip_b"]["len"] == 5


def test_upsampling_repeats_frames_and_labels(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_b": LABELS_B})
    options = WriteOptions(FrameOptions(image_size=16, fps=20.0, folder_fps=10.0))
    convert.convert(src, str(tmp_path / "out"), "demo", options)
    ex = _read(tmp_path / "out")["clip_b"]
    np.testing.assert_array_equal(ex["frame_labels"], np.repeat(LABELS_B, 2))


def test_fps_on_frame_folders_needs_folder_fps(tmp_path):
    src = _make_input(tmp_path / "in")
    options = WriteOptions(FrameOptions(fps=5.0))
    with pytest.raises(ConversionError, match="clip_b: frame folders have no frame rate"):
        convert.convert(src, str(tmp_path / "out"), "demo", options)
    _assert_nothing_written(str(tmp_path / "out"))


def test_crop_mode_and_shards_options(tmp_path):
    src = _make_input(tmp_path / "in")
    options = WriteOptions(FrameOptions(image_size=8, resize_mode="crop"), num_shards=2)
    convert.convert(src, str(tmp_path / "out"), "demo", options)
    assert len(records.split_files(str(tmp_path / "out"), "demo", "train")) == 2
    assert _read(tmp_path / "out")["clip_a"]["frames"].shape == (12, 8, 8, 3)


def test_existing_dataset_needs_overwrite_and_is_then_replaced(tmp_path):
    src = _make_input(tmp_path / "in")
    out = str(tmp_path / "out")
    convert.convert(src, out, "demo", SMALL, splits=["train"])
    with pytest.raises(ConversionError, match="already holds records; pass --overwrite"):
        convert.convert(src, out, "demo", SMALL)
    convert.convert(src, out, "demo", SMALL, splits=["val"], overwrite=True)
    assert records.split_files(out, "demo", "train", must_exist=False) == []
    assert set(_read(out, "val")) == {"clip_c"}


def test_label_count_mismatch_on_a_video_file_leaves_no_output(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_c": [0] * 11})
    with pytest.raises(LabelError, match="clip_c.txt: 11 labels but the video has 12 frames"):
        convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    _assert_nothing_written(str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_label_count_mismatch_on_a_frame_folder_is_found_before_decoding(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_b": [0] * 12})
    with pytest.raises(LabelError, match="clip_b.txt: 12 labels but the video has 10 frames"):
        convert.plan_own_videos(src, "demo")


def test_unreadable_video_in_a_later_split_leaves_no_output(tmp_path):
    src = _make_input(tmp_path / "in")
    (tmp_path / "in" / "val" / "broken.mov").write_bytes(b"garbage" * 50)
    os.makedirs(tmp_path / "out")
    with pytest.raises(VideoReadError, match="broken.mov: unreadable video"):
        convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    _assert_nothing_written(str(tmp_path / "out"))


def test_empty_frame_folder_is_rejected(tmp_path):
    src = _make_input(tmp_path / "in")
    os.makedirs(tmp_path / "in" / "val" / "clip_d")
    with pytest.raises(VideoReadError, match="clip_d: empty frame folder"):
        convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    _assert_nothing_written(str(tmp_path / "out"))


def test_empty_split_folder_and_missing_splits_are_rejected(tmp_path):
    src = _make_input(tmp_path / "in")
    os.makedirs(tmp_path / "in" / "test")
    with pytest.raises(ConversionError, match="test: empty split folder"):
        convert.plan_own_videos(src, "demo")
    with pytest.raises(ConversionError, match="holdout: split folder does not exist"):
        convert.plan_own_videos(src, "demo", ["train", "holdout"])


def test_labels_or_key_events_for_unknown_videos_are_rejected(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_z": [0]})
    with pytest.raises(LabelError, match="clip_z.txt: labels for unknown video 'clip_z'"):
        convert.plan_own_videos(src, "demo")
    src = _make_input(tmp_path / "in2", key_events={"nope": [2]})
    with pytest.raises(LabelError, match="key_events.json: labels for unknown video 'nope'"):
        convert.plan_own_videos(src, "demo")


def test_key_events_not_increasing_are_rejected_before_decoding(tmp_path):
    src = _make_input(tmp_path / "in", key_events={"clip_a": [6, 2]})
    with pytest.raises(LabelError, match="clip_a: key events \\[6, 2\\] are not strictly"):
        convert.plan_own_videos(src, "demo")


def test_key_events_beyond_the_last_frame_leave_no_output(tmp_path):
    src = _make_input(tmp_path / "in", key_events={"clip_a": [3, 12]})
    with pytest.raises(LabelError, match="key event 12 is outside \\[1, 11\\] for a video of 12"):
        convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    _assert_nothing_written(str(tmp_path / "out"))


def test_video_names_must_be_unique_over_splits(tmp_path):
    src = _make_input(tmp_path / "in")
    _write_mp4(tmp_path / "in" / "val" / "clip_a.avi", [0, 1])
    with pytest.raises(ConversionError, match="clip_a' is also used in"):
        convert.plan_own_videos(src, "demo")


def _write_records(path, examples):
    with tf.io.TFRecordWriter(str(path)) as w:
        for ex in examples:
            w.write(ex)


def test_verify_summarises_a_dataset(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_a": LABELS_A})
    convert.convert(src, str(tmp_path / "out"), "demo", SMALL)
    summary = readback.verify(str(tmp_path / "out" / "demo"))
    assert (summary["train"].videos, summary["train"].frames, summary["train"].labelled) == (
        2,
        22,
        1,
    )
    table = readback.format_summary({"demo": summary})
    assert table.splitlines()[0].split() == [
        "dataset",
        "split",
        "videos",
        "frames",
        "labelled",
        "phases",
    ]
    assert table.splitlines()[1].split() == ["demo", "train", "2", "22", "1", "3"]


def test_verify_reports_a_truncated_record(tmp_path):
    src = _make_input(tmp_path / "in")
    convert.convert(src, str(tmp_path / "out"), "demo", SMALL, splits=["val"])
    path = records.split_files(str(tmp_path / "out"), "demo", "val")[0]
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) - 100])
    with pytest.raises(RecordError, match="val-00000-of-00001.tfrecord: file is truncated"):
        readback.verify(str(tmp_path / "out" / "demo"))


def test_verify_of_a_folder_without_records_names_the_folder(tmp_path):
    os.makedirs(tmp_path / "demo")
    with pytest.raises(RecordError, match="demo: no .tfrecord files to verify"):
        readback.verify(str(tmp_path / "demo"))


def test_verify_reports_a_missing_required_feature(tmp_path):
    seq = tf.train.SequenceExample()
    seq.context.feature["name"].bytes_list.value.append(b"clip")
    os.makedirs(tmp_path / "demo")
    _write_records(tmp_path / "demo" / "train-00000-of-00001.tfrecord", [seq.SerializeToString()])
    with pytest.raises(RecordError, match="example 0 \\(clip\\): missing required feature 'video'"):
        readback.verify(str(tmp_path / "demo"))


def test_verify_reports_a_label_count_different_from_the_frame_count(tmp_path):
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    good = records.serialize_example(VideoExample("clip", frames, np.array([0, 1, 1])))
    seq = tf.train.SequenceExample.FromString(good)
    del seq.feature_lists.feature_list["frame_labels"].feature[-1]
    os.makedirs(tmp_path / "demo")
    _write_records(tmp_path / "demo" / "train-00000-of-00001.tfrecord", [seq.SerializeToString()])
    with pytest.raises(RecordError, match="example 0 \\(clip\\): 2 frame_labels but 3 frames"):
        readback.verify(str(tmp_path / "demo"))


def _run_cli(*args):
    result = subprocess.run(
        [sys.executable, "-m", "tcc.datasets.convert", *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode, lines


def test_cli_label_count_mismatch_prints_one_error_line_and_exits_1(tmp_path):
    src = _make_input(tmp_path / "in", labels={"clip_a": [0] * 11})
    out = tmp_path / "out"
    code, lines = _run_cli(
        f"--input_dir={src}",
        f"--output_dir={out}",
        "--name=demo",
        "--image_size=16",
        "--progress=false",
    )
    assert code == 1
    assert lines[-1] == (
        f"error: {src}/labels/clip_a.txt: 11 labels but the video has 12 frames; give one "
        "phase id per frame"
    )
    assert not any("Traceback" in line for line in lines)
    _assert_nothing_written(str(out))


def test_cli_verify_of_a_corrupt_record_prints_one_error_line_and_exits_1(tmp_path):
    os.makedirs(tmp_path / "demo")
    (tmp_path / "demo" / "train-00000-of-00001.tfrecord").write_bytes(b"\x00" * 40)
    code, lines = _run_cli(f"--verify={tmp_path / 'demo'}")
    assert code == 1
    assert lines[-1].startswith(f"error: {tmp_path}/demo/train-00000-of-00001.tfrecord: ")
    assert not any("Traceback" in line for line in lines)


def test_run_converts_with_parsed_flags_and_prints_the_summary(tmp_path, capsys):
    from absl import flags

    src = _make_input(tmp_path / "in", key_events={"clip_a": [5]})
    fv = flags.FlagValues()
    convert.define_flags(fv)
    fv(
        [
            "convert",
            f"--input_dir={src}",
            f"--output_dir={tmp_path / 'out'}",
            "--name=demo",
            "--image_size=8",
            "--splits=train",
            "--noprogress",
        ]
    )
    convert.run(fv)
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["demo", "train", "2", "22", "1", "2"]
    assert records.split_files(str(tmp_path / "out"), "demo", "val", must_exist=False) == []


def test_verify_reports_an_undecodable_frame_and_a_wrong_context_len(tmp_path):
    os.makedirs(tmp_path / "demo")
    bad_jpeg = records.serialize_example(
        VideoExample("clip", [records.encode_jpeg(np.zeros((4, 4, 3), np.uint8)), b"not a jpeg"])
    )
    path = tmp_path / "demo" / "val-00000-of-00001.tfrecord"
    _write_records(path, [bad_jpeg])
    with pytest.raises(RecordError, match="example 0 \\(clip\\): frame 1 is not a decodable JPEG"):
        readback.verify(str(tmp_path / "demo"))
    seq = tf.train.SequenceExample.FromString(
        records.serialize_example(VideoExample("clip", np.zeros((2, 4, 4, 3), np.uint8)))
    )
    seq.context.feature["len"].int64_list.value[0] = 5
    _write_records(path, [seq.SerializeToString()])
    with pytest.raises(RecordError, match="context 'len' is \\[5\\] but 2 frames are stored"):
        readback.verify(str(tmp_path / "demo"))


def test_failed_overwrite_keeps_the_previous_dataset(tmp_path):
    src = _make_input(tmp_path / "in")
    out = str(tmp_path / "out")
    convert.convert(src, out, "demo", SMALL)
    (tmp_path / "in" / "val" / "broken.mp4").write_bytes(b"garbage" * 50)
    with pytest.raises(VideoReadError, match="broken.mp4"):
        convert.convert(src, out, "demo", SMALL, overwrite=True)
    assert set(_read(out, "val")) == {"clip_c"} and set(_read(out)) == {"clip_a", "clip_b"}
    assert os.listdir(out) == ["demo"]


def test_output_folder_without_records_keeps_its_other_files(tmp_path):
    src = _make_input(tmp_path / "in")
    os.makedirs(tmp_path / "out" / "demo")
    (tmp_path / "out" / "demo" / "README").write_text("mine")
    convert.convert(src, str(tmp_path / "out"), "demo", SMALL, splits=["val"])
    assert (tmp_path / "out" / "demo" / "README").read_text() == "mine"
    assert set(_read(tmp_path / "out", "val")) == {"clip_c"}
