"""Training, evaluation and the align app on feature (keypoint) sequences instead of pixels.

The data is a synthetic two-link arm: a base, an elbow and a hand go through 3 phases (the upper
arm lifts, the forearm bends, the upper arm comes half-way back) at a random speed per video,
with a random size, position and noise, a few lost joints (NaN), and two distractor joints that
wander at random. The distractors make raw coordinates align poorly, so learning is needed.
"""

import importlib
import json
import math
import os

import imageio.v2 as imageio
import keras
import numpy as np
import pytest
from conftest import tiny_config

from tcc import config as config_lib
from tcc import runs
from tcc.algos import build_algorithm
from tcc.datasets import records
from tcc.datasets.input_options import InputOptions
from tcc.evaluation import embed, kendalls_tau
from tcc.training import checkpoints, loop

NUM_JOINTS = 5  # base, elbow, hand + 2 distractors


def _arm_video(rng: np.random.Generator, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints float32 [L, 5, 2] (NaN = lost) and phase ids [L] of one random video."""
    durations = rng.uniform(0.5, 1.5, 3)
    bounds = np.concatenate([[0.0], np.cumsum(durations / durations.sum())])
    uniform = np.linspace(0.0, 1.0, length)
    progress = 0.5 * np.sort(rng.uniform(0.0, 1.0, length)) + 0.5 * uniform  # random speed
    progress = (progress - progress[0]) / (progress[-1] - progress[0])
    phase = np.clip(np.searchsorted(bounds, progress, side="right") - 1, 0, 2)
    local = (progress - bounds[phase]) / (bounds[phase + 1] - bounds[phase])
    upper = np.select([phase == 0, phase == 1], [1.6 * local, np.full(length, 1.6)], 1.6 - local)
    fore = np.select([phase == 0, phase == 1], [np.zeros(length), 2.0 * local], 2.0)
    base = np.zeros((length, 2))
    elbow = base + np.stack([np.cos(upper), np.sin(upper)], axis=-1)
    hand = elbow + 0.8 * np.stack([np.cos(upper + fore), np.sin(upper + fore)], axis=-1)
    wander = [
        np.cumsum(rng.normal(0, 0.15, (length, 2)), axis=0) + rng.normal(0, 1, 2) for _ in "ab"
    ]
    keypoints = np.stack([base, elbow, hand, *wander], axis=1)
    keypoints = keypoints * rng.uniform(20, 80) + rng.uniform(0, 300, 2)
    keypoints += rng.normal(0, 1.0, keypoints.shape)
    keypoints[rng.random((length, NUM_JOINTS)) < 0.05] = np.nan
    return keypoints.astype(np.float32), phase


def write_arm_records(root: str, num_train: int = 24, num_val: int = 8, seed: int = 0) -> str:
    """Writes the dataset 'arm' (features [L, 10], 3 phases) under `root`."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", num_train), ("val", num_val)):
        videos = []
        for i in range(count):
            keypoints, phase = _arm_video(rng, int(rng.integers(30, 60)))
            videos.append(
                records.VideoExample(f"{split}{i}", features=keypoints.reshape(len(phase), -1),
                                     frame_labels=phase)
            )  # fmt: skip
        records.write_split(videos, root, "arm", split)
    return root


def feature_config(root: str, logdir: str, **overrides):
    """A tiny config for the arm data: sequence embedder, 32-d embeddings, pose options."""
    base = {
        "datasets": ["arm"],
        "data.input_kind": "features",
        "data.frame_stride": 3,
        "data.shuffle_queue_size": 32,
        "pose.num_joints": NUM_JOINTS,
        "model.embedding_size": 32,
        "model.sequence_embedder.fc_layers": [64, 64],
        "model.sequence_embedder.fc_dropout_rate": 0.0,
        "eval.kendalls_tau_stride": 1,
    }
    return tiny_config(root, logdir, **{**base, **overrides})


@pytest.fixture(scope="module")
def arm_root(tmp_path_factory) -> str:
    return write_arm_records(str(tmp_path_factory.mktemp("arm")))


@pytest.fixture(scope="module")
def trained_logdir(arm_root, tmp_path_factory) -> str:
    """An alignment run of 4 steps on the arm data."""
    logdir = str(tmp_path_factory.mktemp("arm_run"))
    loop.train(feature_config(arm_root, logdir, **{"train.max_iters": 4}))
    return logdir


@pytest.mark.parametrize("algo", ["alignment", "sal", "tcn", "combined", "supervised"])
def test_every_algorithm_trains_a_few_steps_on_feature_sequences(arm_root, tmp_path, algo):
    overrides = {"training_algo": algo, "train.max_iters": 2, "pose.motion": True}
    if algo == "combined":
        overrides.update({"combined.sal_loss_weight": 0.5, "combined.tcn_loss_weight": 0.5})
    result = loop.train(feature_config(arm_root, str(tmp_path), **overrides))
    assert result.final_step == 2
    assert all(math.isfinite(v) for v in result.last_losses.values())
    saved = config_lib.load_saved(str(tmp_path))  # as trained (e.g. the number of phases)
    model = runs.restore_model(saved, checkpoints.latest_checkpoint(str(tmp_path)), arm_root)
    kernel = model.embedder.trainable_variables[0]  # built from the data's feature width
    assert kernel.shape[0] == 2 * (2 * NUM_JOINTS) * 2  # num_steps x (coords + motion)


def test_evaluation_runs_every_task_on_a_feature_dataset(arm_root, trained_logdir):
    cfg = feature_config(arm_root, trained_logdir)
    (record,) = runs.evaluate_checkpoint(
        cfg, trained_logdir, checkpoints.latest_checkpoint(trained_logdir)
    )
    metrics = record["metrics"]
    for key in ("kendalls_tau", "phase_classification@1.0", "phase_progression", "few_shot@1",
                "retrieval_ap@5", "algo_loss"):  # fmt: skip
        assert key in metrics and math.isfinite(metrics[key]), key
    with open(os.path.join(trained_logdir, "eval", "metrics.jsonl")) as f:
        assert json.loads(f.readlines()[-1])["dataset"] == "arm"


def test_align_app_aligns_feature_sequences_from_extracted_embeddings(
    arm_root, trained_logdir, tmp_path
):
    from tcc.evaluation.embeddings_file import save_npz

    align_app = importlib.import_module("tcc.apps.align")  # the module, not tcc.apps.align()

    cfg = feature_config(arm_root, trained_logdir)
    model = runs.restore_model(cfg, checkpoints.latest_checkpoint(trained_logdir), arm_root)
    split = embed.embed_split(
        embed.model_embed_fn(model), InputOptions.from_config(cfg), "arm", "val"
    )
    save_npz(str(tmp_path / "val.npz"), split)
    out = str(tmp_path / "out")
    written = align_app.run(
        ["align", f"--embeddings={tmp_path / 'val.npz'}", "--query=val0",
         "--references=val1,val2", f"--output_dir={out}"]
    )  # fmt: skip
    assert os.path.join(out, "val0__val1.json") in written
    with open(os.path.join(out, "val0__val2.json")) as f:
        mapping = np.asarray(json.load(f)["mapping"])
    assert len(mapping) == split.seq_lens[0]
    assert np.all(np.diff(mapping) >= 0) and mapping.max() < split.seq_lens[2]  # DTW: monotone


def test_align_app_plays_feature_records_back_as_stick_figures(trained_logdir, tmp_path):
    align_app = importlib.import_module("tcc.apps.align")
    out = str(tmp_path)
    written = align_app.run(
        ["align", f"--logdir={trained_logdir}", "--query=val0", "--references=val1",
         f"--output_dir={out}", "--format=gif"]
    )  # fmt: skip
    assert os.path.join(out, "playback.gif") in written
    with open(os.path.join(out, "val0__val1.json")) as f:
        assert len(json.load(f)["mapping"]) > 0
    frame = np.asarray(imageio.mimread(os.path.join(out, "playback.gif"))[0])[..., :3]
    query_tile = frame[:128, :128].astype(int)  # stick figures are 128 px (skeleton default)
    background = np.array([24, 24, 28])
    assert (np.abs(query_tile - background).sum(axis=-1) > 150).any()  # joints were drawn


def _val_tau(cfg, model) -> float:
    split = embed.embed_split(
        embed.model_embed_fn(model), InputOptions.from_config(cfg), "arm", "val"
    )
    return kendalls_tau(split.embs, stride=1)


def test_synthetic_arm_learns_to_align_with_high_kendalls_tau(arm_root, tmp_path):
    cfg = feature_config(
        arm_root, str(tmp_path), **{
            "train.max_iters": 250, "train.batch_size": 4, "train.num_frames": 16,
            "optimizer.lr.initial_lr": 3e-3, "checkpoint.save_interval": 1000,
            "logging.report_interval": 250,
        },
    )  # fmt: skip
    keras.utils.set_random_seed(cfg.seed)
    untrained = build_algorithm(cfg)
    untrained.build_with_dummy_batch(cfg.train.num_frames, feature_dim=2 * NUM_JOINTS)
    tau_before = _val_tau(cfg, untrained)
    loop.train(cfg)
    model = runs.restore_model(cfg, checkpoints.latest_checkpoint(str(tmp_path)), arm_root)
    tau_after = _val_tau(cfg, model)
    assert tau_after > 0.8, (tau_before, tau_after)
    assert tau_after > tau_before + 0.25, (tau_before, tau_after)
