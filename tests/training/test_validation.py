"""Tests for the in-training validation: a curve with a point per interval, bounded cost."""

import json
import os

import numpy as np
import tensorflow as tf
from conftest import tiny_config, write_tiny_records

from tcc import config as config_lib
from tcc.datasets.input_options import InputOptions
from tcc.evaluation import embed as embed_lib
from tcc.training import loop, validation


def _event_scalars(run_dir: str) -> dict[str, list[int]]:
    """Steps of every scalar tag written in a TensorBoard run directory."""
    steps: dict[str, list[int]] = {}
    for name in sorted(os.listdir(run_dir)):
        if not name.startswith("events."):
            continue
        for record in tf.data.TFRecordDataset(os.path.join(run_dir, name)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps


def test_training_writes_a_validation_curve_every_interval_and_at_the_end(tiny_root, tmp_path):
    logdir = str(tmp_path)
    cfg = tiny_config(tiny_root, logdir, **{"train.max_iters": 5, "eval.interval": 2})
    loop.train(cfg)
    with open(os.path.join(logdir, "eval", "validation.jsonl")) as f:
        records = [json.loads(line) for line in f]
    assert [r["step"] for r in records] == [2, 4, 5]
    for record in records:
        assert record["dataset"] == "tiny" and record["split"] == "val"
        assert set(record["metrics"]) == {"kendalls_tau", "phase_classification", "algo_loss"}
        assert all(np.isfinite(v) for v in record["metrics"].values())
    tags = _event_scalars(os.path.join(logdir, "eval"))
    for key in ("kendalls_tau", "phase_classification", "algo_loss"):
        assert tags[f"val/tiny/{key}"] == [2, 4, 5]
    assert not os.path.exists(os.path.join(logdir, "eval", "metrics.jsonl"))  # full eval only


def test_validation_embeds_like_the_full_evaluation(tiny_root, tmp_path):
    cfg = tiny_config(tiny_root, str(tmp_path), **{"eval.interval_videos": 2})
    model, _ = loop.build_model_and_optimizer(cfg, tf.distribute.get_strategy())
    validator = validation.Validator(cfg, model, tiny_root)
    chunks = validation.collect_chunks(cfg, "tiny", "val", 2, tiny_root)
    ours = validator._embed(chunks)
    reference = embed_lib.embed_split(
        embed_lib.model_embed_fn(model),
        InputOptions.from_config(cfg),
        "tiny",
        "val",
        stride=2,
        root=tiny_root,
    )
    assert chunks.names == reference.names[:2]
    for got, want in zip(ours, reference.embs[:2], strict=True):
        np.testing.assert_allclose(got, want, atol=2e-2)  # frames are kept as uint8
    for got, want in zip(chunks.split_videos(chunks.labels), reference.labels[:2], strict=True):
        np.testing.assert_array_equal(got, want)


def test_validation_skips_phase_classification_without_labels(tmp_path):
    root = write_tiny_records(str(tmp_path / "data"), num_train=3, num_val=2, labelled=False)
    cfg = tiny_config(root, str(tmp_path / "run"))
    model, _ = loop.build_model_and_optimizer(cfg, tf.distribute.get_strategy())
    validator = validation.Validator(cfg, model, root)
    results = validator(3, str(tmp_path / "run"))
    assert set(results["tiny"]) == {"kendalls_tau", "algo_loss"}
    assert validator.describe("tiny") == "subset: 2 val videos at frame stride 2"


def test_validation_line_names_the_subset_it_measured(tiny_root, tmp_path):
    # The console line is compared with `tcc.evaluate`'s full val split by users: it says which
    # videos it measured, counted from the data read (the tiny split has fewer than asked for).
    cfg = tiny_config(tiny_root, str(tmp_path), **{"eval.interval_videos": 50})
    cfg.eval.interval_stride = 3
    model, _ = loop.build_model_and_optimizer(cfg, tf.distribute.get_strategy())
    validator = validation.Validator(cfg, model, tiny_root)
    num_val = len(validation.video_lengths(cfg, tiny_root, "tiny", "val"))
    assert num_val < 50
    text = validator.describe("tiny")
    assert text == (
        f"subset: {num_val} val videos at frame stride 3, classifier on "
        f"{validator.train_videos('tiny')} train videos"
    )


def test_validation_cost_is_bounded_by_design():
    cfg = config_lib.get_default_config()
    # The embedded dataset: 480 train videos of 40 to 120 frames.
    assert validation.cost_fraction(cfg, num_train=480, max_len=120) < validation.MAX_COST_FRACTION
    assert validation.num_train_videos(cfg, 480) == 8  # capped by eval.interval_train_videos
    assert validation.num_train_videos(cfg, 60) == 6  # the videos of phase_classification@0.1
    cfg.eval.interval = 0
    assert validation.cost_fraction(cfg, num_train=480, max_len=120) == 0.0


def test_validator_runs_no_more_images_than_the_bound(tiny_root, tmp_path):
    cfg = tiny_config(tiny_root, str(tmp_path), **{"eval.interval_videos": 2})
    model, _ = loop.build_model_and_optimizer(cfg, tf.distribute.get_strategy())
    validator = validation.Validator(cfg, model, tiny_root)
    validator(1, str(tmp_path))
    lengths = validation.video_lengths(cfg, tiny_root, "tiny", "train")
    lengths += validation.video_lengths(cfg, tiny_root, "tiny", "val")
    bound = validation.images_per_evaluation(cfg, num_train=6, max_len=max(lengths))
    assert 0 < validator.images <= bound


def test_is_due_every_interval_and_at_the_last_step():
    cfg = config_lib.get_default_config()
    cfg.train.max_iters, cfg.eval.interval = 250, 100
    assert [s for s in range(1, 251) if validation.is_due(cfg, s)] == [100, 200, 250]
    cfg.eval.interval = 0
    assert not any(validation.is_due(cfg, s) for s in range(1, 251))
