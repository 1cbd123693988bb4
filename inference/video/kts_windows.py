"""KTS of videos too long for its exact programme (whose scatters take 8 n^2 bytes): the same programme in windows,
joined by KTS's cost of the whole video (docs/video.md, "Shots").

The video's unit rows are cut into windows of at most about WINDOW sampled frames, each boundary moved to the
sharpest cut among the SNAP frames on either side of it (a cut that the whole video's KTS very likely has too).
Each window runs KTS's programme as a video of its own (kts.Programme: its own kernel and penalty), which gives its
least sums of scatters I_w[m] for every m within MARGIN of its own optimum. Then the numbers m_w are chosen that
minimise KTS's cost of the whole video, sum_w I_w[m_w] / N plus its penalty of sum_w m_w + (windows - 1) change
points among N frames (the boundaries count as change points), by min-plus convolution of the windows' curves, and
each window is segmented with its m_w.

What is approximate: the boundaries are imposed, each window's scatters are those of the window alone (KTS's
cumulative sums start again at each window), and a window's m_w stays within MARGIN of its own optimum. Its gap to
the exact answer, measured where both run: docs/video.md.
"""
import numpy as np

from inference.video.kts import Programme, penalties

WINDOW = 500  # sampled frames per window, at most (plus up to SNAP)
SNAP = 60  # sampled frames on either side of a nominal boundary searched for a cut
MARGIN = 0.25  # a window's m_w may go this share of its own optimum below or above it (at least MIN_MARGIN)
MIN_MARGIN = 8


def boundaries(rows: np.ndarray, width: int = WINDOW, snap: int = SNAP) -> list[int]:
    """Window starts after 0: equal windows of at most `width` frames, each start moved to the sharpest cut among the
    `snap` frames either side of it: the frame least like the one before it (the least inner product of unit rows)."""
    n = len(rows)
    count = -(-n // width)
    starts = []
    for i in range(1, count):
        nominal = round(i * n / count)
        first, stop = max(1, nominal - snap), min(n, nominal + snap)
        likeness = np.einsum("ij,ij->i", rows[first:stop], rows[first - 1:stop - 1])
        starts.append(first + int(np.argmin(likeness)))
    return starts


class Window:
    """One window's KTS programme (its own kernel and penalty), its layers computed until MARGIN past the best m so
    far, its scatters then freed: `sums` are its I[m] for m = `low` (MARGIN below that best) .. the last layer,
    `starts(m)` the segmentation of one.

    Unlike kts_kernel, it does not prove that no later m costs less (the bounds cost more than the layers of a small
    window): the best m found only centres the range offered to the whole video. One case is checked: when every frame
    alone costs less (frames so unlike each other that every one is a shot), the programme runs to its proven optimum.
    """

    def __init__(self, rows: np.ndarray):
        self.programme = programme = Programme(np.matmul(rows, rows.T), keep_sums=True)
        while len(programme.layers) < min(programme.n, self.reach(programme.chosen) + 1):
            programme.next_layer()
        if programme.cost(list(range(1, programme.n))) < programme.costs[programme.chosen]:
            programme.run()
            programme.extend(self.reach(programme.chosen))
        programme.scatters.release()
        self.low = max(0, 2 * programme.chosen - self.reach(programme.chosen))
        self.sums = programme.sums[self.low:]

    @staticmethod
    def reach(chosen: int) -> int:
        """The last m offered: MARGIN past `chosen` (at least MIN_MARGIN)."""
        return chosen + max(MIN_MARGIN, int(MARGIN * chosen))

    def starts(self, m: int) -> list[int]:
        return self.programme.starts(m)


def kts_in_windows(rows: np.ndarray, width: int = WINDOW) -> list[int]:
    """Change points of the unit rows [n, d] (module docstring): shot starts, increasing, 0 excluded."""
    n = len(rows)
    edges = [0, *boundaries(rows, width), n]
    windows = [Window(rows[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    # least total sum for each total m (offset by the windows' lows), and each window's share of it
    total, shares = windows[0].sums, []
    for window in windows[1:]:
        merged = np.full(len(total) + len(window.sums) - 1, np.inf)
        share = np.zeros(len(merged), dtype=np.int64)
        for i, value in enumerate(window.sums):
            candidate = total + value
            part = merged[i:i + len(total)]
            better = candidate < part
            part[better] = candidate[better]
            share[i:i + len(total)][better] = i
        total = merged
        shares.append(share)
    base = sum(w.low for w in windows) + len(windows) - 1
    costs = total / float(n) + penalties(n)[base + np.arange(len(total))]
    j = int(np.argmin(costs))
    picked = []
    for share in reversed(shares):
        picked.append(int(share[j]))
        j -= picked[-1]
    picked.append(j)
    change_points = []
    for a, window, i in zip(edges[:-1], windows, reversed(picked)):
        if a:
            change_points.append(a)
        change_points.extend(a + cp for cp in window.starts(window.low + i))
    return change_points
