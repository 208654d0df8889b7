"""Tests for tcc.evaluation.plots: the few-shot curve figure and PNG files."""

import io
import os

import matplotlib.image
import numpy as np
import pytest

from tcc.evaluation import few_shot_figure, few_shot_png, plot_few_shot_curves

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CURVES = {
    "tcc": {1: (0.70, 0.03), 2: (0.75, 0.02), 5: (0.80, 0.01), 10: (0.82, 0.0)},
    "supervised": {1: (0.40, 0.05), 5: (0.60, 0.04), 10: (0.70, float("nan"))},
}


def test_writes_non_empty_png_file_and_no_temporary(tmp_path):
    path = tmp_path / "eval" / "few_shot.png"
    assert plot_few_shot_curves(CURVES, str(path), title="pouring") == str(path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    assert os.listdir(path.parent) == ["few_shot.png"]


def test_png_bytes_decode_to_an_rgba_image():
    image = matplotlib.image.imread(io.BytesIO(few_shot_png(CURVES)), format="png")
    assert image.ndim == 3 and image.shape[2] == 4 and image.shape[0] > 100


def test_one_line_and_band_per_curve_with_curve_names_in_legend():
    axes = few_shot_figure(CURVES).axes[0]
    assert len(axes.get_lines()) == 2 and len(axes.collections) == 2
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["tcc", "supervised"]
    np.testing.assert_allclose(axes.get_lines()[0].get_ydata(), [0.70, 0.75, 0.80, 0.82])


def test_single_few_shot_result_is_accepted():
    axes = few_shot_figure(CURVES["tcc"]).axes[0]
    assert len(axes.get_lines()) == 1
    np.testing.assert_allclose(axes.get_lines()[0].get_xdata(), [1, 2, 5, 10])


@pytest.mark.parametrize("curves", [{}, {"tcc": {}}])
def test_empty_curves_raise(curves):
    with pytest.raises(ValueError, match="Nothing to plot"):
        few_shot_png(curves)
