"""Tests of the embedded synthetic dataset generator (the tcc.datasets.synthetic package)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from conftest import SUBPROCESS_TIMEOUT

from tcc.datasets import metadata, synthetic
from tcc.datasets.synthetic import (
    PHASE_NAMES,
    SyntheticSpec,
    Variation,
    ensure_embedded_dataset,
    generate_dataset,
    render_video,
    save_example_strip,
    video_rng,
)
from tcc.datasets.synthetic import __main__ as synthetic_cli
from tcc.datasets.synthetic import writer as synthetic_writer
from tcc.datasets.synthetic.motion import sample_timeline
from tcc.datasets.synthetic.render import render_frames
from tcc.datasets.synthetic.scene import sample_scene

TINY = dict(image_size=16, min_frames=15, max_frames=20)  # SyntheticSpec fields, fast


def _spec(**kwargs) -> SyntheticSpec:
    return SyntheticSpec(**{**TINY, **kwargs})


def _small_video(seed, split="train", index=0, size=32):
    return render_video(video_rng(seed, split, index), size, min_frames=30, max_frames=50)


def _pixels(frames, k=2):
    """Raw pixels averaged over k x k blocks: float [T, (H/k)(W/k)3]."""
    f = frames.astype(np.float32) / 255
    t, h, w, _ = f.shape
    return f.reshape(t, h // k, k, w // k, k, 3).mean((2, 4)).reshape(t, -1)


def _nn_tau(a, b):
    """Kendall's tau of (i, nearest neighbour of a[i] in b); a constant match counts as 0."""
    nn = scipy.spatial.distance.cdist(a, b, "sqeuclidean").argmin(1)
    return float(np.nan_to_num(scipy.stats.kendalltau(np.arange(len(a)), nn).statistic))


def _mean_pair_tau(features):
    n = len(features)
    return np.mean(
        [_nn_tau(features[i], features[j]) for i in range(n) for j in range(n) if i != j]
    )


def test_same_seed_split_and_index_give_byte_identical_frames():
    a, b = _small_video(7), _small_video(7)
    assert a.frames.dtype == np.uint8 and a.frames.tobytes() == b.frames.tobytes()
    np.testing.assert_array_equal(a.frame_labels, b.frame_labels)
    assert not np.array_equal(_small_video(7, index=1).frames[:5], a.frames[:5])
    assert not np.array_equal(_small_video(7, split="val").frames[:5], a.frames[:5])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_labels_are_dense_monotone_five_phases_with_matching_key_events(seed):
    video = _small_video(seed, size=16)
    labels, t = video.frame_labels, len(video.frames)
    assert labels.dtype == np.int32 and labels.shape == (t,)
    assert np.all(np.diff(labels) >= 0) and set(labels.tolist()) == set(range(5))
    assert video.key_events == (np.flatnonzero(np.diff(labels)) + 1).tolist()
    progress = video.progress
    assert progress.shape == (t,) and np.all(np.diff(progress) >= 0)
    assert progress[0] >= 0 and progress[-1] <= 1
    assert np.all(progress >= labels / 5 - 1e-6) and np.all(progress <= (labels + 1) / 5 + 1e-6)


def test_video_lengths_stay_within_min_and_max_frames():
    lengths = [
        len(render_video(video_rng(0, "train", i), 8, min_frames=20, max_frames=24).frames)
        for i in range(6)
    ]
    assert min(lengths) >= 20 and max(lengths) <= 24 and len(set(lengths)) > 1


def test_too_short_video_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="num_frames=10"):
        sample_timeline(np.random.default_rng(0), 10)


def test_phase_durations_differ_between_videos():
    events = [sample_timeline(np.random.default_rng(s), 80).key_events for s in range(4)]
    assert len({tuple(e) for e in events}) == 4


def test_two_videos_differ_in_appearance():
    a, b = _small_video(0, index=0), _small_video(0, index=1)
    first = np.abs(a.frames[0].astype(float) - b.frames[0].astype(float)).mean()
    assert first > 20  # mean absolute difference in 0..255 pixel units
    assert np.abs(a.frames.mean((0, 1, 2)) - b.frames.mean((0, 1, 2))).max() > 10


def test_raw_pixels_align_videos_far_worse_than_true_progress():
    videos = [_small_video(3, index=i) for i in range(3)]
    progress_tau = _mean_pair_tau([v.progress[:, None] for v in videos])
    pixel_tau = _mean_pair_tau([_pixels(v.frames) for v in videos])
    assert progress_tau > 0.9
    assert pixel_tau < 0.4 and pixel_tau < progress_tau - 0.5


def test_action_is_visible_in_pixels_when_appearance_is_fixed():
    rng = np.random.default_rng(5)
    scene = sample_scene(rng)
    frames = [render_frames(scene, sample_timeline(rng, n), 32, rng) for n in (30, 45, 60)]
    assert _mean_pair_tau([_pixels(f) for f in frames]) > 0.7


def test_scaled_variation_grows_with_difficulty_and_rejects_negative():
    base = Variation()
    assert base.scaled(1.0) == base
    hard = base.scaled(2.0)
    assert hard.max_distractors == 2 * base.max_distractors
    assert hard.noise_std[1] > base.noise_std[1] and hard.camera_shift > base.camera_shift
    assert hard.phase_concentration < base.phase_concentration
    with pytest.raises(ValueError, match="difficulty=-1"):
        base.scaled(-1)


def test_generate_dataset_writes_records_key_events_and_meta(tmp_path):
    from tcc.datasets.records import read_split

    path = generate_dataset(str(tmp_path), _spec(seed=4, num_train=2, num_val=1), num_workers=1)
    assert path == os.path.join(tmp_path, "synthetic_pouring")
    events = json.load(open(os.path.join(path, "key_events.json")))
    meta = json.load(open(os.path.join(path, "meta.json")))
    assert meta["seed"] == 4 and meta["version"] == synthetic.GENERATOR_VERSION
    train = list(read_split(str(tmp_path), "synthetic_pouring", "train"))
    assert [v["name"] for v in train] == ["train_0000", "train_0001"]
    for i, video in enumerate(train):
        expected = render_video(video_rng(4, "train", i), 16, min_frames=15, max_frames=20)
        np.testing.assert_array_equal(video["frame_labels"], expected.frame_labels)
        assert events[video["name"]] == expected.key_events
        assert video["frames"].shape == expected.frames.shape
    assert meta["splits"]["train"]["frames"] == sum(v["len"] for v in train)
    assert sorted(os.listdir(tmp_path)) == ["synthetic_pouring"]  # no staging left
    assert metadata.read(str(tmp_path), "synthetic_pouring").num_phases == len(PHASE_NAMES)


def test_generate_dataset_refuses_to_overwrite_without_permission(tmp_path):
    os.makedirs(tmp_path / "synthetic_pouring")
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_dataset(str(tmp_path), _spec(num_train=1, num_val=0), num_workers=1)


def test_interrupted_generation_leaves_no_partial_dataset(tmp_path, monkeypatch):
    calls = []

    def failing_render(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return render_video(*args, **kwargs)

    monkeypatch.setattr(synthetic_writer, "render_video", failing_render)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(str(tmp_path), _spec(num_train=3, num_val=1), num_workers=1)
    assert os.listdir(tmp_path) == []


def test_ensure_embedded_dataset_generates_once_then_reuses_the_cache(tmp_path, monkeypatch):
    calls = []

    write_dataset = synthetic_writer.write_dataset

    def counting_write(spec, *args, **kwargs):
        calls.append(spec.seed)
        return write_dataset(spec, *args, **kwargs)

    monkeypatch.setattr(synthetic_writer, "write_dataset", counting_write)
    root = ensure_embedded_dataset(str(tmp_path), _spec(seed=2, num_train=1, num_val=1))
    meta = os.path.join(root, "synthetic_pouring", "meta.json")
    mtime = os.stat(meta).st_mtime_ns
    assert ensure_embedded_dataset(str(tmp_path), _spec(seed=2, num_train=1, num_val=1)) == root
    assert calls == [2] and os.stat(meta).st_mtime_ns == mtime
    other = ensure_embedded_dataset(str(tmp_path), _spec(seed=3, num_train=1, num_val=1))
    assert other != root and calls == [2, 3]


def test_ensure_embedded_dataset_regenerates_a_broken_cache(tmp_path):
    kwargs = dict(cache_dir=str(tmp_path), spec=_spec(num_train=1, num_val=1))
    root = ensure_embedded_dataset(**kwargs)
    meta_path = os.path.join(root, "synthetic_pouring", "meta.json")
    with open(meta_path, "w") as f:
        f.write("{broken")
    assert ensure_embedded_dataset(**kwargs) == root
    assert json.load(open(meta_path))["num_train"] == 1
    os.remove(os.path.join(root, "synthetic_pouring", "val-00000-of-00001.tfrecord"))
    ensure_embedded_dataset(**kwargs)
    assert os.path.isfile(os.path.join(root, "synthetic_pouring", "val-00000-of-00001.tfrecord"))


def test_default_cache_dir_follows_tcc_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TCC_CACHE_DIR", str(tmp_path))
    assert synthetic.default_cache_dir() == os.path.join(tmp_path, "synthetic")


def _run_cli(argv):
    """Parses `argv` with the CLI's own flag definitions (a private FlagValues) and runs it."""
    from absl import flags

    fv = flags.FlagValues()
    synthetic_cli._define_flags(fv)
    fv(["synthetic"] + argv)
    synthetic_cli.run(fv)


def test_cli_with_worker_pool_writes_records_read_back_with_right_labels(tmp_path, capsys):
    from tcc.datasets.records import read_split

    _run_cli(
        [
            f"--output_dir={tmp_path}/cli",
            "--seed=1",
            "--num_train=3",
            "--num_val=1",
            "--image_size=16",
            "--min_frames=15",
            "--max_frames=20",
            "--num_workers=2",
        ]
    )
    summary = capsys.readouterr().out
    assert "train: 3 videos" in summary and "val: 1 videos" in summary
    # The same seed, in this process, with fewer videos: the shared videos are identical.
    generate_dataset(f"{tmp_path}/lib", _spec(seed=1, num_train=2, num_val=1), num_workers=1)
    for split in ("train", "val"):
        cli = list(read_split(f"{tmp_path}/cli", "synthetic_pouring", split))
        lib = list(read_split(f"{tmp_path}/lib", "synthetic_pouring", split))
        assert len(cli) == {"train": 3, "val": 1}[split]
        for a, b in zip(cli, lib, strict=False):
            assert a["name"] == b["name"]
            np.testing.assert_array_equal(a["frames"], b["frames"])
        for video in cli:
            expected = render_video(video_rng(1, split, int(video["name"][-4:])), 16, None, 15, 20)
            np.testing.assert_array_equal(video["frame_labels"], expected.frame_labels)


def test_cli_program_reports_bad_arguments_in_one_line_and_writes_nothing(tmp_path):
    cmd = [sys.executable, "-m", "tcc.datasets.synthetic", f"--output_dir={tmp_path}"]
    done = subprocess.run(
        cmd + ["--min_frames=5"], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("error: need 15 <= min_frames")
    assert os.listdir(tmp_path) == []


def test_save_example_strip_writes_a_png_with_one_row_per_video(tmp_path):
    import imageio.v3 as iio

    path = save_example_strip(str(tmp_path / "sub" / "strip.png"), num_videos=2, image_size=16)
    image = iio.imread(path)
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 0
    assert len(PHASE_NAMES) == 5
