"""F-score of summaries against user summaries, and rank correlation with frame annotations (docs/method.md,
"Evaluation") or, for SumMe, with the mean user summary (docs/evaluation.md, "Rank correlation").

`evaluate_summary` and `get_corr_coeff` keep the reference's names and numbers; `SummaryScorer` gives the same
F-scores for many summaries of one video at once; `summary_corr_coeff` is this project's SumMe correlation.

One deliberate difference: the reference returns NaN for a user whose summary is empty, or for an empty predicted
summary (0 / 0 in the precision or the recall); here that user's F-score is 0, so no NaN is ever written.
"""
import warnings

import numpy as np
from numpy.typing import ArrayLike

from common.datasets import EVAL_METHODS, SAMPLE_STEP

ANNOTATION_STEP = SAMPLE_STEP  # annotations are sub-sampled like the features: frames 0, 15, 30, ...


def f_measure(overlap: ArrayLike, n_selected: ArrayLike, n_user: ArrayLike, eval_method: str) -> np.ndarray:
    """Reduced F-score (0..100) per summary from counts: overlap [B, n_users], n_selected [B], n_user [n_users].

    Per user: P = overlap / n_selected, R = overlap / n_user, F = 2 * P * R * 100 / (P + R) in the reference's
    operation order, 0 when P + R == 0 (or when a count is 0, where the reference gives NaN). 'max' keeps the best
    user, 'avg' the mean over users, summed in user order as Python's sum does.
    """
    if eval_method not in EVAL_METHODS:
        raise ValueError(f"eval_method must be 'max' or 'avg', got {eval_method!r}")
    overlap = np.asarray(overlap, dtype=np.float64)
    n_selected = np.asarray(n_selected, dtype=np.float64)[:, None]
    n_user = np.asarray(n_user, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = overlap / n_selected
        recall = overlap / n_user
        f = 2 * precision * recall * 100 / (precision + recall)
    f[(precision + recall == 0) | (n_selected == 0) | (n_user == 0)] = 0.0
    if eval_method == "max":
        return f.max(axis=1)
    total = np.zeros(len(f))
    for user in range(f.shape[1]):
        total = total + f[:, user]
    return total / f.shape[1]


def int_user_summaries(user_summary: ArrayLike) -> np.ndarray:
    """User summaries as the reference compares them: ints (truncated), [n_users, n_frames]."""
    users = np.asarray(user_summary)
    if users.ndim != 2 or users.shape[0] == 0:
        raise ValueError(f"user summaries must be [n_users, n_frames], got shape {users.shape}")
    return users.astype(np.int64)


def evaluate_summary(predicted_summary: ArrayLike, user_summary: ArrayLike, eval_method: str) -> float:
    """F-score of one binary summary against the user summaries [n_users, n_frames]: 'max' (SumMe) or 'avg' (TVSum).

    Both are padded with zeros to the longer length; S & G is counted as S * (G & 1), the same for a binary S.
    Returns the F-score in 0..100; a ValueError for a summary that is not binary or user summaries not 2-D.
    """
    summary = np.asarray(predicted_summary).astype(np.int64)
    if summary.ndim != 1 or ((summary != 0) & (summary != 1)).any():
        raise ValueError("the predicted summary must be a binary vector")
    users = int_user_summaries(user_summary)
    common = min(len(summary), users.shape[1])
    overlap = (users[:, :common] & 1) @ summary[:common]
    return float(f_measure(overlap[None, :], [summary.sum()], users.sum(axis=1), eval_method)[0])


class SummaryScorer:
    """F-scores of many summaries of one video, counted per segment of its shots rather than per frame.

    A summary is the union of its selected shots, so it is constant on each segment between consecutive shot
    boundaries: the frame counts the F-score needs are sums over segments, exact integers either way.
    """

    def __init__(self, shots, user_summary: ArrayLike):
        """`shots` a VideoShots; `user_summary` [n_users, n_frames]."""
        users = int_user_summaries(user_summary)
        self.shots = shots
        edges = shots.segment_edges
        self.segment_lengths = np.diff(edges)
        cumulative = np.zeros((len(users), users.shape[1] + 1), dtype=np.int64)
        np.cumsum(users & 1, axis=1, out=cumulative[:, 1:])
        self.user_counts = np.diff(cumulative[:, np.minimum(edges, users.shape[1])], axis=1).T  # [n_segments, n_users]
        self.n_user = users.sum(axis=1)

    def f_scores(self, selected: ArrayLike, eval_method: str) -> np.ndarray:
        """Reduced F-score of the summary of each selected-shot mask in `selected` [B, n_shots].

        Integer arithmetic only (no BLAS: its threads would only compete with the other runs' processes).
        """
        selected = np.asarray(selected, dtype=np.int64).T
        # per segment, the number of selected shots holding it: +1 where a shot starts, -1 after it ends, cumsum
        change = np.zeros((len(self.segment_lengths) + 1, selected.shape[1]), dtype=np.int64)
        np.add.at(change, self.shots.segment_start, selected)
        np.subtract.at(change, self.shots.segment_stop, selected)
        in_summary = (np.cumsum(change[:-1], axis=0) > 0).T.astype(np.int64)
        return f_measure(in_summary @ self.user_counts, in_summary @ self.segment_lengths, self.n_user, eval_method)


def subsampled_length(n_frames: int) -> int:
    """Number of annotation values left after sub-sampling n_frames frames (frames 0, 15, 30, ...)."""
    return -(-n_frames // ANNOTATION_STEP)


def rank_correlation(pred: ArrayLike, true: ArrayLike, pred_ranks: np.ndarray | None = None) -> tuple[float, float]:
    """(Spearman's rho, Kendall's tau) of two score vectors, tau computed between their average ranks (tau-b, ties
    counted); NaN when either is constant, without scipy's warnings. `pred_ranks`: rankdata(pred), when known."""
    from scipy.stats import kendalltau, rankdata, spearmanr  # 0.5 s to import: only the correlation needs it

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        ranks = rankdata(pred) if pred_ranks is None else pred_ranks
        return spearmanr(pred, true)[0], kendalltau(ranks, rankdata(true))[0]


def get_corr_coeff(pred_imp_scores: ArrayLike, user_scores: ArrayLike) -> tuple[float, float]:
    """(Spearman's rho, Kendall's tau) of predicted scores against each annotator, averaged over annotators.

    `user_scores` [n_users, n_frames] are raw annotations: each row is divided by its max, then sub-sampled with
    step 15, which must leave as many values as there are predicted scores. Kendall's tau is computed between the
    (average) ranks of the two. Constant scores or annotations have no rank correlation: NaN, as in the reference.
    Returns (rho, tau); a ValueError when the lengths do not match.
    """
    from scipy.stats import rankdata

    pred = np.asarray(pred_imp_scores)
    user_scores = np.asarray(user_scores)
    if pred.ndim != 1 or user_scores.ndim != 2:
        raise ValueError("expected a 1-D score vector and a [n_users, n_frames] annotation array")
    if subsampled_length(user_scores.shape[1]) != len(pred):
        raise ValueError(f"{len(pred)} predicted scores, but {user_scores.shape[1]} annotated frames sub-sample to "
                         f"{subsampled_length(user_scores.shape[1])}")
    pred_ranks = rankdata(pred)
    rhos, taus = zip(*[rank_correlation(pred, subsampled_annotation(user), pred_ranks) for user in user_scores])
    return float(np.mean(rhos)), float(np.mean(taus))


def subsampled_annotation(user: np.ndarray) -> np.ndarray:
    """One annotator's frame scores as get_corr_coeff compares them: divided by their max, every 15th frame."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (user / user.max(initial=-1))[::ANNOTATION_STEP]


def summary_corr_coeff(pred_imp_scores: ArrayLike, user_summary: ArrayLike, picks: ArrayLike) -> tuple[float, float]:
    """(Spearman's rho, Kendall's tau) of predicted scores against the share of the users who selected each sampled
    frame, `user_summary.mean(0)[picks]` (docs/evaluation.md, "Rank correlation": the SumMe definition used here).

    `user_summary` [n_users, n_frames] binary; `picks` [n_scores] the frame of each predicted score.
    """
    pred = np.asarray(pred_imp_scores)
    users = np.asarray(user_summary)
    picks = np.asarray(picks)
    if pred.ndim != 1 or users.ndim != 2 or picks.shape != pred.shape:
        raise ValueError("expected a score vector, a [n_users, n_frames] user summary array and one pick per score")
    if picks.size and picks.max() >= users.shape[1]:
        raise ValueError(f"pick {picks.max()} is beyond the {users.shape[1]} frames of the user summaries")
    rho, tau = rank_correlation(pred, users.mean(axis=0)[picks])
    return float(rho), float(tau)
