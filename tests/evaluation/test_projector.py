"""Tests for tcc.evaluation.projector: checkpoint, metadata, sprite and config of the projector."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tcc.evaluation.embed import EmbeddedSplit
from tcc.evaluation.projector import write_projector


def _split(dataset="toy", split="val", lens=(5, 3), dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return EmbeddedSplit(
        dataset,
        split,
        [f"video_{i}" for i in range(len(lens))],
        [rng.normal(size=(n, dim)).astype(np.float32) for n in lens],
        [np.array([0, 0, 1, 2, -1][:n], np.int32) for n in lens],
        [np.arange(0, 2 * n, 2, dtype=np.int32) for n in lens],
        [2 * n for n in lens],
    )


def _config_entries(path):
    """(tensor_name, metadata_path, sprite dims) per `embeddings` block of the pbtxt."""
    text = open(path).read()
    blocks = re.findall(r"embeddings \{(.*?)\n\}", text, flags=re.S)
    return [
        (
            re.search(r'tensor_name: "([^"]+)"', b).group(1),
            re.search(r'metadata_path: "([^"]+)"', b).group(1),
            [int(x) for x in re.findall(r"single_image_dim: (\d+)", b)],
        )
        for b in blocks
    ]


def test_checkpoint_holds_all_frames_of_a_split_in_order(tmp_path):
    split = _split()
    config = write_projector(str(tmp_path), split)
    ((tensor, _, _),) = _config_entries(config)
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path)))
    np.testing.assert_array_equal(reader.get_tensor(tensor), np.concatenate(split.embs))
    assert tensor == "toy_val/.ATTRIBUTES/VARIABLE_VALUE"


def test_metadata_has_one_row_per_frame_with_video_frame_and_phase(tmp_path):
    write_projector(str(tmp_path), _split(), phase_names=["reach", "lift"])
    rows = [r.split("\t") for r in open(tmp_path / "metadata_toy_val.tsv").read().splitlines()]
    assert rows[0] == ["video", "frame", "phase"]
    assert len(rows) == 1 + 5 + 3
    assert rows[1:6] == [
        ["video_0", "0", "reach"],
        ["video_0", "2", "reach"],
        ["video_0", "4", "lift"],
        ["video_0", "6", "phase 2"],
        ["video_0", "8", "none"],
    ]
    assert rows[6] == ["video_1", "0", "reach"]


def test_two_splits_get_two_tensors_and_an_event_file_makes_the_folder_a_run(tmp_path):
    config = write_projector(str(tmp_path), [_split(split="train", lens=(4,)), _split()])
    entries = _config_entries(config)
    assert [e[1] for e in entries] == ["metadata_toy_train.tsv", "metadata_toy_val.tsv"]
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path)))
    assert [reader.get_variable_to_shape_map()[e[0]] for e in entries] == [[4, 4], [8, 4]]
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(tmp_path))


def test_sprite_tiles_every_frame_in_point_order(tmp_path):
    split = _split(lens=(3, 2))
    colours = [np.arange(3)[:, None, None, None] * 40 + 10, np.full((2, 1, 1, 1), 200)]
    thumbs = [[np.broadcast_to(c, (len(c), 8, 8, 3)).astype(np.uint8) for c in colours]]
    config = write_projector(str(tmp_path), split, thumbnails=thumbs, thumb_size=4)
    ((_, _, dims),) = _config_entries(config)
    assert dims == [4, 4]
    sprite = np.asarray(Image.open(tmp_path / "sprite_toy_val.png"))
    assert sprite.shape == (3 * 4, 3 * 4, 3)  # 5 frames -> a 3 x 3 grid
    expected = [10, 50, 90, 200, 200]
    for i, value in enumerate(expected):
        r, c = divmod(i, 3)
        assert sprite[4 * r + 2, 4 * c + 2, 0] == value


def test_rewriting_replaces_an_earlier_projector_but_keeps_other_files(tmp_path):
    write_projector(str(tmp_path), _split(dataset="old"))
    (tmp_path / "notes.txt").write_text("keep me")
    write_projector(str(tmp_path), _split(dataset="new"))
    names = os.listdir(tmp_path)
    assert "metadata_new_val.tsv" in names and "metadata_old_val.tsv" not in names
    assert "notes.txt" in names
    assert len([n for n in names if n.startswith("events.out")]) == 1


def test_empty_split_list_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="at least one split"):
        write_projector(str(tmp_path), [])
