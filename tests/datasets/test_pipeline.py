"""Tests of tcc.datasets.pipeline: training batches and evaluation chunks from tiny test records.

Frame i of every test video is a constant grey image of level 40 + 6 i, so the frame index that was
decoded can be read back from the pixels after JPEG; frame labels are i mod 4.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from tcc.config import get_default_config
from tcc.datasets import pipeline, records

GREY_LENGTHS = [5, 12, 30, 9]
PLAIN_LENGTHS = [8, 10, 6]
FEAT_LENGTHS = [4, 9, 15]
SIZE = 16


def _grey(i):
    return 40 + 6 * i


def _frame_index(frames: np.ndarray) -> np.ndarray:
    """Frame indices from frames [..., H, W, 3] in [-1, 1] (mean grey level)."""
    level = (frames.mean(axis=(-3, -2, -1)) + 1) / 2 * 255
    return np.round((level - 40) / 6).astype(int)


def _video(name, length, labelled=True, label=-1):
    frames = np.stack([np.full((SIZE, SIZE, 3), _grey(i), np.uint8) for i in range(length)])
    labels = np.arange(length) % 4 if labelled else None
    return records.VideoExample(name=name, frames=frames, frame_labels=labels, label=label)


def _features(length):
    i = np.arange(length, dtype=np.float32)
    return np.stack([i, 10 + i, -i], axis=1)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("records"))
    grey = [_video(f"grey{v}", n, label=v) for v, n in enumerate(GREY_LENGTHS)]
    records.write_split(grey, path, "grey", "train", num_shards=2)
    plain = [_video(f"plain{v}", n, labelled=False) for v, n in enumerate(PLAIN_LENGTHS)]
    records.write_split(plain, path, "plain", "train")
    feats = [
        records.VideoExample(name=f"feat{v}", features=_features(n), frame_labels=np.arange(n) % 3)
        for v, n in enumerate(FEAT_LENGTHS)
    ]
    records.write_split(feats, path, "feats", "train")
    narrow = [records.VideoExample(name="narrow0", features=_features(6)[:, :2])]
    records.write_split(narrow, path, "narrow", "train")
    return path


def _cfg(datasets=("grey",), augment=False, num_frames=6, **data):
    cfg = get_default_config()
    cfg.datasets = list(datasets)
    cfg.data.image_size = SIZE
    cfg.data.num_steps = 2
    cfg.data.frame_stride = 3
    cfg.data.frame_stride_fraction = 0.0  # 3 frames in every video (the tests' _context)
    cfg.data.shuffle_queue_size = 8
    cfg.data.num_parallel_calls = 2
    cfg.train.num_frames = num_frames
    cfg.train.batch_size = 2
    for key in ("random_flip", "brightness", "contrast", "hue", "saturation", "random_crop"):
        cfg.augmentation[key] = augment
    for key, value in data.items():
        cfg.data[key] = value
    return cfg


def _batches(ds, n):
    return [{k: v.numpy() for k, v in b.items()} for b in ds.take(n)]


def _context(steps, seq_len, num_steps=2, stride=3):
    offsets = (np.arange(num_steps) - (num_steps - 1)) * stride
    return np.clip(steps[:, None] + offsets, 0, seq_len - 1).reshape(-1)


def test_train_batch_has_the_contract_keys_shapes_and_dtypes(root):
    batch = next(
        iter(
            pipeline.make_train_dataset(
                pipeline.InputOptions.from_config(_cfg(augment=True)), root=root, seed=0
            )
        )
    )
    expected = {
        "frames": ((2, 12, SIZE, SIZE, 3), tf.float32),
        "steps": ((2, 6), tf.int32),
        "seq_lens": ((2,), tf.int32),
        "frame_labels": ((2, 6), tf.int32),
        "seq_labels": ((2,), tf.int32),
        "names": ((2,), tf.string),
    }
    assert set(batch) == set(expected)
    for key, (shape, dtype) in expected.items():
        assert tuple(batch[key].shape) == shape and batch[key].dtype == dtype, key
    frames = batch["frames"].numpy()
    assert frames.min() >= -1.0 and frames.max() <= 1.0


def test_train_frames_are_the_context_frames_of_the_sampled_steps(root):
    ds = pipeline.make_train_dataset(pipeline.InputOptions.from_config(_cfg()), root=root, seed=1)
    for batch in _batches(ds, 6):
        for b in range(2):
            seq_len = GREY_LENGTHS[int(batch["names"][b][4:])]
            assert batch["seq_lens"][b] == seq_len
            steps = batch["steps"][b]
            assert np.all(np.diff(steps) >= 0) and steps.min() >= 0 and steps.max() < seq_len
            expected = _context(steps, seq_len)
            np.testing.assert_array_equal(_frame_index(batch["frames"][b]), expected)


def _relative_stride(seq_len, fraction):
    return max(1, int(np.floor(fraction * seq_len + 0.5)))


def test_frame_stride_fraction_scales_the_context_with_each_video_s_length(root):
    # lengths 5, 12, 30, 9 at 0.25: strides 1, 3, 8, 2 (not data.frame_stride=3 for every video)
    cfg = _cfg(frame_stride_fraction=0.25)
    ds = pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=1)
    seen = set()
    for batch in _batches(ds, 8):
        for b in range(2):
            seq_len = int(batch["seq_lens"][b])
            stride = _relative_stride(seq_len, 0.25)
            expected = _context(batch["steps"][b], seq_len, stride=stride)
            np.testing.assert_array_equal(_frame_index(batch["frames"][b]), expected)
            seen.add(stride)
    assert {1, 8} <= seen  # the shortest and the longest video were drawn
    chunks = pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(cfg), "grey", "train", chunk_size=5, root=root
    )
    for c in (dict((k, v.numpy()) for k, v in c.items()) for c in chunks):
        seq_len = int(c["seq_lens"][0])
        stride = _relative_stride(seq_len, 0.25)
        np.testing.assert_array_equal(
            _frame_index(c["frames"][0]), _context(c["steps"][0], seq_len, stride=stride)
        )


def test_train_labels_follow_the_sampled_steps(root):
    for batch in _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(_cfg()), root=root, seed=2), 6
    ):
        np.testing.assert_array_equal(batch["frame_labels"], batch["steps"] % 4)
        video_ids = [int(n[4:]) for n in batch["names"]]
        np.testing.assert_array_equal(batch["seq_labels"], video_ids)


def test_unlabelled_records_give_minus_one_labels(root):
    batch = _batches(
        pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(_cfg(["plain"])), root=root, seed=0
        ),
        1,
    )[0]
    np.testing.assert_array_equal(batch["frame_labels"], -1)
    np.testing.assert_array_equal(batch["seq_labels"], -1)


def test_short_video_repeats_frames_without_failing(root):
    cfg = _cfg(num_frames=8)  # longer than the 5- and 6-frame videos
    seen = False
    for batch in _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=3), 10
    ):
        for b in np.flatnonzero(batch["names"] == b"grey0"):
            np.testing.assert_array_equal(np.unique(batch["steps"][b]), np.arange(5))
            seen = True
    assert seen


def test_stride_strategy_takes_every_stride_th_frame(root):
    cfg = _cfg(sampling_strategy="stride", stride=2, num_frames=4)
    for batch in _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=4), 4
    ):
        for steps, seq_len in zip(batch["steps"], batch["seq_lens"], strict=True):
            np.testing.assert_array_equal(
                steps, np.minimum(steps[0] + 2 * np.arange(4), seq_len - 1)
            )


def test_augmentation_is_one_brightness_shift_per_video(root):
    # Constant-grey frames: flip and contrast leave them unchanged, brightness shifts them.
    cfg = _cfg(augment=False)
    cfg.augmentation.brightness = True
    cfg.augmentation.contrast = True
    cfg.augmentation.random_flip = True
    shifts = []
    for batch in _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=5), 4
    ):
        for b in range(2):
            level = (batch["frames"][b].mean(axis=(1, 2, 3)) + 1) / 2 * 255
            seq_len = batch["seq_lens"][b]
            shift = level - _grey(_context(batch["steps"][b], seq_len))
            np.testing.assert_allclose(shift, shift[0], atol=1.5)
            assert abs(shift[0]) <= 32 + 1.5
            shifts.append(shift[0])
    assert np.std(shifts) > 2


def test_all_augmentations_keep_frames_in_model_range(root):
    ds = pipeline.make_train_dataset(
        pipeline.InputOptions.from_config(_cfg(augment=True)), root=root, seed=6
    )
    for batch in _batches(ds, 3):
        assert batch["frames"].min() >= -1.0 and batch["frames"].max() <= 1.0


def test_augment_false_turns_augmentation_off(root):
    ds = pipeline.make_train_dataset(
        pipeline.InputOptions.from_config(_cfg(augment=True)), root=root, seed=7, augment=False
    )
    batch = _batches(ds, 1)[0]
    seq_len = batch["seq_lens"][0]
    expected = _context(batch["steps"][0], seq_len)
    np.testing.assert_array_equal(_frame_index(batch["frames"][0]), expected)


def test_same_seed_gives_the_same_batches_and_another_seed_does_not(root):
    cfg = _cfg(augment=True)
    a = _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=8), 4
    )
    b = _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=8), 4
    )
    c = _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=9), 4
    )
    for x, y in zip(a, b, strict=True):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert any(not np.array_equal(x["frames"], z["frames"]) for x, z in zip(a, c, strict=True))


def test_each_batch_holds_videos_of_one_dataset_and_datasets_are_mixed(root):
    ds = pipeline.make_train_dataset(
        pipeline.InputOptions.from_config(_cfg(["grey", "plain"])), root=root, seed=10
    )
    sources = []
    for batch in _batches(ds, 16):
        prefixes = {n.decode().rstrip("0123456789") for n in batch["names"]}
        assert len(prefixes) == 1
        sources.append(prefixes.pop())
    assert set(sources) == {"grey", "plain"}


@pytest.mark.parametrize("dataset,count", [("grey", 4), ("plain", 3)])  # by file / by record
def test_input_pipelines_read_disjoint_videos_covering_the_split(root, dataset, count):
    names = []
    for pipeline_id in range(2):
        ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline_id)
        ds = pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(_cfg([dataset])),
            batch_size=1,
            input_context=ctx,
            seed=0,
            root=root,
        )
        names.append({n for b in _batches(ds, 12) for n in b["names"]})
    assert not names[0] & names[1]
    assert len(names[0] | names[1]) == count


def test_per_dataset_fraction_keeps_the_first_videos(root):
    cfg = _cfg(["plain"], per_dataset_fraction=0.0)
    names = {
        n
        for b in _batches(
            pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=0),
            3,
        )
        for n in b["names"]
    }
    assert names == {b"plain0"}


def test_records_without_the_configured_kind_are_rejected_naming_the_file(root):
    cfg = _cfg(["feats"])
    with pytest.raises(records.RecordError, match=r"feats.*input_kind='features'"):
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=0)


def test_unknown_input_kind_is_rejected(root):
    cfg = _cfg(input_kind="pixels")
    with pytest.raises(ValueError, match="input_kind='pixels'"):
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root)


def test_records_root_defaults_to_data_path(root):
    cfg = _cfg(path=root)
    batch = next(iter(pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=0)))
    assert batch["frames"].shape[:2] == (2, 12)
    chunks = pipeline.make_eval_dataset(pipeline.InputOptions.from_config(cfg), "grey", "train")
    assert len(list(chunks)) == len(GREY_LENGTHS)


def test_reading_without_a_records_root_fails_and_generates_no_data(tmp_path, monkeypatch):
    from tcc.datasets import synthetic

    monkeypatch.setenv("TCC_CACHE_DIR", str(tmp_path))
    generated = []
    monkeypatch.setattr(synthetic.writer, "write_dataset", lambda *a, **k: generated.append(a))
    options = pipeline.InputOptions.from_config(_cfg(["synthetic_pouring"], path=""))
    with pytest.raises(ValueError, match="no records root.*data_root.resolve"):
        pipeline.make_train_dataset(options, seed=0)
    with pytest.raises(ValueError, match="no records root"):
        pipeline.make_eval_dataset(options, "synthetic_pouring", "val")
    assert generated == [] and os.listdir(tmp_path) == []


def _eval_videos(ds):
    """Groups eval chunks by video: {name: list of chunk dicts (batch dim removed)}."""
    videos, order = {}, []
    for chunk in ds:
        chunk = {k: v.numpy()[0] for k, v in chunk.items()}
        name = chunk["names"].decode()
        if name not in videos:
            order.append(name)
        videos.setdefault(name, []).append(chunk)
    return videos, order


@pytest.mark.parametrize("stride", [1, 4])
def test_eval_covers_every_kth_frame_of_every_video_exactly_once(root, stride):
    ds = pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(_cfg()),
        "grey",
        "train",
        stride=stride,
        chunk_size=5,
        root=root,
    )
    videos, order = _eval_videos(ds)
    expected_order = [v["name"] for v in records.read_split(root, "grey", "train", decode=False)]
    assert order == expected_order
    for name, chunks in videos.items():
        seq_len = GREY_LENGTHS[int(name[4:])]
        assert [c["chunk_index"] for c in chunks] == list(range(len(chunks)))
        assert all(c["num_chunks"] == len(chunks) and c["seq_lens"] == seq_len for c in chunks)
        steps = np.concatenate([c["steps"][c["valid"]] for c in chunks])
        np.testing.assert_array_equal(steps, np.arange(0, seq_len, stride))
        assert all(c["valid"].all() for c in chunks[:-1])
        for c in chunks:
            np.testing.assert_array_equal(c["frame_labels"], c["steps"] % 4)
            np.testing.assert_array_equal(_frame_index(c["frames"]), _context(c["steps"], seq_len))


def test_eval_has_fixed_shapes_and_is_deterministic(root):
    cfg = _cfg(augment=True)
    ds = pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(cfg), "grey", "train", chunk_size=5, root=root
    )
    for key, spec in ds.element_spec.items():
        assert spec.shape.is_fully_defined(), key
    assert ds.element_spec["frames"].shape == (1, 10, SIZE, SIZE, 3)
    assert ds.element_spec["valid"].dtype == tf.bool
    first = [c["frames"].numpy() for c in ds]
    second = [c["frames"].numpy() for c in ds]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(first) == sum(-(-n // 5) for n in GREY_LENGTHS)


def test_feature_records_train_batches_hold_the_context_rows(root):
    cfg = _cfg(["feats"], input_kind="features")
    ds = pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=0)
    assert ds.element_spec["frames"].shape == (2, 12, 3)
    for batch in _batches(ds, 4):
        np.testing.assert_array_equal(batch["frame_labels"], batch["steps"] % 3)
        for b in range(2):
            seq_len = FEAT_LENGTHS[int(batch["names"][b][4:])]
            rows = _features(seq_len)[_context(batch["steps"][b], seq_len)]
            np.testing.assert_array_equal(batch["frames"][b], rows)


def test_mixing_datasets_of_different_feature_sizes_is_rejected(root):
    cfg = _cfg(["feats", "narrow"], input_kind="features")
    with pytest.raises(ValueError, match="one shape.*narrow"):
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=0)


def test_feature_records_eval_chunks_cover_every_frame(root):
    cfg = _cfg(["feats"], input_kind="features")
    ds = pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(cfg), "feats", "train", chunk_size=4, root=root
    )
    assert ds.element_spec["frames"].shape == (1, 8, 3)
    videos, _ = _eval_videos(ds)
    assert len(videos) == len(FEAT_LENGTHS)
    for name, chunks in videos.items():
        seq_len = FEAT_LENGTHS[int(name[4:])]
        steps = np.concatenate([c["steps"][c["valid"]] for c in chunks])
        np.testing.assert_array_equal(steps, np.arange(seq_len))
        for c in chunks:
            rows = _features(seq_len)[_context(c["steps"], seq_len)]
            np.testing.assert_array_equal(c["frames"], rows)


@pytest.mark.parametrize(
    "datasets,buffer,start",
    [
        (["grey"], 2, 3),  # a partial shuffle buffer; batch 3 starts inside epoch 1 (4 videos)
        (["plain"], 0, 5),  # a full shuffle; 5 batches = 3 epochs and one video
        (["grey", "plain"], 8, 4),  # two datasets mixed per batch
    ],
)
def test_a_stream_started_at_batch_n_continues_the_stream_exactly(root, datasets, buffer, start):
    cfg = _cfg(datasets, augment=True, shuffle_queue_size=buffer)
    straight = _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=11),
        start + 4,
    )
    resumed = _batches(
        pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(cfg), root=root, seed=11, start_batch=start
        ),
        4,
    )
    for x, y in zip(straight[start:], resumed, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)
    # Not the trivial stream: the first batches differ from the resumed ones.
    first = _batches(
        pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), root=root, seed=11), 4
    )
    assert any(
        not np.array_equal(a["frames"], b["frames"]) for a, b in zip(first, resumed, strict=True)
    )


def test_every_epoch_is_reshuffled_and_visits_every_video_once(root):
    cfg = _cfg(["grey"], shuffle_queue_size=0)
    options = pipeline.InputOptions.from_config(cfg)
    names = [n for b in _batches(pipeline.make_train_dataset(options, root=root, seed=3), 8)
             for n in b["names"]]  # fmt: skip
    epochs = [names[i : i + 4] for i in range(0, 16, 4)]
    assert all(sorted(e) == sorted(epochs[0]) == sorted(set(e)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_resuming_an_unseeded_stream_is_refused(root):
    with pytest.raises(ValueError, match="start_batch=2 needs a seed"):
        pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(_cfg()), root=root, start_batch=2
        )
