"""Which shots make the summary: CA-SUM's scores of the sampled frames, the benchmark's frame and shot scores and
its 0/1 knapsack (evaluation/, docs/method.md "Evaluation"), with the budget set by --summary_ratio."""
import numpy as np

from evaluation.generate_summary import VideoShots


def select_shots(scores: np.ndarray, change_points: np.ndarray, n_frames: int, picks: np.ndarray,
                 ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """(shot scores [n_shots], selected mask [n_shots]) for the sampled frames' `scores`.

    A frame takes the score of the last sampled frame at or before it; a shot's score is its frames' mean; the
    knapsack keeps the shots of highest total score within int(ratio * n_frames) frames. segmentation.py has cut
    the shots so that at least one fits.
    """
    shots = VideoShots(change_points, n_frames, picks, ratio)
    scores = np.asarray(scores, dtype=np.float32)[None, :]
    return shots.shot_scores(scores)[0], shots.select(scores)[0].astype(bool)
