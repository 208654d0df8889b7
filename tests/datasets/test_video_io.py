"""Tests for tcc.datasets.sources (video_io, own_videos): sources, frame order, decoding,
resizing, fps resampling."""

import os

import imageio.v2 as imageio
import numpy as np
import pytest

from tcc.datasets.sources import own_videos, video_io
from tcc.datasets.sources.video_io import FrameOptions, VideoReadError


def _write_mp4(path, values, size=(32, 48), fps=10.0):
    """Writes a video whose frame i is uniformly grey with intensity values[i]."""
    writer = imageio.get_writer(path, fps=fps, format="FFMPEG", macro_block_size=1)
    for v in values:
        writer.append_data(np.full((*size, 3), v, np.uint8))
    writer.close()


def _write_folder(folder, names_values, size=(16, 24)):
    os.makedirs(folder, exist_ok=True)
    for name, v in names_values:
        imageio.imwrite(os.path.join(folder, name), np.full((*size, 3), v, np.uint8))


def test_natural_key_orders_digit_runs_by_value():
    names = ["10.jpg", "2.jpg", "1.jpg", "frame_10.png", "frame_9.png"]
    assert sorted(names, key=video_io.natural_key) == [
        "1.jpg",
        "2.jpg",
        "10.jpg",
        "frame_9.png",
        "frame_10.png",
    ]


def test_list_frame_files_returns_numeric_order_and_skips_other_files(tmp_path):
    _write_folder(tmp_path / "clip", [("10.jpg", 0), ("2.jpg", 0), ("1.jpg", 0)])
    (tmp_path / "clip" / "notes.txt").write_text("x")
    files = [os.path.basename(f) for f in video_io.list_frame_files(str(tmp_path / "clip"))]
    assert files == ["1.jpg", "2.jpg", "10.jpg"]


def test_list_frame_files_rejects_an_empty_folder(tmp_path):
    (tmp_path / "clip").mkdir()
    with pytest.raises(VideoReadError, match="empty frame folder"):
        video_io.list_frame_files(str(tmp_path / "clip"))


def test_find_sources_names_videos_and_folders_and_skips_other_entries(tmp_path):
    _write_mp4(str(tmp_path / "a.mp4"), [0, 50])
    _write_folder(tmp_path / "b", [("1.jpg", 0)])
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / ".hidden.mp4").write_text("x")
    sources = own_videos.find_sources(str(tmp_path))
    assert [(s.name, s.kind) for s in sources] == [("a", "video"), ("b", "frames")]


def test_find_sources_rejects_two_entries_with_one_name(tmp_path):
    _write_mp4(str(tmp_path / "a.mp4"), [0])
    _write_folder(tmp_path / "a", [("1.jpg", 0)])
    with pytest.raises(VideoReadError, match="also named 'a'"):
        own_videos.find_sources(str(tmp_path))


def test_read_video_file_returns_every_frame_in_order_with_fps(tmp_path):
    values = [10 * i + 20 for i in range(12)]
    _write_mp4(str(tmp_path / "a.mp4"), values)
    frames, fps = video_io.read_video_file(str(tmp_path / "a.mp4"), FrameOptions(image_size=0))
    assert frames.shape == (12, 32, 48, 3) and frames.dtype == np.uint8
    assert fps == pytest.approx(10.0)
    np.testing.assert_allclose(frames.mean(axis=(1, 2, 3)), values, atol=4)


def test_read_video_file_rejects_an_unreadable_file(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"this is not a video" * 10)
    with pytest.raises(VideoReadError, match="broken.mp4: unreadable video"):
        video_io.read_video_file(str(path), FrameOptions())


def test_read_frame_folder_reads_numeric_order_and_converts_grey_and_rgba(tmp_path):
    folder = tmp_path / "clip"
    _write_folder(folder, [("1.jpg", 10), ("2.jpg", 100), ("10.jpg", 200)])
    imageio.imwrite(folder / "3.png", np.full((16, 24), 150, np.uint8))
    imageio.imwrite(folder / "4.png", np.full((16, 24, 4), 60, np.uint8))
    frames, fps = video_io.read_frame_folder(str(folder), FrameOptions(image_size=0))
    assert frames.shape == (5, 16, 24, 3) and fps is None
    np.testing.assert_allclose(frames.mean(axis=(1, 2, 3)), [10, 100, 150, 60, 200], atol=3)


def test_read_frame_folder_rejects_frames_of_different_sizes(tmp_path):
    _write_folder(tmp_path / "clip", [("1.jpg", 0)], size=(16, 24))
    _write_folder(tmp_path / "clip", [("2.jpg", 0)], size=(20, 24))
    with pytest.raises(VideoReadError, match="frame 1 is 24x20 but frame 0 is 24x16"):
        video_io.read_frame_folder(str(tmp_path / "clip"), FrameOptions())


def test_read_frame_folder_names_an_undecodable_image(tmp_path):
    _write_folder(tmp_path / "clip", [("1.jpg", 0)])
    (tmp_path / "clip" / "2.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VideoReadError, match="2.jpg: unreadable image"):
        video_io.read_frame_folder(str(tmp_path / "clip"), FrameOptions())


def test_resize_squash_maps_whole_frame_and_keeps_constant_images():
    frames = np.full((3, 30, 60, 3), 77, np.uint8)
    out = video_io.resize_frames(frames, 16, "squash")
    assert out.shape == (3, 16, 16, 3) and out.dtype == np.uint8
    assert np.all(out == 77)


def test_resize_crop_keeps_only_the_centre_square():
    # Left quarter 0, middle half 200, right quarter 0: the centre crop sees only 200.
    frame = np.zeros((1, 32, 64, 3), np.uint8)
    frame[:, :, 16:48] = 200
    crop = video_io.resize_frames(frame, 16, "crop")
    squash = video_io.resize_frames(frame, 16, "squash")
    assert crop.shape == (1, 16, 16, 3)
    assert np.all(crop[:, :, 2:-2] == 200)
    # The squashed frame still shows the dark sides and the bright middle.
    assert squash[0, :, 0].mean() < 50 and squash[0, :, 8].mean() == 200


def test_resample_indices_matches_numpy_for_integer_ratios():
    np.testing.assert_array_equal(video_io.resample_indices(12, 10, 5), np.arange(0, 12, 2))
    np.testing.assert_array_equal(video_io.resample_indices(5, 10, 20), np.repeat(np.arange(5), 2))
    np.testing.assert_array_equal(video_io.resample_indices(7, 30, 30), np.arange(7))


@pytest.mark.parametrize("num, src, dst", [(100, 30, 25), (13, 29.97, 12), (1, 30, 7), (40, 8, 30)])
def test_resample_indices_are_sorted_in_range_and_cover_the_duration(num, src, dst):
    idx = video_io.resample_indices(num, src, dst)
    assert len(idx) == max(1, int(np.ceil(num * dst / src - 1e-6)))
    assert np.all(np.diff(idx) >= 0) and idx[0] == 0 and idx[-1] <= num - 1
    expected = np.minimum(np.floor(np.arange(len(idx)) * src / dst + 1e-6), num - 1)
    np.testing.assert_array_equal(idx, expected)


def test_frame_options_reject_bad_values():
    with pytest.raises(ValueError, match="resize_mode"):
        FrameOptions(resize_mode="stretch")
    with pytest.raises(ValueError, match="fps must be > 0"):
        FrameOptions(fps=-1.0)
