"""Continuous evaluation beside a training: rotation, half-written checkpoints, skipping."""

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import SUBPROCESS_TIMEOUT, tiny_config

from tcc import config as config_lib
from tcc import runs
from tcc.training import checkpoints, loop


@pytest.fixture(scope="module")
def three_checkpoints(tiny_root, tmp_path_factory) -> str:
    """A logdir with ckpt-1, ckpt-2, ckpt-3 (one per step)."""
    logdir = str(tmp_path_factory.mktemp("three"))
    cfg = tiny_config(tiny_root, logdir, **{"train.max_iters": 3, "checkpoint.save_interval": 1})
    loop.train(cfg)
    return logdir


def _copy_run(source: str, target: str) -> str:
    """A copy of a run directory (tests below delete checkpoint files)."""
    shutil.copytree(source, target)
    # The index file holds absolute paths: point them at the copy.
    index = os.path.join(checkpoints.checkpoint_dir(target), "checkpoint")
    with open(index, encoding="utf-8") as f:
        text = f.read().replace(source, target)
    with open(index, "w", encoding="utf-8") as f:
        f.write(text)
    return target


def _remove(path: str) -> None:
    for name in os.listdir(os.path.dirname(path)):
        if name.startswith(os.path.basename(path) + "."):
            os.remove(os.path.join(os.path.dirname(path), name))


def test_a_pinned_checkpoint_stays_readable_when_rotation_removes_it(three_checkpoints, tmp_path):
    logdir = _copy_run(three_checkpoints, str(tmp_path / "run"))
    cfg = config_lib.load_saved(logdir)
    path = os.path.join(checkpoints.checkpoint_dir(logdir), "ckpt-2")
    scratch = str(tmp_path / "scratch")
    with checkpoints.pinned(path, scratch) as readable:
        _remove(path)  # what the rotation of a running training does
        assert not os.path.exists(path + ".index")
        model = runs.restore_model(cfg, readable, cfg.data.path)
        assert runs.checkpoint_step(readable) == 2
    assert model.weights
    assert os.listdir(scratch) == []  # the pin is cleaned up


def test_pinning_a_removed_checkpoint_says_it_is_gone(three_checkpoints, tmp_path):
    logdir = _copy_run(three_checkpoints, str(tmp_path / "run"))
    path = os.path.join(checkpoints.checkpoint_dir(logdir), "ckpt-1")
    os.remove(path + ".data-00000-of-00001")  # removed half-way: the index is still there
    with pytest.raises(checkpoints.CheckpointGoneError, match="ckpt-1"):
        with checkpoints.pinned(path, str(tmp_path / "scratch")):
            pass


def test_following_moves_to_the_newest_and_ignores_half_written_files(
    three_checkpoints, tmp_path, caplog
):
    logdir = _copy_run(three_checkpoints, str(tmp_path / "run"))
    directory = checkpoints.checkpoint_dir(logdir)
    # A checkpoint being written: data without an index entry, and the saver's temp folder.
    with open(os.path.join(directory, "ckpt-9.data-00000-of-00001"), "wb") as f:
        f.write(b"\0" * 100)
    os.makedirs(os.path.join(directory, "ckpt-9_temp"))
    with caplog.at_level(logging.WARNING):
        paths = list(runs.follow_checkpoints(logdir, last_step=9, timeout=1.0, poll_seconds=0.1))
    assert [os.path.basename(p) for p in paths] == ["ckpt-3"]
    assert "Skipping ckpt-1, ckpt-2" in caplog.text
    assert "No new checkpoint" in caplog.text


def test_a_checkpoint_removed_before_it_is_read_is_skipped_with_a_message(
    three_checkpoints, tmp_path, caplog
):
    logdir = _copy_run(three_checkpoints, str(tmp_path / "run"))
    cfg = config_lib.load_saved(logdir, ["eval.tasks=[kendalls_tau]"])
    directory = checkpoints.checkpoint_dir(logdir)

    def paths():
        first = os.path.join(directory, "ckpt-1")
        _remove(first)  # rotated away between the index read and the restore
        yield first
        yield os.path.join(directory, "ckpt-3")

    with caplog.at_level(logging.WARNING):
        records = runs.evaluate_checkpoints(cfg, logdir, paths())
    assert [r["step"] for r in records] == [3]
    assert "Skipped" in caplog.text and "ckpt-1" in caplog.text and "rotation" in caplog.text


_TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests_dir!r})
    from conftest import tiny_config
    from tcc.training import loop

    cfg = tiny_config({root!r}, {logdir!r}, **{overrides!r})
    print("TRAINED", loop.train(cfg).final_step)
    """
)


def test_continuous_eval_beside_a_training_that_saves_and_rotates_every_step(tiny_root, tmp_path):
    """`tcc.evaluate --continuous_eval` and a training with save_interval=1, max_to_keep=1."""
    logdir = str(tmp_path / "run")
    overrides = {
        "train.max_iters": 24,
        "checkpoint.save_interval": 1,
        "checkpoint.max_to_keep": 1,
        "eval.tasks": "[kendalls_tau]",
    }
    config_lib.save(tiny_config(tiny_root, logdir, **overrides), logdir)  # evaluate needs it
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    log = tmp_path / "evaluate.log"  # a file, not a pipe: a full pipe would stall the evaluator
    with open(log, "w", encoding="utf-8") as out:
        evaluate = subprocess.Popen(
            [sys.executable, "-m", "tcc.evaluate", f"--logdir={logdir}", "--continuous_eval",
             "--timeout=600"],
            stdout=out, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        try:
            script = _TRAIN_SCRIPT.format(
                tests_dir=tests_dir, root=tiny_root, logdir=logdir, overrides=overrides
            )
            train = subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                timeout=SUBPROCESS_TIMEOUT,
                env=env,
            )
            evaluate.wait(timeout=SUBPROCESS_TIMEOUT)
        finally:
            if evaluate.poll() is None:
                evaluate.kill()
    text = log.read_text(encoding="utf-8")
    assert train.returncode == 0, train.stderr[-3000:]
    assert "TRAINED 24" in train.stdout
    assert evaluate.returncode == 0, text[-3000:]
    assert "Traceback" not in text
    with open(os.path.join(logdir, "eval", "metrics.jsonl"), encoding="utf-8") as f:
        steps = [json.loads(line)["step"] for line in f]
    assert steps and steps[-1] == 24
    assert steps == sorted(set(steps))  # each checkpoint at most once, in order
    assert not [n for n in os.listdir(os.path.join(logdir, "eval")) if n.startswith(".pinned")]
