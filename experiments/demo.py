"""The demo of the split scripts (`bash run_summe_splits.sh --demo`, `bash run_tvsum_splits.sh --demo`): a small
generated dataset of the script's dataset's shape (data/make_dataset.py), its whole grid trained for enough epochs
that the model selection works as in the paper (the lowest loss from epoch 20 on), evaluated, and explained."""
import shlex
import sys
from pathlib import Path

from common.datasets import DATASETS
from common.paths import DEMO_EXP_DIR, REPO_ROOT
from common.splits import load_splits

EPOCHS = 30


def prepare(video_type: str, batch_size: int) -> tuple[list[str], Path | None, int]:
    """Generate the demo dataset once; (model/main.py arguments, TVSum annotations or None, batch size: the
    paper's, or the demo's training set when that is smaller)."""
    from data.make_dataset import DEMO, demo_files, make_demo
    h5, splits, anno = demo_files(video_type)
    if not all(path.is_file() for path in (h5, splits, anno) if path is not None):
        make_demo(video_type)
    n_train = min(len(split["train_keys"]) for split in load_splits(splits))
    args = ["--dataset_file", str(h5), "--splits_file", str(splits), "--exp_dir", str(DEMO_EXP_DIR),
            "--input_size", str(DEMO[video_type]["input_size"])]
    return args, anno, min(batch_size, n_train)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def experiment_size(exp_dir: Path, video_type: str) -> int:
    """The bytes of one dataset's experiment in `exp_dir`: its runs (reg{sigma}/{video_type}/) and its reports
    ({video_type}_*), not the other dataset's demo beside it."""
    exp_dir = Path(exp_dir)
    return sum(p.stat().st_size for p in exp_dir.rglob("*") if p.is_file() and (
        p.relative_to(exp_dir).parts[1:2] == (video_type,) or p.name.startswith(f"{video_type}_")))


MRHISUM_EXPLAINED = [
    "What the demo printed (docs/mrhisum.md, \"Model selection, both ways\"):",
    "- the CA-SUM way: per sigma the epoch of lowest training loss from epoch 20 on, and how far it moved the test",
    "  videos' mean score from the untrained model's towards sigma (no labels used); the sigma that moved furthest;",
    "- Mr.HiSum's way: the epoch of best validation F1, mAP@50 or mAP@15 (logs/split0/metrics.csv of each sigma);",
    "- each chosen checkpoint's F1, mAP@50, mAP@15, tau and rho on the test videos.",
]
FSCORE_EXPLAINED = [
    "What the demo printed (docs/method.md, \"Model selection\"):",
    "- the matrix: for each sigma (rows) and split (columns), how far training moved the test videos' mean score",
    "  from the untrained model's towards sigma, |m(e*) - m(-1)| / |sigma - m(-1)|, at the epoch e* of lowest",
    "  training loss from epoch 20 on; above 1.5 (overshot) it counts as 0;",
    "- per split, the sigma with the largest value and the F1 of its epoch e* (the paper's protocol, no test",
    "  labels used), then the F1 of the best test epoch (another protocol, which looks at the test labels).",
]


def epilogue(exp_dir: Path, video_type: str, dataset_args: list[str], evaluation: list[str]) -> str:
    """What the demo printed, where its outputs are, and what to try next (the `evaluation` command among it, with
    the demo's own files)."""
    exp_dir = Path(exp_dir)
    checkpoints = list(exp_dir.glob(f"reg*/{video_type}/models/split*/*.pt"))
    h5 = Path(dataset_args[dataset_args.index("--dataset_file") + 1])

    def rel(path):
        path = Path(path)
        return shlex.quote(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path))
    data = " ".join(f"{a} {rel(v)}" for a, v in zip(dataset_args[0:4:2], dataset_args[1:4:2]))
    evaluate = " ".join("python" if part == sys.executable else rel(part) for part in evaluation)
    if DATASETS[video_type].mrhisum:
        explained = MRHISUM_EXPLAINED
        score = f"  python evaluation/mrhisum_eval.py --dataset_file {rel(h5)} --scores SCORES.json   # any scores"
        paper = "  python data/download.py mrhisum, then build the h5 (data/README.md): the real Mr.HiSum"
    else:
        explained = FSCORE_EXPLAINED
        score = (f"  python inference/inference.py --dataset {video_type} --model_dir {rel(exp_dir)}/reg0.6 {data}"
                 f"   # the \u03c3=0.6 runs only (the table chose a \u03c3 per split)")
        paper = f"  python data/download.py datasets && bash run_{video_type.lower()}_splits.sh   # the paper"
    return "\n".join([
        "",
        *explained,
        "The data are random: the numbers say nothing about real videos.",
        "",
        f"Outputs: {rel(exp_dir)}/ ({experiment_size(exp_dir, video_type) / 1e6:.0f} MB: every epoch's scores, "
        f"TensorBoard logs, {len(checkpoints)} checkpoints), the report "
        f"{rel(exp_dir / f'{video_type}_best_models.json')}, and the dataset {rel(h5.parent)}/ "
        f"({folder_size(h5.parent) / 1e6:.0f} MB).",
        "Next:",
        f"  tensorboard --logdir {rel(exp_dir)}                       # the curves of every run",
        f"  {evaluate}   # the evaluation again",
        score,
        paper,
    ])
