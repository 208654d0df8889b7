"""Tests for tcc.runs: a run restored from its logdir hands out its model's embed function."""

import numpy as np
import pytest
from conftest import tiny_config

from tcc import errors, runs
from tcc.datasets import pipeline
from tcc.datasets.input_options import InputOptions
from tcc.evaluation import embed as embed_lib
from tcc.training import loop


@pytest.fixture(scope="module")
def trained_logdir(tiny_root, tmp_path_factory) -> str:
    logdir = str(tmp_path_factory.mktemp("runs_run"))
    loop.train(tiny_config(tiny_root, logdir, **{"train.max_iters": 2}))
    return logdir


def test_open_run_restores_the_newest_checkpoint_and_embeds_like_the_model(
    trained_logdir, tiny_root
):
    run = runs.open_run(trained_logdir, ["eval.num_frames=5"])
    assert run.step == 2 and run.checkpoint_path.endswith("ckpt-2")
    assert run.cfg.eval.num_frames == 5  # the overrides apply to the saved config
    split = embed_lib.embed_split(
        run.embed_fn(), InputOptions.from_config(run.cfg), "tiny", "val", root=tiny_root
    )
    # The model's own forward pass on the same evaluation chunks of the first video.
    expected = []
    options = pipeline.InputOptions.from_config(run.cfg)
    for chunk in pipeline.make_eval_dataset(options, "tiny", "val", root=tiny_root):
        if int(chunk["chunk_index"][0]) == 0 and expected:
            break
        embs = run.model(chunk["frames"], training=False).numpy()[0]
        expected.append(embs[chunk["valid"][0].numpy()])
    expected = np.concatenate(expected)
    length, dim = split.seq_lens[0], run.cfg.model.embedding_size
    assert split.embs[0].shape == expected.shape == (length, dim)  # [T, D]
    np.testing.assert_allclose(split.embs[0], expected, rtol=1e-5, atol=1e-6)


def test_a_named_checkpoint_is_used_and_a_missing_one_is_an_error(trained_logdir):
    named = f"{trained_logdir}/checkpoints/ckpt-2"
    assert runs.open_run(trained_logdir, checkpoint=named).step == 2
    missing = runs.open_run(trained_logdir, checkpoint=f"{trained_logdir}/checkpoints/ckpt-7")
    with pytest.raises(errors.CheckpointError, match="ckpt-7 does not exist"):
        missing.embed_fn()


def test_open_run_names_a_missing_logdir(tmp_path):
    with pytest.raises(errors.BadValueError, match="does not exist"):
        runs.open_run(str(tmp_path / "nope"))


def test_checkpoint_step_reads_the_step_of_a_path():
    assert runs.checkpoint_step("/x/checkpoints/ckpt-1500") == 1500
    with pytest.raises(ValueError, match="cannot read the step"):
        runs.checkpoint_step("/x/checkpoints/model")
