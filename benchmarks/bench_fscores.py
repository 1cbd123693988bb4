"""Time compute_fscores.py on a TVSum-sized run against a plain per-file pure-Python pass, and check they agree.

The run: 10 test videos with real TVSum frame counts (data/make_dataset.py's TVSUM_FRAMES), generated
shot boundaries (20..160 frames) and user summaries (20 users, about 15% of the frames each), one score every 15
frames, and 401 score files (epochs -1..399). The baseline does what the authors' script does: for every score file
it opens the h5 and reads the videos again, fills the knapsack table cell by cell in Python lists, and computes the
F-scores one summary and one user at a time, counting frames with Python's sum as the reference does.

Usage: python benchmarks/bench_fscores.py [--anno PATH] [--epochs 400] [--baseline_files N] [--paper]
With --baseline_files N the baseline is timed on the first N score files only and its time scaled to all of them
(printed as an estimate); its F-scores are compared with ours on those files.

With --paper it also times the whole evaluation of the paper, `bash evaluation/choose_best_model.sh` on two finished
experiments (5 sigmas x 5 splits x 401 epochs each, with TensorBoard logs): TVSum (the 50 real frame counts and the
paper's splits) and a SumMe-sized one (25 videos of 950..9,721 frames, 5 test videos per split). It writes about
1.3 GB of score files to a temporary folder.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np

from common.paths import REPO_ROOT
from common.tblog import ScalarLog
from data.make_dataset import TVSUM_FRAMES

VIDEOS = [f"video_{k}" for k in range(1, 51, 5)]  # 10 videos spread over the dataset
N_USERS = 20
SIGMAS = ["0.5", "0.6", "0.7", "0.8", "0.9"]


def default_file(relative):
    """A dataset file from data/, or from a shared/data folder beside the checkout."""
    local = REPO_ROOT / "data" / relative
    return local if local.is_file() else REPO_ROOT.parent / "shared" / "data" / relative


def make_shots(n_frames, rng):
    """Contiguous shots of 20..160 frames covering the video, as [n_shots, 2] (first, last)."""
    bounds, start = [], 0
    while start < n_frames:
        end = min(n_frames, start + int(rng.integers(20, 161)))
        bounds.append((start, end - 1))
        start = end
    return np.array(bounds, dtype=np.int64)


def make_user_summaries(shots, n_frames, rng):
    """N_USERS binary summaries [N_USERS, n_frames], each random shots up to about 15% of the frames."""
    users = np.zeros((N_USERS, n_frames), dtype=np.float32)
    for user in users:
        budget = int(0.15 * n_frames)
        for first, last in shots[rng.permutation(len(shots))]:
            if last - first + 1 <= budget:
                user[first:last + 1] = 1
                budget -= last - first + 1
    return users


def write_h5(path, frame_counts, rng):
    """A dataset h5 with the evaluation fields of videos {key: n_frames}; returns {key: n_steps}."""
    n_steps = {}
    with h5py.File(path, "w") as h5:
        for key, n_frames in frame_counts.items():
            shots = make_shots(n_frames, rng)
            picks = np.arange(0, n_frames, 15)
            n_steps[key] = len(picks)
            group = h5.create_group(key)
            group["change_points"] = shots
            group["n_frame_per_seg"] = shots[:, 1] - shots[:, 0] + 1
            group["n_frames"] = n_frames
            group["picks"] = picks
            group["n_steps"] = len(picks)
            group["user_summary"] = make_user_summaries(shots, n_frames, rng)
    return n_steps


def write_scores(results, dataset, n_steps, n_epochs, rng):
    """{dataset}_{e}.json for e = -1..n_epochs-1 with random scores of the videos {key: n_steps}; every 4th epoch
    takes only 5 distinct values (many ties)."""
    results.mkdir(parents=True, exist_ok=True)
    for epoch in range(-1, n_epochs):
        scores = {}
        for key, n in n_steps.items():
            s = rng.random(n).astype(np.float32)
            if epoch % 4 == 0:
                s = (np.round(s * 4) / 4).astype(np.float32)
            scores[key] = s.tolist()
        (results / f"{dataset}_{epoch}.json").write_text(json.dumps(scores))


def build_run(folder, frame_counts, n_epochs, seed=0):
    """Write the h5 and the results folder of one TVSum-sized run; return (h5 path, results folder)."""
    rng = np.random.default_rng(seed)
    h5_path, results = folder / "tvsum_bench.h5", folder / "results"
    n_steps = write_h5(h5_path, {key: frame_counts[key] for key in VIDEOS}, rng)
    write_scores(results, "TVSum", n_steps, n_epochs, rng)
    return h5_path, results


def build_experiment(root, dataset, frame_counts, splits, n_epochs, seed):
    """A finished experiment (TensorBoard logs and score files of every sigma and split) and its h5."""
    rng = np.random.default_rng(seed)
    h5_path = root / f"{dataset}.h5"
    n_steps = write_h5(h5_path, frame_counts, rng)
    for sigma in SIGMAS:
        for k, split in enumerate(splits):
            base = root / "exp" / f"reg{sigma}" / dataset
            with ScalarLog(base / "logs" / f"split{k}") as log:
                for epoch, loss in enumerate(0.3 * np.exp(-np.arange(n_epochs) / 50) + 0.01 * rng.random(n_epochs)):
                    log.add("loss_epoch", loss, epoch)
            write_scores(base / "results" / f"split{k}", dataset, {key: n_steps[key] for key in split["test_keys"]},
                         n_epochs, rng)
    return root / "exp", h5_path


def time_paper(anno, frame_counts, n_epochs):
    """Seconds of choose_best_model.sh on a TVSum and a SumMe-sized experiment: {dataset: seconds}."""
    splits_file = default_file("splits/tvsum_splits.json")
    rng = np.random.default_rng(1)
    summe_counts = {f"video_{k}": int(n) for k, n in enumerate(rng.integers(950, 9722, 25), start=1)}
    summe_splits = []
    for k in range(5):
        order = rng.permutation(25) + 1
        summe_splits.append({"train_keys": [f"video_{i}" for i in order[5:]],
                             "test_keys": [f"video_{i}" for i in order[:5]]})
    setups = {"TVSum": (frame_counts, json.loads(splits_file.read_text()), "avg"),
              "SumMe": (summe_counts, summe_splits, "max")}
    seconds = {}
    for dataset, (counts, splits, eval_method) in setups.items():
        with tempfile.TemporaryDirectory() as tmp:
            exp, h5_path = build_experiment(Path(tmp), dataset, counts, splits, n_epochs, seed=len(dataset))
            splits_path = Path(tmp) / "splits.json"
            splits_path.write_text(json.dumps(splits))
            command = ["bash", str(REPO_ROOT / "evaluation" / "choose_best_model.sh"), str(exp), dataset,
                       eval_method, "--dataset_file", str(h5_path), "--splits_file", str(splits_path),
                       "--anno", str(anno)]
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHON=sys.executable))
            seconds[dataset] = time.perf_counter() - start
    return seconds


def knapsack_cells(capacity, lengths, values):
    """The textbook 0/1 knapsack, one Python list cell at a time; selected item indices in ascending order."""
    n = len(values)
    table = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        length, value, above, row = lengths[i - 1], values[i - 1], table[i - 1], table[i]
        for w in range(1, capacity + 1):
            row[w] = max(value + above[w - length], above[w]) if length <= w else above[w]
    selected, w = [], capacity
    for i in range(n, 0, -1):
        if table[i][w] != table[i - 1][w]:
            selected.append(i - 1)
            w -= lengths[i - 1]
    return selected[::-1]


def baseline_f_score(scores, shots, n_frames, picks, users):
    """F-score ('avg' over users) of one score vector, one step at a time, counting with Python's sum."""
    frame_scores = np.zeros(n_frames, dtype=np.float32)
    positions = list(picks) + ([n_frames] if picks[-1] != n_frames else [])
    for i in range(len(positions) - 1):
        frame_scores[positions[i]:positions[i + 1]] = scores[i] if i < len(scores) else 0
    lengths = [int(b - a + 1) for a, b in shots]
    values = [frame_scores[a:b + 1].mean().item() for a, b in shots]
    selected = knapsack_cells(int((shots[-1][1] + 1) * 0.15), lengths, values)
    length = max(shots[-1][1] + 1, users.shape[1])
    summary = np.zeros(length, dtype=int)
    for k in selected:
        summary[shots[k][0]:shots[k][1] + 1] = 1
    f_scores = []
    for user in users:
        truth = np.zeros(length, dtype=int)
        truth[:len(user)] = user
        overlap = sum(summary & truth)
        precision, recall = overlap / sum(summary), overlap / sum(truth)
        f_scores.append(0 if precision + recall == 0 else 2 * precision * recall * 100 / (precision + recall))
    return sum(f_scores) / len(f_scores)


def baseline(results, h5_path, n_files):
    """Per-file pass over the first n_files score files: [mean F-score per file]."""
    out = []
    for epoch in range(-1, n_files - 1):
        data = json.loads((results / f"TVSum_{epoch}.json").read_text())
        f_scores = []
        with h5py.File(h5_path, "r") as h5:
            for key, scores in data.items():
                group = h5[key]
                f_scores.append(baseline_f_score(np.asarray(scores), group["change_points"][()],
                                                 int(group["n_frames"][()]), group["picks"][()],
                                                 group["user_summary"][()]))
        out.append(np.mean(f_scores))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anno", type=Path, default=default_file("TVSum/ydata-anno.rar"),
                        help="ydata-anno.rar or ydata-anno.tsv (for --paper)")
    parser.add_argument("--epochs", type=int, default=400, help="training epochs of the run (files: epochs + 1)")
    parser.add_argument("--baseline_files", type=int, default=None,
                        help="time the baseline on this many files only and scale (default: all files)")
    parser.add_argument("--paper", action="store_true",
                        help="also time the whole paper's evaluation (2 datasets x 25 runs) with choose_best_model.sh")
    args = parser.parse_args()
    frame_counts = {f"video_{k}": n for k, n in enumerate(TVSUM_FRAMES, start=1)}
    n_files = args.epochs + 1
    with tempfile.TemporaryDirectory() as tmp:
        h5_path, results = build_run(Path(tmp), frame_counts, args.epochs)
        print(f"run: {len(VIDEOS)} videos ({sum(frame_counts[k] for k in VIDEOS)} frames), {n_files} score files")

        command = [sys.executable, str(REPO_ROOT / "evaluation" / "compute_fscores.py"), "--path", str(results),
                   "--dataset", "TVSum", "--eval", "avg", "--dataset_file", str(h5_path)]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        ours_time = time.perf_counter() - start
        ours = [float(line) for line in (results / "f_scores.txt").read_text().split()]

        checked = args.baseline_files or n_files
        start = time.perf_counter()
        theirs = baseline(results, h5_path, checked)
        baseline_time = (time.perf_counter() - start) * n_files / checked

    identical = ours[:checked] == [float(v) for v in theirs]
    estimate = " (estimated from %d files)" % checked if checked < n_files else ""
    print(f"compute_fscores.py (whole command, interpreter start included): {ours_time:.2f} s")
    print(f"plain per-file pure-Python pass: {baseline_time:.2f} s{estimate}")
    print(f"speed-up: {baseline_time / ours_time:.1f}x (goal: at least 20x)")
    print(f"F-scores identical on {checked} files: {identical}")
    if args.paper:
        seconds = time_paper(args.anno, frame_counts, args.epochs)
        for dataset, value in seconds.items():
            print(f"choose_best_model.sh on a whole {dataset} experiment (25 runs x {n_files} files): {value:.1f} s")
        print(f"whole paper's evaluation: {sum(seconds.values()):.1f} s on {os.cpu_count()} CPUs "
              f"(goal: well under a minute on 2)")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
