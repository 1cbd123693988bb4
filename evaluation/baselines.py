"""The baselines every number of an experiment is reported next to (docs/evaluation.md): the random summarizer of
"Performance over Random" (Apostolidis et al., ACM MM 2020), the humans' leave-one-out F1, and on TVSum the humans'
rank correlation with each other. They depend only on the dataset and the splits, never on a model.

Random F1 of a split, as the PoR authors' `compute_RP` computes it: for seed 0..99, the legacy MT19937 generator
seeded once (np.random.seed(seed)); then, video after video in the order of the split's test_keys, n_frames float64
uniforms [0, 1) drawn from that one stream are the frame scores; a shot's score is the float64 numpy mean of its
frames' scores; the knapsack with the F-score's 15% budget selects shots; F-score against the user summaries ('max'
SumMe, 'avg' TVSum); mean over the split's videos per seed, then over the seeds. All seeds of a video go through the
batched knapsack together.
"""
import numpy as np

from evaluation.eval_data import EvalVideo
from evaluation.evaluation_metrics import f_measure, subsampled_annotation
from evaluation.knapsack_dp import knapsack_batch

PAPER_SEEDS = 100  # the PoR protocol's seeds 0..99


def shot_means(frame_scores: np.ndarray, video: EvalVideo) -> np.ndarray:
    """Shot scores [B, n_shots] of frame scores [B, n_frames]: the float64 mean of each shot's frames (those before
    n_frames, when a shot runs past the video's end), as numpy's 1-D mean computes it row by row."""
    out = np.empty((len(frame_scores), len(video.shots.first)))
    for k, (a, b) in enumerate(zip(video.shots.first.tolist(), video.shots.last.tolist())):
        out[:, k] = frame_scores[:, a:b + 1].mean(axis=1)
    return out


def random_f_score(videos: list[EvalVideo], eval_method: str, seeds: int = PAPER_SEEDS) -> float:
    """The random summarizer's F1 of one split.

    Args:
        videos: the split's test videos, in the order of its test_keys (the one random stream per seed runs through
            them in this order, so the order changes the number).
        eval_method: 'max' (SumMe) or 'avg' (TVSum).
        seeds: seeds 0 .. seeds - 1.
    Returns:
        The mean over the seeds of the mean over the videos of the random summary's F-score.
    """
    streams = [np.random.RandomState(seed) for seed in range(seeds)]
    per_video = np.empty((len(videos), seeds))
    for i, video in enumerate(videos):
        draws = np.stack([stream.random_sample(video.shots.n_frames) for stream in streams])
        selected = knapsack_batch(video.shots.capacity, video.shots.lengths, shot_means(draws, video))
        per_video[i] = video.scorer.f_scores(selected, eval_method)
    per_seed = np.ascontiguousarray(per_video.T).mean(axis=1)  # each seed's videos summed as np.mean sums a list
    return float(np.mean(per_seed))


def human_f_score(video: EvalVideo, eval_method: str) -> float:
    """Leave-one-out F1 of the humans on one video: each annotator's summary scored against the other annotators'
    ('max' or 'avg' over them, as a model's summary is), averaged over the annotators; NaN with a single annotator.
    An empty summary scores 0, as in evaluation_metrics.f_measure."""
    users = video.users.astype(np.int64)
    if len(users) < 2:
        return float("nan")
    overlap = users @ users.T
    counts = users.sum(axis=1)
    scores = []
    for u in range(len(users)):
        others = np.arange(len(users)) != u
        scores.append(f_measure(overlap[u:u + 1, others], counts[u:u + 1], counts[others], eval_method)[0])
    return float(np.mean(scores))


def kendall_tau_b(x_codes: np.ndarray, y_codes: np.ndarray, kx: int, ky: int) -> float:
    """Kendall's tau-b of two vectors given as value codes (0 .. kx-1 and 0 .. ky-1 in the order of the values), from
    their contingency table: exact integer counts of concordant minus discordant pairs, and of the ties."""
    table = np.bincount(x_codes * ky + y_codes, minlength=kx * ky).reshape(kx, ky)
    below = np.zeros((kx + 1, ky + 1), dtype=np.int64)  # below[i, j]: pairs with x code >= i and y code >= j
    below[:-1, :-1] = table[::-1, ::-1].cumsum(0).cumsum(1)[::-1, ::-1]
    rows = np.zeros((kx + 1, ky), dtype=np.int64)  # rows[i, j]: pairs with x code >= i and y code == j
    rows[:-1] = table[::-1].cumsum(0)[::-1]
    later_rows = rows[1:]  # x code > i
    concordant = below[1:, 1:]  # x code > i, y code > j
    discordant = later_rows.cumsum(1) - later_rows  # x code > i, y code < j
    score = int((table * (concordant - discordant)).sum())
    n = len(x_codes)
    total = n * (n - 1) // 2
    x_ties = int((table.sum(1) * (table.sum(1) - 1) // 2).sum())
    y_ties = int((table.sum(0) * (table.sum(0) - 1) // 2).sum())
    if total == x_ties or total == y_ties:
        return float("nan")
    return score / np.sqrt(total - x_ties) / np.sqrt(total - y_ties)


def human_correlation(annotation: np.ndarray) -> tuple[float, float]:
    """(Spearman's rho, Kendall's tau) of TVSum's annotators with each other on one video: every pair of annotators,
    each sub-sampled as get_corr_coeff compares a model with them, averaged over the pairs (both coefficients are
    symmetric, so this is also each annotator against the others, averaged). NaN with a single annotator.

    Spearman's rho is the Pearson correlation of the average ranks and tau is tau-b, as scipy computes them (to
    rounding), but counted on contingency tables: TVSum's annotations take 5 values, which makes it fast.
    """
    from scipy.stats import rankdata

    rows = np.stack([subsampled_annotation(user) for user in np.asarray(annotation, dtype=np.float64)])
    if len(rows) < 2:
        return float("nan"), float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = rankdata(rows, axis=1)
        centred -= centred.mean(axis=1, keepdims=True)
        norms = np.sqrt((centred ** 2).sum(axis=1))
        rho = (centred @ centred.T) / np.outer(norms, norms)
    codes = [np.unique(row, return_inverse=True) for row in rows]
    rhos, taus = [], []
    for u in range(len(rows)):
        for v in range(u + 1, len(rows)):
            rhos.append(rho[u, v])
            taus.append(kendall_tau_b(codes[u][1], codes[v][1], len(codes[u][0]), len(codes[v][0])))
    return float(np.mean(rhos)), float(np.mean(taus))
