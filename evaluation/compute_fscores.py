"""F-score of every epoch of one training run: writes f_scores.txt beside the run's score JSONs (SPEC section 4).

Usage: python evaluation/compute_fscores.py --path RESULTS_DIR --dataset SumMe|TVSum --eval max|avg [--dataset_file H5]

For each {Dataset}_{epoch}.json (epochs -1, 0, 1, ...): the summary of every video in it, its F-score against the
user summaries ('max' over users for SumMe, 'avg' for TVSum), and the mean over the file's videos. f_scores.txt has one
value per line, epoch -1 first. The numbers are those of the reference's script; the h5 is read once and all the
epochs of a video are summarised together, which is what makes it fast.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from evaluation.eval_data import EvalDataset, check_length, epoch_files, read_scores  # noqa: E402
from evaluation.evaluation_metrics import EVAL_METHODS  # noqa: E402
from model import fileio  # noqa: E402
from model.configs import default_dataset_file  # noqa: E402
from model.errors import run_cli  # noqa: E402

DATASETS = ("SumMe", "TVSum")


def video_f_scores(video, scores, eval_method):
    """F-score of the summary of each score vector in `scores` [B, n_scores] of one EvalVideo."""
    return video.scorer.f_scores(video.shots.select(scores), eval_method)


def epoch_f_scores(files, data, eval_method):
    """Mean F-score over the videos of each score file in `files` [(epoch, path), ...], in that order."""
    runs = [(path, read_scores(path)) for _, path in files]
    rows = {}  # video -> [(file index, scores), ...]
    for index, (path, scores) in enumerate(runs):
        for key, vector in scores.items():
            video = data.video(key, path)
            check_length(path, key, vector, video, data.path)
            rows.setdefault(key, []).append((index, vector))
    f_by_file = [{} for _ in runs]
    for key, entries in rows.items():
        f = video_f_scores(data.videos[key], np.stack([vector for _, vector in entries]), eval_method)
        for (index, _), value in zip(entries, f.tolist()):
            f_by_file[index][key] = value
    return [float(np.mean([f_by_file[index][key] for key in scores])) for index, (_, scores) in enumerate(runs)]


def compute_fscores(results_dir, dataset, eval_method, data):
    """Write {results_dir}/f_scores.txt for the run's {dataset}_{epoch}.json files; return [(epoch, f), ...]."""
    files = epoch_files(results_dir, dataset)
    values = epoch_f_scores(files, data, eval_method)
    fileio.write_text(Path(results_dir) / "f_scores.txt", "".join(f"{value!r}\n" for value in values))
    return [(epoch, value) for (epoch, _), value in zip(files, values)]


def build_parser():
    parser = argparse.ArgumentParser(prog="python evaluation/compute_fscores.py", description=__doc__.split("\n")[0])
    parser.add_argument("--path", type=Path, required=True,
                        help="results folder of one run, holding {Dataset}_{epoch}.json (.../results/split{k})")
    parser.add_argument("--dataset", choices=DATASETS, required=True, help="dataset of the run")
    parser.add_argument("--eval", choices=EVAL_METHODS, required=True, dest="eval_method",
                        help="reduction over the user summaries: max (SumMe) or avg (TVSum)")
    parser.add_argument("--dataset_file", type=Path, default=None,
                        help="dataset h5 (default: data/{Dataset}/eccv16_dataset_{dataset}_google_pool5.h5)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    with EvalDataset(args.dataset_file or default_dataset_file(args.dataset)) as data:
        results = compute_fscores(args.path, args.dataset, args.eval_method, data)
    for epoch, value in results:
        print(f"[epoch {epoch}] f_score: {value}")
    print(f"wrote {args.path / 'f_scores.txt'}")


if __name__ == "__main__":
    run_cli(main)
