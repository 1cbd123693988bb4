"""Plain re-implementations of the baselines and of SumMe's rank correlation, written from their definitions
(docs/evaluation.md) one loop at a time, for the tests to check the project's batched code against.

The random summarizer follows the PoR protocol literally: the global legacy generator reseeded with
np.random.seed(seed) once per seed, then np.random.rand(n_frames) per test video in the split's order; shot scores
by numpy's float64 mean of each shot's frames; the textbook knapsack table filled cell by cell in Python lists; the
F-score one user at a time with exact integer counts (0 where a precision or recall would be 0 / 0, the project's
rule; the PoR authors' code gives NaN there).
"""
import json
import warnings

import h5py
import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr


def read_video(h5, key):
    """(n_frames, shots [n_shots, 2], user summaries as ints, picks) of one video of an open h5."""
    group = h5[key]
    return (int(np.asarray(group["n_frames"])), np.asarray(group["change_points"]).astype(np.int64),
            np.asarray(group["user_summary"]).astype(np.int64), np.asarray(group["picks"]))


def knapsack(capacity, lengths, values):
    """Selected item indices (ascending) of the 0/1 knapsack: K[i][w] = max(v[i-1] + K[i-1][w-l[i-1]], K[i-1][w])
    when the item fits; item i-1 selected, walking back from w = capacity, iff K[i][w] != K[i-1][w] (docs/method.md,
    "Evaluation", step 4)."""
    n = len(values)
    table = [[0.0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for w in range(1, capacity + 1):
            if lengths[i - 1] <= w:
                table[i][w] = max(values[i - 1] + table[i - 1][w - lengths[i - 1]], table[i - 1][w])
            else:
                table[i][w] = table[i - 1][w]
    selected, w = [], capacity
    for i in range(n, 0, -1):
        if table[i][w] != table[i - 1][w]:
            selected.insert(0, i - 1)
            w -= lengths[i - 1]
    return selected


def summary_from_frame_scores(frame_scores, shots):
    """Binary summary of length last frame + 1: the knapsack over shot means with capacity int(length * 0.15)."""
    length = int(shots[-1][1]) + 1
    lengths = [int(b - a + 1) for a, b in shots]
    values = [frame_scores[a:b + 1].mean().item() for a, b in shots]
    summary = [0] * length
    for k in knapsack(int(length * 0.15), lengths, values):
        for frame in range(shots[k][0], shots[k][1] + 1):
            summary[frame] = 1
    return summary


def f_score(summary, users, eval_method):
    """F (0..100) of a binary summary against each user row, both zero-padded to the longer, 'max' or mean."""
    width = max(len(summary), users.shape[1])
    s = list(summary) + [0] * (width - len(summary))
    scores = []
    for user in users:
        g = [int(v) for v in user] + [0] * (width - users.shape[1])
        overlap = sum(a & b for a, b in zip(s, g))
        n_s, n_g = sum(s), sum(g)
        if n_s == 0 or n_g == 0:
            scores.append(0.0)
            continue
        precision, recall = overlap / n_s, overlap / n_g
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall * 100 / (precision + recall))
    return max(scores) if eval_method == "max" else sum(scores) / len(scores)


def random_f_score(h5_path, test_keys, eval_method, seeds=100):
    """Mean over seeds 0..seeds-1 of the mean over the videos (in test_keys order) of the random summary's F1."""
    with h5py.File(h5_path, "r") as h5:
        videos = [read_video(h5, key) for key in test_keys]
    state = np.random.get_state()
    try:
        per_seed = []
        for seed in range(seeds):
            np.random.seed(seed)
            draws = [np.random.rand(n_frames) for n_frames, _, _, _ in videos]
            per_seed.append(np.mean([f_score(summary_from_frame_scores(d, shots), users, eval_method)
                                     for d, (_, shots, users, _) in zip(draws, videos)]))
    finally:
        np.random.set_state(state)
    return float(np.mean(per_seed))


def human_f_score(users, eval_method):
    """Each annotator's summary against the others', reduced by eval_method, averaged over the annotators."""
    return float(np.mean([f_score(list(users[u]), np.delete(users, u, axis=0), eval_method)
                          for u in range(len(users))]))


def split_human_f_score(h5_path, test_keys, eval_method):
    with h5py.File(h5_path, "r") as h5:
        return float(np.mean([human_f_score(read_video(h5, key)[2], eval_method) for key in test_keys]))


def correlation(pred, truth):
    """Spearman's rho and Kendall's tau (between average ranks) as scipy computes them (NaN for a constant input)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spearmanr(pred, truth)[0], kendalltau(rankdata(pred), rankdata(truth))[0]


def plain_summary_correlation(score_file, h5_path):
    """SumMe's rho and tau of a score file: per video against user_summary.mean(0)[picks], mean over the videos."""
    scores = json.loads(open(score_file).read())
    rhos, taus = [], []
    with h5py.File(h5_path, "r") as h5:
        for key, values in scores.items():
            group = h5[key]
            rho, tau = correlation(np.asarray(values), np.asarray(group["user_summary"]).mean(0)[group["picks"][()]])
            rhos.append(rho)
            taus.append(tau)
    return float(np.mean(rhos)), float(np.mean(taus))


def human_correlation(annotation):
    """Every ordered pair of annotators, each divided by its max and sub-sampled every 15th frame: mean rho, tau."""
    rows = [(user / user.max())[::15] for user in np.asarray(annotation, dtype=np.float64)]
    pairs = [correlation(rows[u], rows[v]) for u in range(len(rows)) for v in range(len(rows)) if u != v]
    return float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs]))
