"""Shots by kernel temporal segmentation (KTS) of the sampled frames' features, with ruptures.

KTS (Potapov et al., ECCV 2014; the benchmark datasets' shots come from it) works on L2-normalised features with a
linear kernel: a segmentation with m change points costs its within-segment scatter plus the penalty
vmax * m / 2 * (log(N / m) + 1)  (N sampled frames, vmax = 1 for unit vectors), and the m of least total cost wins.
ruptures' KernelCPD finds the segmentation of least scatter + pen * m exactly (PELT, linear memory). Here it runs
for a geometric sweep of `pen` spanning KTS's marginal penalties, from many change points to few, and of the
segmentations found, the one of least KTS cost is kept. Small penalties (many change points) are the fast runs;
the sweep stops once the KTS cost has risen twice in a row past its minimum.
"""
import math

import numpy as np
import ruptures

MIN_SHOT = 2  # sampled frames (one second): no shot is shorter
VMAX = 1.0
PEN_RATIO = 1.5  # between consecutive penalties of the sweep


def normalise(features):
    """Rows scaled to unit L2 norm (float64, as ruptures computes). With fewer rows than columns the rows are first
    expressed in an orthonormal basis of their span: every inner product, hence every cost, is unchanged, and the
    kernel gets cheaper."""
    x = np.array(features, dtype=np.float64)  # one copy, scaled in place: long videos hold no second one
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if x.shape[0] < x.shape[1]:
        u, s, _ = np.linalg.svd(x, full_matrices=False)
        x = u * s
    return np.ascontiguousarray(x)


def kts_penalty(m, n, vmax=VMAX):
    """KTS's penalty for m change points among n samples (its cpd_auto's, times n)."""
    return vmax * m / 2 * (math.log(n / m) + 1) if m else 0.0


def penalty_sweep(n, min_size, vmax=VMAX):
    """Increasing penalties from KTS's marginal cost of a change point with the shortest shots, vmax/2 log(min_size),
    to its average cost of a single change point, vmax/2 (log n + 1)."""
    low, high = vmax / 2 * math.log(max(min_size, 2)), vmax / 2 * (math.log(n) + 1)
    steps = max(1, math.ceil(math.log(high / low) / math.log(PEN_RATIO)))
    return [low * (high / low) ** (k / steps) for k in range(steps + 1)]


def shot_starts(features, min_size=MIN_SHOT, vmax=VMAX):
    """Indices (into the sampled frames) where a new shot begins, 0 excluded, in increasing order."""
    n = len(features)
    if n < 2 * min_size:
        return []
    detector = ruptures.KernelCPD(kernel="linear", min_size=min_size).fit(normalise(features))
    best_cost, best = detector.cost.sum_of_costs([n]), []
    rises = 0
    for pen in penalty_sweep(n, min_size, vmax):
        bkps = detector.predict(pen=pen)
        cost = detector.cost.sum_of_costs(bkps) + kts_penalty(len(bkps) - 1, n, vmax)
        if cost < best_cost:
            best_cost, best, rises = cost, [int(b) for b in bkps[:-1]], 0
        elif best:
            rises += 1
        if len(bkps) == 1 or rises == 2:
            break
    return best


def change_points(starts, picks, n_frames):
    """Shots as [first, last] frame numbers (inclusive, 0-based) covering 0..n_frames-1, and their lengths.

    A shot starting at sampled frame k starts at frame picks[k]; the first shot starts at frame 0 and the last one
    ends at the video's last frame.
    """
    bounds = np.concatenate(([0], np.asarray(picks, dtype=np.int64)[list(starts)], [n_frames])).astype(np.int64)
    cps = np.stack((bounds[:-1], bounds[1:] - 1), axis=1)
    return cps, bounds[1:] - bounds[:-1]
