"""Tests for tcc.apps.skeleton: stick figures of keypoint sequences as uint8 frames."""

import ml_collections
import numpy as np
import pytest

from tcc.apps import skeleton

NAN = np.nan
BACKGROUND = np.array(skeleton.BACKGROUND)


def test_keypoints_from_features_reads_joint_major_values_and_hides_invisible_joints():
    features = np.array([[1, 2, 1, 3, 4, 0, 5, 6, 0.5]], np.float32)  # (x, y, v) x 3 joints
    points = skeleton.keypoints_from_features(features, num_joints=3, visibility=True)
    np.testing.assert_array_equal(points[0, [0, 2]], [[1, 2], [5, 6]])
    assert np.isnan(points[0, 1]).all()


def test_keypoints_from_features_rejects_a_width_that_does_not_match():
    with pytest.raises(ValueError, match=r"3 joints x 2 values .* \(2, 7\)"):
        skeleton.keypoints_from_features(np.zeros((2, 7)), num_joints=3)


def test_render_places_joints_by_one_view_and_colours_left_and_right():
    # two joints 10 apart on a line: extent 10 -> 64 * 0.8 px, centred in the 64 px frame
    keypoints = np.array([[[0.0, 0.0], [10.0, 0.0]]], np.float32)
    frames = skeleton.render_skeletons(
        keypoints, bones=[(0, 1)], flip_pairs=[(0, 1)], size=64, margin=0.1
    )
    assert frames.shape == (1, 64, 64, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[0, 32, 6], skeleton._LEFT)  # x = 32 - 25.6
    np.testing.assert_array_equal(frames[0, 32, 57], skeleton._RIGHT)  # x = 32 + 25.6
    np.testing.assert_array_equal(frames[0, 32, 32], skeleton._CENTRE)  # bone between them
    np.testing.assert_array_equal(frames[0, 5, 5], BACKGROUND)


def test_render_skips_missing_joints_and_their_bones():
    keypoints = np.array([[[0.0, 0.0], [10.0, 0.0]], [[0.0, 0.0], [NAN, NAN]]], np.float32)
    frames = skeleton.render_skeletons(keypoints, bones=[(0, 1)], size=64, margin=0.1)
    assert (frames[1, 32, 20:60] == BACKGROUND).all()  # no bone, no right joint
    assert not (frames[1, 32, 6] == BACKGROUND).all()  # joint 0 is still drawn


def test_render_with_y_up_puts_higher_joints_nearer_the_top():
    keypoints = np.array([[[0.0, 0.0], [0.0, 10.0]]], np.float32)
    down = skeleton.render_skeletons(keypoints, size=64, margin=0.1)[0]
    up = skeleton.render_skeletons(keypoints, size=64, margin=0.1, y_up=True)[0]
    np.testing.assert_array_equal(down[57, 32], skeleton._CENTRE)  # y = 10 drawn low
    np.testing.assert_array_equal(up[6, 32], skeleton._CENTRE)  # y = 10 drawn high


def test_render_features_draws_pose_records_and_skips_plain_features():
    pose_cfg = ml_collections.ConfigDict(
        {"num_joints": 2, "num_channels": 2, "visibility": False, "flip_pairs": []}
    )
    features = np.random.default_rng(0).uniform(0, 9, (3, 4)).astype(np.float32)
    assert skeleton.render_features(features, pose_cfg, size=32).shape == (3, 32, 32, 3)
    pose_cfg.num_joints = 0
    assert skeleton.render_features(features, pose_cfg) is None
