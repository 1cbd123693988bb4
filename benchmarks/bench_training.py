"""Seconds per training epoch on a SumMe-sized split, against the compute floor of this machine.

The floor counts the matrix work of an epoch (per video, forward = 6TD^2 + 4T^2D + 2T(D+2)D + 2TD^2 + 2TD; a
training video costs 3x its forward minus 6TD^2, since the input features need no gradient; a test video costs one
forward) and divides it by the fp32 matmul rate of [400x1024] @ [1024x1024] measured in the same process with the
same threads, just before each epoch (so a machine whose speed drifts is compared with itself). The figure is the
median over epochs of epoch time / floor. Videos have SumMe's frame counts; the split is paper split 0 of
data/splits/summe_splits.json (or --splits_file), else a generated 20/5 split.

    python benchmarks/bench_training.py [--epochs 3] [--threads 2]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.paths import default_splits_file
from common.splits import load_splits
from data.make_dataset import SAMPLE_STEP, SUMME_FRAMES, make_dataset, make_splits
from model.data_loader import VideoData
from model.solver import Solver


def forward_flops(T, D):
    return 6 * T * D * D + 4 * T * T * D + 2 * T * (D + 2) * D + 2 * T * D * D + 2 * T * D


def epoch_flops(train_T, test_T, D):
    return sum(3 * forward_flops(T, D) - 6 * T * D * D for T in train_T) + sum(forward_flops(T, D) for T in test_T)


def matmul_rate(repeats=50):
    """fp32 FLOP/s of [400x1024] @ [1024x1024], best of three timings."""
    a, b = torch.rand(400, 1024), torch.rand(1024, 1024)
    for _ in range(5):
        a @ b
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 400 * 1024 * 1024 * repeats / best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs, after one warm-up epoch (default: 3)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads (default: all)")
    p.add_argument("--splits_file", type=Path, default=default_splits_file("SumMe"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    keys = [f"video_{i}" for i in range(1, len(SUMME_FRAMES) + 1)]
    split = load_splits(args.splits_file)[0] if args.splits_file.is_file() else make_splits(keys)[0]
    with tempfile.TemporaryDirectory() as tmp:
        h5 = make_dataset(Path(tmp) / "summe_like.h5")
        train, test = VideoData(h5, split["train_keys"], 1024), VideoData(h5, split["test_keys"], 1024)
        config = SimpleNamespace(device=torch.device("cpu"), seed=12345, input_size=1024, block_size=60,
                                 init_type="xavier", init_gain=1.4142, lr=5e-4, l2_req=1e-5, reg_factor=0.6,
                                 batch_size=20, clip=5.0, n_epochs=args.epochs + 1, video_type="SumMe",
                                 save_weights=False, score_dir=Path(tmp) / "results",
                                 save_dir=Path(tmp) / "models")
        solver = Solver(config, train, test)
        n_trained = len(train) // config.batch_size * config.batch_size
        flops = epoch_flops([f.shape[0] for f in train.features[:n_trained]],
                            [f.shape[0] for f in test.features], 1024)
        times, floors = [], []
        for epoch in range(args.epochs + 1):
            floors.append(flops / matmul_rate())
            start = time.perf_counter()
            solver.train_epoch(epoch)
            solver.evaluate(epoch)
            times.append(time.perf_counter() - start)
    times, floors = times[1:], floors[1:]  # the first epoch warms up
    ratios = sorted(t / f for t, f in zip(times, floors))
    median = len(ratios) // 2
    print(f"split: {len(train)} train / {len(test)} test videos, T = {min(SUMME_FRAMES) // SAMPLE_STEP + 1}.."
          f"{max(SUMME_FRAMES) // SAMPLE_STEP + 1}, {args.threads} threads")
    print(f"work per epoch: {flops / 1e9:.1f} GFLOP; matmul rate {flops / max(floors) / 1e9:.1f}.."
          f"{flops / min(floors) / 1e9:.1f} GFLOP/s over the epochs")
    print(f"seconds per epoch: median {sorted(times)[median]:.3f} (of {args.epochs}); floor: median "
          f"{sorted(floors)[median]:.3f} s")
    print(f"ratio (epoch / floor, per epoch): median {ratios[median]:.2f}x, range {ratios[0]:.2f}..{ratios[-1]:.2f}x")


if __name__ == "__main__":
    main()
