"""Records written the way the original TCC scripts wrote them are read unchanged, and a converted
folder of mp4 files with per-frame labels feeds the pipeline with the right labels."""

import os
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import tensorflow as tf
from conftest import SUBPROCESS_TIMEOUT, tiny_config

from tcc.datasets import pipeline, records


def _original_example(name: str, frames: np.ndarray, labels: np.ndarray | None) -> bytes:
    """A SequenceExample built field by field like the original `create_tfrecords` script."""
    jpegs = [tf.io.encode_jpeg(f).numpy() for f in frames]
    context = {
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[name.encode()])),
        "len": tf.train.Feature(int64_list=tf.train.Int64List(value=[len(frames)])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[-1])),
    }
    lists = {
        "video": tf.train.FeatureList(
            feature=[tf.train.Feature(bytes_list=tf.train.BytesList(value=[j])) for j in jpegs]
        )
    }
    if labels is not None:
        lists["frame_labels"] = tf.train.FeatureList(
            feature=[
                tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)])) for v in labels
            ]
        )
    return tf.train.SequenceExample(
        context=tf.train.Features(feature=context),
        feature_lists=tf.train.FeatureLists(feature_list=lists),
    ).SerializeToString()


def test_original_tcc_records_with_and_without_frame_labels_are_read(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (12, 16, 16, 3), dtype=np.uint8)
    labels = np.repeat([0, 1, 2], 4)
    for shard, (name, lab) in enumerate([("a", labels), ("b", None)]):
        path = tmp_path / f"pouring_train-{shard}-of-2.tfrecord"
        with tf.io.TFRecordWriter(str(path)) as writer:
            writer.write(_original_example(name, frames, lab))
    videos = {v["name"]: v for v in records.read_split(str(tmp_path), "pouring", "train")}
    assert set(videos) == {"a", "b"}
    np.testing.assert_array_equal(videos["a"]["frame_labels"], labels)
    np.testing.assert_array_equal(videos["b"]["frame_labels"], -np.ones(12))
    assert videos["a"]["frames"].shape == (12, 16, 16, 3)

    cfg = tiny_config(
        str(tmp_path), str(tmp_path / "run"), datasets="[pouring]", **{"data.image_size": 16}
    )
    batch = next(
        iter(
            pipeline.make_train_dataset(
                pipeline.InputOptions.from_config(cfg), seed=0, root=str(tmp_path)
            )
        )
    )
    assert batch["frames"].shape == (2, 12, 16, 16, 3)


def test_converted_mp4_folder_with_label_files_feeds_the_pipeline_with_the_right_labels(tmp_path):
    src = tmp_path / "my_action"
    for split in ("train", "val"):
        os.makedirs(src / split)
    os.makedirs(src / "labels")
    for i, split in enumerate(["train", "train", "val"]):
        length = 24 + 4 * i
        # Frame t has grey level 8 t, so the decoded pixels tell which frame was sampled.
        video = np.stack([np.full((32, 32, 3), 8 * t, np.uint8) for t in range(length)])
        imageio.mimwrite(str(src / split / f"clip{i}.mp4"), list(video), fps=10, macro_block_size=1)
        np.savetxt(src / "labels" / f"clip{i}.txt", (np.arange(length) * 4) // length, fmt="%d")
    out = tmp_path / "records"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tcc.datasets.convert",
            f"--input_dir={src}",
            f"--output_dir={out}",
            "--name=my_action",
            "--image_size=32",
        ],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    cfg = tiny_config(
        str(out),
        str(tmp_path / "run"),
        datasets="[my_action]",
        **{
            "augmentation.random_flip": False,
            "augmentation.brightness": False,
            "augmentation.contrast": False,
        },
    )
    lengths = {"clip0": 24, "clip1": 28}
    ds = pipeline.make_train_dataset(pipeline.InputOptions.from_config(cfg), seed=0, root=str(out))
    for batch in ds.take(3):
        for name, steps, labels, frames in zip(
            batch["names"].numpy(),
            batch["steps"].numpy(),
            batch["frame_labels"].numpy(),
            batch["frames"].numpy(),
            strict=True,
        ):
            length = lengths[name.decode()]
            np.testing.assert_array_equal(labels, (steps * 4) // length)
            # The last context frame of each timestep is the step itself: grey level 8 t.
            grey = (
                frames[cfg.data.num_steps - 1 :: cfg.data.num_steps].mean(axis=(1, 2, 3)) + 1
            ) * 127.5
            np.testing.assert_allclose(grey, 8 * steps, atol=6)
