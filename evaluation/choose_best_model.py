"""Model selection over a finished experiment, without ground truth (docs/method.md, "Model selection"), and the
paper's table.

Usage: python evaluation/choose_best_model.py --exp_dir DIR --dataset SumMe|TVSum [--dataset_file H5]
                                             [--splits_file JSON] [--eval max|avg] [--anno PATH]

Per sigma and split of the splits file: the epoch e* with the lowest training loss among epochs 20..399, and the
improvement |m(e*) - m(-1)| / |sigma - m(-1)| of the mean score m over the untrained model (set to 0 above 1.5).
Per split the sigma with the highest improvement wins; its F1 at e* (and on TVSum Spearman's rho and Kendall's tau
against the annotations) are printed exactly like the authors' script prints them, then averaged. Below, clearly
labelled as another protocol, the F1 of the best test epoch of the chosen sigma. Then a table of every number next
to its baselines (docs/evaluation.md): the random summarizer's F1 of "Performance over Random" and PoR, the humans'
leave-one-out F1, Spearman's rho and Kendall's tau (SumMe: against the mean user summary) and, on TVSum, the humans'
rho and tau. The baselines depend only on the dataset h5 and the splits file (the number of splits, each split's
test videos and their order); they are computed once and cached in {exp_dir}/{Dataset}_baselines.json.

The experiment needs, per run, logs/split{k}/scalars.csv (export_tensorboard_log.py), results/split{k}/
{Dataset}_{epoch}.json and f_scores.txt (compute_fscores.py): evaluate_experiment.py (choose_best_model.sh) makes
them all and then runs this. A grid with runs missing is evaluated on the runs it has, and the report says which
are missing. The choice is written to {exp_dir}/{Dataset}_best_models.json ({Dataset}_best_models.{eval}.json, with
a warning, for another --eval than the paper's: evaluation/protocol.py). A folder of seed experiments (seed{S}/,
from `run_*_splits.sh --seeds`) gets each seed's report, then every number as mean ± sample standard deviation.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse

from common.cli import description
from common.datasets import DATASET_NAMES, DATASETS, EVAL_METHODS
from common.errors import run_cli, warn
from common.paths import default_dataset_file, default_splits_file
from common.splits import load_splits
from evaluation.annotations import load_annotations
from evaluation.protocol import protocol_warning
from evaluation.report import ReportInputs, report_experiment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python evaluation/choose_best_model.py", description=description(__doc__))
    parser.add_argument("--exp_dir", type=Path, required=True,
                        help="experiment folder (holding reg0.5 .. reg0.9, or one such experiment per seed{S}/)")
    parser.add_argument("--dataset", choices=DATASET_NAMES, required=True, help="dataset of the experiment")
    parser.add_argument("--dataset_file", type=Path, default=None,
                        help="dataset h5 (default: data/{Dataset}/eccv16_dataset_{dataset}_google_pool5.h5)")
    parser.add_argument("--splits_file", type=Path, default=None,
                        help="the splits the experiment was trained on (default: data/splits/{dataset}_splits.json)")
    parser.add_argument("--eval", choices=EVAL_METHODS, default=None, dest="eval_method",
                        help="reduction over the user summaries of the F-scores, as compute_fscores.py was given "
                             "(default: the dataset's, max for SumMe, avg for TVSum)")
    parser.add_argument("--anno", type=Path, default=None,
                        help="TVSum annotations, ydata-anno.tsv or ydata-anno.rar "
                             "(default: data/TVSum/ydata-anno.tsv, else data/TVSum/ydata-anno.rar)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    splits_file = args.splits_file or default_splits_file(args.dataset)
    load_splits(splits_file)
    dataset_file = args.dataset_file or default_dataset_file(args.dataset)
    annotations, anno_path = load_annotations(args.anno) if DATASETS[args.dataset].annotations else (None, None)
    eval_method = args.eval_method or DATASETS[args.dataset].eval_method
    warning = protocol_warning(args.dataset, eval_method)
    if warning:
        warn(warning)
    report_experiment(args.exp_dir, args.dataset, ReportInputs(dataset_file, splits_file, eval_method, annotations,
                                                               anno_path))
    if warning:
        warn(warning)


if __name__ == "__main__":
    run_cli(main)
