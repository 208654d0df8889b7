"""Reads a prepared TFDS dataset of `tcc.datasets.sources.tfds_builders` as parsed video dicts.

`tfds_examples` gives, per video, exactly what `tcc.datasets.records.parse_example` gives for
kind 'frames', so `tcc.datasets.pipeline` samples, decodes and augments TFDS videos as it does
records (`cfg.data.source = "tfds"`, docs/data.md). The JPEG frames are not decoded here
(`SkipDecoding`): the pipeline decodes only the frames it samples.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_datasets as tfds

from tcc.datasets.sources import tfds_builders  # noqa: F401  (registers `pouring` and `penn_action/*`)


def to_parsed(example: dict) -> dict[str, tf.Tensor]:
    """Maps one TFDS example (video not decoded) to the `records.parse_example` dict.

    Args:
      example: `name` string [], `len` int64 [], `label` int64 [], `frame_labels` int64 [T'],
        `video` string [T] (JPEG bytes).

    Returns:
      dict with `name` string [], `len` int32 [] (the number of stored frames T), `label` int32 [],
      `frame_labels` int32 [T] (all -1 when the example has none) and `video` string [T].
    """
    video = example["video"]
    num = tf.shape(video, out_type=tf.int32)[0]
    labels = tf.cast(example["frame_labels"], tf.int32)
    labels = tf.cond(tf.size(labels) > 0, lambda: labels, lambda: -tf.ones([num], tf.int32))
    tf.debugging.assert_equal(
        tf.size(labels), num, message="frame_labels count differs from the number of frames"
    )
    return {
        "name": example["name"],
        "len": num,
        "label": tf.cast(example["label"], tf.int32),
        "frame_labels": labels,
        "video": video,
    }


def tfds_examples(
    name: str,
    split: str,
    data_dir: str | None = None,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """The videos of one prepared TFDS split, in TFDS order, as `records.parse_example` dicts.

    Args:
      name: builder name, `pouring` or `penn_action/<class>`.
      split: TFDS split, e.g. 'train'.
      data_dir: TFDS data_dir; None = the TFDS default.
      input_context: shards by input pipeline: by file when the split has at least as many files
        as pipelines, else by example (as the records path does).

    Returns:
      A `tf.data.Dataset` of dicts (see `to_parsed`): name [], len [], label [], frame_labels [T],
      video [T] JPEG bytes.

    Raises:
      FileNotFoundError: if the dataset was not prepared in `data_dir`.
    """
    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared():
        raise FileNotFoundError(
            f"TFDS dataset {name!r} is not prepared in data_dir={builder.data_dir!r}; run "
            "tfds.builder(name, data_dir=...).download_and_prepare(download_config="
            "tfds.download.DownloadConfig(manual_dir=...)) first (docs/data.md), or set "
            f"data.tfds_data_dir. Received: name={name!r}, data_dir={data_dir!r}"
        )
    pipelines = input_context.num_input_pipelines if input_context else 1
    by_file = pipelines > 1 and builder.info.splits[split].num_shards >= pipelines
    ds = builder.as_dataset(
        split=split,
        decoders={"video": tfds.decode.SkipDecoding()},
        shuffle_files=False,
        read_config=tfds.ReadConfig(input_context=input_context if by_file else None),
    )
    if pipelines > 1 and not by_file:
        ds = ds.shard(pipelines, input_context.input_pipeline_id)
    return ds.map(to_parsed, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
