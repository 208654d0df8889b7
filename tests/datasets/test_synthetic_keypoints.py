"""Tests of the embedded synthetic keypoint dataset (tcc.datasets.synthetic.keypoints)."""

import math
import os

import numpy as np
import pytest

from tcc import config as config_lib
from tcc.datasets import data_root, pipeline, records
from tcc.datasets.synthetic import keypoints as sk
from tcc.datasets.synthetic.motion import action_poses, camera_path, sample_timeline
from tcc.datasets.synthetic.render import render_video, video_rng
from tcc.datasets.synthetic.scene import Variation, sample_scene

CONFIG = os.path.join(
    os.path.dirname(__file__), "..", "..", "configs", "experiments_keypoints_synthetic.py"
)
QUIET = sk.KeypointNoise(position_std=(0.0, 0.0), missing_rate=0.0, dropout_probability=0.0,
                         outlier_rate=0.0)  # fmt: skip


def _video(seed=0, split="train", index=0, **kwargs):
    return sk.keypoint_video(video_rng(seed, split, index), 64, **kwargs)


def _renderer_world(px, camera, size):
    """World point the renderer shows at continuous pixel position px [T, 2] (its formula)."""
    dx, dy = (px[:, 0] + 0.5) / size - 0.5, (px[:, 1] + 0.5) / size - 0.5
    c, s, z = np.cos(camera.rotation), np.sin(camera.rotation), camera.zoom
    x = camera.center[:, 0] + (c * dx + s * dy) / z
    y = camera.center[:, 1] + (c * dy - s * dx) / z
    return np.stack([x, y], -1)


def test_same_seed_split_and_index_give_identical_keypoints_and_others_differ():
    a, b = _video(3), _video(3)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    np.testing.assert_array_equal(a.frame_labels, b.frame_labels)
    for other in (_video(3, index=1), _video(3, split="val"), _video(4)):
        n = min(len(a.keypoints), len(other.keypoints))
        assert not np.array_equal(a.keypoints[:n], other.keypoints[:n])


def test_shapes_dtypes_and_missing_joints_are_zero():
    v = _video(0, min_frames=40, max_frames=120)
    t = len(v.frame_labels)
    assert 40 <= t <= 120 and sk.NUM_JOINTS == len(sk.JOINT_NAMES) == 12
    assert v.keypoints.shape == (t, sk.NUM_JOINTS, 3) and v.keypoints.dtype == np.float32
    assert v.clean.shape == (t, sk.NUM_JOINTS, 2) and v.frame_labels.dtype == np.int32
    vis = v.keypoints[..., 2]
    assert set(np.unique(vis)) <= {0.0, 1.0} and 0 < vis.mean() < 1
    assert np.all(v.keypoints[vis == 0][:, :2] == 0)


def test_labels_are_non_decreasing_with_all_five_phases_and_events_start_phases():
    for index in range(5):
        v = _video(1, index=index)
        assert np.all(np.diff(v.frame_labels) >= 0)
        np.testing.assert_array_equal(np.unique(v.frame_labels), np.arange(5))
        assert v.key_events == [int(np.argmax(v.frame_labels == k)) for k in range(1, 5)]
        assert np.all(np.diff(v.progress) >= 0) and 0 <= v.progress.min() <= v.progress.max() <= 1


def test_projection_inverts_the_renderers_pixel_to_world_mapping():
    var = Variation(camera_rotation_deg=30.0, camera_shift=0.1)
    rng = video_rng(5, "train", 2)
    n = int(rng.integers(40, 121))
    scene = sample_scene(rng, var)
    timeline = sample_timeline(rng, n, var)
    camera = camera_path(scene.optics, n, rng)
    poses = action_poses(scene.props, timeline)
    clean = sk.keypoint_video(video_rng(5, "train", 2), 64, variation=var).clean
    np.testing.assert_allclose(_renderer_world(clean[:, 0], camera, 64), poses.hand_xy, atol=1e-4)
    # Spout and the back of the base in the container's own frame, as the renderer computes it.
    props, tilt = scene.props, poses.tilt
    (w, h), nh = props.body_size, props.neck_size[1]
    for joint, expected in ((4, (0.0, -(h / 2 + nh))), (2, (-props.side * w / 2, h / 2))):
        d = _renderer_world(clean[:, joint], camera, 64) - poses.container_xy
        own = np.stack([np.cos(tilt) * d[:, 0] + np.sin(tilt) * d[:, 1],
                        np.cos(tilt) * d[:, 1] - np.sin(tilt) * d[:, 0]], -1)  # fmt: skip
        np.testing.assert_allclose(own, np.broadcast_to(expected, own.shape), atol=1e-4)


def test_hand_keypoint_lands_on_a_hand_coloured_pixel_of_the_rendered_video():
    var = Variation(max_distractors=0, noise_std=(0.0, 0.0), lighting_variation=0.0,
                    camera_rotation_deg=30.0, camera_shift=0.1)  # fmt: skip
    for index in range(3):
        frames = render_video(video_rng(2, "val", index), 64, variation=var).frames
        v = sk.keypoint_video(video_rng(2, "val", index), 64, variation=var, noise=QUIET)
        rng = video_rng(2, "val", index)
        rng.integers(40, 121)  # the video length, drawn before the scene
        color = np.clip(sample_scene(rng, var).props.hand_color * 255 + 0.5, 0, 255)
        xy = np.round(v.clean[:, 0]).astype(int)
        seen = (v.keypoints[:, 0, 2] > 0) & np.all((xy >= 0) & (xy < 64), -1)
        assert seen.sum() >= 10
        pixels = frames[np.flatnonzero(seen), xy[seen, 1], xy[seen, 0]].astype(float)
        assert np.all(np.abs(pixels - color).max(-1) <= 2)


def test_detector_missing_rate_dropouts_outliers_and_noise_follow_the_settings():
    t, j, size = 2000, sk.NUM_JOINTS, 64
    clean = np.full((t, j, 2), 30.0)
    exists = np.ones((t, j), bool)
    noise = sk.KeypointNoise((0.01, 0.01), missing_rate=0.1, dropout_probability=0.0,
                             outlier_rate=0.0)  # fmt: skip
    out = sk.detect(clean, exists, size, noise, np.random.default_rng(0))
    vis = out[..., 2] > 0
    assert abs((~vis).mean() - 0.1) < 0.01
    assert abs(np.std(out[vis][:, :2] - 30.0) - 0.01 * size) < 0.02
    runs = sk.KeypointNoise((0.0, 0.0), 0.0, dropout_probability=1.0, dropout_frames=(3, 10),
                            outlier_rate=0.0)  # fmt: skip
    dropped = sk.detect(clean[:200], exists[:200], size, runs, np.random.default_rng(1))[..., 2]
    for column in (dropped == 0).T:
        hole = np.flatnonzero(column)
        assert np.all(np.diff(hole) == 1) and 1 <= len(hole) <= 10
        assert len(hole) >= 3 or hole[-1] == 199  # only a run cut by the end is shorter
    wild = sk.KeypointNoise((0.0, 0.0), 0.0, 0.0, outlier_rate=0.2)
    out = sk.detect(clean, exists & False, size, wild, np.random.default_rng(2))
    assert abs((out[..., 2] > 0).mean() - 0.2) < 0.01  # spurious detections of absent joints


def test_joints_outside_the_image_or_absent_are_missing():
    clean = np.array([[[-1.0, 10.0], [10.0, 64.0], [10.0, 10.0], [63.0, 0.0]]])
    exists = np.array([[True, True, False, True]])
    out = sk.detect(clean, exists, 64, QUIET, np.random.default_rng(0))
    np.testing.assert_array_equal(out[0, :, 2], [0, 0, 0, 1])
    v = _video(0, noise=sk.KeypointNoise(outlier_rate=0.0))  # outliers may appear anywhere
    absent = np.isnan(v.clean[..., 0])
    assert np.all(v.keypoints[..., 2][absent] == 0)
    stream = absent[:, sk.JOINT_NAMES.index("stream_end")]
    np.testing.assert_array_equal(~stream, v.frame_labels == 2)  # liquid flows only in 'pour'


def _small_config(cache_dir, logdir, **overrides):
    items = {
        "data.cache_dir": cache_dir,
        "data.synthetic_num_train": 4,
        "data.synthetic_num_val": 2,
        "data.num_parallel_calls": 1,
        "train.batch_size": 2,
        "train.num_frames": 6,
        "model.embedding_size": 16,
        "model.sequence_embedder.fc_layers": [32],
        "eval.num_frames": 16,
        "logdir": logdir,
        **overrides,
    }
    return config_lib.load(CONFIG, [f"{k}={v}" for k, v in items.items()])


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("kp_cache"))


def test_embedded_keypoints_are_cached_deterministic_and_hold_the_generated_videos(
    cache_dir, tmp_path
):
    root = sk.ensure_embedded_keypoints(cache_dir, sk.keypoint_spec(num_train=4, num_val=2))
    assert os.path.basename(root).startswith("joints-") and os.path.dirname(root) == cache_dir
    meta = os.path.join(root, sk.DATASET_NAME, "meta.json")
    stamp = os.path.getmtime(meta)
    assert sk.ensure_embedded_keypoints(cache_dir, sk.keypoint_spec(num_train=4, num_val=2)) == root
    assert os.path.getmtime(meta) == stamp  # reused, not regenerated
    other = sk.ensure_embedded_keypoints(str(tmp_path), sk.keypoint_spec(num_train=4, num_val=2))
    for split in ("train", "val"):
        (a,), (b,) = (records.split_files(r, sk.DATASET_NAME, split) for r in (root, other))
        assert open(a, "rb").read() == open(b, "rb").read()
    val = list(records.read_split(root, sk.DATASET_NAME, "val", kind="features"))
    expected = _video(0, "val", 1)
    assert [v["name"] for v in val] == ["val_0000", "val_0001"]
    np.testing.assert_array_equal(val[1]["features"], expected.keypoints.reshape(-1, 36))
    np.testing.assert_array_equal(val[1]["frame_labels"], expected.frame_labels)


def test_config_reads_the_embedded_keypoints_for_training_and_evaluation(cache_dir, tmp_path):
    cfg = _small_config(cache_dir, str(tmp_path))
    root = data_root.resolve(cfg)
    assert root == sk.ensure_embedded_keypoints(
        cache_dir, sk.keypoint_spec(seed=0, num_train=4, num_val=2)
    )
    options = pipeline.InputOptions.from_config(cfg)
    batch = next(iter(pipeline.make_train_dataset(options, seed=0, root=root)))
    assert batch["frames"].shape == (2, 6 * 2, sk.NUM_JOINTS * 2 * 2)  # coords + motion
    assert np.all(np.isfinite(batch["frames"].numpy()))
    assert set(np.unique(batch["frame_labels"].numpy())) <= set(range(5))
    chunks = list(pipeline.make_eval_dataset(options, sk.DATASET_NAME, "val", stride=1, root=root))
    lengths = [len(_video(0, "val", i).frame_labels) for i in range(2)]
    assert len(chunks) == sum(math.ceil(n / 16) for n in lengths)
    assert sum(int(c["valid"].numpy().sum()) for c in chunks) == sum(lengths)


def test_alignment_trains_three_steps_on_the_embedded_keypoints(cache_dir, tmp_path):
    from tcc.training import loop

    result = loop.train(_small_config(cache_dir, str(tmp_path), **{"train.max_iters": 3}))
    assert result.final_step == 3
    assert all(math.isfinite(v) for v in result.last_losses.values())
