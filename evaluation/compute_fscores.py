"""F-score of every epoch of one training run: writes f_scores.txt beside the run's score JSONs (docs/method.md,
"Evaluation").

Usage: python evaluation/compute_fscores.py --path RESULTS_DIR --dataset SumMe|TVSum --eval max|avg [--dataset_file H5]

For each {Dataset}_{epoch}.json (epochs -1, 0, 1, ...): the summary of every video in it, its F-score against the
user summaries ('max' over users for SumMe, 'avg' for TVSum), and the mean over the file's videos. f_scores.txt has one
value per line, epoch -1 first. The numbers are those of the reference's script; the h5 is read once and all the
epochs of a video are summarised together, which is what makes it fast. Another reduction than the dataset's in the
paper is warned about and written to f_scores.{max,avg}.txt instead (evaluation/protocol.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse

from common.cli import description
from common.datasets import DATASET_NAMES, EVAL_METHODS
from common.degenerate import random_dataset_warning
from common.errors import run_cli, warn
from common.paths import default_dataset_file
from evaluation.eval_data import EvalDataset
from evaluation.fscores import compute_fscores, f_scores_path
from evaluation.protocol import protocol_warning


def build_parser():
    parser = argparse.ArgumentParser(prog="python evaluation/compute_fscores.py", description=description(__doc__))
    parser.add_argument("--path", type=Path, required=True,
                        help="results folder of one run, holding {Dataset}_{epoch}.json (.../results/split{k})")
    parser.add_argument("--dataset", choices=DATASET_NAMES, required=True, help="dataset of the run")
    parser.add_argument("--eval", choices=EVAL_METHODS, required=True, dest="eval_method",
                        help="reduction over the user summaries: max (SumMe) or avg (TVSum)")
    parser.add_argument("--dataset_file", type=Path, default=None,
                        help="dataset h5 (default: data/{Dataset}/eccv16_dataset_{dataset}_google_pool5.h5)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    warning = protocol_warning(args.dataset, args.eval_method)
    if warning:
        warn(warning)
    dataset_file = args.dataset_file or default_dataset_file(args.dataset)
    with EvalDataset(dataset_file) as data:
        warning = random_dataset_warning(dataset_file)
        if warning:
            warn(warning)
        results = compute_fscores(args.path, args.dataset, args.eval_method, data)
    for epoch, value in results:
        print(f"[epoch {epoch}] f_score: {value}")
    print(f"wrote {f_scores_path(args.path, args.dataset, args.eval_method)}")


if __name__ == "__main__":
    run_cli(main)
