"""Shots by kernel temporal segmentation (KTS) of the sampled frames' features, as the benchmarks made them
(docs/video.md, "Shots").

The benchmarks' change points come from KTS's original code called as the field's pipelines call it (DSNet's
make_dataset.py): every feature row divided by its L2 norm + 1e-10, the linear kernel K = X X^T, and
`cpd_auto(K, n - 1, vmax=1)`. `kts` does the same: the same normalisation, row by row in the features' precision
(float32 as a network gives them, float64 when given float64), the same matrix product, so that given the same
features both have the same K; then, up to EXACT_FRAMES sampled frames, exactly the change points of `cpd_auto`
(kts.py), and beyond, KTS in windows (kts_windows.py), whose scatters would not fit in memory whole.
"""
import numpy as np

from inference.video.kts import kts_kernel
from inference.video.kts_windows import kts_in_windows

EXACT_FRAMES = 3000  # sampled frames (25 minutes at two a second): exact KTS up to this length


def unit_rows(features: np.ndarray) -> np.ndarray:
    """A copy of `features` [n, d] whose rows are divided by their L2 norm + 1e-10, each as DSNet's pipeline divides
    its pool5 vectors (`feat /= np.linalg.norm(feat) + 1e-10`), in float32 unless `features` are float64."""
    dtype = np.float64 if np.asarray(features).dtype == np.float64 else np.float32
    rows = np.array(features, dtype=dtype, order="C")
    for row in rows:
        row /= np.linalg.norm(row) + 1e-10
    return rows


def linear_kernel(rows: np.ndarray) -> np.ndarray:
    """K = X X^T of unit rows, computed as the field's pipeline computes it (np.matmul, in the rows' precision)."""
    return np.matmul(rows, rows.T)


def kts(features: np.ndarray) -> list[int]:
    """The change points of the sampled frames' features [n, d] (indices where a shot starts, increasing, 0
    excluded): those of KTS's `cpd_auto(K, n - 1, 1)` on the unit rows' linear kernel, exactly up to EXACT_FRAMES
    frames; beyond, KTS in windows (kts_windows.py; its gap to the exact answer: docs/video.md)."""
    rows = unit_rows(features)
    if len(rows) <= EXACT_FRAMES:
        return kts_kernel(linear_kernel(rows))
    return kts_in_windows(rows)


def change_points(starts, picks, n_frames):
    """Shots as [first, last] frame numbers (inclusive, 0-based) covering 0..n_frames-1, and their lengths.

    A shot starting at sampled frame k starts at frame picks[k]; the first shot starts at frame 0 and the last one
    ends at the video's last frame.
    """
    bounds = np.concatenate(([0], np.asarray(picks, dtype=np.int64)[list(starts)], [n_frames])).astype(np.int64)
    cps = np.stack((bounds[:-1], bounds[1:] - 1), axis=1)
    return cps, bounds[1:] - bounds[:-1]
