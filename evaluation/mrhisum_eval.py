"""Mr.HiSum's metrics (docs/mrhisum.md) for a JSON of per-row scores, as training computes them on the validation
videos (evaluation/mrhisum.py):

    python evaluation/mrhisum_eval.py --dataset_file data/MrHiSum/mr_hisum.h5 --scores SCORES.json [--json OUT]

SCORES.json: {video: [score, ...]}, one score per row (second) of the video's features. Prints each metric's mean
over the videos (F1 in percent, mAP@50 and mAP@15, Kendall's tau and Spearman's rho against gtscore) and writes
{"videos": {video: {"f_score", "map50", "map15", "tau", "rho"}}, "f_score", "map50", "map15", "tau", "rho"}, an
undefined correlation (constant scores) as null.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse

from common import fileio
from common.cli import description
from common.errors import run_cli
from common.h5data import open_h5
from common.paths import default_dataset_file
from evaluation.eval_data import read_scores
from evaluation.mrhisum import METRICS, evaluate_scores


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python evaluation/mrhisum_eval.py", description=description(__doc__))
    p.add_argument("--dataset_file", type=Path, default=default_dataset_file("MrHiSum"),
                   help="Mr.HiSum-layout h5 (default: data/MrHiSum/mr_hisum.h5)")
    p.add_argument("--scores", type=Path, required=True, help="JSON {video: [score per row, ...]}")
    p.add_argument("--json", type=Path, default=None, help="also write the per-video and mean metrics here")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    scores = read_scores(args.scores)
    with open_h5(args.dataset_file) as h5:
        report = evaluate_scores(h5, args.dataset_file, scores, args.scores)
    print(f"{len(scores)} videos: F1 {report['f_score']:.2f}  mAP@50 {report['map50']:.4f}  "
          f"mAP@15 {report['map15']:.4f}  Kendall's \u03c4 {report['tau']:.4f}  Spearman's \u03c1 {report['rho']:.4f}")
    if args.json:
        report = {"videos": {key: {name: fileio.finite(value) for name, value in video.items()}
                             for key, video in report["videos"].items()},
                  **{name: fileio.finite(report[name]) for name in METRICS}}
        fileio.write_json(args.json, report, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    run_cli(main)
