"""Features and scores that are computed without error but mean nothing: (nearly) the same for every frame.

GoogLeNet weights of the right shapes but wrong values give pool5 features around 1e-13 that CA-SUM maps to one
score for every frame; the knapsack's choice then rests on rounding-sized differences, and the page and the plot
show a flat line. A still video can give such features too, so the commands warn (common.errors.warn) instead of
failing. A dataset h5 built from such features, or with `make_dataset_from_videos.py --random_backbone`, is warned
about where it is trained on and evaluated.
"""
from pathlib import Path

import h5py
import numpy as np

RELATIVE_SPREAD = 1e-4  # of the values' largest magnitude (at least 1): below it, differences are rounding noise
RANDOM_BACKBONE = "random"  # the `backbone` of a dataset file or summary.json made with --random_backbone


def spread(values: np.ndarray) -> float:
    """The largest range over the rows (frames) of any column of `values` [n] or [n, d]."""
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    return float((values.max(axis=0) - values.min(axis=0)).max()) if len(values) else 0.0


def near_constant(values: np.ndarray) -> bool:
    """Whether the rows of `values` [n] or [n, d] (n >= 2) are all (nearly) the same: no column spreads over more
    than RELATIVE_SPREAD of the largest magnitude (or of 1, for values below 1)."""
    values = np.asarray(values)
    if len(values) < 2:
        return False
    return spread(values) <= RELATIVE_SPREAD * max(1.0, float(np.abs(values).max()))


def warning(values: np.ndarray, subject: str, consequence: str) -> str | None:
    """`{subject} (nearly) the same at every frame (...): {consequence}` when `values` [n_frames, ...] are
    near_constant, else None."""
    if not near_constant(values):
        return None
    return (f"{subject} (nearly) the same at every frame (largest spread {spread(values):.2g}, largest value "
            f"{float(np.abs(values).max()):.2g}): {consequence}")


def feature_warning(features: np.ndarray, where: object) -> str | None:
    """The warning for the backbone's features [n_frames, 1024] of the video `where`, or None when they vary."""
    return warning(features, f"{where}: the features of its {len(features)} sampled frames are",
                   "backbone weights that are not torchvision's ImageNet GoogLeNet, or a still video; its scores and "
                   "summary mean nothing")


def score_warning(scores: np.ndarray, where: object) -> str | None:
    """The warning for CA-SUM's scores [n_frames] of the video `where`, or None when they vary."""
    return warning(scores, f"{where}: CA-SUM's scores are",
                   "which shots the summary keeps is decided by rounding-sized differences, not a choice; check "
                   "the checkpoint and the features")


def random_dataset_warning(path: Path) -> str | None:
    """The warning for a dataset file made with make_dataset_from_videos.py --random_backbone (its `backbone`
    attribute), else None; a file that cannot be read is left to the reader's own error."""
    try:
        with h5py.File(path, "r") as h5:
            if h5.attrs.get("backbone") != RANDOM_BACKBONE:
                return None
    except OSError:
        return None
    return (f"{path}: its features come from a GoogLeNet of random weights (make_dataset_from_videos.py "
            f"--random_backbone): what is trained or evaluated on it means nothing")


def flat_dataset_warning(features: list[np.ndarray], path: Path) -> str | None:
    """The warning for a dataset file some of whose videos' features [n_steps, d] are near_constant, else None."""
    flat = sum(near_constant(np.asarray(x)) for x in features)
    if not flat:
        return None
    return (f"{path}: the features of {flat} of these {len(features)} videos are (nearly) the same at every frame: "
            f"backbone weights that are not torchvision's ImageNet GoogLeNet, or still videos; training on them learns "
            f"nothing")
