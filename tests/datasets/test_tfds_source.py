"""Tests of reading TFDS datasets in tcc.datasets.pipeline (data.source='tfds').

A tiny `pouring` TFDS dataset is prepared offline from records of this package in a fake manual
folder. Frame i of every video is a constant grey image of level 40 + 6 i (so the decoded frame
index is read back from the pixels) and its phase label is i mod 4.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tcc.config import get_default_config
from tcc.datasets import pipeline, records
from tcc.datasets.sources import tfds_source

LENGTHS = {"v0": 5, "v1": 12, "v2": 9}
SIZE = 16


def _video(name, length):
    frames = np.stack([np.full((SIZE, SIZE, 3), 40 + 6 * i, np.uint8) for i in range(length)])
    return records.VideoExample(name=name, frames=frames, frame_labels=np.arange(length) % 4)


def _frame_index(frames):
    level = (frames.mean(axis=(-3, -2, -1)) + 1) / 2 * 255
    return np.round((level - 40) / 6).astype(int)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tfds_source")
    videos = [_video(name, n) for name, n in LENGTHS.items()]
    records.write_split(videos, str(tmp / "manual"), "pouring", "train")
    config = tfds.download.DownloadConfig(manual_dir=str(tmp / "manual"))
    builder = tfds.builder("pouring", data_dir=str(tmp / "tfds"))
    builder.download_and_prepare(download_config=config)
    return str(tmp / "tfds")


def _cfg(data_dir, **data):
    cfg = get_default_config()
    cfg.datasets = ["pouring"]
    cfg.data.source = "tfds"
    cfg.data.tfds_data_dir = data_dir
    cfg.data.path = "/nonexistent/records"  # must not be read with source='tfds'
    cfg.data.image_size = SIZE
    cfg.data.num_steps = 2
    cfg.data.frame_stride = 3
    cfg.data.shuffle_queue_size = 8
    cfg.data.num_parallel_calls = 2
    cfg.train.num_frames = 4
    cfg.train.batch_size = 2
    cfg.eval.num_frames = 4
    for key in ("random_flip", "brightness", "contrast", "hue", "saturation", "random_crop"):
        cfg.augmentation[key] = False
    for key, value in data.items():
        cfg.data[key] = value
    return cfg


def test_tfds_examples_match_the_records_parse_dict(data_dir):
    examples = {
        e["name"].decode(): e
        for e in tfds.as_numpy(tfds_source.tfds_examples("pouring", "train", data_dir))
    }
    assert set(examples) == set(LENGTHS)
    ex = examples["v1"]
    assert ex["len"] == 12 and ex["len"].dtype == np.int32 and ex["label"] == -1
    assert ex["frame_labels"].dtype == np.int32
    np.testing.assert_array_equal(ex["frame_labels"], np.arange(12) % 4)
    assert ex["video"].shape == (12,) and ex["video"][0][:2] == b"\xff\xd8"  # JPEG bytes


def test_train_batches_have_the_documented_shapes_and_labels_follow_steps(data_dir):
    cfg = _cfg(data_dir)
    batches = [
        {k: v.numpy() for k, v in b.items()}
        for b in pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=3).take(4)
    ]
    for b in batches:
        assert b["frames"].shape == (2, 8, SIZE, SIZE, 3) and b["frames"].dtype == np.float32
        assert b["steps"].shape == (2, 4) and b["frame_labels"].shape == (2, 4)
        lengths = [LENGTHS[n.decode()] for n in b["names"]]
        np.testing.assert_array_equal(b["seq_lens"], lengths)
        assert np.all(b["steps"] < np.array(lengths)[:, None]) and np.all(b["steps"] >= 0)
        np.testing.assert_array_equal(b["frame_labels"], b["steps"] % 4)
        decoded = _frame_index(b["frames"]).reshape(2, 4, 2)[:, :, 1]  # the step's own frame
        np.testing.assert_array_equal(decoded, b["steps"])
        np.testing.assert_array_equal(b["seq_labels"], [-1, -1])


def test_eval_chunks_cover_every_frame_of_every_video_once(data_dir):
    cfg = _cfg(data_dir)
    seen: dict[str, list[int]] = {}
    for b in pipeline.make_eval_dataset(
        pipeline.InputOptions.from_config(cfg), "pouring", "train", stride=1, chunk_size=4
    ):
        b = {k: v.numpy()[0] for k, v in b.items()}
        steps = b["steps"][b["valid"]]
        seen.setdefault(b["names"].decode(), []).extend(steps.tolist())
        np.testing.assert_array_equal(b["frame_labels"], b["steps"] % 4)
        np.testing.assert_array_equal(_frame_index(b["frames"]).reshape(4, 2)[:, 1], b["steps"])
    assert {name: sorted(s) for name, s in seen.items()} == {
        name: list(range(n)) for name, n in LENGTHS.items()
    }


def test_input_pipelines_read_disjoint_shards_covering_every_video(data_dir):
    cfg = _cfg(data_dir)
    names = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(2, pipeline_id, 1)
        ds = pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(cfg), batch_size=1, input_context=context, seed=0
        )
        names.append({b["names"].numpy()[0].decode() for b in ds.take(8)})
    assert names[0].isdisjoint(names[1]) and names[0] | names[1] == set(LENGTHS)


def test_tfds_source_rejects_features_and_unknown_sources(data_dir):
    with pytest.raises(ValueError, match="input_kind='frames'"):
        pipeline.make_train_dataset(
            pipeline.InputOptions.from_config(_cfg(data_dir, input_kind="features"))
        )
    with pytest.raises(ValueError, match="data.source must be one of"):
        pipeline.make_eval_dataset(
            pipeline.InputOptions.from_config(_cfg(data_dir, source="hdf5")), "pouring", "train"
        )


def test_unprepared_tfds_dataset_names_the_data_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="not prepared"):
        pipeline.make_eval_dataset(
            pipeline.InputOptions.from_config(_cfg(str(tmp_path))), "pouring", "train"
        )
