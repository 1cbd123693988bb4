"""Key-shot summaries from sub-sampled frame scores (docs/method.md, "Evaluation"), for one score vector or many.

The reference builds one summary at a time; `VideoShots` does everything that depends only on the video (which
score each frame takes, the shots, the knapsack capacity) once, then summarises a whole batch of score vectors of
that video together (all the epochs of a run), with bit-identical results.
"""
import numpy as np

from common.datasets import SUMMARY_RATIO
from evaluation.knapsack_dp import knapsack_batch


class VideoShots:
    """The parts of one video a summary depends on, besides the scores: frames, shots and capacity."""

    def __init__(self, shot_bound: np.ndarray, n_frames: int, positions: np.ndarray, ratio: float = SUMMARY_RATIO):
        """
        Args:
            shot_bound: [n_shots, 2] first and last frame (inclusive) of each shot.
            n_frames: frames of the video.
            positions: the frame index of each score (the picks).
            ratio: the share of the frames a summary may hold (the protocol's 0.15 by default).
        """
        shot_bound = np.asarray(shot_bound)
        if shot_bound.ndim != 2 or shot_bound.shape[1] != 2 or len(shot_bound) == 0:
            raise ValueError(f"shot boundaries must be a non-empty [n_shots, 2] array, got shape {shot_bound.shape}")
        self.first = shot_bound[:, 0].astype(np.int64)
        self.last = shot_bound[:, 1].astype(np.int64)
        self.lengths = self.last - self.first + 1
        self.n_frames = int(n_frames)
        if self.n_frames <= 0:
            raise ValueError(f"n_frames must be positive, got {self.n_frames}")
        if (self.first < 0).any() or (self.lengths <= 0).any() or (self.first >= self.n_frames).any():
            raise ValueError(f"every shot must satisfy 0 <= first <= last and first < n_frames ({self.n_frames})")
        positions = np.asarray(positions)
        if positions.ndim != 1 or len(positions) == 0:
            raise ValueError(f"positions must be a non-empty 1-D array, got shape {positions.shape}")
        positions = positions.astype(np.int64)
        if (positions < 0).any():
            raise ValueError("positions must be non-negative frame indices")
        if positions[-1] != self.n_frames:
            positions = np.append(positions, self.n_frames)
        # frame_step[f] = i: frame f takes score i; ranges are assigned in order, so a later one wins, as in the
        # reference. -1 (frames no range covers) indexes the zero column appended to the scores.
        self.n_ranges = len(positions) - 1
        self.frame_step = np.full(self.n_frames, -1, dtype=np.int64)
        for i in range(self.n_ranges):
            self.frame_step[positions[i]:positions[i + 1]] = i
        self.summary_length = int(self.last[-1]) + 1
        self.capacity = int(self.summary_length * ratio)
        # segments [edges[j], edges[j+1]) of the summary vector between shot boundaries: shot k holds segments
        # segment_start[k] .. segment_stop[k] - 1, and a summary is constant on each (SummaryScorer counts per segment)
        first, stop = np.minimum(self.first, self.summary_length), np.minimum(self.last + 1, self.summary_length)
        self.segment_edges = np.unique(np.concatenate([[0, self.summary_length], first, stop]))
        self.segment_start = np.searchsorted(self.segment_edges, first)
        self.segment_stop = np.searchsorted(self.segment_edges, stop)

    def shot_scores(self, scores: np.ndarray) -> np.ndarray:
        """Shot scores [B, n_shots] (float64 holding the float32 means) of score vectors `scores` [B, n_scores].

        Score i covers frames [positions[i], positions[i+1]); a range with no score (i == n_scores) gets 0.
        """
        scores = np.asarray(scores)
        if scores.ndim != 2:
            raise ValueError(f"scores must be [B, n_scores], got shape {scores.shape}")
        if scores.shape[1] < self.n_ranges - 1:
            raise ValueError(f"{scores.shape[1]} scores for {self.n_ranges} frame ranges (positions)")
        padded = np.zeros((len(scores), scores.shape[1] + 1), dtype=np.float32)
        padded[:, :-1] = scores
        frames = padded[:, self.frame_step]
        out = np.empty((len(scores), len(self.first)))
        for k, (a, b) in enumerate(zip(self.first.tolist(), self.last.tolist())):
            out[:, k] = frames[:, a:b + 1].mean(axis=1)  # float32 pairwise mean, row by row as the 1-D call
        return out

    def select(self, scores: np.ndarray) -> np.ndarray:
        """Selected-shot mask [B, n_shots] of score vectors `scores` [B, n_scores]."""
        return knapsack_batch(self.capacity, self.lengths, self.shot_scores(scores))

    def summaries(self, selected: np.ndarray) -> np.ndarray:
        """Binary summaries [B, last frame of last shot + 1] (int8) from selected-shot masks [B, n_shots]."""
        selected = np.asarray(selected, dtype=bool)
        out = np.zeros((len(selected), self.summary_length), dtype=np.int8)
        for k, (a, b) in enumerate(zip(self.first.tolist(), self.last.tolist())):
            out[:, a:b + 1] |= selected[:, k:k + 1]
        return out


def generate_summary(all_shot_bound: list[np.ndarray], all_scores: list[np.ndarray], all_nframes: list[int],
                     all_positions: list[np.ndarray], ratio: float = SUMMARY_RATIO) -> list[np.ndarray]:
    """One binary summary per video, as the authors' function of the same name computes it.

    Args:
        all_shot_bound: per video, [n_shots, 2] first and last frame of each shot (change_points).
        all_scores: per video, the n_steps predicted scores.
        all_nframes: per video, its number of frames.
        all_positions: per video, the frame index of each score (picks).
        ratio: the share of the frames a summary may hold.
    Returns:
        Per video, an int8 vector over frames 0 .. last frame of the last shot, 1 on the selected shots.
    """
    summaries = []
    for shot_bound, scores, n_frames, positions in zip(all_shot_bound, all_scores, all_nframes, all_positions):
        video = VideoShots(shot_bound, n_frames, positions, ratio)
        scores = np.asarray(scores)[None, :]
        summaries.append(video.summaries(video.select(scores))[0])
    return summaries
