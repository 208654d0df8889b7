"""The common trainer: `Algorithm(keras.Model)`, encoder -> embedder -> embeddings [B, T, D].

Every training algorithm (TCC alignment, Shuffle-and-Learn, TCN, their weighted combination and the
supervised baseline) is a subclass that implements only `compute_losses`: the batch and its
embeddings in, a dict of named scalar loss terms out. Everything else is shared here:

- the forward pass: frames [B, T * num_steps, H, W, 3] -> backbone -> embedder -> [B, T, D] (or,
  for feature / pose sequences, [B, T * num_steps, F] -> sequence embedder -> [B, T, D]);
- `train_step` / `test_step` in the Keras convention, so `fit()` / `evaluate()` work, and the
  project's own loop (`tcc.training.loop`) calls the same `train_step` under `tf.distribute`;
- regularisation: the sum of the model's regularisation losses (kernel / bias L2) is added once;
- the batch the losses see: under a multi-replica strategy with `cfg.loss_scope = 'global'` (the
  default) the embeddings and the entries the losses read are gathered across replicas, so pairs,
  negatives and samples span the global batch (`tcc.algos.cross_replica`); with `'replica'` each
  replica's loss sees its own share only (the original's behaviour);
- replica scaling: the total loss is divided by the number of replicas in exactly one place
  (`_replica_scaled`), because the optimizer sums gradients across replicas (a global-batch loss
  too: its gathered embeddings carry the matching factor, see `tcc.algos.cross_replica`);
- the randomness of the losses (TCC cycles, TCN positives, SaL triplets) is drawn from the
  stateless seed `[seed, step]` (`batch['sample_seed']`), so it is the same on every replica
  and the same as on one device (`'replica'` scope adds the replica id);
- optional synchronised batch norm (`cfg.sync_batch_norm`): batch statistics over all replicas;
- metric trackers, one `keras.metrics.Mean` per loss term, plus `regularization`, `loss` and
  `grad_norm`;
- randomness that survives a resume: the losses draw from the step's stateless seed (above) and
  dropout keeps its state in Keras seed generators, which the checkpoint saves
  (`tcc.training.checkpoints`).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tcc.algos import cross_replica
from tcc.algos.options import AlgorithmOptions
from tcc.models.backbones import build_encoder
from tcc.models.embedders import build_embedder
from tcc.registry import Registry

ALGORITHMS = Registry("training_algo")

Batch = dict[str, tf.Tensor]


def loss_seed(batch: Batch, salt: int) -> tf.Tensor | None:
    """The stateless seed (int64 [2]) of one loss's sampling: `batch['sample_seed']` offset by
    `salt`, so that the losses of `combined` draw independently; None without a sample seed."""
    seed = batch.get("sample_seed")
    if seed is None:
        return None
    return seed + tf.constant([salt * 7_919, 0], tf.int64)


class Algorithm(keras.Model):
    """Base class of all training algorithms.

    Args:
      options: the algorithm's options (`AlgorithmOptions`, or its `to_dict()` form as in
        `get_config`); `tcc.algos.build_algorithm(cfg)` builds them from the config.
    """

    loss_names: tuple[str, ...] = ()

    def __init__(self, options: AlgorithmOptions | dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(options, dict):
            options = AlgorithmOptions.from_dict(options)
        self.options = options
        model = options.model
        self.num_steps = model.num_steps
        self.input_kind = model.input_kind
        self.encoder = build_encoder(model.encoder) if model.encoder is not None else None
        self.embedder = build_embedder(model.embedder, name="embedder")
        self.loss_scope = cross_replica.check_loss_scope(options.loss_scope)
        names = (*self.loss_names, "regularization", "loss", "grad_norm")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def get_config(self) -> dict[str, Any]:
        return {"options": self.options.to_dict(), "name": self.name}

    def build(self, input_shape: Any = None) -> None:
        """Marks the model built; its sublayers build themselves on their first call.

        The encoder and embedder are built by the first `call`, the loss heads (SaL, supervised)
        by the first `compute_losses`; `build_with_dummy_batch` runs both. Defining `build` keeps
        Keras from warning that a model with unbuilt loss heads is marked built.
        """
        del input_shape
        self.built = True

    # ----------------------------------------------------------------------------- forward
    def call(self, inputs: Batch | tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """Embeds a batch.

        Args:
          inputs: the batch dict (only `frames` is read) or the `frames` tensor itself:
            float [B, T * num_steps, H, W, 3] in [-1, 1], or [B, T * num_steps, F] features.
          training: Keras training flag (dropout, batch norm).

        Returns:
          float32 embeddings [B, T, D].
        """
        frames = inputs["frames"] if isinstance(inputs, dict) else inputs
        if self.encoder is not None:
            shape = tf.shape(frames)
            flat = tf.reshape(frames, tf.concat([[-1], shape[2:]], axis=0))
            feats = self.encoder(flat, training=training)
            fshape = tf.shape(feats)
            frames = tf.reshape(feats, tf.concat([shape[:2], fshape[1:]], axis=0))
        embs = self.embedder(frames, training=training)
        return tf.cast(embs, tf.float32)

    # ----------------------------------------------------------------------------- losses
    def compute_losses(self, batch: Batch, embs: tf.Tensor, training: bool) -> dict[str, tf.Tensor]:
        """Returns the named scalar loss terms (float32) of this algorithm; summed for training.

        Args:
          batch: the batch the loss sees (`steps` [B, T], `seq_lens` [B], `frame_labels` [B, T],
            ..., and `sample_seed`, int64 [2], the stateless seed of any random sampling).
          embs: float32 [B, T, D], the output of `call` (of the global batch under the default
            `loss_scope`).
          training: whether this is a training step.
        """
        raise NotImplementedError

    def _sample_seed(self) -> tf.Tensor:
        """int64 [2]: `[options.seed, step]`, plus the replica id in `'replica'` loss scope."""
        optimizer = getattr(self, "optimizer", None)
        step = tf.cast(optimizer.iterations, tf.int64) if optimizer is not None else 0
        seed = tf.constant(int(self.options.seed), tf.int64)
        if self.loss_scope == "replica":
            seed = seed + 1_000_003 * tf.cast(cross_replica.replica_id(), tf.int64)
        return tf.stack([seed, tf.cast(step, tf.int64)])

    def _total_loss(self, batch: Batch, training: bool) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """The total loss and its named terms (the loss terms, `regularization`, `loss`).

        Under the default `'global'` loss scope they are those of the whole global batch, the
        same on every replica; under `'replica'` those of this replica's share.
        """
        embs = self(batch, training=training)
        loss_batch = dict(batch)
        if self.loss_scope == "global":
            loss_batch, embs = cross_replica.gather_batch(batch, embs)
        loss_batch["sample_seed"] = self._sample_seed()
        terms = self.compute_losses(loss_batch, embs, training=training)
        reg = tf.add_n([tf.cast(x, tf.float32) for x in self.losses]) if self.losses else 0.0
        terms = {k: tf.cast(v, tf.float32) for k, v in terms.items()}
        terms["regularization"] = tf.convert_to_tensor(reg, tf.float32)
        terms["loss"] = tf.add_n(list(terms.values()))
        return terms["loss"], terms

    @staticmethod
    def _replica_scaled(loss: tf.Tensor) -> tf.Tensor:
        """The one place where the loss is divided by the number of replicas."""
        return loss / tf.cast(cross_replica.num_replicas(), loss.dtype)

    # ----------------------------------------------------------------------------- building
    def build_with_dummy_batch(
        self, num_frames: int, feature_dim: int | None = None, batch_size: int = 2
    ) -> None:
        """Creates every variable (encoder, embedder and loss heads) with one eager dummy step.

        Call inside the strategy scope before building the optimizer or restoring a checkpoint.

        Args:
          num_frames: timesteps T of the dummy batch.
          feature_dim: F of feature / pose inputs (input_kind 'features'); unused for frames.
          batch_size: videos in the dummy batch (>= 2 so pairwise losses run).
        """
        steps = num_frames * self.num_steps
        if self.input_kind == "frames":
            size = self.options.model.image_size
            frames = tf.zeros([batch_size, steps, size, size, 3])
        else:
            frames = tf.zeros([batch_size, steps, int(feature_dim or 1)])
        batch = {
            "frames": frames,
            "steps": tf.tile(tf.range(num_frames)[None], [batch_size, 1]),
            "seq_lens": tf.fill([batch_size], num_frames),
            "frame_labels": tf.zeros([batch_size, num_frames], tf.int32),
            "seq_labels": tf.zeros([batch_size], tf.int32),
        }
        self._total_loss(batch, training=False)
        self.built = True
        if self.options.sync_batch_norm:
            cross_replica.synchronize_batch_norm(self)

    def enable_xla(self) -> None:
        """Compiles the forward and backward pass with XLA (`jit_compile=True`).

        Only the gradient computation is compiled; the optimizer update stays outside, so the
        cross-replica gradient reduction of `tf.distribute` works unchanged.
        """
        self._gradient_fn = tf.function(self.compute_gradients, jit_compile=True)

    # ----------------------------------------------------------------------------- steps
    def compute_gradients(self, batch: Batch) -> tuple[dict[str, tf.Tensor], list[tf.Tensor]]:
        """Loss terms and the gradients of the replica-scaled (and loss-scaled) total loss."""
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            loss, terms = self._total_loss(batch, training=True)
            scaled = self._replica_scaled(loss)
            if isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer):
                scaled = self.optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, variables)
        return terms, grads

    def train_step(self, batch: Batch) -> dict[str, tf.Tensor]:
        """One optimisation step on a (per-replica) batch; returns the loss terms and grad norm."""
        gradient_fn = getattr(self, "_gradient_fn", None) or self.compute_gradients
        numeric = {k: v for k, v in batch.items() if v.dtype != tf.string}  # XLA takes no strings
        terms, grads = gradient_fn(numeric)
        norm_grads = grads
        if isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer):
            scale = tf.cast(self.optimizer.dynamic_scale, tf.float32)
            norm_grads = [tf.cast(g, tf.float32) / scale for g in grads]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        terms["grad_norm"] = tf.linalg.global_norm(norm_grads) * float(replicas)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._track(terms)

    def test_step(self, batch: Batch) -> dict[str, tf.Tensor]:
        """Loss terms on a batch without updating weights (dropout off)."""
        _, terms = self._total_loss(batch, training=False)
        terms["grad_norm"] = tf.constant(0.0)
        return self._track(terms)

    def _track(self, terms: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        for name, value in terms.items():
            if name in self.trackers:
                self.trackers[name].update_state(value)
        return terms

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())
