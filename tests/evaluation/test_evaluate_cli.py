"""End-to-end tests of `tcc.evaluate`, `tcc.extract_embeddings` and the embed step."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import SUBPROCESS_TIMEOUT, tiny_config

from tcc import config as config_lib
from tcc import runs
from tcc.datasets.input_options import InputOptions
from tcc.evaluation import embed as embed_lib
from tcc.training import checkpoints, loop

DOCUMENTED_KEYS = {
    "kendalls_tau",
    "phase_classification@0.1",
    "phase_classification@0.5",
    "phase_classification@1.0",
    "phase_progression",
    "few_shot@1",
    "retrieval_ap@5",
    "algo_loss",
}


@pytest.fixture(scope="module")
def trained_logdir(tiny_root, tmp_path_factory) -> str:
    logdir = str(tmp_path_factory.mktemp("eval_run"))
    loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 4}))
    return logdir


def test_embed_split_covers_every_frame_of_every_video_once(trained_logdir, tiny_root):
    cfg = config_lib.load_saved(trained_logdir)
    model = runs.restore_model(cfg, checkpoints.latest_checkpoint(trained_logdir), tiny_root)
    split = embed_lib.embed_split(
        embed_lib.model_embed_fn(model),
        InputOptions.from_config(cfg),
        "tiny",
        "val",
        root=tiny_root,
    )
    assert len(split.names) == 3
    for embs, labels, idx, length in zip(
        split.embs, split.labels, split.frame_indices, split.seq_lens, strict=True
    ):
        np.testing.assert_array_equal(idx, np.arange(length))
        assert embs.shape == (length, cfg.model.embedding_size)
        np.testing.assert_array_equal(labels, (np.arange(length) * 3) // length)


def test_restored_model_gives_identical_embeddings_twice(trained_logdir, tiny_root):
    cfg = config_lib.load_saved(trained_logdir)
    path = checkpoints.latest_checkpoint(trained_logdir)
    embs = []
    for _ in range(2):
        model = runs.restore_model(cfg, path, tiny_root)
        split = embed_lib.embed_split(
            embed_lib.model_embed_fn(model),
            InputOptions.from_config(cfg),
            "tiny",
            "val",
            root=tiny_root,
            max_videos=1,
        )
        embs.append(split.embs[0])
    np.testing.assert_array_equal(embs[0], embs[1])


def test_evaluate_cli_writes_metrics_jsonl_with_documented_keys(trained_logdir):
    result = subprocess.run(
        [sys.executable, "-m", "tcc.evaluate", f"--logdir={trained_logdir}", "--projector"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "kendalls_tau" in result.stdout  # the printed table
    lines = open(os.path.join(trained_logdir, "eval", "metrics.jsonl")).read().splitlines()
    record = json.loads(lines[-1])
    assert set(record) == {"step", "dataset", "split", "metrics"}
    assert record["step"] == 4 and record["dataset"] == "tiny" and record["split"] == "val"
    assert DOCUMENTED_KEYS <= set(record["metrics"])
    assert all(np.isfinite(v) for v in record["metrics"].values())
    assert os.path.isfile(os.path.join(trained_logdir, "eval", "few_shot_tiny.png"))
    projector = os.path.join(trained_logdir, "projector", "tiny", "projector_config.pbtxt")
    assert os.path.isfile(projector)
    assert any(f.startswith("events.out") for f in os.listdir(os.path.join(trained_logdir, "eval")))


def test_continuous_eval_follows_checkpoints_and_stops_at_the_last_step(trained_logdir):
    cfg = config_lib.load_saved(trained_logdir, ["eval.tasks=[kendalls_tau]"])
    paths = list(runs.follow_checkpoints(trained_logdir, cfg.train.max_iters, timeout=5))
    assert [runs.checkpoint_step(p) for p in paths][-1] == 4
    records = [r for p in paths for r in runs.evaluate_checkpoint(cfg, trained_logdir, p)]
    assert {r["step"] for r in records} <= {2, 4}


def test_unlabelled_data_skips_label_tasks_but_computes_kendalls_tau(tmp_path):
    from conftest import write_tiny_records

    root = write_tiny_records(str(tmp_path / "data"), labelled=False)
    logdir = str(tmp_path / "run")
    cfg = tiny_config(root, logdir, **{"train.max_iters": 1})
    loop.train(cfg)
    records = runs.evaluate_checkpoint(cfg, logdir, checkpoints.latest_checkpoint(logdir))
    metrics = records[0]["metrics"]
    assert "kendalls_tau" in metrics and "algo_loss" in metrics
    assert not any(k.startswith("phase_classification") for k in metrics)


def test_extract_embeddings_writes_a_pickle_free_npz(trained_logdir, tmp_path):
    from tcc.evaluation.embeddings_file import load_npz

    out = str(tmp_path / "embs.npz")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tcc.extract_embeddings",
            f"--logdir={trained_logdir}",
            "--dataset=tiny",
            "--split=val",
            f"--output={out}",
            "--stride=2",
            "--projector",
        ],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = load_npz(out)
    assert len(data["names"]) == 3
    assert os.path.isfile(os.path.join(trained_logdir, "projector", "projector_config.pbtxt"))
    for embs, idx, labels, length in zip(
        data["embs"], data["frame_indices"], data["labels"], data["seq_lens"], strict=True
    ):
        np.testing.assert_array_equal(idx, np.arange(0, length, 2))
        assert embs.shape[0] == len(idx) == len(labels)


def test_evaluate_without_a_checkpoint_is_one_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tcc.evaluate", f"--logdir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error:")
