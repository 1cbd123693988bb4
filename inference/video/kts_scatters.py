"""The scatters of KTS's segments as its authors' calc_scatters computes them, and one layer of its dynamic programme
over them, with the starts it can prove useless skipped (kts.py; docs/video.md, "Shots").

calc_scatters: J[t, c] = K1[c + 1] - K1[t] - (D[c + 1] + D[t] - K2[c + 1, t] - K2[t, c + 1]) / (c - t + 1), the
scatter of frames t..c, with K1 the float64 cumulative sum of K's diagonal (from 0), K2 the double cumulative sum of K
(rows, then columns) in K's dtype, padded with a row and a column of 0, and D the diagonal of K2. The same operations
in the same order give the same float64 numbers: that is what makes the programme's choices those of the original.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

ROWS_AT_ONCE = 64  # scatter rows computed together (bounds the temporaries)
DENSE_SHARE = 0.2  # of the far blocks: above it, a layer looks at every start (cheaper than gathering the blocks)


class CumulativeSums:
    """K1, K2 and D of a kernel matrix (module docstring): enough to compute any scatter."""

    def __init__(self, kernel: np.ndarray):
        n = len(kernel)
        dtype = kernel.dtype if kernel.dtype in (np.float32, np.float64) else np.float64
        self.k1 = np.zeros(n + 1)
        np.cumsum(np.diagonal(kernel).astype(np.float64), out=self.k1[1:])
        self.k2 = np.zeros((n + 1, n + 1), dtype)
        self.k2[1, 1:] = kernel[0]
        for i in range(1, n):  # np.cumsum(kernel, axis=0) row after row: the same additions, without its strided walk
            np.add(self.k2[i, 1:], kernel[i], out=self.k2[i + 1, 1:])
        np.cumsum(self.k2[1:, 1:], axis=1, out=self.k2[1:, 1:])
        self.diagonal = np.diagonal(self.k2).astype(np.float64)

    def scatters(self, c0: int, c1: int, out: np.ndarray) -> None:
        """out[i, t] = J[t, c0 + i] for the segment ends c0 .. c1 - 1 and starts t < c1 (+inf where t > c0 + i)."""
        k1, k2, diagonal = self.k1, self.k2, self.diagonal
        numerator = diagonal[c0 + 1:c1 + 1, None] + diagonal[None, :c1]
        numerator -= k2[c0 + 1:c1 + 1, :c1]
        numerator -= k2[:c1, c0 + 1:c1 + 1].T
        numerator /= np.maximum(np.arange(c0 + 1, c1 + 1, dtype=np.float64)[:, None] - np.arange(c1), 1)
        np.subtract(k1[c0 + 1:c1 + 1, None], k1[None, :c1], out=out)
        out -= numerator
        for i in range(c1 - c0 - 1):  # segments that would end before they start
            out[i, c0 + i + 1:] = np.inf


class Scatters:
    """The scatter of every segment of the frames, and the layers of the dynamic programme over them.

    Stored transposed (row c, the segment's last frame; column t, its first), +inf where t > c, in a matrix padded to
    whole blocks of `block` starts, with `block` columns of +inf on the left: the near tiles of `layer` are then
    strided views of it: 8 n^2 bytes. With `keep_sums`, the cumulative sums are kept too (n^2 in the kernel's dtype):
    `release` can then free the matrix, and `row` computes what backtracking needs from them.
    """

    def __init__(self, kernel: np.ndarray, block: int, keep_sums: bool = False):
        n = len(kernel)
        self.n, self.block = n, block
        self.n_blocks = -(-n // block)
        padded = self.n_blocks * block
        sums = CumulativeSums(kernel)
        self.data = np.full((padded, block + padded), np.inf)
        for c0 in range(0, n, ROWS_AT_ONCE):
            c1 = min(n, c0 + ROWS_AT_ONCE)
            sums.scatters(c0, c1, self.data[c0:c1, block:block + c1])  # the starts after c1 stay +inf
        self.sums = sums if keep_sums else None
        row, item = self.data.strides[0], self.data.itemsize
        # tile r: rows r*block .. (r+1)*block - 1, starts (r-1)*block .. (r+1)*block - 1 (the block and the one before)
        self.tiles = as_strided(self.data, (self.n_blocks, block, 2 * block), (block * (row + item), row, item))
        self.runs = self.data.reshape(-1, block)  # run (n_blocks + 1) c + r + 1: J[r block .. r block + block - 1, c]
        lowest = self.data[:, block:].reshape(padded, self.n_blocks, block).min(axis=2)
        lowest[np.arange(self.n_blocks)[None, :] > np.arange(padded)[:, None] // block - 2] = np.inf  # the tiles'
        self.block_min = lowest
        self.far_blocks = np.count_nonzero(np.isfinite(lowest))
        self.crowded = True  # the first layers look at every start (see layer)

    def release(self) -> None:
        """Free the scatter matrix (built with `keep_sums`); `row` computes from the cumulative sums from now on,
        `layer` cannot run."""
        self.data = self.tiles = self.runs = self.block_min = None

    def row(self, c: int, first: int, stop: int) -> np.ndarray:
        """J[first:stop, c]: the scatters of the segments ending at frame c."""
        if self.data is not None:
            return self.data[c, self.block + first:self.block + stop]
        out = np.empty((1, c + 1))
        self.sums.scatters(c, c + 1, out)
        return out[0, first:stop]

    def first_layer(self) -> np.ndarray:
        """I[0, c + 1] = J[0, c]: one segment from the first frame to each c."""
        return self.data[:self.n, self.block].copy()

    def layer(self, previous: np.ndarray) -> np.ndarray:
        """out[c] = min over t of previous[t] + J[t, c] (previous[t] = +inf where t may not start the last segment).

        The tiles (the last segment at most one or two blocks long) give every end a candidate; then only the blocks
        of starts whose bound, the block's least `previous` plus its least J, is below it are looked at (rounded
        addition is monotone: no start in another block can give less). When most blocks were looked at in the
        layer before (few change points: long last segments), every start is, without the tiles and the gathering.
        """
        n, block, n_blocks = self.n, self.block, self.n_blocks
        prev = np.full(block + n_blocks * block, np.inf)
        prev[block:block + n] = previous
        prev_blocks = prev[block:].reshape(n_blocks, block)
        bound = prev_blocks.min(axis=1)[None, :] + self.block_min
        if self.crowded:
            best = self.dense(prev[block:])
            self.crowded = np.count_nonzero(bound < best[:, None]) > DENSE_SHARE * self.far_blocks
            return best[:n]
        item = prev.itemsize
        near = as_strided(prev, (n_blocks, 2 * block), (block * item, item))
        best = (self.tiles + near[:, None, :]).min(axis=2).ravel()
        ends, starts = np.nonzero(bound < best[:, None])
        if len(ends) > DENSE_SHARE * self.far_blocks:
            self.crowded = True
            return self.dense(prev[block:])[:n]
        if len(ends):
            found = (prev_blocks[starts] + self.runs[ends * (n_blocks + 1) + starts + 1]).min(axis=1)
            first = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
            targets = ends[first]
            best[targets] = np.minimum(best[targets], np.minimum.reduceat(found, first))
        return best[:n]

    def dense(self, prev: np.ndarray) -> np.ndarray:
        """The layer from every start of every end, a band of ends at a time (padded length)."""
        block, n = self.block, self.n
        best = np.full(self.n_blocks * block, np.inf)
        for c0 in range(0, n, ROWS_AT_ONCE):
            c1 = min(n, c0 + ROWS_AT_ONCE)
            best[c0:c1] = (self.data[c0:c1, block:block + c1] + prev[:c1]).min(axis=1)
        return best

    def partition(self, steps: np.ndarray) -> np.ndarray:
        """For each lambda of `steps`, the least sum over segments of (J + lambda), over every segmentation of the
        frames, whatever its number of segments (all lambdas in one pass over the segment ends)."""
        block, n = self.block, self.n
        least = np.empty((len(steps), n + 1))
        least[:, 0] = 0.0
        for end in range(1, n + 1):
            least[:, end] = (least[:, :end] + self.data[end - 1, block:block + end]).min(axis=1) + steps
        return least[:, n]

    def largest(self) -> float:
        """The largest |J| (for rounding margins)."""
        finite = self.data[np.isfinite(self.data)]
        return float(np.abs(finite).max()) if finite.size else 0.0
