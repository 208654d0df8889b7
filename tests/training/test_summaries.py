"""Tests for the TensorBoard summaries: the config text / hparams, the alignment picture."""

import os

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from tcc import config as config_lib
from tcc import config_keys
from tcc.training import summaries


def test_the_config_is_written_as_text_and_hparams(tmp_path):
    cfg = config_lib.get_default_config()
    cfg.train.max_iters = 1234
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_config(writer, cfg, step=0)
    tags, text = set(), ""
    for name in os.listdir(tmp_path):
        for record in tf.data.TFRecordDataset(os.path.join(tmp_path, name)):
            for value in tf.compat.v1.Event.FromString(record.numpy()).summary.value:
                tags.add(value.tag)
                if value.tag == "config":
                    text = tf.make_ndarray(value.tensor).item().decode()
    assert "config" in tags
    assert "_hparams_/session_start_info" in tags
    assert "| `train.max_iters` | `1234` |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(config_keys.flatten_values(cfg))


def test_alignment_plot_has_a_colour_bar_frame_ticks_and_a_title():
    rng = np.random.default_rng(0)
    frames = (np.arange(10) * 7 + 3, np.arange(12) * 5)
    fig = summaries.alignment_plot(
        rng.normal(size=(10, 4)), rng.normal(size=(12, 4)), ("a", "b"), frames, step=300
    )
    try:
        assert len(fig.axes) == 2  # the matrix and its colour bar
        ax, bar = fig.axes
        assert "distance" in bar.get_ylabel()
        assert "step 300" in ax.get_title()
        fig.canvas.draw()
        ylabels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert ylabels and all(int(t) in frames[0] for t in ylabels)
        xticks = [t for t in ax.get_xticks() if 0 <= t < 12]
        assert all(float(t).is_integer() for t in xticks)
    finally:
        plt.close(fig)


def test_alignment_figure_is_an_rgba_image():
    image = summaries.alignment_figure(np.eye(5), np.eye(6)[:, :5], ("a", "b"))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4
