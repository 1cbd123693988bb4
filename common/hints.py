"""What to do when a data file or a model is missing: the hints every command appends to its `... not found` error,
so that a new user learns from any entry point how to fetch the paper's files, or how to try the tool without them
(data/README.md, "Getting them"; README.md, "The demo")."""
from pathlib import Path

from common.datasets import DATASETS
from common.paths import REPO_ROOT, demo_dataset_files

DEMO = "bash run_summe_splits.sh --demo"
MRHISUM = DATASETS["MrHiSum"]


def missing_data_hint(path: Path) -> str:
    """The hint to append to `{path}: ... not found` for a dataset file (h5, splits, annotations): where
    `data/download.py` gets it, or how Mr.HiSum's h5 is built, and the demo, which needs no download."""
    name = Path(path).name
    if name == Path(MRHISUM.splits_path).name:
        return "; `python data/download.py mrhisum` fetches it (data/README.md, \"Mr.HiSum\")"
    if name == Path(MRHISUM.h5_path).name:
        return "; it is built from YouTube-8M as data/README.md says (\"Mr.HiSum\"); no download can fetch it"
    demo = next((demo_dataset_files(dataset) for dataset, d in DATASETS.items()
                 if name in (Path(d.h5_path).name, Path(d.splits_path).name)), None)
    if demo and all(file.is_file() for file in demo):  # the demo ran: its runs are evaluated on its own files
        h5, splits = (file.relative_to(REPO_ROOT) if file.is_relative_to(REPO_ROOT) else file for file in demo)
        return (f"; `python data/download.py datasets` fetches the paper's data (data/README.md); the runs of "
                f"`{DEMO}` take the demo's own files: --dataset_file {h5} --splits_file {splits}")
    return (f"; `python data/download.py datasets` fetches the paper's data (data/README.md), or try the demo, which "
            f"needs no download: `{DEMO}`")


def missing_models_hint() -> str:
    """The hint to append when the released CA-SUM checkpoints are missing."""
    return (f"; `python data/download.py models` fetches the released models (data/README.md), or score your own "
            f"training with --model_dir (the demo, `{DEMO}`, prints the command)")


def missing_checkpoint_hint() -> str:
    """The hint to append when a CA-SUM checkpoint given to the video commands is missing."""
    return ("; use a released model (`python data/download.py models`, then inference/pretrained_models/"
            "{SumMe,TVSum}/split{k}/) or your own training; without a download: docs/video.md, \"Offline\"")
