"""Mr.HiSum's evaluation (Sul et al., NeurIPS 2023; docs/mrhisum.md), per video and over a set of videos, exactly as
their `Solver.evaluate` computes it, plus the rank correlation of the scores with the ground-truth importance.

One row of a Mr.HiSum video is one second (YouTube-8M frame features). Per video, from the model's per-row scores:

- **F1** of the 15% key-shot summary against `gt_summary`: a shot (s, e) (a row of `change_points`) scores the mean
  of rows s..e, e included, and weighs e - s rows; the 0/1 knapsack (evaluation/knapsack_dp.py, the same
  recurrence as theirs) fills floor(0.15 x T) rows; the summary is the concatenation of each shot's e - s rows;
  F1 = 2PR / (P + R) x 100 with P = |S & G| / sum(S + 1e-8) and R = |S & G| / sum(G + 1e-8), the 1e-8 added to
  every element as their code adds it.
- **mAP@50 and mAP@15**: the rows are cut into 5-second clips (the last one partial); a clip's score is its mean
  row score; the positives are the top 50% (n // 2) or top 15% (int(0.15 n)) clips by ground-truth importance; the
  prediction is the softmax over the clips of their predicted means; `sklearn.metrics.average_precision_score`.
- **tau, rho**: Kendall's tau and Spearman's rho between the scores and `gtscore` (not in their code).

Their mAP is computed in float32 by torch, and float32 rounding decides which near-equal clips tie. One of its
steps is not the same on every machine: torch's float32 `exp` rounds differently on different CPUs (its vectorised
kernels), which merges different near-equal clips into ties (a softmax over 20 clips whose means lie within 1e-6
moved mAP@50 from 0.598 to 0.631 between two machines, their code unchanged). And their `argsort` leaves the order
of tied ground-truth clips unspecified. So this module computes their numbers by a rule that holds on every machine,
in numpy (docs/mrhisum.md, "Ties"):

- every float32 sum (a clip's rows, the softmax's exps) adds in the order of torch's own reduction
  (evaluation/torch_sum.py), which is the same on every x86 CPU, and a mean divides it in float32: bit for bit what
  their torch code computes;
- each exp of the softmax is correctly rounded to float32 (what their code gave on the machine where
  tests/golden/mrhisum.json was made);
- among ground-truth clips of equal mean, the earlier ranks higher (a stable sort).
"""
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.h5data import VideoGroup
from evaluation.knapsack_dp import knapsack_batch
from evaluation.torch_sum import float32_sum, row_sum

FIELDS = ("features", "gtscore", "change_points", "gt_summary")
METRICS = ("f_score", "map50", "map15", "tau", "rho")
CLIP_ROWS = 5  # uniform clips of 5 seconds for the highlight mAP
SUMMARY_SHARE = 0.15
TOP_SHARE = 0.15


@dataclass
class MrHiSumVideo:
    """The ground truth of one Mr.HiSum video: its rows, shots, gtscore and gt_summary, and the clip labels."""
    key: str
    n_rows: int
    change_points: np.ndarray  # [n_shots, 2] int64
    gtscore: np.ndarray  # [n_rows] float32
    gt_summary: np.ndarray  # [L] int64 (0/1)
    top50: list[int]
    top15: list[int]

    @property
    def shot_lengths(self) -> np.ndarray:
        return self.change_points[:, 1] - self.change_points[:, 0]


def read_video(video: VideoGroup) -> MrHiSumVideo:
    """The evaluation fields of one video group, checked: the number of rows comes from `features` (as their loader
    takes it; from `gtscore` in a file of labels only), `gtscore` has one value per row, the shots start within the
    rows, `gt_summary` (or `gtsummary`, as Mr.HiSum's README names it) is binary."""
    gtscore = video.field("gtscore")
    shape = video.shape("features") if video.has("features") else gtscore.shape
    if len(shape) not in (1, 2) or shape[0] < 1:
        raise UserError(f"{video.where('features')}: expected a [n_rows, width] array, got shape {shape}")
    n_rows = shape[0]
    if gtscore.shape != (n_rows,):
        raise UserError(f"{video.where('gtscore')}: expected {n_rows} values (one per row of features), "
                        f"got shape {gtscore.shape}")
    bounds = video.field("change_points")
    if bounds.ndim != 2 or bounds.shape[1:] != (2,) or len(bounds) == 0:
        raise UserError(f"{video.where('change_points')}: expected a non-empty [n_shots, 2] array, "
                        f"got shape {bounds.shape}")
    bounds = video.whole("change_points", bounds, 0, 2 ** 31)
    if (bounds[:, 1] < bounds[:, 0]).any():
        raise UserError(f"{video.where('change_points')}: a shot ends before it starts")
    if (bounds[:, 0] >= n_rows).any():
        raise UserError(f"{video.where('change_points')}: a shot starts after the last row ({n_rows - 1})")
    summary_name = "gt_summary" if video.has("gt_summary") or not video.has("gtsummary") else "gtsummary"
    gt_summary = video.field(summary_name).reshape(-1)
    if gt_summary.size == 0 or ((gt_summary != 0) & (gt_summary != 1)).any():
        raise UserError(f"{video.where(summary_name)}: expected a non-empty binary vector")
    gtscore = gtscore.astype(np.float32)  # their loader reads it as a float32 tensor
    clips = clip_means(gtscore)
    return MrHiSumVideo(video.key, n_rows, bounds, gtscore, gt_summary.astype(np.int64),
                        top_labels(clips, len(clips) // 2), top_labels(clips, int(len(clips) * TOP_SHARE)))


def summary_capacity(n_rows: int) -> int:
    """floor(0.15 x n_rows), the product taken in float32 as their torch code takes it."""
    return int(math.floor(np.float32(n_rows) * np.float32(SUMMARY_SHARE)))


def predicted_summary(scores: np.ndarray, video: MrHiSumVideo) -> np.ndarray:
    """The 0/1 summary of `scores` [n_rows]: the concatenation, shot by shot, of e - s ones (kept) or zeros."""
    scores = np.asarray(scores, dtype=np.float32)
    shot_scores = np.array([[float(scores[s:e + 1].mean()) for s, e in video.change_points.tolist()]])
    kept = knapsack_batch(summary_capacity(video.n_rows), video.shot_lengths, shot_scores)[0]
    return np.repeat(kept.astype(np.int64), video.shot_lengths)


def summary_f_score(summary: np.ndarray, gt_summary: np.ndarray) -> float:
    """Their F1 (0..100) of a 0/1 summary against the ground-truth summary, both zero-padded to the longer one."""
    length = max(len(summary), len(gt_summary))
    S, G = np.zeros(length, dtype=np.int64), np.zeros(length, dtype=np.int64)
    S[:len(summary)], G[:len(gt_summary)] = summary, gt_summary
    overlap = int((S & G).sum())
    # sum(S + 1e-8) in Python adds the elements one after the other: cumsum does the same additions
    precision = overlap / float(np.cumsum(S + 1e-8)[-1])
    recall = overlap / float(np.cumsum(G + 1e-8)[-1])
    if precision + recall == 0:
        return 0.0
    return (2 * precision * recall * 100) / (precision + recall)


def clip_means(values: np.ndarray) -> np.ndarray:
    """float32 means of consecutive CLIP_ROWS-row clips, the last one partial, each the float32 sum of its rows as
    torch adds them, divided by their number in float32."""
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    full = len(values) // CLIP_ROWS * CLIP_ROWS
    means = [row_sum(values[:full].reshape(-1, CLIP_ROWS).T) / np.float32(CLIP_ROWS)]  # all whole clips at once
    if full < len(values):
        means.append(np.array([float32_sum(values[full:]) / np.float32(len(values) - full)], dtype=np.float32))
    return np.concatenate(means).astype(np.float32)


def top_labels(clip_scores: np.ndarray, k: int) -> list[int]:
    """1 for the k clips of highest score, the earlier of equal ones first, else 0."""
    labels = np.zeros(len(clip_scores), dtype=int)
    labels[np.argsort(-np.asarray(clip_scores, dtype=np.float32), kind="stable")[:k]] = 1
    return labels.tolist()


def clip_softmax(clip_scores: np.ndarray) -> np.ndarray:
    """exp(c) / (sum(exp(c)) + 1e-7) over a video's clips in float32, each exp correctly rounded, their sum as torch
    adds them (module docstring)."""
    e = np.exp(np.asarray(clip_scores, dtype=np.float64)).astype(np.float32)
    return e / (float32_sum(e) + np.float32(1e-7))


def average_precision(labels: list[int], scores: np.ndarray) -> float:
    """sklearn's average precision; a video with no positive clip scores 0 (as sklearn >= 1.1 gives it)."""
    from sklearn.metrics import average_precision_score
    if not any(labels):
        return 0.0
    return float(average_precision_score(labels, scores))


def rank_correlation(scores: np.ndarray, gtscore: np.ndarray) -> tuple[float, float]:
    """(Kendall's tau-b, Spearman's rho) of the scores against gtscore; NaN when either is constant."""
    from scipy.stats import kendalltau, spearmanr
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        return float(kendalltau(scores, gtscore)[0]), float(spearmanr(scores, gtscore)[0])


def evaluate_video(scores: np.ndarray, video: MrHiSumVideo) -> dict[str, float]:
    """{"f_score", "map50", "map15", "tau", "rho"} of one video's per-row scores.

    Args:
        scores: the model's scores, one per row (second) of the video.
        video: the video's ground truth (read_video).
    Returns:
        F1 in percent, mAP@50 and mAP@15 in 0..1, tau and rho (NaN for constant scores).
    """
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    if len(scores) != video.n_rows:
        raise ValueError(f"{len(scores)} scores for the {video.n_rows} rows of {video.key}")
    f_score = summary_f_score(predicted_summary(scores, video), video.gt_summary)
    predicted = clip_softmax(clip_means(scores))
    tau, rho = rank_correlation(scores, video.gtscore)
    return {"f_score": f_score, "map50": average_precision(video.top50, predicted),
            "map15": average_precision(video.top15, predicted), "tau": tau, "rho": rho}


def mean_metrics(per_video: dict[str, dict[str, float]]) -> dict[str, float]:
    """The mean of each metric over the videos (their np.mean); tau and rho over the videos where they are defined."""
    out = {}
    for name in METRICS:
        values = np.array([video[name] for video in per_video.values()], dtype=np.float64)
        finite = values[np.isfinite(values)]
        out[name] = float(np.mean(finite)) if len(finite) else math.nan
    return out


def evaluate_scores(h5, path: Path, scores: dict[str, np.ndarray], source: Path) -> dict:
    """The report of a set of per-row score vectors {video: scores} (listed in `source`) against the dataset h5:
    {"videos": {video: metrics}, "f_score", "map50", "map15", "tau", "rho"} (means over the videos)."""
    per_video = {}
    for key, values in scores.items():
        video = read_video(VideoGroup(h5, path, key, source))
        if len(values) != video.n_rows:
            raise UserError(f"{source}: {key} has {len(values)} scores, expected {video.n_rows} (one per row of "
                            f"{key}/features in {path})")
        per_video[key] = evaluate_video(values, video)
    return {"videos": per_video, **mean_metrics(per_video)}
