"""The model-selection picture (evaluation/curves.py): a title that says which number is an epoch and which an F1,
a loss axis with room above the window's curves and few enough labels, a note when earlier losses leave it, and the
F1 axis naming the reduction over the user summaries."""
from pathlib import Path

import numpy as np
import pytest

from evaluation import curves
from evaluation.experiment import Grid, RunFolders

matplotlib = pytest.importorskip("matplotlib")


def test_the_loss_axis_leaves_room_around_the_window():
    low, high = curves.loss_limits(np.array([0.01, 0.04]))
    assert low < 0.01 / 1.1 and high > 0.04 * 1.1  # more than the old factor of 1.1: no curve along the frame
    low, high = curves.loss_limits(np.array([-1.0, 1.0]))
    assert (low, high) == pytest.approx((-1.24, 1.24))


def test_a_panel_over_four_decades(tmp_path, monkeypatch):
    """Losses from 1 down to 1e-4 inside the window: at most 4 labelled ticks (they overlapped); the losses before the
    window, above the axis, are said to be; the title gives the best test epoch and its F1 apart."""
    from matplotlib.figure import Figure

    figures, save = [], Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda figure, *args, **kwargs: figures.append(figure) or save(
        figure, *args, **kwargs))
    epochs = 60
    runs = {(sigma, 0): RunFolders(sigma, 0, tmp_path, tmp_path) for sigma in (0.5, 0.6)}
    grid = Grid(tmp_path, "TVSum", 1, [0.5, 0.6], runs)
    losses = {0.5: 100 * np.logspace(0, -6, epochs), 0.6: np.full(epochs, 0.01)}
    data = {(sigma, 0): curves.RunCurves([0.0] * epochs, list(losses[sigma]), np.linspace(20, 40, epochs + 1))
            for sigma in (0.5, 0.6)}
    report = {"dataset": "TVSum", "eval_method": "avg",
              "splits": [{"split": 0, "sigma": 0.5, "epoch": 59, "f_score": 40.0, "best_epoch": 58,
                          "best_epoch_f_score": 39.67, "random_f_score": None, "human_f_score": None}],
              "improvements": [[1.0], [0.5]]}
    curves.plot_curves(grid, report, data, tmp_path / "c.png")
    assert Path(tmp_path / "c.png").stat().st_size > 0
    loss_axis = figures[0].axes[0]
    low, high = loss_axis.get_ylim()
    labels = [tick for tick in loss_axis.yaxis.get_majorticklocs() if low <= tick <= high]
    assert 2 <= len(labels) <= 4
    texts = [text.get_text() for text in loss_axis.texts]
    assert texts == ["\u2191 losses above the axis: before epoch 20"]
    assert loss_axis.get_title() == ("split 0: \u03c3=0.5, epoch 59, F1 40.00\nbest test epoch 58: F1 39.67 (looks at "
                                     "the test labels)")
    f_axis = figures[0].axes[1]
    assert f_axis.get_ylabel() == "test F1 (avg)" and f_axis.yaxis.label.get_color() == "black"
    curves.plot_curves(grid, {**report, "eval_method": "max"}, data, tmp_path / "c.max.png")
    f_axis = figures[1].axes[1]
    assert f_axis.get_ylabel() == "test F1 (max: not the paper's)" and f_axis.yaxis.label.get_color() == "red"
