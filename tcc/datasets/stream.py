"""The training stream's randomness as a function of (seed, position): what makes resume exact.

With a seed, epoch e of a dataset is its records shuffled with a seed made from (seed, e), and the
dataset of batch b is drawn with a stateless seed from (seed, b), so `tcc.datasets.pipeline` can
rebuild the stream from any position (`make_train_dataset(..., start_batch=n)`). Without a seed
(`None`) every run draws its own.
"""

from __future__ import annotations

import random

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def base_seed(seed: int | None, dataset_index: int, pipeline_id: int) -> int:
    """The seed of one dataset's stream in one input pipeline (random when `seed` is None)."""
    if seed is None:
        return random.SystemRandom().randrange(2**62)
    return (int(seed) * 1_000_003 + dataset_index * 7919 + pipeline_id * 104_729) % 2**62


def sharded_records(files: list[str], context: tf.distribute.InputContext | None):
    """The serialised records of this input pipeline: by file if enough files, else by record."""
    pipelines = context.num_input_pipelines if context else 1
    pipeline_id = context.input_pipeline_id if context else 0
    shard_records = pipelines > 1 and len(files) < pipelines
    if pipelines > 1 and not shard_records:
        files = files[pipeline_id::pipelines]
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))
    return ds.shard(pipelines, pipeline_id) if shard_records else ds


def epoch_shuffled(ds: tf.data.Dataset, buffer: int, base: int | None, first_epoch: int):
    """Epochs `first_epoch, first_epoch + 1, ...` of `ds`, each shuffled with its own seed.

    Epoch e's order depends only on (base, e), so the stream can be rebuilt from any epoch.
    `base=None`: a new order every run.
    """

    def epoch(e):
        if base is None:
            return ds.shuffle(buffer, reshuffle_each_iteration=False)
        # A shuffle pairs its seed with the graph-level seed, and with a tensor seed fails when
        # that is 0 (Python compares the pair to (0, 0)); so fix it here, in this function's
        # graph only, which also makes the order independent of TensorFlow's global seed.
        tf.random.set_seed(base % (2**31 - 2) + 1)
        seed = (tf.constant(base, tf.int64) + e * 1_000_033) % 2**62
        return ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=False)

    # flat_map hides that the stream never ends; say so, or a multi-worker strategy reads it with
    # `get_next_as_optional` and every batch loses its static shape.
    stream = tf.data.Dataset.counter(first_epoch).flat_map(epoch)
    return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY))


def _mixing_seed(seed: int | None) -> int:
    return base_seed(seed, 0, 0) ^ 0x5EED_0F_BA7C4


def batch_sources(seed: int | None, num_datasets: int, batch_index: tf.Tensor) -> tf.Tensor:
    """The dataset (int64 in [0, num_datasets)) of batch `batch_index`, from (seed, index)."""
    key = tf.stack([tf.constant(_mixing_seed(seed), tf.int64), tf.cast(batch_index, tf.int64)])
    return tf.random.stateless_uniform(
        [], key, minval=0, maxval=num_datasets, dtype=tf.int64, alg="philox"
    )


def batches_per_source(seed: int | None, num_datasets: int, num_batches: int) -> list[int]:
    """How many of the first `num_batches` batches each dataset gave (see `batch_sources`)."""
    if num_batches <= 0:
        return [0] * num_datasets
    sources = tf.data.Dataset.range(num_batches).map(
        lambda b: batch_sources(seed, num_datasets, b), num_parallel_calls=AUTOTUNE
    )
    counts = sources.batch(65536).reduce(
        tf.zeros([num_datasets], tf.int64),
        lambda acc, s: acc + tf.math.bincount(s, minlength=num_datasets, dtype=tf.int64),
    )
    return [int(c) for c in counts.numpy()]
