"""Tests for the console: console scripts, --help / --helpconfig, quiet TensorFlow start-up."""

import ast
import importlib
import os
import subprocess
import sys

from tcc import config as config_lib
from tcc import config_help, config_keys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_NOISE = (
    "I0000 ",
    "W0000 ",
    "E0000 ",
    "All log messages before absl::InitializeLog",
    "cuInit",
    "Sharding callback duration",
)


def _console_scripts() -> list[str]:
    """The `console_scripts` entries of setup.py, read without running it."""
    with open(os.path.join(REPO, "setup.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            return ast.literal_eval(node.value)["console_scripts"]
    raise AssertionError("setup.py has no entry_points")


def test_console_scripts_resolve_to_callables():
    scripts = dict(line.replace(" ", "").split("=", 1) for line in _console_scripts())
    expected = {"tcc-train", "tcc-evaluate", "tcc-convert", "tcc-extract-embeddings"}
    expected |= {"tcc-align", "tcc-transfer", "tcc-retrieve", "tcc-anomaly"}
    assert expected <= set(scripts)
    for target in scripts.values():
        module, attr = target.split(":")
        assert callable(getattr(importlib.import_module(module), attr)), target


def _run(args: list[str], env: dict | None = None, timeout: float = 600):
    env = {**os.environ, "PYTHONPATH": REPO, **(env or {})}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # what a user's shell has
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO
    )


def test_helpconfig_lists_every_key_with_its_default_and_meaning():
    result = _run(["-m", "tcc.train", "--helpconfig"])
    assert result.returncode == 0, result.stderr[-2000:]
    for key, value in config_keys.flatten_values(config_lib.get_default_config()).items():
        assert f"{key}={value!r}" in result.stdout
    assert "steps between in-training validations" in result.stdout


def test_help_shows_the_flags_and_the_config_keys():
    result = _run(["-m", "tcc.train", "--help"])
    assert result.returncode == 0, result.stderr[-2000:]
    max_iters = config_lib.get_default_config().train.max_iters
    assert "--logdir" in result.stdout and f"train.max_iters={max_iters}" in result.stdout


def test_every_config_key_has_a_meaning():
    comments = config_help.default_comments()
    keys = config_keys.flatten_values(config_lib.get_default_config())
    assert [k for k in keys if not config_help.describe(k, comments)] == []


def test_a_finished_run_says_it_is_complete_quietly(tiny_root, tmp_path):
    overrides = [
        f"data.path={tiny_root}",
        "datasets=[tiny]",
        "data.image_size=32",
        "train.batch_size=2",
        "train.num_frames=6",
        "train.max_iters=1",
        "train.visualize_interval=0",
        "model.embedding_size=8",
        "model.conv_embedder.conv_layers=[[16,3,True]]",
        "model.conv_embedder.fc_layers=[16]",
        "eval.interval=0",
    ]
    logdir = str(tmp_path / "run")
    command = ["-m", "tcc.train", "--alsologtostderr", f"--logdir={logdir}"]
    first = _run(command + [f"--config.{o}" for o in overrides])  # trains and saves a checkpoint
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Saved checkpoint" in first.stderr
    assert not [line for line in first.stderr.splitlines() if any(n in line for n in TF_NOISE)]
    result = _run(command + [f"--config.{o}" for o in overrides])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "is complete" in result.stderr and "--config.train.max_iters=2" in result.stderr
    assert "Training alignment (small encoder" in result.stderr.splitlines()[0]
    assert not [line for line in result.stderr.splitlines() if any(n in line for n in TF_NOISE)]

    conflict = _run(command + [f"--config.{o}" for o in overrides] + ["--config.seed=5"])
    assert conflict.returncode == 1
    assert conflict.stderr.count("different config") == 1


def test_library_info_lines_are_filtered_but_their_warnings_and_ours_are_kept():
    import logging

    from tcc.console import LibraryInfoFilter

    def record(path: str, level: int) -> logging.LogRecord:
        return logging.LogRecord("absl", level, path, 1, "message", None, None)

    keep = LibraryInfoFilter().filter
    tf_file = os.path.join("site-packages", "tensorflow", "python", "checkpoint", "saver.py")
    assert not keep(record(os.sep + tf_file, logging.INFO))
    assert keep(record(os.sep + tf_file, logging.WARNING))
    assert keep(record(os.path.join(REPO, "tcc", "training", "loop.py"), logging.INFO))
