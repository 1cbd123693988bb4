"""0/1 knapsack over video shots (docs/method.md, "Evaluation"), vectorised with numpy, batched over value vectors.

The selections are exactly those of the textbook recurrence the reference fills cell by cell:

    K[0][w] = K[i][0] = 0
    K[i][w] = max(v[i-1] + K[i-1][w - l[i-1]], K[i-1][w])   if l[i-1] <= w, else K[i-1][w]
    from i = n down to 1: shot i-1 is selected iff K[i][w] != K[i-1][w], then w -= l[i-1]

Every cell is computed with the same float64 addition as the reference (v + K[i-1][w - l], in that order), so the
comparisons, and therefore the tie-breaking, come out identical. Instead of the reference's table of values, only
one row of values per value vector is kept, plus the table of "K[i][w] != K[i-1][w]" flags the reconstruction
reads (finite values: that flag is exactly v + K[i-1][w - l] > K[i-1][w]).

Items of length 0 (Mr.HiSum has shots with a repeated boundary) follow the same recurrence, with column w = 0 kept
at 0 as the textbook table keeps it: such an item is taken wherever w >= 1 and its value raises K.

Two exact shortcuts skip cells that cannot matter. With L_i the total length of the first i shots and L_n of all:
- for w >= L_i every one of the first i shots fits (w >= L_i + 1 when one of them has length 0: it needs w >= 1
  left), so row i is the same at every w >= min(W, L_i + z_i), z_i = 1 if one of the first i has length 0, else 0:
  it is computed up to hi_i = min(W, L_i + z_i) and read there for larger w;
- the reconstruction at row i only visits w >= W - (L_n - L_i), and row i at w only reads row i-1 at w and
  w - l_i, so row i is computed from lo_i = max(0, min(W - (L_n - L_i), hi_i)) on.
"""
import numpy as np

CHUNK_CELLS = 1 << 16  # value-row cells processed together: keeps the working rows in the CPU cache


def knapsack(capacity: int, lengths: list[int], values: list[float]) -> list[int]:
    """The 0/1 knapsack of one value vector.

    Args:
        capacity: the budget (frames).
        lengths: each item's (shot's) length, non-negative integers.
        values: each item's value (shot score).
    Returns:
        The indices of the selected items, ascending, exactly as the textbook recurrence selects them.
    """
    selected = knapsack_batch(capacity, lengths, np.asarray(values, dtype=np.float64)[None, :])[0]
    return np.flatnonzero(selected).tolist()


def knapsack_batch(capacity: int, lengths: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The 0/1 knapsack of many value vectors sharing their items' lengths and the capacity.

    Args:
        capacity: the budget.
        lengths: [n] non-negative integer lengths.
        values: [B, n] finite values (the reference's results are undefined otherwise).
    Returns:
        The selected-item mask [B, n].
    """
    capacity = int(capacity)
    lengths = np.asarray(lengths, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or lengths.ndim != 1 or values.shape[1] != len(lengths):
        raise ValueError(f"values must be [B, {len(lengths)}] for {len(lengths)} lengths, got shape {values.shape}")
    if (lengths < 0).any():
        raise ValueError("item lengths must be non-negative")
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    if not np.isfinite(values).all():
        raise ValueError("item values must be finite")
    selected = np.zeros(values.shape, dtype=bool)
    if capacity == 0 or len(lengths) == 0:
        return selected
    bounds = _column_bounds(capacity, lengths)
    rows = max(1, CHUNK_CELLS // (capacity + 1))
    for start in range(0, len(values), rows):
        selected[start:start + rows] = _solve(capacity, lengths, values[start:start + rows], bounds)
    return selected


def _column_bounds(capacity, lengths):
    """(lo_i, hi_i) per item i (1-based row i of the table): the columns of row i that are ever read."""
    prefix = np.cumsum(lengths)
    hi = np.minimum(capacity, prefix + (np.cumsum(lengths == 0) > 0))
    lo = np.maximum(0, np.minimum(capacity - (prefix[-1] - prefix), hi))
    return list(zip(lo.tolist(), hi.tolist()))


def _solve(capacity, lengths, values, bounds):
    """Selected mask for a chunk of value vectors: fill the rows, then walk back from w = capacity."""
    n_rows, n_items = values.shape
    row = np.zeros((n_rows, capacity + 1))
    candidate = np.empty((n_rows, capacity + 1))
    taken = np.zeros((n_items, n_rows, capacity + 1), dtype=bool)
    filled = 0  # row[:, :filled + 1] holds the previous table row; beyond it the row is constant
    for i, (length, (lo, hi)) in enumerate(zip(lengths.tolist(), bounds)):
        if hi > filled:
            row[:, filled + 1:hi + 1] = row[:, filled:filled + 1]
            filled = hi
        start = max(length, lo, 1)  # column 0 stays 0
        if start > hi:
            continue
        prev = row[:, start:hi + 1]
        cand = candidate[:, :hi + 1 - start]
        np.add(values[:, i:i + 1], row[:, start - length:hi + 1 - length], out=cand)
        np.greater(cand, prev, out=taken[i, :, start:hi + 1])
        np.maximum(prev, cand, out=prev)
    selected = np.zeros((n_rows, n_items), dtype=bool)
    w = np.full(n_rows, capacity)
    index = np.arange(n_rows)
    for i in range(n_items - 1, -1, -1):
        hit = taken[i, index, np.minimum(w, bounds[i][1])]
        selected[:, i] = hit
        w -= hit * lengths[i]
    return selected
