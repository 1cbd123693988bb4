"""inference/video/segmentation.py: long KTS shots cut into the fewest equal parts, then to fit the budget."""
import numpy as np
import pytest

pytest.importorskip("av", reason="av is not installed (the video path: requirements-video.txt)")

from inference.video.segmentation import Shots, cut_long_shots, fit_budget, segment, split_frames


def test_long_shots_are_cut_into_the_fewest_equal_parts():
    # shots of 5, 21 and 4 sampled frames, at most 10: the 21 becomes 7 + 7 + 7, the others stay
    assert cut_long_shots([5, 26], 30, 10) == ([5, 12, 19, 26], [0, 1, 1, 1, 2])
    assert cut_long_shots([], 25, 10) == ([8, 17], [0, 0, 0])  # 8 + 9 + 8
    assert cut_long_shots([], 10, 10) == ([], [0])
    assert cut_long_shots([3], 4, 1) == ([1, 2, 3], [0, 0, 0, 1])


def test_split_frames_gives_the_fewest_parts_that_fit():
    assert split_frames(0, 249, 37) == [0, 35, 71, 107, 142, 178, 214]  # 7 parts of 35 or 36 frames
    assert split_frames(100, 129, 4) == [100, 103, 107, 111, 115, 118, 122, 126]
    assert split_frames(0, 9, 10) == [0]


def test_fit_budget_cuts_only_when_no_shot_fits():
    shots = Shots(np.array([[0, 59], [60, 89]]), np.array([0, 1]), np.array([False, False]))
    assert fit_budget(shots, 30) is shots
    fitted = fit_budget(shots, 25)
    assert fitted.change_points.tolist() == [[0, 19], [20, 39], [40, 59], [60, 74], [75, 89]]
    assert fitted.kts_shot.tolist() == [0, 0, 0, 1, 1] and fitted.cut.all() and fitted.budget_cut
    assert fitted.n_cut == 2


def test_no_limit_keeps_the_kts_shots():
    """A static video of 60 sampled frames is one KTS shot: kept whole with --max_shot_seconds inf, cut into 3 parts
    with 10 s."""
    features = np.ones((60, 16), dtype=np.float32)
    picks = np.arange(60) * 15
    assert segment(features, picks, 900, float("inf"), 1.0, "v").change_points.tolist() == [[0, 899]]
    assert len(segment(features, picks, 900, 10.0, 1.0, "v").change_points) == 3


def test_the_printout_says_which_cut_was_made():
    """Only the cut that happened is named: a 1-second clip is never cut for being longer than 10 s."""
    features = np.ones((60, 16), dtype=np.float32)
    picks = np.arange(60) * 15
    assert segment(features, picks, 900, float("inf"), 1.0, "v").cut_text(float("inf")) == ""
    assert segment(features, picks, 900, 10.0, 1.0, "v").cut_text(10.0) == \
        "cut 1 KTS shot longer than 10 s: 1 KTS shot became 3 shots"
    assert segment(features[:2], picks[:2], 30, 10.0, 0.15, "v").cut_text(10.0) == \
        "cut every shot longer than the summary's budget (4 frames): 1 KTS shot became 8 shots"
    assert segment(features, picks, 900, 10.0, 0.05, "v").cut_text(10.0) == \
        "cut 1 KTS shot longer than 10 s, then every shot longer than the summary's budget (45 frames): 1 KTS " \
        "shot became 21 shots"
