"""torch's float32 sum of a vector, bit for bit, in numpy: Mr.HiSum's metrics are defined by the float32 rounding of
their torch code (evaluation/mrhisum.py), and evaluation must not need torch.

Written by hand to match torch's CPU reduction (ATen's SumKernel: `cascade_sum`), not for speed. On x86 it reduces a
contiguous float32 vector the same way whatever the CPU's vector extensions (checked against torch 2.14 under its
DEFAULT, AVX2 and AVX512 kernels: tests/test_mrhisum.py):

- a vector of fewer than LANES elements: four running sums over the elements k, k + 4, k + 8, ... (k = 0..3), the
  remainder added to the first, then the four added in order;
- a longer one: the same over blocks of LANES elements, lane by lane, then the elements after the last whole block
  one by one, then the LANES lanes one by one;
- the running sums cascade: every 2^p rows (p = max(4, ceil(log2 rows) // 4)) the first level is added into the
  second and cleared, and so on up to four levels, which bounds the rounding error of long sums.

That is torch's sum up to its parallel grain of 32,768 elements; a longer vector torch cuts among its threads, and
its sum depends on their number, where this one stays that of one pass. A Mr.HiSum video reaches it with 45 hours of
5-second clips.
"""
import numpy as np

LANES = 8  # float32 lanes of the vectors the reduction adds
ROWS_AT_ONCE = 4  # running sums kept side by side ("ilp_factor")
LEVELS = 4


def ceil_log2(x: int) -> int:
    return 0 if x <= 1 else int(x - 1).bit_length()


def cascade(rows: np.ndarray) -> np.ndarray:
    """The sum over the first axis of float32 `rows` [n, ...], cascaded in levels as torch adds them."""
    size, shape = len(rows), rows.shape[1:]
    power = max(4, ceil_log2(size) // LEVELS)
    step, mask = 1 << power, (1 << power) - 1
    acc = [np.zeros(shape, np.float32) for _ in range(LEVELS)]
    i = 0
    while i + step <= size:
        for row in rows[i:i + step]:
            acc[0] = acc[0] + row
        i += step
        for level in range(1, LEVELS):
            acc[level], acc[level - 1] = acc[level] + acc[level - 1], np.zeros(shape, np.float32)
            if i & (mask << (level * power)):
                break
    for row in rows[i:]:
        acc[0] = acc[0] + row
    for level in range(1, LEVELS):
        acc[0] = acc[0] + acc[level]
    return acc[0]


def row_sum(elements: np.ndarray) -> np.ndarray:
    """The sum over the first axis of float32 `elements` [n, ...]: ROWS_AT_ONCE running sums, then combined."""
    whole = len(elements) // ROWS_AT_ONCE
    shape = elements.shape[1:]
    if whole:
        partial = list(cascade(elements[:whole * ROWS_AT_ONCE].reshape(whole, ROWS_AT_ONCE, *shape)))
    else:
        partial = [np.zeros(shape, np.float32) for _ in range(ROWS_AT_ONCE)]
    for element in elements[whole * ROWS_AT_ONCE:]:
        partial[0] = partial[0] + element
    for k in range(1, ROWS_AT_ONCE):
        partial[0] = partial[0] + partial[k]
    return partial[0]


def float32_sum(values: np.ndarray) -> np.float32:
    """The float32 sum of a vector as torch's `tensor.sum()` computes it on the CPU (module docstring)."""
    x = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if len(x) < LANES:
        return np.float32(row_sum(x))
    blocks = len(x) // LANES
    lanes = row_sum(x[:blocks * LANES].reshape(blocks, LANES))
    total = np.float32(0)
    for value in (*x[blocks * LANES:], *lanes):
        total = np.float32(total + value)
    return total
