"""Kernel temporal segmentation (KTS; Potapov et al., ECCV 2014) of a kernel matrix, exactly as its authors' code
computes it, much faster (docs/video.md, "Shots").

The benchmarks' change points come from the authors' `cpd_auto(K, n - 1, vmax=1)`: for every number m of change
points, the least sum of within-segment scatters I[m, n] (a dynamic programme over layers m = 0, 1, ... and segment
ends l, each I[m, l] the least I[m - 1, t] + J[t, l - 1] over the last segment's start t), then the m of least
I[m, n] / n + m / (2n) (log(n / m) + 1), then the segmentation that reaches it (the first minimum at every step). Their
code loops over m and l in Python, cubic in n.

This module computes the same float64 numbers in the same order (the scatters J: kts_scatters.py; each candidate
I[m - 1, t] + J[t, l - 1] as one addition; the costs as one division and one addition), so that every minimum sees
the same values and every tie goes the same way. What it skips, it proves it may skip, with bounds that hold for the
rounded numbers, not only in exact arithmetic:

- starts (kts_scatters.Scatters.layer): a block of starts whose least I[m - 1, .] plus least J[., l - 1] is not below
  the best candidate found for l cannot hold a smaller one;
- layers: none is computed once no later m can cost less than the best found. The least sum of scatters over all
  segmentations, of any number of segments, bounds every I[m, n] from below (in the same rounded additions); and for
  a few lambdas, the least sum of (scatter + lambda) over all segmentations, minus lambda times the segments, bounds
  I[m, n] within a rounding margin (Lagrangian duality), tightly near the optimum's m.
"""
import math

import numpy as np

from inference.video.kts_scatters import Scatters

LAMBDA_RATIO = 0.9  # between the lambdas of successive bounds
MAX_LAMBDAS = 12  # bounds added at once


def penalties(n: int) -> np.ndarray:
    """KTS's penalty of m = 0 .. n - 1 change points among n frames (vmax 1), in cost units (divided by n), computed
    as cpd_auto computes it, for the same rounding."""
    m = np.arange(1, n)
    out = np.zeros(n)
    out[1:] = (m / (2.0 * n)) * (np.log(float(n) / m) + 1)
    return out


def block_size(n: int) -> int:
    """Starts per block: about sqrt(n / 2), which balances the near tiles (n x 2 block) against the block bounds
    (n x n / block)."""
    return int(min(64, max(8, math.isqrt(n // 2))))


class CostBounds:
    """Lower bounds of KTS's cost for every number of change points (module docstring), from optimal partitions: with
    lambda = 0 (exact), and with lambdas tangent beyond an anchor m: KTS's marginal penalty at m, where the slope of
    the sums of scatters meets it at the optimum, then down by LAMBDA_RATIO (MAX_LAMBDAS of them)."""

    def __init__(self, scatters: Scatters, pen: np.ndarray):
        self.scatters, self.pen, self.n = scatters, pen, scatters.n
        self.anchor = -1  # the m the lambdas were last tangent beyond
        self.combined = np.full(self.n, -np.inf)
        self.later = self.suffix_min()

    def suffix_min(self) -> np.ndarray:
        """later[m]: the least bound of m or more change points (+inf past the last)."""
        return np.append(np.minimum.accumulate(self.combined[::-1])[::-1], np.inf)

    def tighten(self, anchor: int) -> None:
        """Add the bounds tangent beyond `anchor` (and, the first time, lambda = 0), all in one pass.

        With lambda = 0, I[m, n] is a sum of scatters added in the same order as the partition's (plus 0.0, which
        changes no value), so the partition bounds it exactly. Otherwise I[m] >= G(lambda) - lambda (m + 1) -
        margin, the margin covering the rounding of both sums (at most 2n additions each, of terms of total size at
        most n max|J| + lambda n).
        """
        n, pen = self.n, self.pen
        steps = n * (pen[anchor + 1] - pen[anchor]) * LAMBDA_RATIO ** np.arange(MAX_LAMBDAS)
        if self.anchor < 0:
            steps = np.r_[0.0, steps]
        self.anchor = anchor
        scale = n * self.scatters.largest()
        m = np.arange(n)
        for step, total in zip(steps, self.scatters.partition(steps)):
            margin = 8 * (2 * n + 4) * np.finfo(float).eps * (scale + step * n + abs(total)) + 1e-12 * n if step else 0
            self.combined = np.maximum(self.combined, (total - step * (m + 1) - margin) / float(n) + pen)
        self.later = self.suffix_min()


class Programme:
    """KTS's dynamic programme on one n x n kernel (n >= 2): `run` computes the layers until no later one can cost
    less, `extend` more of them; `sums[m]` is then the least sum of scatters I[m, n] and `costs[m]` KTS's cost of every
    m computed, `chosen` the m of least cost (the first), and `starts(m)` the segmentation that reaches I[m, n].

    Memory: the scatters, 8 n^2 bytes (and, while they are computed, the kernel's double cumulative sum, n^2 in its
    dtype; kept with `keep_sums`), and one float64 row of n per layer.
    """

    def __init__(self, kernel: np.ndarray, keep_sums: bool = False):
        n = len(kernel)
        self.n, self.pen = n, penalties(n)
        self.scatters = Scatters(kernel, block_size(n), keep_sums)
        self.layers = [self.scatters.first_layer()]
        self.costs = [self.layers[0][n - 1] / float(n) + self.pen[0]]
        self.chosen = 0

    @property
    def sums(self) -> np.ndarray:
        return np.array([layer[self.n - 1] for layer in self.layers])

    def next_layer(self) -> None:
        """Layer m = len(layers): I[m, l] from I[m - 1, t], t >= m; its cost, and `chosen` if it costs less (strictly:
        np.argmin keeps the first of equal costs)."""
        n, m = self.n, len(self.layers)
        previous = np.full(n, np.inf)
        previous[m:] = self.layers[-1][m - 1:n - 1]
        self.layers.append(self.scatters.layer(previous))
        self.costs.append(self.layers[-1][n - 1] / float(n) + self.pen[m])
        if self.costs[-1] < self.costs[self.chosen]:
            self.chosen = m

    def run(self) -> None:
        """The layers until no later one can cost less than the best (module docstring); the bounds are made once the
        layers have passed the best so far, again whenever a later one improves on it."""
        bounds = CostBounds(self.scatters, self.pen)
        while len(self.layers) < self.n:
            if self.chosen < len(self.layers) - 1:
                if bounds.anchor != self.chosen:
                    bounds.tighten(self.chosen)
                if bounds.later[len(self.layers)] >= self.costs[self.chosen]:
                    break
            self.next_layer()

    def extend(self, m: int) -> None:
        """The layers up to m change points (at most n - 1), whether they can cost less or not."""
        while len(self.layers) <= min(m, self.n - 1):
            self.next_layer()

    def cost(self, starts: list[int]) -> float:
        """KTS's cost of any segmentation (its starts), with these scatters: to compare another's with the optimum."""
        edges = [0, *starts, self.n]
        total = sum(float(self.scatters.row(b - 1, a, a + 1)[0]) for a, b in zip(edges[:-1], edges[1:]))
        return total / self.n + float(self.pen[len(starts)])

    def starts(self, m: int) -> list[int]:
        """The segmentation of I[m, n], backtracked as cpd_nonlin does: at each step the first start of least
        I[k - 1, t] + J[t, end - 1]."""
        starts, end = [], self.n
        for k in range(m, 0, -1):
            candidates = self.scatters.row(end - 1, k, end) + self.layers[k - 1][k - 1:end - 1]
            end = k + int(np.argmin(candidates))
            starts.append(end)
        return starts[::-1]


def kts_kernel(kernel: np.ndarray) -> list[int]:
    """The change points (frames where a segment starts, increasing, 0 excluded) that KTS's
    `cpd_auto(kernel, n - 1, vmax=1)` returns for the n x n kernel matrix, exactly (module docstring)."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kts_kernel: a square kernel matrix is needed, not {kernel.shape}")
    if len(kernel) < 2:
        return []
    programme = Programme(kernel)
    programme.run()
    return programme.starts(programme.chosen)
