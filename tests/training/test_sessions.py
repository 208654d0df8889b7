"""Session records: every start of training says what it ran with; a changed resume warns."""

import json
import logging
import os

import pytest
import tensorflow as tf
from conftest import tiny_config

from tcc.training import loop, sessions


def test_thread_count_comes_from_the_setting_then_the_environment_then_the_cpus(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    assert sessions._count(5, "TF_NUM_INTRAOP_THREADS") == (5, "set")
    assert sessions._count(0, "TF_NUM_INTRAOP_THREADS") == (3, "env")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "0")  # 0 means TensorFlow's default
    assert sessions._count(0, "TF_NUM_INTRAOP_THREADS") == (len(os.sched_getaffinity(0)), "default")
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    assert sessions._count(0, "TF_NUM_INTRAOP_THREADS") == (len(os.sched_getaffinity(0)), "default")


def test_onednn_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    assert sessions.current(0, 1)["onednn"] == "on"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert sessions.current(7, 2)["onednn"] == "off"
    assert sessions.current(7, 2)["step"] == 7 and sessions.current(7, 2)["replicas"] == 2


def _session(step: int, intra: int) -> dict:
    return dict(sessions.current(step, 1), intra_op_threads=intra)


def test_a_resume_with_other_threads_warns_and_the_same_does_not(tmp_path):
    logdir = str(tmp_path)
    assert sessions.record(logdir, _session(0, 1)) is None  # a new run: nothing to compare
    assert sessions.record(logdir, _session(10, 1)) is None  # resumed as it was
    warning = sessions.record(logdir, _session(20, 2))
    assert warning is not None
    assert "step 20" in warning and "intra_op_threads 1 -> 2" in warning
    assert "inter_op_threads" not in warning  # only what changed is named
    # Every session stays on record, oldest first, and a fresh start (step 0) never warns.
    assert sessions.record(logdir, _session(0, 4)) is None
    assert [(s["step"], s["intra_op_threads"]) for s in sessions.read(logdir)] == [
        (0, 1),
        (10, 1),
        (20, 2),
        (0, 4),
    ]


def test_a_record_without_a_key_is_not_called_different(tmp_path):
    old = {k: v for k, v in _session(0, 1).items() if k != "onednn"}  # an older record format
    assert sessions.differences(old, _session(5, 1)) == []
    assert sessions.differences(old, _session(5, 2)) == ["intra_op_threads 1 -> 2"]


def test_training_records_each_session_and_warns_on_a_changed_resume(tiny_root, tmp_path, caplog):
    logdir = str(tmp_path)
    loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 2}))
    (first,) = sessions.read(logdir)
    assert first["step"] == 0 and first["tensorflow"] == tf.__version__
    assert first["replicas"] == 1 and first["intra_op_threads"] >= 1
    # Pretend the first session ran with other threads: the resume must say so.
    path = os.path.join(logdir, sessions.FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(dict(first, intra_op_threads=first["intra_op_threads"] + 7)) + "\n")
    with caplog.at_level(logging.WARNING):
        loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 3}))
    assert "Resuming at step 2 with intra_op_threads" in caplog.text
    assert [s["step"] for s in sessions.read(logdir)] == [0, 2]


@pytest.mark.parametrize("value", ["", "abc", "-2"])
def test_a_malformed_thread_variable_means_the_default(monkeypatch, value):
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", value)
    assert sessions._count(0, "TF_NUM_INTEROP_THREADS")[1] == "default"


def test_a_damaged_record_file_is_read_around_not_fatal(tmp_path):
    path = tmp_path / sessions.FILE
    path.write_text('{"step": 0, "intra_op_threads": 1}\nnot json\n[1, 2]\n\n')
    assert sessions.read(str(tmp_path)) == [{"step": 0, "intra_op_threads": 1}]
    warning = sessions.record(str(tmp_path), _session(4, 2))
    assert warning is not None and "intra_op_threads 1 -> 2" in warning
    assert [s["step"] for s in sessions.read(str(tmp_path))] == [0, 4]
