"""A plain re-statement of Mr.HiSum's per-video evaluation (their model/solver.py `evaluate` and model/utils/), written
from its definitions one step at a time, to check evaluation/mrhisum.py against: Python lists for the knapsack
table and the F1 sums, torch for the float32 clip means, sort and softmax as their code takes them."""
import math

import numpy as np
import torch
from sklearn.metrics import average_precision_score


def knapsack_table(capacity, weights, values):
    """The textbook table K[i][w] (K[i][0] = 0), read back from (n, capacity): item i-1 kept iff K[i][w] differs."""
    n = len(weights)
    K = [[0.0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for w in range(1, capacity + 1):
            if weights[i - 1] <= w:
                K[i][w] = max(values[i - 1] + K[i - 1][w - weights[i - 1]], K[i - 1][w])
            else:
                K[i][w] = K[i - 1][w]
    kept, w = [], capacity
    for i in range(n, 0, -1):
        if K[i][w] != K[i - 1][w]:
            kept.append(i - 1)
            w -= weights[i - 1]
    return kept


def f_score(scores, change_points, n_rows, gt_summary):
    frame = np.asarray(scores, dtype=np.float32)
    shots = [(int(s), int(e)) for s, e in change_points]
    values = [float(frame[s:e + 1].mean()) for s, e in shots]
    weights = [e - s for s, e in shots]
    capacity = int(math.floor(torch.tensor([n_rows])[0] * 0.15))
    kept = knapsack_table(capacity, weights, values)
    summary = []
    for k, weight in enumerate(weights):
        summary += [1 if k in kept else 0] * weight
    length = max(len(summary), len(gt_summary))
    S = [0] * length
    G = [0] * length
    S[:len(summary)] = summary
    G[:len(gt_summary)] = [int(v) for v in gt_summary]
    overlap = sum(a & b for a, b in zip(S, G))
    precision = overlap / sum(s + 1e-8 for s in S)
    recall = overlap / sum(g + 1e-8 for g in G)
    return 0.0 if precision + recall == 0 else 2 * precision * recall * 100 / (precision + recall)


def clip_scores(values):
    chunks = torch.split(torch.tensor(np.asarray(values, dtype=np.float32)), 5)
    return torch.cat([torch.mean(chunk.unsqueeze(0), dim=1) for chunk in chunks])


def positives(gt_clips, k):
    labels = [0] * len(gt_clips)
    for index in torch.argsort(gt_clips, descending=True)[:k]:
        labels[index] = 1
    return labels


def average_ranks(values):
    """1-based ranks, ties sharing the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[order[j + 1]] == values[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def kendall_tau_b(x, y):
    """(concordant - discordant) / sqrt((pairs - ties in x) (pairs - ties in y)), over all pairs of rows."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx, dy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    upper = np.triu(np.ones((len(x), len(x)), dtype=bool), 1)
    concordance = (dx * dy)[upper].sum()
    return concordance / np.sqrt((dx[upper] != 0).sum() * (dy[upper] != 0).sum())


def evaluate(scores, gtscore, change_points, gt_summary):
    """{"f_score", "map50", "map15"} of one video as Mr.HiSum's evaluation computes them, and "tau", "rho" against
    gtscore."""
    n_rows = len(scores)
    gt_clips = clip_scores(gtscore)
    predicted = clip_scores(scores)
    predicted = (torch.exp(predicted) / (torch.exp(predicted).sum() + 1e-7)).numpy()
    out = {"f_score": f_score(scores, change_points, n_rows, gt_summary)}
    for name, k in (("map50", len(gt_clips) // 2), ("map15", int(len(gt_clips) * 0.15))):
        labels = positives(gt_clips, k)
        out[name] = float(average_precision_score(labels, predicted)) if any(labels) else 0.0
    out["tau"] = kendall_tau_b(scores, np.asarray(gtscore, dtype=np.float32))
    out["rho"] = np.corrcoef(average_ranks(scores), average_ranks(np.asarray(gtscore, dtype=np.float32)))[0, 1]
    return out
