"""The shots of a video: KTS's change points, then long shots cut so that every video gets a summary
(docs/video.md, "Shots").

KTS alone can leave shots longer than the whole summary budget (a single-take clip is one shot), and the knapsack
then keeps nothing. Two cuts prevent that:
1. a shot longer than `max_shot_seconds` is cut into the fewest equal parts (in sampled frames) that are short
   enough, at sampled-frame boundaries;
2. if still no shot fits the budget (int(ratio * n_frames) frames, as the knapsack counts), every shot longer than
   the budget is cut into the fewest near-equal parts that fit, at frames: the budget of a short clip can be
   shorter than the half second between two sampled frames, and a part that starts between two of them takes
   their scores as every frame does.
Each shot remembers the KTS shot it came from and whether it was cut.
"""
import math
from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from common.numbers import plural
from inference.video.decode import SAMPLES_PER_SECOND
from inference.video.shots import change_points, kts


@dataclass
class Shots:
    """Shots tiling the video: `change_points` [n, 2] first and last frame (inclusive), `kts_shot` [n] the index
    of the KTS shot each comes from, `cut` [n] whether it is a part of a longer KTS shot; `long_cut` how many KTS
    shots were cut for being longer than max_shot_seconds; `budget_cut` whether shots had to be cut to fit the
    summary's budget of `budget` frames."""
    change_points: np.ndarray
    kts_shot: np.ndarray
    cut: np.ndarray
    long_cut: int = 0
    budget_cut: bool = False
    budget: int = 0

    @property
    def n_frame_per_seg(self) -> np.ndarray:
        return self.change_points[:, 1] - self.change_points[:, 0] + 1

    @property
    def n_cut(self) -> int:
        """How many KTS shots were cut."""
        return len(np.unique(self.kts_shot[self.cut]))

    def cut_text(self, max_shot_seconds: float) -> str:
        """What was cut and why, e.g. "cut 2 KTS shots longer than 10 s: 2 KTS shots became 7 shots"; empty when
        KTS's shots were kept as they are."""
        if not self.n_cut:
            return ""
        reasons = []
        if self.long_cut:
            reasons.append(f"{plural(self.long_cut, 'KTS shot')} longer than {max_shot_seconds:g} s")
        if self.budget_cut:
            reasons.append(f"{'then ' * bool(reasons)}every shot longer than the summary's budget "
                           f"({plural(self.budget, 'frame')})")
        return (f"cut {', '.join(reasons)}: {plural(self.n_cut, 'KTS shot')} became "
                f"{plural(int(np.sum(self.cut)), 'shot')}")


def cut_long_shots(starts: list[int], n_samples: int, max_samples: int) -> tuple[list[int], list[int]]:
    """Shot starts (sampled-frame indices, 0 excluded) with every shot longer than `max_samples` cut into the fewest
    equal parts no longer; and for each resulting shot, the index of the shot of `starts` it comes from.

    Args:
        starts: KTS's shot starts, increasing, in (0, n_samples).
        n_samples: the number of sampled frames.
        max_samples: the longest shot allowed, in sampled frames (>= 1).
    Returns:
        (starts, origin): the new starts and, per new shot, its KTS shot's index.
    """
    bounds = [0, *starts, n_samples]
    new_starts, origin = [], []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        parts = math.ceil((b - a) / max_samples)
        new_starts.extend(a + round(i * (b - a) / parts) for i in range(parts))
        origin.extend([k] * parts)
    return new_starts[1:], origin


def split_frames(first: int, last: int, capacity: int) -> list[int]:
    """The first frames of the fewest near-equal parts (lengths differing by at most one frame) of at most
    `capacity` frames that shot [first, last] can be cut into."""
    length = last - first + 1
    parts = math.ceil(length / capacity)
    return [first + (i * length) // parts for i in range(parts)]


def fit_budget(shots: Shots, capacity: int) -> Shots:
    """`shots` unchanged when one fits in `capacity` frames, else with every longer shot cut into parts that fit."""
    if shots.n_frame_per_seg.min() <= capacity:
        return shots
    starts, kts_shot, cut = [], [], []
    for (first, last), origin, was_cut in zip(shots.change_points.tolist(), shots.kts_shot, shots.cut):
        parts = split_frames(first, last, capacity) if last - first + 1 > capacity else [first]
        starts.extend(parts)
        kts_shot.extend([origin] * len(parts))
        cut.extend([was_cut or len(parts) > 1] * len(parts))
    n_frames = int(shots.change_points[-1, 1]) + 1
    bounds = np.array([*starts, n_frames], dtype=np.int64)
    return Shots(np.stack((bounds[:-1], bounds[1:] - 1), axis=1), np.array(kts_shot), np.array(cut),
                 shots.long_cut, True, capacity)


def segment(features: np.ndarray, picks: np.ndarray, n_frames: int, max_shot_seconds: float, ratio: float,
            video: object) -> Shots:
    """The shots of a video: KTS, long shots cut, then cut to fit the budget if needed (module docstring).

    Args:
        features: [n_samples, d] features of the sampled frames.
        picks: [n_samples] their frame numbers.
        n_frames: the video's frame count.
        max_shot_seconds: the longest shot kept whole (at two sampled frames per second); inf for no limit.
        ratio: the summary's share of the frames (the knapsack's budget).
        video: named in the error when the budget holds no frame at all.
    Returns:
        The Shots.
    """
    capacity = int(n_frames * ratio)
    if capacity < 1:
        raise UserError(f"{video}: a summary of {ratio:g} of {n_frames} frames holds no frame: raise --summary_ratio "
                        f"to at least {math.ceil(1 / n_frames * 1000) / 1000:g}")
    max_samples = max(1, int(max_shot_seconds * SAMPLES_PER_SECOND)) if math.isfinite(max_shot_seconds) else None
    starts, origin = cut_long_shots(kts(features), len(features), max_samples or len(features))
    cps, _ = change_points(starts, picks, n_frames)
    origin = np.array(origin)
    counts = np.bincount(origin)
    shots = Shots(cps, origin, counts[origin] > 1, int(np.sum(counts > 1)))
    return fit_budget(shots, capacity)
