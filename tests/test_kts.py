"""inference/video/kts.py, kts_windows.py and shots.kts: the change points of KTS's original code, exactly.

The golden change points (tests/golden/kts_cpd_auto.json) were computed by the original code on the inputs of
tests/kts_cases.py; another CPU's matrix product can differ in the last bits, so each golden answer is also checked
to survive features moved by about ten float32 ulps. Inputs full of exact ties (rows of one value, few distinct rows)
are checked against the programme computed in full, every layer and every start, on the same kernel.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from inference.video.kts import Programme, kts_kernel, penalties
from inference.video.kts_scatters import CumulativeSums
from inference.video.kts_windows import kts_in_windows
from inference.video.shots import EXACT_FRAMES, kts, linear_kernel, unit_rows
from tests.kts_cases import CASES, features, shots

GOLDEN = json.loads((Path(__file__).parent / "golden" / "kts_cpd_auto.json").read_text())["change_points"]
LONG = {"shots_2000", "shots_3000"}  # about 3 s or more on 2 cores
CASE_PARAMS = [pytest.param(name, marks=pytest.mark.slow) if name in LONG else name for name in CASES]
pytestmark = pytest.mark.numeric  # CI runs these under the AVX2 kernels of numpy and OpenBLAS too


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_change_points_are_the_original_codes(name):
    assert kts(features(name)) == GOLDEN[name]


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_golden_answers_are_not_near_ties(name):
    """Every feature moved by 1e-6 of its value (about ten float32 ulps, more than the last-bit differences between
    two CPUs' matrix products): the same change points."""
    x = features(name)
    moved = (x * (1 + 1e-6 * np.random.default_rng(0).standard_normal(x.shape))).astype(x.dtype)
    assert kts(moved) == GOLDEN[name]


def full_programme(kernel: np.ndarray) -> list[int]:
    """cpd_auto(kernel, n - 1, 1) by its definition, every layer and every start computed: I[m, l] the least
    I[m - 1, t] + J[t, l - 1] over t in [m, l), the m of least I[m, n] / n + penalty, the first least start at each
    step back."""
    n = len(kernel)
    scatters = np.full((n, n), np.inf)  # [t, c]
    sums = CumulativeSums(kernel)
    for c in range(n):
        row = np.empty((1, c + 1))
        sums.scatters(c, c + 1, row)
        scatters[:, c][:c + 1] = row[0]
    least = np.full((n, n + 1), np.inf)
    least[0, 1:] = scatters[0]
    for m in range(1, n):
        for end in range(m + 1, n + 1):
            least[m, end] = np.min(least[m - 1, m:end] + scatters[m:end, end - 1])
    chosen = int(np.argmin(least[:, n] / float(n) + penalties(n)))
    starts, end = [], n
    for k in range(chosen, 0, -1):
        end = k + int(np.argmin(least[k - 1, k:end] + scatters[k:end, end - 1]))
        starts.append(end)
    return starts[::-1]


def tied_features(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Features whose kernels are full of exact ties."""
    if kind == "signs":  # one dimension: unit rows are +1 or -1
        return rng.choice([-1.0, 1.0], (n, 1)).astype(np.float32)
    if kind == "few_rows":
        return rng.standard_normal((3, 8))[rng.integers(0, 3, n)].astype(np.float32)
    if kind == "binary":
        return (rng.random((n, 6)) < 0.5).astype(np.float32)
    if kind == "zero_rows":
        x = rng.standard_normal((n, 5)).astype(np.float32)
        x[rng.random(n) < 0.3] = 0
        return x
    if kind == "static":
        return np.repeat(rng.random((1, 64)), n, axis=0).astype(np.float32)
    return rng.choice([-1.0, 1.0], (n, 2))  # float64 signs


@pytest.mark.parametrize("kind", ["signs", "few_rows", "binary", "zero_rows", "static", "float64_signs"])
def test_ties_go_the_way_of_the_full_programme(kind):
    rng = np.random.default_rng(len(kind))
    for n in list(range(1, 12)) + [int(n) for n in rng.integers(12, 40, 12)]:
        kernel = linear_kernel(unit_rows(tied_features(kind, n, rng)))
        assert kts_kernel(kernel) == full_programme(kernel), n


def test_unit_rows_as_the_field_normalises():
    x = shots(20, 5)
    x[3] = 0
    rows = unit_rows(x)
    assert rows.dtype == np.float32 and not np.shares_memory(rows, x)
    assert not rows[3].any()
    assert np.allclose(np.linalg.norm(np.delete(rows, 3, axis=0), axis=1), 1, atol=1e-6)
    assert unit_rows(x.astype(np.float64)).dtype == np.float64
    assert unit_rows(x.astype(np.float16)).dtype == np.float32


@pytest.mark.slow
def test_windows_stay_close_to_the_exact_answer():
    """2,400 sampled frames in windows of 600: nearly the same change points, at nearly the same KTS cost."""
    rows = unit_rows(shots(2400, 24))
    programme = Programme(linear_kernel(rows))
    programme.run()
    exact = programme.starts(programme.chosen)
    windows = kts_in_windows(rows, width=600)
    assert len(set(exact) ^ set(windows)) <= 0.05 * len(exact)
    assert programme.cost(windows) <= programme.cost(exact) * 1.001


def test_kts_beyond_the_exact_length_runs_in_windows():
    x = shots(EXACT_FRAMES + 1, 1)
    starts = kts(x)
    assert starts == kts_in_windows(unit_rows(x))
    assert starts == sorted(set(starts)) and 0 < starts[0] and starts[-1] < len(x)
