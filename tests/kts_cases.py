"""The inputs of the KTS tests: feature matrices [n, d] made by the recipes below, one per case name.

tests/golden/kts_cpd_auto.json holds, for each case, the change points of KTS's original code (li-plus/DSNet
src/kts, `cpd_auto(K, n - 1, 1)`) on these features with each row divided by its L2 norm + 1e-10 and
K = np.matmul(X, X.T), as DSNet's make_dataset.py computes them (in float32, or float64 for the float64 case).
"""
import numpy as np

from data.make_dataset import shot_features

SAMPLE_STEP = 15  # frames per sampled frame in data/make_dataset.py's videos


def shots(n: int, seed: int, noise: float = 0.3, dtype=np.float32) -> np.ndarray:
    """n sampled frames of a generated video (data/make_dataset.py: shots of 3 to 20 sampled frames, 1024-d sparse
    non-negative prototypes plus `noise` |N(0, 1)|)."""
    features = shot_features(n * SAMPLE_STEP, 1024, np.random.default_rng(seed), noise)[2]
    return features.astype(dtype)


def static(n: int, seed: int) -> np.ndarray:
    """A static video: n equal rows."""
    return np.repeat(shots(1, seed), n, axis=0)


def duplicates(n: int, seed: int) -> np.ndarray:
    """Shots whose rows are exact duplicates of each other (no noise)."""
    return shots(n, seed, noise=0.0)


def zero_row(n: int, seed: int, row: int) -> np.ndarray:
    """Shot features with one row of zeros (a black frame through a network without biases)."""
    features = shots(n, seed)
    features[row] = 0
    return features


def gaussian(n: int, seed: int, d: int) -> np.ndarray:
    """Standard normal features: negative values, no shot structure."""
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


CASES = {
    "frames_1": lambda: shots(1, 1),
    "frames_2": lambda: shots(2, 2),
    "frames_3": lambda: shots(3, 3),
    "shots_60": lambda: shots(60, 60),
    "shots_200": lambda: shots(200, 200),
    "shots_500": lambda: shots(500, 500),
    "shots_1100": lambda: shots(1100, 1100),
    "shots_2000": lambda: shots(2000, 2000),
    "shots_3000": lambda: shots(3000, 3000),
    "noisy_300": lambda: shots(300, 301, noise=1.0),
    "noisy_1100": lambda: shots(1100, 1101, noise=1.0),
    "float64_400": lambda: shots(400, 400, dtype=np.float64),
    "static_60": lambda: static(60, 7),
    "duplicates_150": lambda: duplicates(150, 150),
    "zero_row_100": lambda: zero_row(100, 100, 37),
    "gaussian_256_d16": lambda: gaussian(256, 256, 16),
}


def features(name: str) -> np.ndarray:
    """The features of case `name`."""
    return CASES[name]()
