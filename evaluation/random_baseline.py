"""The random summarizer's F1 of every split, as "Performance over Random" computes it (docs/evaluation.md, "Random
baseline"; Apostolidis et al., ACM MM 2020, the authors' `compute_RP`).

Usage: python evaluation/random_baseline.py --dataset_file H5 --splits_file JSON --eval max|avg [--seeds 100]
                                            [--json OUT] [--workers N]

Per split and seed 0..99: the legacy MT19937 generator seeded once, then n_frames uniform frame scores per test video
drawn from that one stream in the order of the split's test_keys; shot score = the mean of its frames' scores; the
F-score's knapsack and 15% budget; F-score against the user summaries ('max' SumMe, 'avg' TVSum); the mean over the
split's videos, then over the seeds. Prints each split's random F1 and their mean; --json writes
{"splits": [{"split": k, "random_f_score": f}, ...], "random_f_score": mean}. An empty summary scores 0 (the
authors' code gives NaN).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os

import numpy as np

from common import fileio
from common.cli import description, positive
from common.datasets import EVAL_METHODS
from common.errors import run_cli
from common.h5data import open_h5
from common.splits import load_splits
from evaluation.baseline_cache import random_f_scores
from evaluation.baselines import PAPER_SEEDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python evaluation/random_baseline.py", description=description(__doc__))
    parser.add_argument("--dataset_file", type=Path, required=True, help="dataset h5 (the eccv16 layout)")
    parser.add_argument("--splits_file", type=Path, required=True,
                        help="splits JSON; each split's test_keys, in their order, are its test videos")
    parser.add_argument("--eval", choices=EVAL_METHODS, required=True, dest="eval_method",
                        help="reduction over the user summaries: max (SumMe) or avg (TVSum)")
    parser.add_argument("--seeds", type=positive, default=PAPER_SEEDS,
                        help=f"seeds 0 .. N-1 (default: {PAPER_SEEDS}, the PoR protocol's)")
    parser.add_argument("--json", type=Path, default=None, help="write the random F1 of every split to this JSON file")
    parser.add_argument("--workers", type=positive, default=os.cpu_count() or 1,
                        help="processes sharing the splits (default: the number of CPUs)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    splits = load_splits(args.splits_file)
    open_h5(args.dataset_file).close()
    values = random_f_scores(args.dataset_file, splits, args.splits_file, args.eval_method, args.seeds, args.workers)
    for k, value in enumerate(values):
        print(f"[Split: {k}] random F1: {value!r}")
    mean = float(np.mean(values))
    print(f"Avg random F1 over {len(values)} splits ({args.seeds} seeds each): {mean!r}")
    if args.json is not None:
        per_split = [{"split": k, "random_f_score": value} for k, value in enumerate(values)]
        fileio.write_json(args.json, {"splits": per_split, "random_f_score": mean}, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    run_cli(main)
