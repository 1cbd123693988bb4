"""Model selection without ground truth (docs/method.md, "Model selection"): which epoch of a run, which sigma of a
split. Training imports the epoch window from here to checkpoint the epoch this selection will pick."""
from collections.abc import Iterable, Mapping

import numpy as np

START_EPOCH, LAST_EPOCH = 20, 400  # the lowest loss is taken over epochs 20..399
MAX_IMPROVEMENT = 1.5  # a larger improvement overshoots sigma and counts as 0


def selection_window(n_epochs: int) -> range:
    """Epochs among which model selection takes the lowest loss: 20..399, or all of them for a run of <= 20 epochs
    (where the reference's window is empty)."""
    return range(START_EPOCH, min(n_epochs, LAST_EPOCH)) if n_epochs > START_EPOCH else range(n_epochs)


def select_epoch(losses: list[float]) -> int:
    """The first epoch with the lowest loss in the selection window of a run with these per-epoch losses."""
    window = selection_window(len(losses))
    return window[int(np.argmin(np.asarray(losses)[window.start:window.stop]))]


def mean_score(scores: Mapping[str, np.ndarray], keys: Iterable[str]) -> float:
    """Mean over the videos `keys` of each video's mean score."""
    return np.array([np.mean(scores[key]) for key in keys]).mean()


def improvement(untrained: float, trained: float, sigma: float) -> float:
    """|m(e*) - m(-1)| / |sigma - m(-1)| of the mean scores before training and at the selected epoch (inf or NaN on
    0 / 0); above MAX_IMPROVEMENT it is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.float64(abs(trained - untrained)) / np.float64(abs(sigma - untrained))
    return 0.0 if value > MAX_IMPROVEMENT else float(value)
