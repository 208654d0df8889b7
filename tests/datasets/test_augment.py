"""Tests of tcc.datasets.augment: per-video augmentation, JPEG decoding of needed frames, range."""

import numpy as np
import pytest
import tensorflow as tf

from tcc.config import get_default_config
from tcc.datasets import augment

ONLY = {
    name: False
    for name in ("random_flip", "brightness", "contrast", "hue", "saturation", "random_crop")
}
ALL_ON = augment.AugmentOptions(**{k: True for k in ONLY})


def _only(name: str, **kw) -> augment.AugmentOptions:
    return augment.AugmentOptions(**{**ONLY, name: True, **kw})


def _video(n: int = 5, size: int = 12, seed: int = 0) -> tf.Tensor:
    """Frames in [0.2, 0.8] (so brightness +-32/255 never clips) that differ from each other."""
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(0.2, 0.8, (n, size, size, 3)), tf.float32)


def _seed(i: int) -> tf.Tensor:
    return tf.constant([i, 3], tf.int64)


def test_options_from_default_config_match_the_config_values():
    cfg = get_default_config()
    opts = augment.AugmentOptions.from_config(cfg.augmentation)
    assert opts.random_flip == cfg.augmentation.random_flip
    assert opts.contrast_lower == cfg.augmentation.contrast_lower
    assert opts.crop_min_fraction == cfg.augmentation.crop_min_fraction


@pytest.mark.parametrize("options", [ALL_ON, augment.AugmentOptions()], ids=["all", "default"])
def test_each_frame_gets_the_same_parameters_as_the_whole_video(options):
    video = _video()
    whole = augment.augment_frames(video, _seed(1), options).numpy()
    for i in range(video.shape[0]):
        alone = augment.augment_frames(video[i : i + 1], _seed(1), options).numpy()
        np.testing.assert_allclose(whole[i : i + 1], alone, atol=1e-6)


def test_same_seed_gives_same_output_and_other_seeds_differ():
    video = _video()
    a = augment.augment_frames(video, _seed(4), ALL_ON).numpy()
    b = augment.augment_frames(video, _seed(4), ALL_ON).numpy()
    np.testing.assert_array_equal(a, b)
    others = [augment.augment_frames(video, _seed(i), ALL_ON).numpy() for i in range(5, 9)]
    assert all(np.abs(o - a).max() > 1e-3 for o in others)


def test_flip_reverses_width_of_all_frames_or_none_about_half_the_time():
    video = _video()
    flips = 0
    for i in range(40):
        out = augment.augment_frames(video, _seed(i), _only("random_flip")).numpy()
        flipped = np.allclose(out, video.numpy()[:, :, ::-1])
        assert flipped or np.allclose(out, video.numpy())
        flips += flipped
    assert 8 <= flips <= 32


def test_brightness_adds_one_delta_within_range_to_every_pixel():
    video = _video()
    deltas = []
    for i in range(10):
        out = augment.augment_frames(video, _seed(i), _only("brightness")).numpy()
        diff = out - video.numpy()
        np.testing.assert_allclose(diff, diff.flat[0], atol=1e-6)
        assert abs(diff.flat[0]) <= 32 / 255 + 1e-6
        deltas.append(diff.flat[0])
    assert np.std(deltas) > 0.01


def test_contrast_scales_each_frame_around_its_channel_means_with_one_factor():
    video = _video().numpy()
    out = augment.augment_frames(tf.constant(video), _seed(2), _only("contrast")).numpy()
    mean = video.mean(axis=(1, 2), keepdims=True)
    factors = (out - mean) / (video - mean)
    unclipped = (out > 0) & (out < 1) & (np.abs(video - mean) > 0.05)
    factor = np.median(factors[unclipped])
    assert 0.5 <= factor <= 1.5
    expected = np.clip((video - mean) * factor + mean, 0, 1)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_random_crop_uses_one_box_per_video_and_keeps_the_size():
    # The value encodes the column, so the crop's horizontal extent can be read off the output.
    cols = np.tile(np.linspace(0, 1, 20, dtype=np.float32)[None, None, :, None], (3, 20, 1, 3))
    spans = []
    for i in range(10):
        out = augment.augment_frames(tf.constant(cols), _seed(i), _only("random_crop")).numpy()
        assert out.shape == cols.shape
        np.testing.assert_allclose(out, np.broadcast_to(out[:1], out.shape), atol=1e-6)
        spans.append(out[0, 0, -1, 0] - out[0, 0, 0, 0])
    # A box of side >= 0.8 * 20 = 16 columns spans at least 15 / 19 of the value range.
    assert min(spans) >= 15 / 19 - 0.05 and max(spans) <= 1.0 + 1e-6
    assert min(spans) < 0.95


def test_crop_min_fraction_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="crop_min_fraction=0"):
        augment.random_square_crop(_video(), _seed(0), 0.0)


def test_every_augmentation_keeps_values_in_unit_range():
    video = tf.constant(np.random.default_rng(1).uniform(0, 1, (4, 10, 10, 3)), tf.float32)
    for i in range(5):
        out = augment.augment_frames(video, _seed(i), ALL_ON).numpy()
        assert out.shape == video.shape and np.isfinite(out).all()
        assert out.min() >= 0.0 and out.max() <= 1.0


def test_to_model_range_maps_unit_interval_to_minus_one_one_and_clips():
    x = tf.constant([-0.5, 0.0, 0.25, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(augment.to_model_range(x).numpy(), [-1, -1, -0.5, 0, 1, 1])


def test_augment_inside_tf_data_matches_eager():
    video = _video()
    ds = tf.data.Dataset.from_tensors(video).map(
        lambda v: augment.augment_frames(v, _seed(3), ALL_ON)
    )
    np.testing.assert_allclose(
        ds.get_single_element().numpy(),
        augment.augment_frames(video, _seed(3), ALL_ON).numpy(),
        atol=1e-6,
    )


def _jpegs(levels, size=8):
    return tf.stack(
        [tf.io.encode_jpeg(np.full((size, size, 3), v, np.uint8), quality=95) for v in levels]
    )


def test_decode_frames_decodes_the_wanted_frames_in_order():
    levels = [10, 60, 110, 160, 210]
    images, positions = augment.decode_frames(_jpegs(levels), tf.constant([3, 0, 3, 4, 0]), 8)
    assert images.shape[0] == 3  # only the distinct frames are decoded
    got = tf.gather(images, positions).numpy().mean(axis=(1, 2, 3)) * 255
    np.testing.assert_allclose(got, [160, 10, 160, 210, 10], atol=2)


def test_decode_frames_resizes_to_the_requested_size():
    images, _ = augment.decode_frames(_jpegs([100, 200], size=10), tf.constant([1]), 6)
    assert images.shape == (1, 6, 6, 3)
    np.testing.assert_allclose(images.numpy(), 200 / 255, atol=2 / 255)
