"""Evaluate a whole experiment in one command: logs to scalars.csv, F-scores of every run, then the model selection.

Usage: python evaluation/evaluate_experiment.py EXP_DIR SumMe|TVSum max|avg [--dataset_file H5] [--splits_file JSON]
                                                [--anno PATH] [--workers N]
(also run as: bash evaluation/choose_best_model.sh EXP_DIR DATASET EVAL_METHOD [options])

For every sigma (reg0.5 .. reg0.9) and split of the splits file: the TensorBoard events of logs/split{k} are exported to
scalars.csv (a folder that only has scalars.csv, e.g. from the authors' code, is taken as it is), and f_scores.txt is
computed from results/split{k}. The runs are shared among N worker processes (default: one per CPU), each reading
the h5 once. Then choose_best_model prints the paper's table, and every number next to the random and human
baselines of the splits (computed once, cached in {exp_dir}/{Dataset}_baselines.json), and writes
{exp_dir}/{Dataset}_best_models.json (docs/evaluation.md). Last, {exp_dir}/{Dataset}_curves.png pictures the choice
of every split, and each run's F1 per epoch goes into its TensorBoard log next to loss_epoch. EVAL_METHOD is the
paper's max for SumMe and avg for TVSum: the other one is warned about and its results go to files of their own
(f_scores.avg.txt, SumMe_best_models.avg.json, SumMe_curves.avg.png; evaluation/protocol.py), the TensorBoard logs
untouched.
An EXP_DIR that holds one experiment per seed (seed{S}/, from `run_*_splits.sh --seeds`) has every seed's runs
evaluated, then each seed's table and the table of mean ± standard deviation over the seeds (choose_best_model.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os

from common.cli import description
from common.datasets import DATASET_NAMES, DATASETS, EVAL_METHODS
from common.errors import UserError, run_cli, warn
from common.h5data import open_h5
from common.paths import default_dataset_file, default_splits_file
from common.splits import load_splits
from evaluation.annotations import check_annotations, load_annotations
from evaluation.curves import log_run_scalars, plot_curves, read_curves
from evaluation.experiment import find_runs, seed_experiments
from evaluation.fscores import compute_fscores
from evaluation.pool import map_jobs
from evaluation.protocol import is_protocol, output_name, protocol_warning
from evaluation.report import ReportInputs, report_experiment
from evaluation.scalars import export_scalars, has_events


def check_logs(runs):
    """Every run needs TensorBoard events or an already exported scalars.csv."""
    for run in runs:
        if not has_events(run.log_dir) and not (run.log_dir / "scalars.csv").is_file():
            raise UserError(f"{run.log_dir}: no TensorBoard event files and no scalars.csv")


def evaluate_run(data, log_dir, results_dir, dataset, eval_method):
    """Export one run's log and compute its f_scores.txt; return {video: n_scores} of the videos evaluated so far."""
    if has_events(log_dir):
        export_scalars(log_dir)
    compute_fscores(results_dir, dataset, eval_method, data)
    return {key: video.n_scores for key, video in data.videos.items()}


def evaluate_runs(runs, dataset, eval_method, dataset_file, workers):
    """Evaluate every run of `runs` (RunFolders), in `workers` processes (each reading the h5 once);
    return {video: n_scores}."""
    jobs = [(run.log_dir, run.results_dir, dataset, eval_method) for run in runs]
    n_scores = {}
    for found in map_jobs(evaluate_run, jobs, dataset_file, workers, f"Evaluating {dataset}", "run"):
        n_scores.update(found)
    return n_scores


def evaluate_experiment(exp_dir: Path, dataset: str, eval_method: str, dataset_file: Path | None = None,
                        splits_file: Path | None = None, anno: Path | None = None, workers: int = 1) -> dict:
    """Export the logs and compute the F-scores of every run (of every seed's experiment), then choose the models;
    return the report."""
    splits_file = Path(splits_file or default_splits_file(dataset))
    n_splits = len(load_splits(splits_file))
    experiments = [folder for _, folder in seed_experiments(exp_dir)] or [exp_dir]
    runs = [run for folder in experiments for run in find_runs(folder, dataset, n_splits).runs.values()]
    check_logs(runs)
    dataset_file = Path(dataset_file or default_dataset_file(dataset))
    open_h5(dataset_file).close()  # a missing or broken h5 is reported before any work starts
    annotations, anno_path = load_annotations(anno) if DATASETS[dataset].annotations else (None, None)
    n_scores = evaluate_runs(runs, dataset, eval_method, dataset_file, min(workers, len(runs)))
    if annotations is not None:
        check_annotations(annotations, anno_path, n_scores, dataset_file)
    inputs = ReportInputs(dataset_file, splits_file, eval_method, annotations, anno_path, workers=workers)
    report, chosen = report_experiment(exp_dir, dataset, inputs)
    protocol = is_protocol(dataset, eval_method)
    for grid, grid_report in chosen:
        curves = read_curves(grid, eval_method)
        path = plot_curves(grid, grid_report, curves, grid.exp_dir / output_name(f"{dataset}_curves.png", dataset,
                                                                                  eval_method))
        if protocol:  # TensorBoard's f_score stays the paper's reduction
            log_run_scalars(grid, grid_report, curves)
        print(f"wrote {path}" + (" and the F-scores of every epoch into each run's TensorBoard log" if protocol else
                                 f" (the TensorBoard logs keep the F-scores of {DATASETS[dataset].eval_method})"))
    return report


def build_parser():
    parser = argparse.ArgumentParser(prog="python evaluation/evaluate_experiment.py",
                                     description=description(__doc__))
    parser.add_argument("exp_dir", type=Path,
                        help="experiment folder (holding reg0.5 .. reg0.9, or one such experiment per seed{S}/)")
    parser.add_argument("dataset", choices=DATASET_NAMES, help="dataset of the experiment")
    parser.add_argument("eval_method", choices=EVAL_METHODS,
                        help="max (SumMe) or avg (TVSum), the paper's; the other one is warned about")
    parser.add_argument("--dataset_file", type=Path, default=None,
                        help="dataset h5 (default: data/{Dataset}/eccv16_dataset_{dataset}_google_pool5.h5)")
    parser.add_argument("--splits_file", type=Path, default=None,
                        help="the splits the experiment was trained on (default: data/splits/{dataset}_splits.json)")
    parser.add_argument("--anno", type=Path, default=None,
                        help="TVSum annotations, ydata-anno.tsv or .rar (default: data/TVSum/ydata-anno.tsv, "
                             "else data/TVSum/ydata-anno.rar)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes evaluating runs in parallel (default: the number of CPUs)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    warning = protocol_warning(args.dataset, args.eval_method)
    if warning:  # before the work, and again after the report, whose table would hide the first
        warn(warning)
    evaluate_experiment(args.exp_dir, args.dataset, args.eval_method, args.dataset_file, args.splits_file, args.anno,
                        args.workers)
    if warning:
        warn(warning)


if __name__ == "__main__":
    run_cli(main)
