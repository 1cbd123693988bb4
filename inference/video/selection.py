"""Which shots make the summary: CA-SUM's scores of the sampled frames, the benchmark's frame and shot scores and
its 0/1 knapsack (evaluation/, docs/method.md "Evaluation"), with the budget set by --summary_ratio."""
import numpy as np

from common.errors import UserError
from evaluation.generate_summary import VideoShots


def select_shots(scores, change_points, n_frames, picks, ratio, video):
    """(shot scores [n_shots], selected mask [n_shots]) for the sampled frames' `scores`.

    A frame takes the score of the last sampled frame at or before it; a shot's score is its frames' mean; the
    knapsack keeps the shots of highest total score within int(ratio * n_frames) frames. A summary with no shot
    (every shot longer than the budget) is an error naming the budget needed.
    """
    shots = VideoShots(change_points, n_frames, picks, ratio)
    scores = np.asarray(scores, dtype=np.float32)[None, :]
    shot_scores, selected = shots.shot_scores(scores)[0], shots.select(scores)[0].astype(bool)
    if not selected.any():
        shortest = int(shots.lengths.min())
        raise UserError(f"{video}: no shot fits in a summary of {ratio:g} of the video ({shots.capacity} of "
                        f"{n_frames} frames; the shortest shot has {shortest}): raise --summary_ratio to at least "
                        f"{np.ceil(shortest / n_frames * 1000) / 1000:g}")
    return shot_scores, selected
