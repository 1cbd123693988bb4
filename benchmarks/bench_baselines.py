"""Time the random baseline of "Performance over Random" on all 50 TVSum splits, against a plain pure-Python random
summarizer written like the PoR authors' `compute_RP` (timed on one split), and the whole evaluation of a 50-split
experiment (250 runs x 401 epochs).

The dataset: 50 videos with TVSum's frame counts (SumMe's 25 for --experiment), shots of 30..120 frames (like KTS's
on TVSum: 60-150 per video), 20 users (15 for SumMe) each selecting whole shots up to about 15% of the frames, one
score every 15 frames. The splits: the PoR authors' 50 splits (data/splits/{tvsum,summe}_splits_50.json, or
../shared/data/splits/ beside a development checkout).

Usage: python benchmarks/bench_baselines.py [--workers 2] [--plain_splits 1] [--experiment SumMe|TVSum]
                                            [--keep_png PATH]

- random_baseline.py on the 50 TVSum splits x 100 seeds, as a whole command (goal: under 30 s on 2 cores);
- the plain summarizer on the first --plain_splits splits, its F1 compared with ours (equal to 1e-9);
- with --experiment: an experiment on the dataset's 50 splits (5 sigmas, 400 epochs: TensorBoard logs and 401 score
  files per run; about 3 GB for SumMe, 11 GB for TVSum, in a temporary folder), evaluated by
  `bash evaluation/choose_best_model.sh` from scratch (baselines included; goal: a few minutes); TVSum needs the
  real annotations (data/TVSum/ydata-anno.rar or ../shared/data/TVSum/); --keep_png keeps its {Dataset}_curves.png.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

import h5py
import numpy as np

from common.paths import REPO_ROOT
from common.tblog import ScalarLog
from data.make_dataset import SUMME_FRAMES, TVSUM_FRAMES

SIGMAS = (0.5, 0.6, 0.7, 0.8, 0.9)


def splits_file(dataset):
    name = f"{dataset.lower()}_splits_50.json"
    local = REPO_ROOT / "data" / "splits" / name
    return local if local.is_file() else REPO_ROOT.parent / "shared" / "data" / "splits" / name


def make_shots(n_frames, rng):
    """Contiguous shots of 30..120 frames covering the video, as [n_shots, 2] (first, last)."""
    bounds, start = [], 0
    while start < n_frames:
        end = min(n_frames, start + int(rng.integers(30, 121)))
        bounds.append((start, end - 1))
        start = end
    return np.array(bounds, dtype=np.int64)


def make_users(shots, n_frames, n_users, rng):
    """[n_users, n_frames] binary summaries: whole shots in order of a shared interest plus each user's own, up to
    15% of the frames."""
    interest = rng.random(len(shots))
    users = np.zeros((n_users, n_frames), dtype=np.float32)
    for user in users:
        budget = int(0.15 * n_frames)
        for first, last in shots[np.argsort(-(interest + 0.5 * rng.random(len(shots))))]:
            if last - first + 1 <= budget:
                user[first:last + 1] = 1
                budget -= last - first + 1
    return users


def write_dataset(path, frame_counts, n_users, rng):
    """An h5 with the evaluation fields of videos video_1.. of the given frame counts; returns {key: n_steps}."""
    n_steps = {}
    with h5py.File(path, "w") as h5:
        for k, n_frames in enumerate(frame_counts, start=1):
            shots = make_shots(n_frames, rng)
            picks = np.arange(0, n_frames, 15)
            group = h5.create_group(f"video_{k}")
            group["change_points"] = shots
            group["n_frame_per_seg"] = shots[:, 1] - shots[:, 0] + 1
            group["n_frames"] = n_frames
            group["picks"] = picks
            group["n_steps"] = len(picks)
            group["user_summary"] = make_users(shots, n_frames, n_users, rng)
            n_steps[f"video_{k}"] = len(picks)
    return n_steps


def knapsack_lists(capacity, lengths, values):
    """The authors' knapsack: the whole table as Python lists of lists, filled cell by cell, then walked back."""
    n = len(values)
    table = [[0 for _ in range(capacity + 1)] for _ in range(n + 1)]
    for i in range(n + 1):
        for w in range(capacity + 1):
            if i == 0 or w == 0:
                table[i][w] = 0
            elif lengths[i - 1] <= w:
                table[i][w] = max(values[i - 1] + table[i - 1][w - lengths[i - 1]], table[i - 1][w])
            else:
                table[i][w] = table[i - 1][w]
    selected, w = [], capacity
    for i in range(n, 0, -1):
        if table[i][w] != table[i - 1][w]:
            selected.insert(0, i - 1)
            w -= lengths[i - 1]
    return selected


def plain_f_score(summary, users, eval_method):
    """The authors' F-score of one summary: zero-padded int arrays, S & G, builtin sums, one user at a time."""
    length = max(len(summary), users.shape[1])
    s = np.zeros(length, dtype=int)
    s[:len(summary)] = summary
    f_scores = []
    for user in users:
        g = np.zeros(length, dtype=int)
        g[:len(user)] = user
        overlap = s & g
        precision, recall = sum(overlap) / sum(s), sum(overlap) / sum(g)
        f_scores.append(0 if precision + recall == 0 else 2 * precision * recall * 100 / (precision + recall))
    return max(f_scores) if eval_method == "max" else sum(f_scores) / len(f_scores)


def plain_random_f_score(h5_path, keys, eval_method, seeds=100):
    """compute_RP written plainly: per seed np.random.seed, n_frames draws per video in order, shot means, the
    knapsack in Python lists, the F-score per user; the mean over the videos, then over the seeds."""
    with h5py.File(h5_path, "r") as h5:
        videos = [(int(h5[k]["n_frames"][()]), h5[k]["change_points"][()], h5[k]["user_summary"][()]) for k in keys]
    per_seed = []
    for seed in range(seeds):
        np.random.seed(seed)
        draws = [np.random.rand(n_frames) for n_frames, _, _ in videos]
        f_scores = []
        for scores, (_, shots, users) in zip(draws, videos):
            lengths = [int(b - a + 1) for a, b in shots]
            values = [scores[a:b + 1].mean().item() for a, b in shots]
            summary = np.zeros(int(shots[-1][1]) + 1, dtype=np.int8)
            for k in knapsack_lists(int((shots[-1][1] + 1) * 0.15), lengths, values):
                summary[shots[k][0]:shots[k][1] + 1] = 1
            f_scores.append(plain_f_score(summary, users, eval_method))
        per_seed.append(np.mean(f_scores))
    return float(np.mean(per_seed))


def load():
    return os.getloadavg()[0]


def time_random_baseline(root, workers, plain_splits):
    """Seconds of random_baseline.py on the 50 TVSum splits, and of the plain summarizer on its first splits."""
    h5_path = root / "tvsum.h5"
    write_dataset(h5_path, TVSUM_FRAMES, 20, np.random.default_rng(0))
    splits = splits_file("TVSum")
    out = root / "random.json"
    command = [sys.executable, str(REPO_ROOT / "evaluation" / "random_baseline.py"), "--dataset_file", str(h5_path),
               "--splits_file", str(splits), "--eval", "avg", "--json", str(out), "--workers", str(workers)]
    before = load()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f"random_baseline.py, 50 TVSum splits x 100 seeds, {workers} workers (whole command): {seconds:.1f} s "
          f"(goal: under 30 s on 2 cores; 1-min load {before:.2f} before, {load():.2f} after)")
    ours = json.loads(out.read_text())["splits"]
    test_keys = [split["test_keys"] for split in json.loads(splits.read_text())]
    for k in range(plain_splits):
        before = load()
        start = time.perf_counter()
        theirs = plain_random_f_score(h5_path, test_keys[k], "avg")
        plain_seconds = time.perf_counter() - start
        print(f"plain pure-Python summarizer (written like the authors' compute_RP), split {k}: {plain_seconds:.1f} s "
              f"(1-min load {before:.2f}); ours {ours[k]['random_f_score']!r}, plain {theirs!r}, "
              f"|diff| {abs(ours[k]['random_f_score'] - theirs):.1e}")
        if abs(ours[k]["random_f_score"] - theirs) > 1e-9:
            sys.exit(1)


def default_anno():
    local = REPO_ROOT / "data" / "TVSum" / "ydata-anno.rar"
    return local if local.is_file() else REPO_ROOT.parent / "shared" / "data" / "TVSum" / "ydata-anno.rar"


def write_run(base, dataset, split, keys, n_steps, signals, sigma, rng):
    """One finished run: 400 loss_epoch events and the score files of epochs -1..399. The loss falls to a floor
    that depends on sigma; the mean score drifts from its start towards sigma, and the scores lean more and more
    towards the users' choices, so the test F1 rises and wanders."""
    with ScalarLog(base / "logs" / f"split{split}") as log:
        floor = 0.02 + 0.05 * sigma * rng.random()
        for epoch, loss in enumerate(floor + 0.3 * np.exp(-np.arange(400) / 60) + 0.004 * rng.random(400)):
            log.add("loss_epoch", float(loss), epoch)
    results = base / "results" / f"split{split}"
    results.mkdir(parents=True, exist_ok=True)
    start, pace = 0.45 + 0.1 * rng.random(), 40 + 80 * rng.random()
    for epoch in range(-1, 400):
        progress = 1 - np.exp(-(epoch + 1) / pace)
        mean = start + (sigma - start) * progress * (0.8 + 0.4 * rng.random())
        scores = {}
        for key in keys:
            lean = 0.3 * progress * (signals[key] - signals[key].mean())
            values = np.clip(mean + lean + 0.15 * (rng.random(n_steps[key]) - 0.5), 0, 1).astype(np.float32)
            scores[key] = values.tolist()
        (results / f"{dataset}_{epoch}.json").write_text(json.dumps(scores))


def time_experiment(root, dataset, workers, keep_png):
    """Seconds of choose_best_model.sh on a 50-split experiment evaluated from scratch."""
    frames, n_users, eval_method = {"SumMe": (SUMME_FRAMES, 15, "max"), "TVSum": (TVSUM_FRAMES, 20, "avg")}[dataset]
    h5_path = root / f"{dataset}.h5"
    n_steps = write_dataset(h5_path, frames, n_users, np.random.default_rng(1))
    with h5py.File(h5_path, "r") as h5:
        signals = {key: h5[key]["user_summary"][()].mean(0)[h5[key]["picks"][()]] for key in h5}
    splits = splits_file(dataset)
    test_keys = [split["test_keys"] for split in json.loads(splits.read_text())]
    rng = np.random.default_rng(2)
    start = time.perf_counter()
    for sigma in SIGMAS:
        for split, keys in enumerate(test_keys):
            write_run(root / "exp" / f"reg{sigma}" / dataset, dataset, split, keys, n_steps, signals, sigma, rng)
    size = sum(path.stat().st_size for path in (root / "exp").rglob("*") if path.is_file())
    print(f"built a {dataset} experiment of 250 runs x 401 score files ({size / 1e9:.1f} GB) in "
          f"{time.perf_counter() - start:.0f} s")
    command = ["bash", str(REPO_ROOT / "evaluation" / "choose_best_model.sh"), str(root / "exp"), dataset,
               eval_method, "--dataset_file", str(h5_path), "--splits_file", str(splits), "--workers", str(workers)]
    command += ["--anno", str(default_anno())] if dataset == "TVSum" else []
    before = load()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHON=sys.executable))
    seconds = time.perf_counter() - start
    print(f"choose_best_model.sh on the 50-split {dataset} experiment (250 runs x 401 epochs, baselines of the 50 "
          f"splits included, {workers} workers): {seconds:.1f} s (goal: a few minutes; 1-min load {before:.2f} "
          f"before, {load():.2f} after)")
    if keep_png is not None:
        shutil.copy(root / "exp" / f"{dataset}_curves.png", keep_png)
        print(f"kept {keep_png}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: the CPUs)")
    parser.add_argument("--plain_splits", type=int, default=1, help="splits the plain summarizer is timed on")
    parser.add_argument("--experiment", choices=("SumMe", "TVSum"), default=None,
                        help="also time the evaluation of a whole 50-split experiment of that dataset (3 or 11 GB)")
    parser.add_argument("--keep_png", type=Path, default=None, help="with --experiment: keep its curves picture here")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, 1-min load {load():.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        time_random_baseline(Path(tmp), args.workers, args.plain_splits)
        if args.experiment:
            time_experiment(Path(tmp), args.experiment, args.workers, args.keep_png)


if __name__ == "__main__":
    main()
