"""Tests for tcc.datasets.pose: interpolation, centring, flip with swap, motion, pipeline hook."""

import dataclasses
import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from tcc import config as config_lib
from tcc.datasets import pipeline, pose, records
from tcc.datasets.pose import PoseOptions

NAN = np.nan


def test_interpolate_missing_fills_gaps_linearly_and_holds_the_edges():
    track = np.array([NAN, 1.0, NAN, NAN, 7.0, NAN], np.float32)[:, None]
    out = pose.interpolate_missing(track, np.isfinite(track)).numpy()[:, 0]
    np.testing.assert_allclose(out, [1.0, 1.0, 3.0, 5.0, 7.0, 7.0])


def test_interpolate_missing_leaves_a_track_without_values_missing():
    values = np.array([[1.0, NAN], [NAN, NAN], [3.0, NAN]], np.float32)
    out = pose.interpolate_missing(values, np.isfinite(values)).numpy()
    np.testing.assert_allclose(out[:, 0], [1.0, 2.0, 3.0])
    assert np.isnan(out[:, 1]).all()


def test_interpolate_missing_matches_numpy_interp_on_random_tracks():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 3, 2)).astype(np.float32)
    present = rng.random((40, 3, 2)) < 0.6
    present[0, 0, 0] = present[-1, 0, 0] = False  # edges are held
    out = pose.interpolate_missing(np.where(present, values, NAN), present).numpy()
    t = np.arange(40)
    for j in range(3):
        for c in range(2):
            keep = present[:, j, c]
            expected = np.interp(t, t[keep], values[keep, j, c])
            np.testing.assert_allclose(out[:, j, c], expected, rtol=1e-5, atol=1e-5)


def test_interpolate_missing_keeps_present_values_exactly():
    values = np.array([[0.1], [NAN], [0.3]], np.float32)
    out = pose.interpolate_missing(values, np.isfinite(values)).numpy()
    assert out[0, 0] == np.float32(0.1) and out[2, 0] == np.float32(0.3)


def test_center_and_scale_matches_an_independent_numpy_computation():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(5, 4, 2)).astype(np.float32) * 30 + 100
    coords[2, 1] = NAN
    expected = np.empty_like(coords)
    dists = []
    for t in range(5):
        ok = np.isfinite(coords[t]).all(axis=1)
        centre = coords[t][ok].mean(axis=0)
        expected[t] = coords[t] - centre
        dists.extend(np.sum(expected[t][ok] ** 2, axis=1))
    expected /= np.sqrt(np.mean(dists))
    out = pose.center_and_scale(coords).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert np.isnan(out[2, 1]).all()


def test_center_and_scale_is_invariant_to_translation_and_size():
    coords = np.random.default_rng(2).normal(size=(6, 5, 2)).astype(np.float32)
    moved = coords * 7.5 + np.array([300.0, -40.0], np.float32)
    np.testing.assert_allclose(
        pose.center_and_scale(moved).numpy(), pose.center_and_scale(coords).numpy(), atol=1e-4
    )


def test_flip_mirrors_x_about_the_mean_and_swaps_left_and_right_joints():
    # joints: 0 head, 1 left hand, 2 right hand; mean x over the video = (1 + 0 + 5) / 3 = 2
    coords = np.array([[[1.0, 9.0], [0.0, 5.0], [5.0, 6.0]]], np.float32)
    out = pose.flip_horizontal(coords, [(1, 2)]).numpy()
    # mirrored: head x 3, left hand x 4, right hand x -1; then the hands swap places
    np.testing.assert_allclose(out, [[[3.0, 9.0], [-1.0, 6.0], [4.0, 5.0]]])


def test_flip_twice_is_the_identity():
    coords = np.random.default_rng(3).normal(size=(4, 6, 3)).astype(np.float32)
    pairs = [(0, 3), (1, 4)]
    twice = pose.flip_horizontal(pose.flip_horizontal(coords, pairs), pairs).numpy()
    np.testing.assert_allclose(twice, coords, atol=1e-5)


def test_motion_is_the_difference_to_the_frame_stride_earlier():
    values = np.array([0.0, 1.0, 3.0, 6.0, 10.0], np.float32)[:, None]
    out = pose.motion_features(values, 2).numpy()[:, 0]
    np.testing.assert_allclose(out, [0.0, 1.0, 3.0, 5.0, 7.0])


def test_split_joints_marks_nan_and_invisible_joints_missing():
    options = PoseOptions(num_joints=3, visibility=True)
    frame = [1.0, 2.0, 1.0, 3.0, 4.0, 0.0, NAN, 5.0, 1.0]  # joint 1 invisible, joint 2 NaN x
    coords, present = pose.split_joints(np.array([frame], np.float32), options)
    np.testing.assert_array_equal(present.numpy(), [[True, False, False]])
    np.testing.assert_allclose(coords.numpy()[0, 0], [1.0, 2.0])
    assert np.isnan(coords.numpy()[0, 1:]).all()


def test_transform_fills_an_invisible_joint_from_its_neighbouring_frames():
    options = PoseOptions(num_joints=2, visibility=True, center_and_scale=False)
    features = np.array(
        [[0, 0, 1, 10, 0, 1], [0, 0, 1, 99, 99, 0], [0, 0, 1, 20, 4, 1]], np.float32
    )
    out = pose.transform(features, options).numpy()
    np.testing.assert_allclose(out[:, 2:], [[10, 0], [15, 2], [20, 4]])
    assert out.shape == (3, 4)  # visibility is not part of the output


def test_transform_fills_joints_missing_in_every_frame_with_zeros():
    options = PoseOptions(num_joints=2, center_and_scale=False)
    features = np.array([[1, 2, NAN, NAN], [3, 4, NAN, NAN]], np.float32)
    out = pose.transform(features, options).numpy()
    np.testing.assert_allclose(out, [[1, 2, 0, 0], [3, 4, 0, 0]])


def test_transform_appends_motion_and_reports_its_width():
    options = PoseOptions(
        num_joints=3, num_channels=2, visibility=True, motion=True, motion_stride=1
    )
    features = np.random.default_rng(4).uniform(1, 2, size=(7, 9)).astype(np.float32)
    out = pose.transform(features, options).numpy()
    assert out.shape == (7, options.output_dim(9)) == (7, 12)
    np.testing.assert_allclose(out[1:, 6:], out[1:, :6] - out[:-1, :6], atol=1e-5)
    np.testing.assert_allclose(out[0, 6:], 0.0)


def test_transform_flips_only_in_training_and_as_often_as_configured():
    options = PoseOptions(
        num_joints=2, center_and_scale=False, flip_pairs=((0, 1),), flip_probability=1.0
    )
    features = np.array([[0.0, 1.0, 4.0, 2.0]], np.float32)
    flipped = pose.transform(features, options, training=True, seed=[1, 2]).numpy()
    np.testing.assert_allclose(flipped, [[0.0, 2.0, 4.0, 1.0]])
    same = pose.transform(features, options, training=False, seed=[1, 2]).numpy()
    np.testing.assert_allclose(same, features)
    half = dataclasses.replace(options, flip_probability=0.5)
    flips = [
        pose.transform(features, half, training=True, seed=[7, s]).numpy()[0, 1] == 2.0
        for s in range(60)
    ]
    assert 15 <= sum(flips) <= 45


def test_transform_of_plain_features_interpolates_nan_columns_only():
    options = PoseOptions(num_joints=0)
    features = np.array([[1.0, 5.0], [NAN, 6.0], [3.0, 7.0]], np.float32)
    np.testing.assert_allclose(pose.transform(features, options).numpy(), [[1, 5], [2, 6], [3, 7]])


def test_transform_rejects_features_that_do_not_match_the_pose_options():
    with pytest.raises(ValueError, match=r"pose.num_joints=13.*Received: num_features=26"):
        pose.transform(np.zeros((4, 26), np.float32), PoseOptions(num_joints=13, visibility=True))


def test_transform_in_tf_data_matches_eager():
    options = PoseOptions(
        num_joints=3,
        visibility=True,
        motion=True,
        motion_stride=2,
        flip_pairs=((1, 2),),
        flip_probability=0.5,
    )
    rng = np.random.default_rng(5)
    features = rng.uniform(0, 100, size=(9, 9)).astype(np.float32)
    features[3, 0] = NAN
    seed = tf.constant([3, 4], tf.int64)
    eager = pose.transform(features, options, training=True, seed=seed).numpy()
    ds = tf.data.Dataset.from_tensors(features).map(
        lambda f: pose.transform(tf.ensure_shape(f, [None, 9]), options, True, seed)
    )
    np.testing.assert_allclose(next(iter(ds)).numpy(), eager, rtol=1e-5, atol=1e-5)


def test_pose_options_from_config_takes_data_frame_stride_when_motion_stride_is_zero():
    cfg = config_lib.get_default_config()
    cfg.pose.num_joints, cfg.pose.flip_pairs = 3, [[1, 2]]
    options = PoseOptions.from_config(cfg.pose, frame_stride=15)
    assert options.motion_stride == 15 and options.flip_pairs == ((1, 2),)
    cfg.pose.motion_stride = 3
    assert PoseOptions.from_config(cfg.pose, frame_stride=15).motion_stride == 3


def test_pose_options_reject_a_flip_pair_outside_the_joints():
    with pytest.raises(ValueError, match="flip_pairs"):
        PoseOptions(num_joints=3, flip_pairs=((1, 3),))


def _pose_cfg(root: str) -> ml_collections.ConfigDict:
    cfg = config_lib.get_default_config()
    cfg.data.path, cfg.datasets = root, ["poses"]
    cfg.data.input_kind = "features"
    cfg.data.num_parallel_calls = 1
    cfg.data.num_steps, cfg.data.frame_stride = 2, 2
    cfg.train.batch_size, cfg.train.num_frames = 2, 4
    cfg.eval.num_frames = 5
    cfg.pose.num_joints, cfg.pose.visibility, cfg.pose.motion = 2, True, True
    return cfg


def test_pipeline_batches_hold_the_transformed_sequence_at_the_context_frames(tmp_path):
    rng = np.random.default_rng(6)
    videos = []
    for i in range(2):
        feats = rng.uniform(0, 50, size=(8, 6)).astype(np.float32)
        feats[2, 5] = 0.0  # joint 1 invisible in frame 2
        feats[5, 0] = NAN  # joint 0 lost in frame 5
        videos.append(records.VideoExample(f"v{i}", features=feats))
    records.write_split(videos, str(tmp_path), "poses", "val")
    cfg = _pose_cfg(str(tmp_path))
    options = PoseOptions.from_config(cfg.pose, cfg.data.frame_stride)
    chunks = list(
        pipeline.make_eval_dataset(pipeline.InputOptions.from_config(cfg), "poses", "val")
    )
    assert chunks[0]["frames"].shape[-1] == 8  # 2 joints x 2 coords, plus motion
    for chunk in chunks:
        video = videos[int(chunk["names"][0].numpy().decode()[1])]
        expected = pose.transform(video.features, options).numpy()
        steps = chunk["steps"][0].numpy()
        context = np.stack([np.maximum(steps - 2, 0), steps], axis=1).reshape(-1)
        np.testing.assert_allclose(chunk["frames"][0].numpy(), expected[context], atol=1e-5)


def test_facing_sign_is_the_sign_of_the_mean_front_minus_back_offset():
    # joints: 0 knee, 1 hip; the knee is ahead of the hip (larger x) in two of three frames
    coords = np.array([[[5.0, 0.0], [1.0, 0.0]], [[3.0, 0.0], [4.0, 0.0]], [[NAN, NAN], [0, 0]]])
    assert pose.facing_sign(coords, [(0, 1)]).numpy() == 1.0
    assert pose.facing_sign(coords, [(1, 0)]).numpy() == -1.0
    assert pose.facing_sign(coords[2:], [(0, 1)]).numpy() == 0.0  # the knee is never seen
    assert pose.facing_sign(coords, []).numpy() == 0.0


def test_canonical_facing_mirrors_only_videos_facing_left():
    coords = np.random.default_rng(7).normal(size=(6, 4, 2)).astype(np.float32)
    coords[:, 0, 0] = coords[:, 1, 0] + 1.0  # joint 0 ahead of joint 1: facing right
    pairs, flip = [(0, 1)], [(2, 3)]
    np.testing.assert_allclose(pose.canonical_facing(coords, pairs, flip).numpy(), coords)
    mirrored = pose.flip_horizontal(coords, flip).numpy()
    np.testing.assert_allclose(
        pose.canonical_facing(mirrored, pairs, flip).numpy(), coords, atol=1e-5
    )


@pytest.mark.parametrize("offset, expected_sign", [(2.0, 0.0), (3.0, -1.0)])
def test_facing_min_offset_leaves_videos_without_a_clear_facing_as_they_are(offset, expected_sign):
    # joints 2 and 3 span the video's box: extent = |(30, 40)| = 50, so 0.05 of it is 2.5.
    coords = np.zeros((5, 4, 2), np.float32)
    coords[:, 3] = (30.0, 40.0)
    coords[:, 1] = (15.0, 20.0)  # hip
    coords[:, 0] = (15.0 - offset, 25.0)  # knee `offset` left of the hip: facing left
    extent = np.linalg.norm(coords.reshape(-1, 2).max(0) - coords.reshape(-1, 2).min(0))
    assert extent == 50.0 and (offset >= 0.05 * extent) == (expected_sign != 0)
    assert pose.facing_sign(coords, [(0, 1)], min_offset=0.05).numpy() == expected_sign
    assert pose.facing_sign(coords, [(0, 1)]).numpy() == -1.0  # without a threshold: always
    out = pose.canonical_facing(coords, [(0, 1)], [(2, 3)], min_offset=0.05).numpy()
    if expected_sign == 0:
        np.testing.assert_array_equal(out, coords)
    else:
        np.testing.assert_allclose(out, pose.flip_horizontal(coords, [(2, 3)]).numpy())


def _side_view_squat(length: int = 30) -> np.ndarray:
    """Penn Action joints [L, 13 * 3] (x, y, visibility in pixels) of a squat seen from the side,
    the person facing right (knees ahead of the hips), one joint invisible in a few frames."""
    rng = np.random.default_rng(8)
    depth = 0.5 - 0.5 * np.cos(np.linspace(0, 2 * np.pi, length))  # 0 standing .. 1 bottom
    joints = np.zeros((length, 13, 3), np.float32)
    base = {  # joint: (x, y standing, y drop at the bottom, x shift at the bottom)
        0: (300, 100, 80, 10), 1: (300, 140, 80, 5), 2: (302, 140, 80, 5), 3: (310, 190, 80, 20),
        4: (312, 190, 80, 20), 5: (320, 230, 80, 40), 6: (322, 230, 80, 40), 7: (295, 250, 90, -30),
        8: (297, 250, 90, -30), 9: (305, 320, 40, 40), 10: (307, 320, 40, 40), 11: (298, 390, 0, 0),
        12: (300, 390, 0, 0),
    }  # fmt: skip
    for j, (x, y, drop, shift) in base.items():
        joints[:, j, 0] = x + shift * depth + rng.normal(0, 1, length)
        joints[:, j, 1] = y + drop * depth + rng.normal(0, 1, length)
        joints[:, j, 2] = 1.0
    joints[10:13, 6, 2] = 0.0  # the far wrist is hidden for three frames
    return joints.reshape(length, -1)


def _mirror_penn_action(features: np.ndarray, width: float = 640.0) -> np.ndarray:
    """The stored joints of the horizontally mirrored video: x -> width - x, left <-> right."""
    joints = features.reshape(len(features), 13, 3).copy()
    joints[..., 0] = width - joints[..., 0]
    perm = list(range(13))
    for left, right in pose.PENN_ACTION_FLIP_PAIRS:
        perm[left], perm[right] = right, left
    return joints[:, perm].reshape(len(features), -1)


@pytest.mark.parametrize("training", [False, True])
def test_penn_action_joints_preset_gives_a_mirrored_video_the_same_inputs(training):
    # Penn Action's side views face either way. If the preset's preprocessing told a video from
    # its mirror image apart, TCC could align people facing left *backwards* with those facing
    # right (it did: val tau 0.94 within a facing, -0.93 across, push-ups; docs/poses.md).
    preset = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "penn_action_joints.py")
    cfg = config_lib.load_config_file(preset)
    options = PoseOptions.from_config(cfg.pose, cfg.data.frame_stride)
    video = _side_view_squat()
    seeds = [[s, 1] for s in range(4)] if training else [None]
    for seed in seeds:
        original = pose.transform(video, options, training, seed).numpy()
        mirrored = pose.transform(_mirror_penn_action(video), options, training, seed).numpy()
        np.testing.assert_allclose(mirrored, original, atol=1e-4)


def test_pose_options_read_facing_pairs_and_reject_one_outside_the_joints():
    cfg = config_lib.get_default_config()
    cfg.pose.num_joints, cfg.pose.facing_pairs = 3, [[2, 0]]
    assert PoseOptions.from_config(cfg.pose).facing_pairs == ((2, 0),)
    with pytest.raises(ValueError, match="facing_pairs"):
        PoseOptions(num_joints=3, facing_pairs=((0, 3),))
