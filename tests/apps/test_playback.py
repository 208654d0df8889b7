"""Tests for tcc.apps.playback.write_playback: gif / mp4 output, layout, captions, errors."""

import os

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest

from tcc.apps.alignment import align
from tcc.apps.playback import playback_mappings, write_playback


def _coded_video(length, height, width, green):
    """Frames of one flat colour each: red = 12 * frame index, fixed green, blue = 40."""
    video = np.zeros((length, height, width, 3), dtype=np.uint8)
    video[..., 0] = (12 * np.arange(length))[:, None, None]
    video[..., 1] = green
    video[..., 2] = 40
    return video


def test_gif_of_two_videos_has_one_frame_per_step_and_shows_mapped_frames(tmp_path):
    videos = [_coded_video(12, 16, 20, 0), _coded_video(20, 24, 24, 200)]
    mappings = [np.arange(12), np.array([0, 1, 3, 4, 6, 8, 9, 12, 14, 15, 17, 19])]
    out = tmp_path / "sync.gif"
    write_playback(videos, mappings, out, fps=8, titles=["query", "reference"])
    frames = iio.imread(out, index=None)
    tile_h, tile_w = 16 * 8, 20 * 8  # enlarged to >= 128 rows
    assert frames.shape[0] == 12 and frames.shape[2] >= 2 * tile_w
    for step in (0, 5, 11):
        query_px = frames[step, tile_h // 2, tile_w // 2].astype(int)
        ref_px = frames[step, tile_h // 2, tile_w + tile_w // 2].astype(int)
        np.testing.assert_allclose(query_px, videos[0][step, 0, 0], atol=12)
        np.testing.assert_allclose(ref_px, videos[1][mappings[1][step], 0, 0], atol=12)
    assert os.listdir(tmp_path) == ["sync.gif"]


def test_mp4_grid_of_five_videos_has_expected_frame_count(tmp_path):
    rng = np.random.default_rng(0)
    videos = [_coded_video(int(rng.integers(8, 15)), 32, 32, 50 * v) for v in range(5)]
    mappings = [np.linspace(0, len(v) - 1, 9).round().astype(int) for v in videos]
    out = tmp_path / "grid.mp4"
    write_playback(videos, mappings, out, fps=5)
    reader = iio2.get_reader(out)
    first = reader.get_data(0)
    assert reader.count_frames() == 9
    assert first.shape[0] % 16 == 0 and first.shape[1] % 16 == 0
    assert first.shape[0] >= 2 * 128 and first.shape[1] >= 3 * 128  # 3 columns x 2 rows
    reader.close()


def test_phase_labels_change_only_the_caption(tmp_path):
    videos = [_coded_video(6, 16, 16, 0), _coded_video(6, 16, 16, 90)]
    mappings = [np.arange(6), np.arange(6)]
    labels = [np.array([0, 0, 1, 1, 2, 2]), None]
    write_playback(videos, mappings, tmp_path / "plain.gif")
    write_playback(
        videos, mappings, tmp_path / "lab.gif", labels=labels, phase_names=["reach", "lift", "pour"]
    )
    plain = iio.imread(tmp_path / "plain.gif", index=None).astype(int)
    lab = iio.imread(tmp_path / "lab.gif", index=None).astype(int)
    assert plain.shape == lab.shape
    assert np.abs(plain[:, :128] - lab[:, :128]).max() <= 12  # images untouched (gif palette)
    assert np.abs(plain[:, 128:] - lab[:, 128:]).max() > 100  # caption shows the phase
    orange = np.abs(lab[2, 128:, :128] - np.array([255, 127, 14])).sum(-1) < 40  # phase 1
    assert orange.any()


def test_playback_mappings_follow_alignments():
    rng = np.random.default_rng(1)
    query = rng.normal(size=(7, 3))
    refs = [rng.normal(size=(5, 3)), rng.normal(size=(9, 3))]
    alignments = [align(query, r) for r in refs]
    maps = playback_mappings(alignments)
    np.testing.assert_array_equal(maps[0], np.arange(7))
    for m, a in zip(maps[1:], alignments, strict=True):
        np.testing.assert_array_equal(m, a.mapping)


def test_out_of_range_mapping_fails_without_writing(tmp_path):
    videos = [_coded_video(5, 16, 16, 0), _coded_video(4, 16, 16, 0)]
    with pytest.raises(ValueError, match="outside video 1"):
        write_playback(videos, [np.arange(5), np.arange(5)], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="Unsupported playback file type"):
        write_playback(videos, [np.arange(4), np.arange(4)], tmp_path / "x.png")
    with pytest.raises(ValueError, match="uint8"):
        write_playback([videos[0].astype(float)], [np.arange(5)], tmp_path / "x.gif")
    assert os.listdir(tmp_path) == []
