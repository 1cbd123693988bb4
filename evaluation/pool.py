"""Jobs that read the dataset h5 (the runs' F-scores, the splits' random baselines), shared among worker processes
that each open the h5 once, with a progress bar."""
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from evaluation.eval_data import EvalDataset

_worker_data = None  # the EvalDataset of a worker process, opened once by _open_dataset


def _open_dataset(dataset_file):
    global _worker_data
    _worker_data = EvalDataset(dataset_file)


def _call_in_worker(function, job):
    return function(_worker_data, *job)


def map_jobs(function: Callable, jobs: list[tuple], dataset_file: Path, workers: int, desc: str,
             unit: str) -> list:
    """[function(data, *job) for job in jobs], `data` the EvalDataset of `dataset_file`.

    Args:
        function: a module-level function (workers receive it by reference).
        jobs: its arguments after `data`, one tuple per call.
        dataset_file: the dataset h5, opened once per process.
        workers: processes; 1 runs the jobs in this process.
        desc, unit: the progress bar's label and unit.
    Returns:
        The results in the order of `jobs`. The first job that fails cancels the others and raises its error.
    """
    workers = min(workers, len(jobs))
    with tqdm(total=len(jobs), desc=desc, unit=unit, ncols=80, disable=None) as progress:
        if workers <= 1:
            results = []
            with EvalDataset(dataset_file) as data:
                for job in jobs:
                    results.append(function(data, *job))
                    progress.update()
            return results
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with ProcessPoolExecutor(workers, context, initializer=_open_dataset, initargs=(dataset_file,)) as pool:
            futures = [pool.submit(_call_in_worker, function, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    future.result()
                    progress.update()
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
            return [future.result() for future in futures]
