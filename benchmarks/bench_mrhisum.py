"""One training epoch on generated Mr.HiSum-layout data (1024-d, videos of 2 to 8 minutes at one row per second),
for a few dataset sizes: seconds per epoch against the compute floor, validation time, and the peak memory of the
whole process tree, which streaming keeps flat however many videos the file holds.

For each size N (default 1,000 and 5,000 videos, split in Mr.HiSum's proportions):
- the epoch is timed in this process (model/stream_solver.py, --workers reader processes, batch 40): the training
  videos' matrix work (bench_training.py's count) over the fp32 matmul rate measured just before, and the validation
  of the val videos (per 1,000 videos);
- `python model/main.py --video_type MrHiSum --n_epochs 1` runs as a child process, and the resident memory of it
  and its reader processes is summed every 0.2 s (RSS, and PSS, which counts the pages they share once): the peak.

    python benchmarks/bench_mrhisum.py [--videos 1000 5000] [--workers 2] [--keep DIR]

The generated files take about 1.2 GB per 1,000 videos (in a temporary folder, or --keep DIR).
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
import torch

from benchmarks.bench_training import forward_flops, matmul_rate
from data.make_dataset import make_mrhisum, mrhisum_split
from model.configs import get_config
from model.stream_solver import StreamSolver

D = 1024


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of process `root` and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith(("Rss:", "Pss:")):
                        kb = int(line.split()[1]) * 1024
                        rss, pss = (rss + kb, pss) if line.startswith("Rss:") else (rss, pss + kb)
        except OSError:
            continue
    return rss, pss


def peak_memory(command: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS, peak PSS) of `command` and its descendants."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks = [0, 0]
    while process.poll() is None:
        peaks = [max(a, b) for a, b in zip(peaks, tree_memory(process.pid))]
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read()}")
    return time.perf_counter() - start, peaks[0], peaks[1]


def arguments(folder: Path, workers: int, exp: Path) -> list[str]:
    return ["--video_type", "MrHiSum", "--dataset_file", str(folder / "mrhisum.h5"), "--splits_file",
            str(folder / "split.json"), "--n_epochs", "1", "--batch_size", "40", "--device", "cpu", "--overwrite",
            "--workers", str(workers), "--exp_dir", str(exp)]


def timed_epoch(folder: Path, workers: int) -> dict:
    """Seconds of one training epoch and of one validation, in this process, and the training floor."""
    config = get_config(arguments(folder, workers, folder / "timed"))
    solver = StreamSolver(config)
    with h5py.File(folder / "mrhisum.h5") as h5:
        lengths = [h5[key]["features"].shape[0] for key in config.split["train_keys"]]
    trained = len(lengths) // config.batch_size * config.batch_size
    order = solver.order(0)[:trained]
    flops = sum(3 * forward_flops(lengths[i], D) - 6 * lengths[i] * D * D for i in order)
    floor = flops / matmul_rate()
    start = time.perf_counter()
    solver.train_epoch(0)
    train = time.perf_counter() - start
    start = time.perf_counter()
    validate(solver)
    return {"train": train, "floor": floor, "validate": time.perf_counter() - start,
            "n_val": len(solver.eval_keys), "n_train": trained}


def validate(solver: StreamSolver) -> None:
    """Score and measure the validation videos as training does, without writing anything."""
    from evaluation.mrhisum import evaluate_video, mean_metrics
    from model.streaming import scored
    mean_metrics({key: evaluate_video(scores, truth) for key, scores, truth in
                  scored(solver.model, solver.eval_reader, list(range(len(solver.eval_keys))), solver.device)})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--workers", type=int, default=1, help="reader processes per reader (default: 1)")
    p.add_argument("--keep", type=Path, default=None, help="generate the data here and keep it")
    args = p.parse_args()
    print(f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs; batch 40, {args.workers} reader processes")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.videos:
            folder = (args.keep or Path(tmp)) / f"mrhisum_{n}"
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / "mrhisum.h5").is_file():
                start = time.perf_counter()
                make_mrhisum(folder / "mrhisum.h5", n, D, seed=n)
                (folder / "split.json").write_text(json.dumps(mrhisum_split([f"video_{i}" for i in range(1, n + 1)],
                                                                             seed=n)))
                print(f"generated {n} videos ({(folder / 'mrhisum.h5').stat().st_size / 1e9:.1f} GB) in "
                      f"{time.perf_counter() - start:.0f} s")
            timing = timed_epoch(folder, args.workers)
            wall, rss, pss = peak_memory([sys.executable, str(Path(__file__).resolve().parent.parent / "model" /
                                                              "main.py"), *arguments(folder, args.workers,
                                                                                    folder / "exp")])
            rows.append((n, timing, wall, rss, pss))
            print(f"{n} videos: epoch of {timing['n_train']} training videos {timing['train']:.1f} s, floor "
                  f"{timing['floor']:.1f} s, ratio {timing['train'] / timing['floor']:.2f}x (goal: at most 1.35x); "
                  f"validation of {timing['n_val']} videos {timing['validate']:.1f} s "
                  f"({timing['validate'] / timing['n_val'] * 1000:.1f} s per 1,000); main.py --n_epochs 1: "
                  f"{wall:.0f} s, peak RSS of the process tree {rss / 2**20:.0f} MiB (PSS {pss / 2**20:.0f} MiB)",
                  flush=True)
    if len(rows) > 1:
        rss = [row[3] for row in rows]
        print(f"peak RSS from {rows[0][0]} to {rows[-1][0]} videos: {rss[0] / 2**20:.0f} -> {rss[-1] / 2**20:.0f} MiB "
              f"({(rss[-1] / rss[0] - 1) * 100:+.1f}%; goal: within 10%, under 2 GB)")


if __name__ == "__main__":
    main()
