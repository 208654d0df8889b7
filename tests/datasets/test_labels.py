"""Tests for tcc.datasets.labels: label files, key events, phase names, matching to videos."""

import json

import numpy as np
import pytest

from tcc.datasets import labels
from tcc.datasets.labels import Annotation, LabelError


def test_read_txt_skips_blank_and_comment_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("# phases\n0\n0\n\n1\n2\n")
    np.testing.assert_array_equal(labels.read_label_file(str(path)), [0, 0, 1, 2])


def test_read_txt_names_the_line_of_a_bad_value(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("0\nx\n")
    with pytest.raises(LabelError, match=r"a.txt: line 2: 'x' is not a phase id"):
        labels.read_label_file(str(path))


def test_read_npy_accepts_integer_vectors_and_column_vectors(tmp_path):
    np.save(tmp_path / "a.npy", np.array([0, 1, 1], np.int32))
    np.save(tmp_path / "b.npy", np.array([[0.0], [2.0]]))
    np.testing.assert_array_equal(labels.read_label_file(str(tmp_path / "a.npy")), [0, 1, 1])
    np.testing.assert_array_equal(labels.read_label_file(str(tmp_path / "b.npy")), [0, 2])


def test_read_npy_rejects_non_integer_ids(tmp_path):
    np.save(tmp_path / "a.npy", np.array([0.5, 1.0]))
    with pytest.raises(LabelError, match="must be integers"):
        labels.read_label_file(str(tmp_path / "a.npy"))


def test_read_csv_single_column_with_or_without_header(tmp_path):
    (tmp_path / "a.csv").write_text("0\n1\n1\n")
    (tmp_path / "b.csv").write_text("phase\n2\n3\n")
    np.testing.assert_array_equal(labels.read_label_file(str(tmp_path / "a.csv")), [0, 1, 1])
    np.testing.assert_array_equal(labels.read_label_file(str(tmp_path / "b.csv")), [2, 3])


def test_read_csv_picks_the_label_column_among_several(tmp_path):
    (tmp_path / "a.csv").write_text("frame,Label,note\n0,0,a\n1,0,b\n2,1,c\n")
    np.testing.assert_array_equal(labels.read_label_file(str(tmp_path / "a.csv")), [0, 0, 1])


def test_read_csv_rejects_several_columns_without_a_label_column(tmp_path):
    (tmp_path / "a.csv").write_text("frame,value\n0,0\n")
    (tmp_path / "b.csv").write_text("0,0\n1,1\n")
    with pytest.raises(LabelError, match="none is named 'label' or 'phase'"):
        labels.read_label_file(str(tmp_path / "a.csv"))
    with pytest.raises(LabelError, match="no header"):
        labels.read_label_file(str(tmp_path / "b.csv"))


def test_read_label_file_rejects_ids_below_minus_one_and_empty_files(tmp_path):
    (tmp_path / "a.txt").write_text("0\n-2\n")
    (tmp_path / "b.txt").write_text("")
    with pytest.raises(LabelError, match="phase id -2"):
        labels.read_label_file(str(tmp_path / "a.txt"))
    with pytest.raises(LabelError, match="no labels"):
        labels.read_label_file(str(tmp_path / "b.txt"))


def test_key_events_to_labels_matches_a_numpy_count():
    events, num = [3, 4, 8], 11
    expected = np.array([sum(e <= t for e in events) for t in range(num)])
    np.testing.assert_array_equal(labels.key_events_to_labels(events, num), expected)
    np.testing.assert_array_equal(labels.key_events_to_labels([], 3), [0, 0, 0])


def test_labels_to_key_events_inverts_key_events_to_labels():
    events = [2, 5, 6]
    dense = labels.key_events_to_labels(events, 9)
    assert labels.labels_to_key_events(dense) == events
    assert labels.labels_to_key_events(np.array([0, 1, 0])) is None
    assert labels.labels_to_key_events(np.array([1, 1, 2])) is None


@pytest.mark.parametrize(
    "events, message",
    [
        ([5, 3], "not strictly increasing"),
        ([4, 4], "not strictly increasing"),
        ([0, 3], r"key event 0 is outside \[1, 9\]"),
        ([3, 10], r"key event 10 is outside \[1, 9\] for a video of 10 frames"),
    ],
)
def test_check_key_events_rejects_unordered_or_out_of_range_events(events, message):
    with pytest.raises(LabelError, match=message):
        labels.check_key_events(events, 10, "key_events.json", "clip")


def test_check_key_events_accepts_the_bounds_one_and_t_minus_one():
    labels.check_key_events([1, 9], 10, "key_events.json", "clip")


def test_read_key_events_rejects_non_integer_entries(tmp_path):
    path = tmp_path / "key_events.json"
    path.write_text(json.dumps({"clip": [1, "x"]}))
    with pytest.raises(LabelError, match="clip: key events must be a list of integer"):
        labels.read_key_events(str(path))
    path.write_text("{not json")
    with pytest.raises(LabelError, match="not valid JSON"):
        labels.read_key_events(str(path))


def test_annotation_dense_reports_a_label_count_mismatch():
    note = Annotation("labels/clip_a.txt", labels=np.zeros(97, np.int64), video="clip_a")
    with pytest.raises(
        LabelError,
        match="labels/clip_a.txt: 97 labels but the video has 100 frames; give one phase id",
    ):
        note.dense(100)


def test_annotation_dense_rejects_ids_beyond_the_named_phases():
    note = Annotation("labels/a.txt", labels=np.array([0, 1, 3]), video="a")
    with pytest.raises(LabelError, match="phase id 3 but phases.json names only 3 phases"):
        note.dense(3, num_phases=3)


def test_find_label_files_rejects_other_extensions_and_duplicates(tmp_path):
    (tmp_path / "a.txt").write_text("0\n")
    assert labels.find_label_files(str(tmp_path)) == {"a": str(tmp_path / "a.txt")}
    (tmp_path / "a.npy").write_bytes(b"")
    with pytest.raises(LabelError, match="also has"):
        labels.find_label_files(str(tmp_path))
    (tmp_path / "a.npy").unlink()
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(LabelError, match="b.json: unsupported label file"):
        labels.find_label_files(str(tmp_path))


def test_match_annotations_rejects_labels_for_unknown_videos(tmp_path):
    (tmp_path / "ghost.txt").write_text("0\n")
    files = {"ghost": str(tmp_path / "ghost.txt")}
    with pytest.raises(LabelError, match="ghost.txt: labels for unknown video 'ghost'"):
        labels.match_annotations(["a"], files, {}, "key_events.json")
    with pytest.raises(LabelError, match="key_events.json: labels for unknown video 'b'"):
        labels.match_annotations(["a"], {}, {"b": [1]}, "key_events.json")


def test_match_annotations_rejects_both_sources_and_wrong_event_counts(tmp_path):
    (tmp_path / "a.txt").write_text("0\n")
    files = {"a": str(tmp_path / "a.txt")}
    with pytest.raises(LabelError, match="also has key events"):
        labels.match_annotations(["a"], files, {"a": [1]}, "key_events.json")
    with pytest.raises(LabelError, match="2 key events give 3 phases but phases.json names 5"):
        labels.match_annotations(["a"], {}, {"a": [1, 2]}, "key_events.json", num_phases=5)
    out = labels.match_annotations(["a", "b"], files, {}, "key_events.json")
    assert set(out) == {"a"}


def test_read_phase_names_accepts_a_list_or_an_object(tmp_path):
    (tmp_path / "p.json").write_text('["a", "b"]')
    (tmp_path / "q.json").write_text('{"phase_names": ["x"]}')
    (tmp_path / "r.json").write_text("[1, 2]")
    assert labels.read_phase_names(str(tmp_path / "p.json")) == ["a", "b"]
    assert labels.read_phase_names(str(tmp_path / "q.json")) == ["x"]
    with pytest.raises(LabelError, match="expected a list of phase names"):
        labels.read_phase_names(str(tmp_path / "r.json"))
