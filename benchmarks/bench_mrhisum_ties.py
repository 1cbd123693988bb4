"""How far Mr.HiSum's mAP moves with the two things its own code leaves to the machine (docs/mrhisum.md, "Ties"): the
float32 rounding of the softmax's exp, which decides which near-equal clips tie, and the order of tied ground-truth
clips at the top-k cut.

On generated Mr.HiSum-layout videos (data/make_dataset.py) and four kinds of scores (random; quantised to tenths;
within 1e-6 of 0.5; an untrained CA-SUM's, sigmoid outputs near 0.98), it prints, for mAP@50 and mAP@15, the
largest change of one video's value and the change of the mean over the videos between:
- the project's rule (each exp correctly rounded) and torch's float32 exp on this CPU, which is what Mr.HiSum's code
  computes here;
- tied ground-truth clips taken first to last (the project's rule) and last to first, with the ground truth
  quantised to hundredths so that ties at the cut occur.

    python benchmarks/bench_mrhisum_ties.py [--videos 500]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import subprocess
import tempfile

import h5py
import numpy as np
import torch

from data.make_dataset import make_mrhisum
from evaluation.mrhisum import average_precision, clip_means, clip_softmax, top_labels

KINDS = ("random", "quantised", "narrow", "sigmoid")


def scores_of(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    draw = rng.random(n)
    return {"random": draw, "quantised": np.round(draw * 10) / 10, "narrow": 0.5 + 1e-6 * draw,
            "sigmoid": 1 / (1 + np.exp(-(4 + 0.01 * (draw - 0.5))))}[kind].astype(np.float32)


def torch_softmax(clips: np.ndarray) -> np.ndarray:
    """Their softmax with this CPU's float32 exp."""
    e = torch.exp(torch.from_numpy(clips))
    return (e / (e.sum() + 1e-7)).numpy()


def reverse_ties(clips: np.ndarray, k: int) -> list[int]:
    """The top k clips, the later of equal ones first."""
    order = np.argsort(-clips[::-1], kind="stable")
    labels = np.zeros(len(clips), dtype=int)
    labels[len(clips) - 1 - order[:k]] = 1
    return labels.tolist()


def changes(pairs: list[tuple[float, float]]) -> str:
    a, b = np.array(pairs).T
    return f"largest per video {np.abs(a - b).max():.4f}, mean over videos {abs(a.mean() - b.mean()):.5f}"


def main() -> None:
    p = argparse.ArgumentParser(prog="python benchmarks/bench_mrhisum_ties.py", description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=500)
    args = p.parse_args()
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    print(f"{args.videos} generated videos, CPU {model}, torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()} kernels)")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        path = make_mrhisum(Path(folder) / "videos.h5", args.videos, input_size=4, seed=0)
        with h5py.File(path) as h5:
            truths = [h5[key]["gtscore"][()].astype(np.float32) for key in h5]
    for kind in KINDS:
        exp_pairs = {50: [], 15: []}
        for gtscore in truths:
            clips = clip_means(scores_of(kind, len(gtscore), rng))
            gt_clips = clip_means(gtscore)
            ours, theirs = clip_softmax(clips), torch_softmax(clips)
            for top, k in ((50, len(gt_clips) // 2), (15, int(len(gt_clips) * 0.15))):
                labels = top_labels(gt_clips, k)
                exp_pairs[top].append((average_precision(labels, ours), average_precision(labels, theirs)))
        print(f"{kind:>9} scores, exp correctly rounded against this CPU's float32 exp: "
              f"mAP@50 {changes(exp_pairs[50])}; mAP@15 {changes(exp_pairs[15])}")
    tie_pairs, at_cut = {50: [], 15: []}, 0
    for gtscore in truths:
        gt_clips = np.round(clip_means(gtscore) * 100) / np.float32(100)
        predicted = clip_softmax(clip_means(scores_of("random", len(gtscore), rng)))
        for top, k in ((50, len(gt_clips) // 2), (15, int(len(gt_clips) * 0.15))):
            first, last = top_labels(gt_clips, k), reverse_ties(gt_clips, k)
            at_cut += first != last
            tie_pairs[top].append((average_precision(first, predicted), average_precision(last, predicted)))
    print(f"ground truth quantised to hundredths, ties taken first to last against last to first "
          f"({at_cut} of {2 * len(truths)} cuts fall in a tie): mAP@50 {changes(tie_pairs[50])}; "
          f"mAP@15 {changes(tie_pairs[15])}")


if __name__ == "__main__":
    main()
