"""The baselines of an experiment, per split of its splits file, computed once and kept beside its report in
{exp_dir}/{Dataset}_baselines.json (docs/evaluation.md, "Baselines").

They depend only on the dataset, the splits, the F-score's reduction, the number of seeds and (TVSum's human rank
correlation) the annotations, so the cache is keyed by exactly those: the dataset file's path, size and mtime, the
splits file's SHA-256, the eval method, the seeds, and the annotation file's path, size and mtime. Anything else in
the file, or a file that does not parse, is recomputed and replaced.
"""
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from common import fileio
from common.errors import UserError
from common.h5data import open_h5
from common.splits import Split
from evaluation.baselines import PAPER_SEEDS, human_correlation, human_f_score, random_f_score
from evaluation.eval_data import EvalDataset
from evaluation.pool import map_jobs
from evaluation.protocol import output_name

CACHE_VERSION = 1
BASELINE_KEYS = ("random_f_score", "human_f_score", "human_rho", "human_tau")


def file_stamp(path: Path) -> dict:
    """{"path", "size", "mtime_ns"} of a file, the part of a cache key that changes when the file does."""
    path = Path(path)
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_key(dataset_file: Path, splits_file: Path, eval_method: str, seeds: int, anno_path: Path | None) -> dict:
    """What the baselines depend on (see the module docstring)."""
    splits_bytes = fileio.read_bytes(splits_file, "splits file")
    return {"version": CACHE_VERSION, "dataset_file": file_stamp(dataset_file),
            "splits_sha256": hashlib.sha256(splits_bytes).hexdigest(), "eval_method": eval_method, "seeds": seeds,
            "annotations": None if anno_path is None else file_stamp(anno_path)}


def _random_job(data: EvalDataset, keys: list[str], source: str, eval_method: str, seeds: int) -> float:
    return random_f_score([data.video(key, source) for key in keys], eval_method, seeds)


def random_f_scores(dataset_file: Path, splits: list[Split], splits_file: Path, eval_method: str,
                    seeds: int = PAPER_SEEDS, workers: int = 1) -> list[float]:
    """The random summarizer's F1 of every split (baselines.random_f_score), the splits shared among `workers`
    processes, with a progress bar."""
    jobs = [(split["test_keys"], str(splits_file), eval_method, seeds) for split in splits]
    return map_jobs(_random_job, jobs, dataset_file, workers, "Random baseline", "split")


def _mean(values: list[float]) -> float | None:
    """The mean, or None when it is undefined (NaN: no JSON value)."""
    value = float(np.mean(values))
    return value if np.isfinite(value) else None


def compute_baselines(dataset_file: Path, splits: list[Split], splits_file: Path, eval_method: str,
                      seeds: int = PAPER_SEEDS, annotations: dict | None = None, anno_path: Path | None = None,
                      workers: int = 1) -> list[dict]:
    """The baselines of every split, [{"split", "random_f_score", "human_f_score", "human_rho", "human_tau"}, ...],
    each the mean over the split's test videos; the human correlations are None without TVSum `annotations`.

    The random F1 of the splits is shared among `workers` processes."""
    random = random_f_scores(dataset_file, splits, splits_file, eval_method, seeds, workers)
    humans = {}
    with EvalDataset(dataset_file) as data:
        for split in splits:
            for key in split["test_keys"]:
                if key in humans:
                    continue
                human = {"human_f_score": human_f_score(data.video(key, splits_file), eval_method)}
                if annotations is not None:
                    if key not in annotations:
                        raise UserError(f"{anno_path}: no annotations for {key} of {dataset_file}")
                    human["human_rho"], human["human_tau"] = human_correlation(annotations[key])
                humans[key] = human
    out = []
    for k, (split, random_f1) in enumerate(zip(splits, random)):
        entry = {"split": k, "random_f_score": random_f1}
        for name in BASELINE_KEYS[1:]:
            values = [humans[key].get(name) for key in split["test_keys"]]
            entry[name] = None if None in values else _mean(values)
        out.append(entry)
    return out


class BaselineCache:
    """{exp_dir}/{dataset}_baselines.json for one key (see the module docstring)."""

    def __init__(self, exp_dir: Path, dataset: str, dataset_file: Path, splits_file: Path, eval_method: str,
                 anno_path: Path | None = None, seeds: int = PAPER_SEEDS):
        self.path = Path(exp_dir) / output_name(f"{dataset}_baselines.json", dataset, eval_method)
        open_h5(dataset_file).close()  # a missing or broken h5 is reported before its stamp is taken
        self.key = cache_key(dataset_file, splits_file, eval_method, seeds, anno_path)

    def load(self, n_splits: int) -> list[dict] | None:
        """The cached baselines of the `n_splits` splits when the file holds them for exactly this key, else None."""
        try:
            cached = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(cached, dict) or cached.get("key") != self.key:
            return None
        splits = cached.get("splits")
        if not isinstance(splits, list) or len(splits) != n_splits or not all(map(self.well_formed, splits)):
            return None
        return splits

    @staticmethod
    def well_formed(entry: object) -> bool:
        """Whether a cached split holds every baseline, each a finite number or null."""
        if not isinstance(entry, dict) or any(name not in entry for name in BASELINE_KEYS):
            return False
        values = [entry[name] for name in BASELINE_KEYS]
        return all(value is None or (type(value) in (int, float) and math.isfinite(value)) for value in values)

    def save(self, baselines: list[dict]) -> None:
        fileio.write_json(self.path, {"key": self.key, "splits": baselines}, indent=2)
