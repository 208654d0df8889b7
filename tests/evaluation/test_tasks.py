"""Tests for tcc.evaluation.tasks: the typed options and the registry entries over embeddings."""

import numpy as np
import pytest

from tcc import config as config_lib
from tcc.evaluation.embed import EmbeddedSplit
from tcc.evaluation.runner import evaluate_dataset
from tcc.evaluation.tasks import EvalContext, EvalOptions


def _split(split: str, num_videos: int = 3, length: int = 12) -> EmbeddedSplit:
    t = np.linspace(0.0, 1.0, length)
    embs = [np.stack([t, t**2], 1).astype(np.float32) + 0.01 * i for i in range(num_videos)]
    labels = [(t * 3).clip(0, 2).astype(np.int32) for _ in range(num_videos)]
    steps = [np.arange(length, dtype=np.int32) for _ in range(num_videos)]
    names = [f"{split}{i}" for i in range(num_videos)]
    return EmbeddedSplit("toy", split, names, embs, labels, steps, [length] * num_videos)


def test_options_are_read_from_the_config_once():
    cfg = config_lib.get_default_config()
    cfg.seed, cfg.eval.retrieval_ks = 3, [2]
    options = EvalOptions.from_config(cfg)
    assert options.tasks == tuple(cfg.eval.tasks) and options.retrieval_ks == (2,)
    assert options.kendalls_tau_stride == cfg.eval.kendalls_tau_stride
    assert options.few_shot_seed == 45 and options.needs_train


def test_tasks_read_their_options_and_need_no_model():
    options = EvalOptions(
        tasks=("kendalls_tau", "retrieval", "phase_progression"), retrieval_ks=(2,)
    )
    ctx = EvalContext(options, "toy", _split("train"), _split("val"))
    metrics = evaluate_dataset(ctx)
    assert set(metrics) == {"kendalls_tau", "retrieval_ap@2", "phase_progression"}
    assert metrics["kendalls_tau"] == pytest.approx(1.0)


def test_algo_loss_uses_the_given_loss_function_and_needs_one():
    options = EvalOptions(tasks=("algo_loss",))
    calls = []
    ctx = EvalContext(
        options, "toy", None, _split("val"), algo_loss=lambda *a: calls.append(a) or 0.5
    )
    assert evaluate_dataset(ctx) == {"algo_loss": 0.5} and calls == [("toy", "val")]
    with pytest.raises(ValueError, match="algo_loss needs"):
        evaluate_dataset(EvalContext(options, "toy", None, _split("val")))
