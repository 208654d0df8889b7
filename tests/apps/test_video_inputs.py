"""Tests for tcc.apps.video_inputs: the apps' videos from plain arguments (no flags, no model)."""

import numpy as np
import pytest

from tcc.apps import video_inputs
from tcc.apps.video_inputs import AppError, VideoSources
from tcc.datasets import records
from tcc.evaluation.embed import EmbeddedSplit
from tcc.evaluation.embeddings_file import save_npz

LENGTHS = (6, 4)


@pytest.fixture
def root(tmp_path):
    """Records toy/val: two labelled 16-px videos at 5 fps with phase names."""
    rng = np.random.default_rng(0)
    examples = [
        records.VideoExample(
            f"v{i}",
            rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8),
            np.arange(n) % 2,
            fps=5.0,
            phase_names=["a", "b"],
        )
        for i, n in enumerate(LENGTHS)
    ]
    records.write_split(examples, str(tmp_path / "data"), "toy", "val")
    return str(tmp_path / "data")


@pytest.fixture
def table_path(tmp_path):
    embs = [np.full((n, 3), i, np.float32) for i, n in enumerate(LENGTHS)]
    split = EmbeddedSplit(
        "toy",
        "val",
        ["v0", "v1"],
        embs,
        [np.zeros(n, np.int32) for n in LENGTHS],
        [np.arange(n, dtype=np.int32) for n in LENGTHS],
        list(LENGTHS),
    )
    save_npz(tmp_path / "e.npz", split)
    return str(tmp_path / "e.npz")


def test_read_records_gives_frames_labels_fps_and_phase_names(root):
    table = video_inputs.read_records(root, "toy", "val")
    assert list(table) == ["v0", "v1"]
    assert len(table["v0"]["video"]) == 6 and table["v1"]["fps"] == 5.0
    assert table["v0"]["phase_names"] == ["a", "b"]
    np.testing.assert_array_equal(table["v1"]["frame_labels"], [0, 1, 0, 1])


def test_bare_names_take_embeddings_from_the_file_and_frames_from_the_records(root, table_path):
    sources = VideoSources(
        table=video_inputs.load_table(table_path),
        table_path=table_path,
        data_path=root,
        dataset="toy",
    )
    video = video_inputs.resolve_one(sources, "v1", "--query")
    assert video.embs.shape == (4, 3) and (video.embs == 1).all()
    assert video.has_frames and video.image(2).shape == (16, 16, 3)
    assert video.fps == 5.0 and video.phase_name(1) == "b"
    videos = video_inputs.collection(sources, "toy", "val", table_path)
    assert [v.name for v in videos] == ["v0", "v1"]


def test_a_video_to_embed_without_a_run_is_an_error_naming_the_flag(root, table_path):
    sources = VideoSources(data_path=root, dataset="toy")
    with pytest.raises(AppError, match="--logdir"):
        video_inputs.resolve(sources, ["records:toy/val:v0"])
    with pytest.raises(AppError, match="unknown video 'v9'.*v0"):
        video_inputs.resolve(sources, ["v9"])


def test_a_missing_embeddings_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(AppError, match="nope.npz does not exist"):
        video_inputs.load_table(str(tmp_path / "nope.npz"))
