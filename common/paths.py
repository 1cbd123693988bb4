"""Where things are: the repository root and the default location of every file the commands read or write.

Defaults are relative to the repository, so every command works from any working directory; paths the user gives
are taken as given (relative to the working directory).
"""
from pathlib import Path

from common.datasets import DATASETS

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
DEFAULT_EXP_DIR = REPO_ROOT / "Summaries" / "exp1"
PRETRAINED_DIR = REPO_ROOT / "inference" / "pretrained_models"
DEMO_DATA_DIR = DATA_DIR / "demo"
DEMO_EXP_DIR = REPO_ROOT / "Summaries" / "demo"
DEMO_H5, DEMO_SPLITS = "demo_dataset.h5", "demo_splits.json"  # the names of a generated dataset's files


def default_dataset_file(dataset: str) -> Path:
    """The dataset's h5 file where `data/download.py` puts it (data/README.md)."""
    return DATA_DIR / DATASETS[dataset].h5_path


def default_splits_file(dataset: str) -> Path:
    """The dataset's usual splits file (the paper's 5 splits for SumMe and TVSum)."""
    return DATA_DIR / DATASETS[dataset].splits_path


def demo_dataset_files(dataset: str, root: Path = DEMO_DATA_DIR) -> tuple[Path, Path]:
    """The demo's dataset h5 and splits file of `dataset`'s shape (data/demo/{dataset}/, experiments/demo.py)."""
    return root / dataset / DEMO_H5, root / dataset / DEMO_SPLITS


def default_annotation_file() -> Path:
    """data/TVSum/ydata-anno.tsv, or the ydata-anno.rar it is distributed in when it has not been unpacked."""
    tsv = DATA_DIR / "TVSum" / "ydata-anno.tsv"
    return tsv if tsv.is_file() else tsv.with_suffix(".rar")
