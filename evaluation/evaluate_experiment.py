"""Evaluate a whole experiment in one command: logs to scalars.csv, F-scores of every run, then the model selection.

Usage: python evaluation/evaluate_experiment.py EXP_DIR SumMe|TVSum max|avg [--dataset_file H5] [--anno PATH]
                                                [--workers N]
(also run as: sh evaluation/choose_best_model.sh EXP_DIR DATASET EVAL_METHOD [--dataset_file H5] [--anno PATH])

For every sigma (reg0.5 .. reg0.9) and split (0 .. 4): the TensorBoard events of logs/split{k} are exported to
scalars.csv (a folder that only has scalars.csv, e.g. from the authors' code, is taken as it is), and f_scores.txt is
computed from results/split{k}. The runs are shared among N worker processes (default: one per CPU), each reading
the h5 once. Then choose_best_model prints the paper's table and writes {exp_dir}/{Dataset}_best_models.json.
An EXP_DIR that holds one experiment per seed (seed{S}/, from `run_*_splits.sh --seeds`) has every seed's runs
evaluated, then each seed's table and the table of mean ± standard deviation over the seeds (choose_best_model.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402

from tqdm import tqdm  # noqa: E402

from evaluation.choose_best_model import (DATASETS, choose_best_model, load_annotations, run_folders,  # noqa: E402
                                          seed_experiments)
from evaluation.compute_fscores import compute_fscores  # noqa: E402
from evaluation.eval_data import EvalDataset  # noqa: E402
from evaluation.evaluation_metrics import EVAL_METHODS, subsampled_length  # noqa: E402
from evaluation.export_tensorboard_log import export_scalars, has_events  # noqa: E402
from model.configs import default_dataset_file  # noqa: E402
from model.data_loader import open_h5  # noqa: E402
from model.errors import UserError, run_cli  # noqa: E402


def check_logs(folders):
    """Every run needs TensorBoard events or an already exported scalars.csv."""
    for log_dir, _ in folders:
        if not has_events(log_dir) and not (log_dir / "scalars.csv").is_file():
            raise UserError(f"{log_dir}: no TensorBoard event files and no scalars.csv")


def check_annotations(annotations, anno_path, n_scores, h5_path):
    """Each evaluated video's annotations must sub-sample to its number of scores in the h5 ({video: n_scores})."""
    for key, count in n_scores.items():
        if key not in annotations:
            raise UserError(f"{anno_path}: no annotations for {key} of {h5_path}")
        n_frames = annotations[key].shape[1]
        if subsampled_length(n_frames) != count:
            raise UserError(f"{anno_path}: {key} has {n_frames} annotated frames ({subsampled_length(n_frames)} "
                            f"sub-sampled), but {count} scores (n_steps) in {h5_path}: the annotation file does not "
                            f"match the dataset")


def evaluate_run(data, log_dir, results_dir, dataset, eval_method):
    """Export one run's log and compute its f_scores.txt; return {video: n_scores} of the videos evaluated so far."""
    if has_events(log_dir):
        export_scalars(log_dir)
    compute_fscores(results_dir, dataset, eval_method, data)
    return {key: video.n_scores for key, video in data.videos.items()}


_worker_data = None  # the EvalDataset of a worker process, opened once by _open_dataset


def _open_dataset(dataset_file):
    global _worker_data
    _worker_data = EvalDataset(dataset_file)


def _evaluate_run_in_worker(*job):
    return evaluate_run(_worker_data, *job)


def evaluate_runs(folders, dataset, eval_method, dataset_file, workers):
    """Evaluate every run (log_dir, results_dir) of `folders`, in `workers` processes (each reading the h5 once);
    return {video: n_scores}."""
    jobs = [(log_dir, results_dir, dataset, eval_method) for log_dir, results_dir in folders]
    n_scores = {}
    with tqdm(total=len(jobs), desc=f"Evaluating {dataset}", unit="run", ncols=80, disable=None) as progress:
        if workers <= 1:
            with EvalDataset(dataset_file) as data:
                for job in jobs:
                    n_scores.update(evaluate_run(data, *job))
                    progress.update()
            return n_scores
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with ProcessPoolExecutor(workers, context, initializer=_open_dataset, initargs=(dataset_file,)) as pool:
            futures = [pool.submit(_evaluate_run_in_worker, *job) for job in jobs]
            try:
                for future in as_completed(futures):
                    n_scores.update(future.result())
                    progress.update()
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    return n_scores


def evaluate_experiment(exp_dir, dataset, eval_method, dataset_file=None, anno=None, workers=1):
    """Export the logs and compute the F-scores of every run (of every seed's experiment), then choose the models;
    return the report."""
    experiments = [folder for _, folder in seed_experiments(exp_dir)] or [exp_dir]
    folders = [run for folder in experiments for run in run_folders(folder, dataset).values()]
    check_logs(folders)
    dataset_file = Path(dataset_file or default_dataset_file(dataset))
    open_h5(dataset_file).close()  # a missing or broken h5 is reported before any work starts
    annotations, anno_path = load_annotations(dataset, anno)
    n_scores = evaluate_runs(folders, dataset, eval_method, dataset_file, min(workers, len(folders)))
    if annotations is not None:
        check_annotations(annotations, anno_path, n_scores, dataset_file)
    return choose_best_model(exp_dir, dataset, annotations, anno_path)


def build_parser():
    parser = argparse.ArgumentParser(prog="python evaluation/evaluate_experiment.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("exp_dir", type=Path,
                        help="experiment folder (holding reg0.5 .. reg0.9, or one such experiment per seed{S}/)")
    parser.add_argument("dataset", choices=DATASETS, help="dataset of the experiment")
    parser.add_argument("eval_method", choices=EVAL_METHODS, help="max (SumMe) or avg (TVSum)")
    parser.add_argument("--dataset_file", type=Path, default=None,
                        help="dataset h5 (default: data/{Dataset}/eccv16_dataset_{dataset}_google_pool5.h5)")
    parser.add_argument("--anno", type=Path, default=None,
                        help="TVSum annotations, ydata-anno.tsv or .rar (default: data/TVSum/ydata-anno.tsv, "
                             "else data/TVSum/ydata-anno.rar)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes evaluating runs in parallel (default: the number of CPUs)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    evaluate_experiment(args.exp_dir, args.dataset, args.eval_method, args.dataset_file, args.anno, args.workers)


if __name__ == "__main__":
    run_cli(main)
