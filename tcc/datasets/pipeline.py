"""tf.data input pipelines: training batches and deterministic evaluation chunks.

Training (`make_train_dataset`) yields, forever, the batch dict of DESIGN.md §Batches:

  frames        float32 [B, T * num_steps, H, W, 3] in [-1, 1]   (input_kind 'frames')
                float32 [B, T * num_steps, F]                     (input_kind 'features'; same key,
                                                                   so models read one key)
  steps         int32   [B, T]   frame indices of the sampled timesteps
  seq_lens      int32   [B]      number of frames of each video
  frame_labels  int32   [B, T]   phase id at each step, -1 when the video is unlabelled
  seq_labels    int32   [B]      video-level class, -1 when none
  names         string  [B]

The context frames of timestep t are laid out timestep-major (`[t0 - s, t0, t1 - s, t1, ...]`), so
`frames` reshapes to [B, T, num_steps, ...]. Sampling rules are in `tcc.datasets.sampling`, image
augmentation in `tcc.datasets.augment`. Only the needed JPEGs are decoded (gathered, de-duplicated,
then decoded). With several `options.datasets`, each batch holds videos of one dataset and the
datasets are mixed across batches with equal probability. With `seed` given, the stream (order,
frames, augmentation) is the same on every run; with `seed=None` it differs every run.

Resume: with a seed, the stream is a function of (seed, position) alone. Epoch e of a dataset is
its records shuffled with a seed made from (seed, e); element i is sampled and augmented with a
stateless seed made from (seed, i); the dataset of batch b is drawn with a stateless seed from
(seed, b). `make_train_dataset(..., start_batch=n)` therefore yields exactly what the stream would
have yielded after its first n batches, reading (not decoding) at most one epoch of records to get
there, so a resumed training sees the batches an uninterrupted one would have seen.

Evaluation (`make_eval_dataset`) yields, for every video of one split in file order, chunks of every
k-th frame of the whole video with fixed shapes (see its docstring).

Both take an `InputOptions` (`InputOptions.from_config(cfg)`, `tcc.datasets.input_options`) and
only read: the records root is `root` or `options.path`; the embedded data is made beforehand by
the entry points (`tcc.datasets.data_root.resolve`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import tensorflow as tf

from tcc.datasets import augment, pose, records, sampling, stream
from tcc.datasets.input_options import InputOptions

__all__ = ["InputOptions", "feature_transform", "make_eval_dataset", "make_train_dataset"]

AUTOTUNE = tf.data.AUTOTUNE
_KINDS = ("frames", "features")
_SOURCES = ("records", "tfds")


def feature_transform(
    features: tf.Tensor,
    training: bool,
    seed: tf.Tensor,
    options: pose.PoseOptions | None = None,
) -> tf.Tensor:
    """Per-video feature / pose preprocessing, `tcc.datasets.pose.transform` (docs/poses.md).

    Runs once per video on the whole sequence, before sampling, so operations over time
    (interpolating missing joints, motion against the frame `frame_stride` earlier) see every frame.

    Args:
      features: float32 [L, F], all frames of one video.
      training: True in training mode (random augmentation such as flips allowed).
      seed: int64 [2] stateless per-video seed.
      options: `InputOptions.pose`; None = the identity.

    Returns:
      float32 [L, F'] (F' may differ from F).
    """
    if options is None:
        return features
    return pose.transform(features, options, training, seed)


def _parallel(options: InputOptions) -> int:
    n = options.num_parallel_calls
    return AUTOTUNE if n < 0 else max(1, n)


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"data.input_kind must be one of {_KINDS}; received input_kind={kind!r}")


def _use_tfds(options: InputOptions) -> bool:
    """True when `options.source` is 'tfds' (only with input_kind 'frames'); checks the value."""
    source = options.source
    if source not in _SOURCES:
        raise ValueError(f"data.source must be one of {_SOURCES}; received source={source!r}")
    if source == "tfds" and options.input_kind != "frames":
        raise ValueError(
            "data.source='tfds' reads the JPEG videos of tcc.datasets.sources.tfds_builders, so "
            "it needs data.input_kind='frames'; read feature datasets from records "
            "(data.source='records')."
            f" Received: input_kind={options.input_kind!r}"
        )
    return source == "tfds"


def _tfds_examples(options: InputOptions, name: str, split: str, context) -> tf.data.Dataset:
    """Parsed videos of one TFDS split (`sources.tfds_source`), sharded by `context`."""
    # lazy: tensorflow_datasets only when source='tfds'
    from tcc.datasets.sources import tfds_source

    return tfds_source.tfds_examples(name, split, options.tfds_data_dir or None, context)


def _peek_records(files: list[str], kind: str) -> int:
    """Checks that the first record holds `kind` data; returns F for features (0 for frames)."""
    for path in files:
        try:
            first = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
        except tf.errors.DataLossError:
            raise records.RecordError(f"{path}: file is truncated or corrupt") from None
        if first is None:
            continue
        example = tf.train.SequenceExample.FromString(first.numpy())
        lists = example.feature_lists.feature_list
        key = "video" if kind == "frames" else "features"
        if key not in lists:
            other = "features" if kind == "frames" else "frames"
            raise records.RecordError(
                f"{path}: records have no {key!r} feature list (found {sorted(lists)}); set "
                f"data.input_kind={other!r} if they hold {other}. Received: input_kind={kind!r}"
            )
        if kind == "frames":
            return 0
        return len(lists["features"].feature[0].float_list.value)
    raise records.RecordError(f"{files}: the record files hold no videos")


def _count(ds: tf.data.Dataset) -> int:
    """Number of elements of a finite dataset (reads it once)."""
    return int(ds.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def _gather_inputs(
    parsed: dict,
    indices: tf.Tensor,
    options: InputOptions,
    training: bool,
    seed: tf.Tensor,
) -> tf.Tensor:
    """The model input rows for frame `indices` [N]: images [N, S, S, 3] in [-1, 1] or [N, F']."""
    if options.input_kind == "features":
        return tf.gather(parsed["features"], indices)
    images, positions = augment.decode_frames(parsed["video"], indices, options.image_size)
    if training:
        images = augment.augment_frames(images, seed, options.augment)
    return tf.gather(augment.to_model_range(images), positions)


def _parse(
    serialized: tf.Tensor,
    options: InputOptions,
    num_features: int,
    training: bool,
    seed: tf.Tensor,
) -> dict:
    """Parses one record; for features also applies `feature_transform` to the whole video.

    `serialized` may also be an already parsed dict (TFDS source), which is used as it is.
    """
    if isinstance(serialized, dict):
        return serialized
    parsed = records.parse_example(serialized, kind=options.input_kind)
    if options.input_kind == "features":
        feats = tf.ensure_shape(parsed["features"], [None, num_features])
        parsed["features"] = feature_transform(feats, training, seed, options.pose)
    return parsed


def _context_steps(steps: tf.Tensor, seq_len: tf.Tensor, options: InputOptions) -> tf.Tensor:
    """[T] timesteps of a video of `seq_len` frames -> [T * num_steps] frame indices to read."""
    stride = sampling.context_stride(seq_len, options.frame_stride, options.frame_stride_fraction)
    return sampling.context_steps(steps, seq_len, options.num_steps, stride)


@dataclasses.dataclass(frozen=True)
class _TrainSpec:
    """What every per-dataset training stream shares."""

    options: InputOptions
    split: str
    root: str
    batch_size: int
    input_context: tf.distribute.InputContext | None
    seed: int | None
    augment: bool


def _train_element(serialized, index, spec: _TrainSpec, num_features: int, base: int) -> dict:
    """One training example from one serialised video; see the module doc for the keys."""
    options = spec.options
    key = tf.stack([tf.constant(base, tf.int64), tf.cast(index, tf.int64)])
    seed_steps, seed_aug, seed_feat = tf.unstack(tf.random.experimental.stateless_split(key, 3))
    parsed = _parse(serialized, options, num_features, spec.augment, seed_feat)
    seq_len = parsed["len"]
    steps = sampling.sample_steps(
        options.sampling_strategy,
        seq_len,
        options.num_frames,
        seed_steps,
        stride=options.stride,
        random_offset=options.random_offset,
    )
    ctx = _context_steps(steps, seq_len, options)
    return {
        "frames": _gather_inputs(parsed, ctx, options, spec.augment, seed_aug),
        "steps": steps,
        "seq_lens": seq_len,
        "frame_labels": tf.gather(parsed["frame_labels"], steps),
        "seq_labels": parsed["label"],
        "names": parsed["name"],
    }


def _dataset_stream(
    spec: _TrainSpec, name: str, dataset_index: int, start_batch: int = 0
) -> tf.data.Dataset:
    """Infinite stream of batches of one dataset (sharded, shuffled, sampled, augmented).

    `start_batch`: batches of this stream already consumed; the stream continues after them.
    """
    options = spec.options
    if _use_tfds(options):
        num_features, ds = 0, _tfds_examples(options, name, spec.split, spec.input_context)
    else:
        files = records.split_files(spec.root, name, spec.split)
        num_features = _peek_records(files, options.input_kind)
        ds = stream.sharded_records(files, spec.input_context)
    fraction = options.per_dataset_fraction
    count = None
    if fraction < 1.0:  # the first videos in record order, as the original (0 = one video)
        ds = ds.take(max(1, int(fraction * _count(ds))))
    buffer = options.shuffle_queue_size
    position = int(start_batch) * spec.batch_size  # videos of this stream already consumed
    if buffer <= 0 or position > 0:
        count = _count(ds)
    if count == 0 or (count is None and next(iter(ds.take(1)), None) is None):
        raise records.RecordError(
            f"the {spec.split} split of {name!r} gives this input pipeline no video to train on"
        )
    buffer = buffer if buffer > 0 else max(1, count)
    pipeline_id = spec.input_context.input_pipeline_id if spec.input_context else 0
    base = stream.base_seed(spec.seed, dataset_index, pipeline_id)
    seeded = spec.seed is not None
    first_epoch, skip = divmod(position, count) if position else (0, 0)
    ds = stream.epoch_shuffled(ds, buffer, base if seeded else None, first_epoch).skip(skip)
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.counter(position))
    ds = ds.map(
        lambda s, i: _train_element(s, i, spec, num_features, base),
        num_parallel_calls=_parallel(options),
        deterministic=seeded,
    )
    return ds.batch(spec.batch_size, drop_remainder=True)


def _records_root(options: InputOptions, root: str | None) -> str:
    """`root`, else `options.path`; "" for TFDS. The pipeline never generates data."""
    if _use_tfds(options):
        return ""
    root = root or options.path
    if not root:
        raise ValueError(
            "no records root: pass root= (the embedded data's root is "
            "tcc.datasets.data_root.resolve(cfg), which generates it) or set data.path"
        )
    return root


def make_train_dataset(
    options: InputOptions,
    split: str = "train",
    batch_size: int | None = None,
    input_context: tf.distribute.InputContext | None = None,
    seed: int | None = None,
    root: str | None = None,
    datasets: Sequence[str] | None = None,
    augment: bool = True,
    start_batch: int = 0,
) -> tf.data.Dataset:
    """Infinite training batches mixed over the datasets (one dataset per batch).

    Args:
      options: the pipeline's options (`InputOptions.from_config(cfg)`).
      split: records (or TFDS, with `data.source="tfds"`) split to read.
      batch_size: videos per batch B (per replica under a strategy); default `options.batch_size`.
      input_context: from `strategy.distribute_datasets_from_function`; shards the records by input
        pipeline (by file when there are enough files, else by record).
      seed: makes order, sampling and augmentation reproducible; None = different every run.
      root: records root; default `options.path` (required when that is empty, except for TFDS).
      datasets: dataset names; default `options.datasets`. Mixed with equal probability per batch.
      augment: False turns off image augmentation (and passes `training=False` to
        `feature_transform`), e.g. to compute the training loss on val batches; the frames are
        still sampled at random.
      start_batch: batches this pipeline already produced (a resumed training: the step times
        the replicas served by this pipeline); with a `seed`, the dataset continues exactly
        where that stream was (module doc).

    Returns:
      A `tf.data.Dataset` of batch dicts (module doc): frames [B, T*num_steps, S, S, 3] or
      [B, T*num_steps, F], steps [B, T], seq_lens [B], frame_labels [B, T], seq_labels [B],
      names [B].
    """
    _check_kind(options.input_kind)
    names = list(options.datasets if datasets is None else datasets)
    if not names:
        raise ValueError(f"no dataset to read: name at least one. Received: datasets={names}")
    spec = _TrainSpec(
        options=options,
        split=split,
        root=_records_root(options, root),
        batch_size=int(batch_size or options.batch_size),
        input_context=input_context,
        seed=seed,
        augment=augment,
    )
    if start_batch and seed is None:
        raise ValueError(
            f"start_batch={start_batch} needs a seed: an unseeded stream cannot resume"
        )
    per_source = stream.batches_per_source(seed, len(names), int(start_batch))
    streams = [_dataset_stream(spec, name, i, per_source[i]) for i, name in enumerate(names)]
    shapes = {
        name: s.element_spec["frames"].shape[2:] for name, s in zip(names, streams, strict=True)
    }
    if len({str(shape) for shape in shapes.values()}) > 1:
        raise ValueError(
            "datasets mixed in one run must give inputs of one shape (frames [H, W, 3] after "
            f"resizing, or features [F]). Received per-frame shapes: {shapes}"
        )
    if len(streams) == 1:
        ds = streams[0]
    else:
        sources = tf.data.Dataset.counter(int(start_batch)).map(
            lambda b: stream.batch_sources(seed, len(streams), b)
        )
        ds = tf.data.Dataset.choose_from_datasets(streams, sources)
    return ds.prefetch(max(1, options.num_prefetch_batches))


def _eval_element(
    parsed: dict, chunk: tf.Tensor, options: InputOptions, stride: int, chunk_size: int
) -> dict:
    """One fixed-shape chunk of one video (keys as in `make_eval_dataset`, without batch dim)."""
    seq_len = parsed["len"]
    steps, valid = sampling.chunk_steps(seq_len, chunk, stride, chunk_size)
    ctx = _context_steps(steps, seq_len, options)
    return {
        "frames": _gather_inputs(parsed, ctx, options, False, tf.zeros([2], tf.int64)),
        "steps": steps,
        "valid": valid,
        "frame_labels": tf.gather(parsed["frame_labels"], steps),
        "seq_lens": seq_len,
        "seq_labels": parsed["label"],
        "names": parsed["name"],
        "chunk_index": tf.cast(chunk, tf.int32),
        "num_chunks": sampling.num_chunks(seq_len, stride, chunk_size),
    }


def make_eval_dataset(
    options: InputOptions,
    dataset: str,
    split: str,
    stride: int | None = None,
    chunk_size: int | None = None,
    root: str | None = None,
) -> tf.data.Dataset:
    """Every k-th frame of every video of one split, in file order, in fixed-size chunks.

    Deterministic and without augmentation. Videos come in record order; each video gives
    `num_chunks = ceil(ceil(L / k) / C)` consecutive chunks; concatenating the `valid` steps of a
    video's chunks gives `0, k, 2k, ...` up to L - 1, each exactly once.

    Args:
      options: the pipeline's options (`InputOptions.from_config(cfg)`).
      dataset: dataset name under the records root, or a TFDS builder name (`data.source="tfds"`).
      split: records split.
      stride: k; default `options.sample_all_stride`.
      chunk_size: C timesteps per chunk; default `options.eval_num_frames`.
      root: records root; default `options.path` (required when that is empty, except for TFDS).

    Returns:
      A `tf.data.Dataset` of dicts: `frames` float32 [1, C*num_steps, S, S, 3] in [-1, 1] (or
      [1, C*num_steps, F]), `steps` int32 [1, C] (padding repeats the last step), `valid` bool
      [1, C], `frame_labels` int32 [1, C], `seq_lens` int32 [1], `seq_labels` int32 [1], `names`
      string [1], `chunk_index` int32 [1], `num_chunks` int32 [1].
    """
    _check_kind(options.input_kind)
    root = _records_root(options, root)
    stride = int(stride or options.sample_all_stride)
    chunk_size = int(chunk_size or options.eval_num_frames)
    if stride < 1 or chunk_size < 1:
        raise ValueError(
            f"eval stride and chunk_size must be >= 1; received stride={stride}, "
            f"chunk_size={chunk_size}"
        )
    if _use_tfds(options):
        num_features, ds = 0, _tfds_examples(options, dataset, split, None)
    else:
        files = records.split_files(root, dataset, split)
        num_features = _peek_records(files, options.input_kind)
        ds = tf.data.TFRecordDataset(files)
    no_seed = tf.zeros([2], tf.int64)
    ds = ds.map(
        lambda s: _parse(s, options, num_features, False, no_seed),
        num_parallel_calls=_parallel(options),
        deterministic=True,
    )
    ds = ds.flat_map(
        lambda p: (
            tf.data.Dataset.from_tensors(p)
            .repeat(tf.cast(sampling.num_chunks(p["len"], stride, chunk_size), tf.int64))
            .enumerate()
        )
    )
    ds = ds.map(
        lambda c, p: _eval_element(p, c, options, stride, chunk_size),
        num_parallel_calls=_parallel(options),
        deterministic=True,
    )
    return ds.batch(1, drop_remainder=True).prefetch(max(1, options.num_prefetch_batches))
